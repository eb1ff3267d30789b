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
 * `takeOutput` (and writes) whenever `pendingBytes` grows, so memory stays bounded.
 */
import { deflateRawSync } from 'node:zlib';
import { BLOCK_TRAILER_SIZE } from '../block-handle.js';
import { ChecksumType, computeChecksum } from '../checksum.js';
import { CompressionType, compressionName } from '../compression.js';
import { FOOTER_SIZE, MAGIC_BLOCK_BASED } from '../footer.js';
import { ValueType } from '../value-type.js';
import { BlockBuilder } from './block-builder.js';
import { ByteWriter, encode } from './byte-writer.js';
import { encodeMetaBlock, encodePropertiesBlock, tableProperties } from './properties-builder.js';

/** The block-based format_version written: the newest that RocksDB 7.x (Debian 12) reads. */
export const WRITTEN_FORMAT_VERSION = 5;
/** Bytes of an internal key's trailer: (sequence << 8 | type) as fixed64. */
const TRAILER_BYTES = 8;
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
}>;

/** What a finished table holds, for the MANIFEST and the report. */
export interface FinishedTable {
  readonly fileSize: number;
  readonly entries: number;
  readonly dataBlocks: number;
  /** Internal keys (user key + trailer) of the first and last entry. */
  readonly smallest: Uint8Array;
  readonly largest: Uint8Array;
}

/** Builds one SST file; see the module comment. */
export class TableBuilder {
  readonly #opts: TableBuilderOptions;
  readonly #blockSize: number;
  readonly #zlib: boolean;
  readonly #data: BlockBuilder;
  readonly #index = new BlockBuilder(1);
  readonly #out = new ByteWriter(1 << 20);
  #flushed = 0;
  #smallest: Uint8Array | undefined;
  #entries = 0;
  #dataBlocks = 0;
  #rawKeyBytes = 0;
  #rawValueBytes = 0;
  readonly #handle = new ByteWriter(20);

  constructor(options: TableBuilderOptions) {
    this.#opts = options;
    this.#blockSize = options.blockSize ?? 4096;
    this.#zlib = options.compression === 'zlib';
    this.#data = new BlockBuilder(options.restartInterval ?? 16);
  }

  /** Entries added so far. */
  get entries(): number {
    return this.#entries;
  }

  /** Bytes of the file so far (written out or pending), not counting the open data block. */
  get fileSize(): number {
    return this.#flushed + this.#out.length;
  }

  /** Output not yet taken by `takeOutput`. */
  get pendingBytes(): number {
    return this.#out.length;
  }

  /**
   * The output produced since the last call. The view is valid until the next call of any
   * other method: write it out first.
   */
  takeOutput(): Uint8Array {
    const v = this.#out.view();
    this.#flushed += v.length;
    this.#out.reset();
    return v;
  }

  /** Appends user key `key` → `value`; keys must ascend strictly (bytewise). */
  add(key: Uint8Array, value: Uint8Array): void {
    const data = this.#data;
    const keyLength = key.length + TRAILER_BYTES;
    if (!data.empty) {
      // FlushBlockBySizePolicy: full, or this entry would overflow a block at least 90% full.
      const size = data.estimatedSize;
      if (size >= this.#blockSize || (size + keyLength + value.length + 12 > this.#blockSize && size * 10 >= this.#blockSize * 9)) {
        this.#flushDataBlock();
      }
    }
    data.add(key, value, TRAILER);
    if (this.#smallest === undefined) this.#smallest = data.lastKey.slice();
    this.#entries++;
    this.#rawKeyBytes += keyLength;
    this.#rawValueBytes += value.length;
  }

  /**
   * Writes the last data block, the index, properties and metaindex blocks and the footer.
   * Returns the file's facts; take the remaining output with `takeOutput`. At least one
   * entry is required (RocksDB cannot ingest, and has no use for, an empty table file).
   */
  finish(): FinishedTable {
    if (this.#entries === 0 || this.#smallest === undefined) throw new Error('TableBuilder.finish: no entries');
    const largest = this.#data.lastKey.slice();
    this.#flushDataBlock();
    const dataSize = this.fileSize;
    const index = this.#writeBlock(this.#index.finish(), false);
    const opts = this.#opts;
    const props = tableProperties({
      numEntries: this.#entries,
      numDataBlocks: this.#dataBlocks,
      dataSize,
      indexSize: index.size,
      rawKeySize: this.#rawKeyBytes,
      rawValueSize: this.#rawValueBytes,
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
    return { fileSize: this.fileSize, entries: this.#entries, dataBlocks: this.#dataBlocks, smallest: this.#smallest, largest };
  }

  #flushDataBlock(): void {
    const data = this.#data;
    if (data.empty) return;
    // The index separator is the block's last key: every key of the block is <= it and every
    // key of the next block is > it, which is all a binary-search index needs.
    const h = this.#writeBlock(data.finish(), this.#zlib);
    const w = this.#handle;
    w.reset();
    handle(w, h);
    const last = data.lastKey;
    this.#index.add(last, w.view());
    data.reset();
    this.#dataBlocks++;
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
