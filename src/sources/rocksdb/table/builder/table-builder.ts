/**
 * Writes one block-based table (SST file), the mirror of table-reader.ts and of RocksDB's
 * block_based_table_builder.cc, for restore: format_version 5, checksum kCRC32c, a binary
 * search index over internal keys with full block handles, no filter, every key a kTypeValue
 * with sequence number 0 (what IngestExternalFile requires and what a bottommost compaction
 * leaves). Layout: data blocks, index block, properties block, metaindex block, footer; each
 * block followed by the 5-byte trailer (compression type, masked CRC32C of contents + type).
 * docs/RESTORE.md specifies the bytes.
 *
 * The builder is synchronous: `add` appends to an in-memory output that the caller drains with
 * `takeOutput` (and writes) whenever `pendingBytes` grows, so memory stays bounded. Without
 * compression, data blocks stay in the kernel's memory where they were built until taken (no
 * copy per block); the index and meta blocks are built here.
 */
import { deflateRawSync } from 'node:zlib';
import { readU32 } from '../../codec.js';
import { BLOCK_TRAILER_SIZE } from '../block-handle.js';
import { ChecksumType, computeChecksum } from '../checksum.js';
import { CompressionType, compressionName } from '../compression.js';
import { FOOTER_SIZE, MAGIC_BLOCK_BASED } from '../footer.js';
import { ValueType } from '../value-type.js';
import { BlockBuilder } from './block-builder.js';
import { BlockKernel, ENTRY_RECORD_PREFIX, KernelStatus } from './kernel/block-kernel.js';
import { ByteWriter, encode } from './byte-writer.js';
import { encodeMetaBlock, encodePropertiesBlock, tableProperties } from './properties-builder.js';

/** The block-based format_version written: the newest that RocksDB 7.x (Debian 12) reads. */
export const WRITTEN_FORMAT_VERSION = 5;
/** The trailer of every written key: sequence 0, kTypeValue. */
const TRAILER = Uint8Array.of(ValueType.Value, 0, 0, 0, 0, 0, 0, 0);
/** The metaindex key of the properties block (kPropertiesBlockName). */
const PROPERTIES_BLOCK_NAME = new TextEncoder().encode('rocksdb.properties');
/** zlib window RocksDB uses (CompressionOptions::window_bits -14, raw deflate). */
const ZLIB_WINDOW_BITS = 14;

/** Codecs the writer can produce without native code. */
export type WriterCompression = 'none' | 'zlib';

export type TableBuilderOptions = Readonly<{
  /** RocksDB's column family id, or UNKNOWN_COLUMN_FAMILY for a file to ingest. */
  columnFamilyId: number;
  columnFamilyName: string;
  /** The file number in its database (rocksdb.original.file.number). */
  fileNumber: number;
  dbId: string;
  dbSessionId: string;
  /** Write SstFileWriter's ingestion properties (external_sst_file version 2, global seqno 0). */
  external: boolean;
  /** Defaults to 'none'. */
  compression?: WriterCompression;
  /** Target uncompressed data block size. Defaults to 4096 (RocksDB's block_size). */
  blockSize?: number;
  /** Keys between restart points in data blocks. Defaults to 16 (block_restart_interval). */
  restartInterval?: number;
  /**
   * The file is `full` after the entry that brings its size (finished blocks) to this many
   * bytes; `addRecords` stops there. Defaults to no limit.
   */
  targetFileSize?: number;
}>;

/** What a finished table holds, for the MANIFEST and the report. */
export interface FinishedTable {
  readonly fileSize: number;
  readonly entries: number;
  /** User key and value bytes of the entries. */
  readonly keyValueBytes: number;
  readonly dataBlocks: number;
  /** Internal keys (user key + trailer) of the first and last entry. */
  readonly smallest: Uint8Array;
  readonly largest: Uint8Array;
}

/** Builds one SST file; see the module comment. */
export class TableBuilder {
  readonly #opts: TableBuilderOptions;
  readonly #zlib: boolean;
  readonly #target: number;
  #kernel: BlockKernel | undefined;
  readonly #index = new BlockBuilder(1);
  readonly #out = new ByteWriter(1 << 20);
  #flushed = 0;
  #smallest: Uint8Array | undefined;
  #dataBlocks = 0;
  #full = false;
  readonly #handle = new ByteWriter(20);
  #record = new Uint8Array(256);

  constructor(options: TableBuilderOptions) {
    this.#opts = options;
    this.#zlib = options.compression === 'zlib';
    this.#target = options.targetFileSize ?? Infinity;
    // Without compression the kernel also writes each block's trailer (CRC-32C); with zlib the
    // block is compressed here first.
    this.#kernel = BlockKernel.take(options.blockSize ?? 4096, options.restartInterval ?? 16, !this.#zlib);
  }

  /** Entries added so far. */
  get entries(): number {
    return this.#kernel?.entries ?? 0;
  }

  /** Bytes of the file so far (written out or pending), not counting the open data block. */
  get fileSize(): number {
    return this.#flushed + this.pendingBytes;
  }

  /** Output not yet taken by `takeOutput`. */
  get pendingBytes(): number {
    return (this.#kernel?.keptBytes ?? 0) + this.#out.length;
  }

  /** The file reached `targetFileSize`: finish it; further entries go to the next file. */
  get full(): boolean {
    return this.#full;
  }

  /**
   * The output produced since the last call, as views in file order (kept data blocks, then
   * what was built here). The views are valid until the next call of any other method: write
   * them out first.
   */
  takeOutput(): Uint8Array[] {
    const views: Uint8Array[] = [];
    const kept = this.#kernel?.keptBytes ?? 0;
    if (kept > 0) views.push(this.#kernel!.output());
    if (this.#out.length > 0) views.push(this.#out.view());
    this.#flushed += kept + this.#out.length;
    this.#out.reset();
    return views;
  }

  /** Appends user key `key` → `value`; keys must ascend strictly (bytewise). */
  add(key: Uint8Array, value: Uint8Array): void {
    const size = ENTRY_RECORD_PREFIX + key.length + value.length;
    if (this.#record.length < size) this.#record = new Uint8Array(Math.max(size, 2 * this.#record.length));
    const r = this.#record;
    r[0] = 1;
    writeU32(r, 1, key.length);
    writeU32(r, 5, value.length);
    r.set(key, ENTRY_RECORD_PREFIX);
    r.set(value, ENTRY_RECORD_PREFIX + key.length);
    this.addRecords(r, 0, size);
  }

  /**
   * Appends snapshot ENTRY records (spec/FORMAT.md: tag, key length u32, value length u32, key,
   * value), back to back in `src[start, end)`, keys strictly ascending. Returns where it stopped:
   * `end`, or earlier once the file is `full` (the rest belongs in the next file).
   */
  addRecords(src: Uint8Array, start: number, end: number): number {
    const k = this.#live();
    if (this.#smallest === undefined && start < end) {
      const keyLength = readU32(src, start + 1);
      this.#smallest = internalKey(src.subarray(start + ENTRY_RECORD_PREFIX, start + ENTRY_RECORD_PREFIX + keyLength));
    }
    let p = start;
    while (p < end && !this.#full) {
      // As many whole records as the kernel's input holds (at least one, growing it if needed).
      let q = end;
      if (q - p > k.inputCapacity) {
        q = p;
        for (;;) {
          const size = ENTRY_RECORD_PREFIX + readU32(src, q + 1) + readU32(src, q + 5);
          if (q === p && size > k.inputCapacity) k.growInput(size);
          if (q + size - p > k.inputCapacity) break;
          q += size;
          if (q >= end) break;
        }
      }
      const base = k.load(src, p, q);
      p += this.#addLoaded(k, base, base + (q - p)) - base;
    }
    return p;
  }

  /** Runs the kernel over loaded records [pos, end); returns where it stopped. */
  #addLoaded(k: BlockKernel, pos: number, end: number): number {
    for (;;) {
      if (k.add(pos, end) === KernelStatus.Done) return end;
      pos = k.pos;
      this.#takeBlock(k);
      if (this.fileSize >= this.#target) {
        // The cut comes after the entry that starts the next block (as the file size is
        // checked after each entry): add exactly that one.
        const b = k.bytes;
        const next = pos + ENTRY_RECORD_PREFIX + readU32(b, pos + 1) + readU32(b, pos + 5);
        k.add(pos, next);
        this.#full = true;
        return next;
      }
    }
  }

  /** Writes the kernel's finished block and adds its index entry (its last key → handle). */
  #takeBlock(k: BlockKernel): void {
    const block = k.block();
    let h: { offset: number; size: number };
    if (this.#zlib) {
      h = this.#writeBlock(block, true);
    } else {
      h = { offset: this.fileSize, size: block.length - BLOCK_TRAILER_SIZE };
    }
    // The index separator is the block's last key: every key of the block is <= it and every
    // key of the next block is > it, which is all a binary-search index needs.
    const w = this.#handle;
    w.reset();
    handle(w, h);
    this.#index.add(k.lastKey(), w.view());
    if (this.#zlib) k.resetBlock();
    else k.keepBlock(); // its bytes stay in the kernel until taken
    this.#dataBlocks++;
  }

  #live(): BlockKernel {
    if (this.#kernel === undefined) throw new Error('TableBuilder: already finished');
    return this.#kernel;
  }

  /**
   * Writes the last data block, the index, properties and metaindex blocks and the footer.
   * Returns the file's facts; take the remaining output with `takeOutput`. At least one
   * entry is required (RocksDB cannot ingest, and has no use for, an empty table file).
   */
  finish(): FinishedTable {
    const k = this.#live();
    const entries = k.entries;
    if (entries === 0 || this.#smallest === undefined) throw new Error('TableBuilder.finish: no entries');
    const largest = k.lastKey().slice();
    if (k.blockEntries > 0) {
      k.finishBlock();
      this.#takeBlock(k);
    }
    const rawKeySize = k.rawKeyBytes;
    const rawValueSize = k.rawValueBytes;
    // The kernel goes back to the pool (the next file may take it before this one's output is
    // written): its kept blocks, at most one input run's worth, are copied out first.
    if (k.keptBytes > 0) this.#out.bytes(k.output());
    this.#kernel = undefined;
    k.release();
    const dataSize = this.fileSize;
    const index = this.#writeBlock(this.#index.finish(), false);
    const opts = this.#opts;
    const props = tableProperties({
      numEntries: entries,
      numDataBlocks: this.#dataBlocks,
      dataSize,
      indexSize: index.size,
      rawKeySize,
      rawValueSize,
      columnFamilyId: opts.columnFamilyId,
      columnFamilyName: opts.columnFamilyName,
      compressionName: compressionName(this.#zlib ? CompressionType.Zlib : CompressionType.None),
      dbId: opts.dbId,
      dbSessionId: opts.dbSessionId,
      originalFileNumber: opts.fileNumber,
      external: opts.external,
    });
    const properties = this.#writeBlock(encodePropertiesBlock(props), false);
    const metaindex = this.#writeBlock(
      encodeMetaBlock([{ key: PROPERTIES_BLOCK_NAME, value: encode((w) => handle(w, properties)) }]),
      false,
    );
    this.#writeFooter(metaindex, index);
    const keyValueBytes = rawKeySize - TRAILER.length * entries + rawValueSize;
    return { fileSize: this.fileSize, entries, keyValueBytes, dataBlocks: this.#dataBlocks, smallest: this.#smallest, largest };
  }

  /** Appends contents (compressed when that saves at least 1/8, as RocksDB) and the trailer. */
  #writeBlock(contents: Uint8Array, compress: boolean): { offset: number; size: number } {
    let body = contents;
    let type: number = CompressionType.None;
    if (compress) {
      const packed = zlibBlock(contents);
      if (packed.length < contents.length - contents.length / 8) {
        body = packed;
        type = CompressionType.Zlib;
      }
    }
    const offset = this.fileSize;
    const out = this.#out;
    out.reserve(body.length + BLOCK_TRAILER_SIZE);
    const start = out.length;
    out.bytes(body);
    out.byte(type);
    // The checksum covers the block and its type byte, computed by the reader's own function.
    out.fixed32(computeChecksum(ChecksumType.CRC32c, out.buf, start, out.length));
    return { offset, size: body.length };
  }

  /** Footer::EncodeTo for format_version 1..5: checksum type, two handles, padding, version, magic. */
  #writeFooter(metaindex: { offset: number; size: number }, index: { offset: number; size: number }): void {
    const out = this.#out;
    const start = out.length;
    out.byte(ChecksumType.CRC32c);
    handle(out, metaindex);
    handle(out, index);
    const pad = FOOTER_SIZE - 12 - (out.length - start);
    for (let i = 0; i < pad; i++) out.byte(0);
    out.fixed32(WRITTEN_FORMAT_VERSION);
    out.fixed64(MAGIC_BLOCK_BASED);
  }
}

/** A user key as an internal key: user key ‖ the trailer (sequence 0, kTypeValue). */
function internalKey(userKey: Uint8Array): Uint8Array {
  const k = new Uint8Array(userKey.length + TRAILER.length);
  k.set(userKey);
  k.set(TRAILER, userKey.length);
  return k;
}

function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

/** BlockHandle::EncodeTo: varint64 offset, varint64 size. */
function handle(w: ByteWriter, h: { offset: number; size: number }): void {
  w.varint(h.offset);
  w.varint(h.size);
}

/** Zlib_Compress with compress_format_version 2: varint32 uncompressed size, raw deflate (window 2^14). */
function zlibBlock(contents: Uint8Array): Uint8Array {
  const deflated = deflateRawSync(contents, { windowBits: ZLIB_WINDOW_BITS });
  const w = new ByteWriter(deflated.length + 5);
  w.varint(contents.length);
  w.bytes(deflated);
  return w.view();
}
