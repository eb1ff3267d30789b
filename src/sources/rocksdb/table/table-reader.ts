/**
 * Reads one block-based table (SST) file, read-only by construction: the file is opened with
 * flag 'r' and only ever pread; nothing is created, written, locked or mapped. Blocks are read
 * by handle, their checksums verified, decompressed and decoded; data blocks are fetched in
 * contiguous batches of about `readBatchBytes` to keep syscalls and awaits few.
 */
import type { FileHandle } from 'node:fs/promises';
import { openRegularFile } from '../../../format/regular-file.js';
import { SnapshotError } from '../../../format/errors.js';
import { type BlockHandle, BLOCK_TRAILER_SIZE, decodeBlockHandle } from './block-handle.js';
import { readBlockEntries } from './block.js';
import { computeChecksum, contextModifier, loadChecksums } from './checksum.js';
import { CompressionType, compressionName, declaredBlockSize, decompressBlock, MAX_BLOCK_BYTES, UnsupportedCompression } from './compression.js';
import { decodeDataBlockColumns } from './data-block.js';
import { corrupt, unsupported } from './errors.js';
import { decodeFooter, FOOTER_SIZE, type Footer } from './footer.js';
import { decodeIndexBlock, decodeIndexBlockWithKeys, type IndexEncoding, type IndexKeys } from './index-iterator.js';
import { parseProperties, type TableProperties } from './properties.js';
import { EntryColumns, type InternalEntry, type RangeTombstone } from './types.js';
import { ValueType } from './value-type.js';
import { DecodeFailure } from '../util/decode-failure.js';

/** Options of TableReader.open; every field is optional. */
export type TableReaderOptions = Readonly<
  Partial<{
    /**
     * The file's largest sequence number from the MANIFEST. Only used for ingested external
     * files (SstFileWriter) whose global_seqno property is 0, where RocksDB takes the global
     * sequence number from here. Defaults to undefined (entries keep their stored seqno, 0).
     */
    largestSequence: number;
    /**
     * Yield Merge, BlobIndex, WideColumnEntity and DeletionWithTimestamp entries with their
     * stored type and value instead of failing with UNSUPPORTED_FEATURE when one is read, for a
     * caller that fails only if such an entry is visible (not shadowed by a newer version or a
     * range tombstone). Defaults to false.
     */
    passThroughUnsupportedTypes: boolean;
    /** Bytes of data blocks fetched per read (one batch of entries per read). Defaults to 256 KiB. */
    readBatchBytes: number;
  }>
>;

const BYTEWISE = 'leveldb.BytewiseComparator';
const INDEX_BINARY = 0;
const INDEX_HASH = 1;
const INDEX_TWO_LEVEL = 2;
const INDEX_BINARY_FIRST_KEY = 3;
// 256 KiB: big enough that syscalls and awaits are rare, small enough that a batch of entries
// (~2000 here) dies young: 1 MiB batches doubled garbage-collection time in measurements.
const DEFAULT_READ_BATCH = 256 * 1024;
/** Reads in flight ahead of the run being decoded, so that decoding rarely waits for a read. */
const READ_AHEAD = 2;

/** A block-based table file opened for a full scan. */
export class TableReader {
  readonly path: string;
  readonly properties: TableProperties;
  /** File size in bytes, as seen at open. */
  readonly fileSize: number;
  readonly #fh: FileHandle;
  readonly #footer: Footer;
  readonly #indexHandle: BlockHandle;
  readonly #rangeDelHandle: BlockHandle | undefined;
  readonly #enc: IndexEncoding;
  readonly #globalSequence: number | undefined;
  readonly #readBatch: number;
  readonly #passThrough: boolean;
  #closed = false;

  private constructor(
    path: string,
    fh: FileHandle,
    fileSize: number,
    footer: Footer,
    properties: TableProperties,
    indexHandle: BlockHandle,
    rangeDelHandle: BlockHandle | undefined,
    globalSequence: number | undefined,
    readBatch: number,
    passThrough: boolean,
  ) {
    this.path = path;
    this.#fh = fh;
    this.fileSize = fileSize;
    this.#footer = footer;
    this.properties = properties;
    this.#indexHandle = indexHandle;
    this.#rangeDelHandle = rangeDelHandle;
    this.#enc = {
      valueDeltaEncoded: properties.indexValueIsDeltaEncoded,
      haveFirstKey: properties.indexType === INDEX_BINARY_FIRST_KEY,
      keyIsUserKey: properties.indexKeyIsUserKey,
    };
    this.#globalSequence = globalSequence;
    this.#readBatch = readBatch;
    this.#passThrough = passThrough;
  }

  /**
   * Opens `path`, reads and validates the footer, metaindex and properties, and rejects
   * features we do not support (UNSUPPORTED_FEATURE) before any entry is read.
   */
  static async open(path: string, options: TableReaderOptions = {}): Promise<TableReader> {
    await loadChecksums();
    // Regular files only: a FIFO in place of a table file must never block (format/regular-file.ts).
    const fh = (await openRegularFile(path)).handle;
    try {
      return await TableReader.#init(path, fh, options);
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
  }

  static async #init(path: string, fh: FileHandle, options: TableReaderOptions): Promise<TableReader> {
    const fileSize = (await fh.stat()).size;
    const tailLen = Math.min(FOOTER_SIZE, fileSize);
    const tail = await preadExact(fh, path, fileSize - tailLen, tailLen, fileSize);
    const footer = decodeFooter(path, tail, fileSize - tailLen);
    const footerOffset = fileSize - FOOTER_SIZE;

    const metaBlock = await readBlock(fh, path, footer, footer.metaindex, footerOffset, footerOffset);
    const meta = new Map<string, BlockHandle>();
    const hpos = { pos: 0 };
    for (const { key, value } of readBlockEntries(path, footer.metaindex.offset, metaBlock)) {
      const h = decodeBlockHandle(value, 0, value.length, hpos);
      if (h === undefined) throw corrupt(path, footer.metaindex.offset, 'bad block handle in metaindex');
      meta.set(new TextDecoder().decode(key), h);
    }
    const propsHandle = meta.get('rocksdb.properties');
    if (propsHandle === undefined) throw corrupt(path, footer.metaindex.offset, 'metaindex has no rocksdb.properties block');
    const propsBlock = await readPropertiesBlock(fh, path, footer, propsHandle, footerOffset, footer.metaindex.offset);
    const properties = parseProperties(
      path,
      propsHandle.offset,
      readBlockEntries(path, propsHandle.offset, propsBlock),
      footer.formatVersion,
      footer.checksumType,
    );
    checkSupported(path, propsHandle.offset, properties, meta);

    const indexHandle = footer.index ?? meta.get('rocksdb.index');
    if (indexHandle === undefined) throw corrupt(path, footer.metaindex.offset, 'no index block handle');
    checkHandle(path, indexHandle, footerOffset, footer.index ? footerOffset : footer.metaindex.offset);
    const rangeDel = meta.get('rocksdb.range_del');
    if (rangeDel !== undefined) checkHandle(path, rangeDel, footerOffset, footer.metaindex.offset);

    let globalSequence: number | undefined;
    if (properties.externalSstFileVersion !== undefined) {
      if (properties.externalSstFileVersion === 2) {
        const g = properties.externalSstFileGlobalSeqno ?? 0;
        globalSequence = g !== 0 ? g : options.largestSequence ?? 0;
      } else if (properties.externalSstFileVersion !== 1) {
        throw corrupt(path, propsHandle.offset, `external sst file version ${properties.externalSstFileVersion}`);
      }
    }
    const readBatch = Math.max(1, options.readBatchBytes ?? DEFAULT_READ_BATCH);
    const passThrough = options.passThroughUnsupportedTypes ?? false;
    return new TableReader(path, fh, fileSize, footer, properties, indexHandle, rangeDel, globalSequence, readBatch, passThrough);
  }

  /** Offset of the (top-level) index block: where a wrong entry count is reported. */
  get indexOffset(): number {
    return this.#indexHandle.offset;
  }

  /** Point entries (all but range deletions) the table properties announce. */
  get pointEntries(): number {
    return this.properties.numEntries - (this.properties.numRangeDeletions ?? 0);
  }

  /** The range tombstones of the rocksdb.range_del meta block, in the block's order. */
  async rangeTombstones(): Promise<RangeTombstone[]> {
    this.#checkOpen();
    const h = this.#rangeDelHandle;
    if (h === undefined) return [];
    const data = await readBlock(this.#fh, this.path, this.#footer, h, this.fileSize - FOOTER_SIZE, h.offset);
    const out: RangeTombstone[] = [];
    for (const { key, value } of readBlockEntries(this.path, h.offset, data)) {
      if (key.length < 8) throw corrupt(this.path, h.offset, 'range tombstone key shorter than 8 bytes');
      const t = key.length - 8;
      if (key[t] !== ValueType.RangeDeletion) throw corrupt(this.path, h.offset, `range_del block entry of type ${key[t]}`);
      if (key[t + 7]! >= 32) throw unsupported(this.path, h.offset, 'sequence number >= 2^53 cannot be represented');
      let sequence = 0;
      for (let i = 6; i >= 0; i--) sequence = sequence * 256 + key[t + 1 + i]!;
      out.push({ start: key.subarray(0, t), end: value, sequence: this.#globalSequence ?? sequence });
    }
    return out;
  }

  /** All point entries in internal-key order (user key ascending, then sequence descending), batched. */
  async *entries(): AsyncIterable<InternalEntry[]> {
    for await (const cols of this.columns()) {
      const out: InternalEntry[] = new Array(cols.length);
      for (let i = 0; i < cols.length; i++) out[i] = cols.entry(i);
      yield out;
    }
  }

  /**
   * The same entries as `entries()`, in columns (EntryColumns): no object or view per entry,
   * for consumers that keep only some entries (the DB-level merge).
   */
  async *columns(): AsyncIterable<EntryColumns> {
    this.#checkOpen();
    const footerOffset = this.fileSize - FOOTER_SIZE;
    const top = decodeIndexBlock(
      this.path,
      this.#indexHandle.offset,
      await readBlock(this.#fh, this.path, this.#footer, this.#indexHandle, footerOffset, this.#indexHandle.offset),
      this.#enc,
    );
    let count = 0;
    if (this.properties.indexType === INDEX_TWO_LEVEL) {
      // Partitions are read one at a time, so memory follows one partition, not the whole index.
      for (const part of top) {
        const data = await readBlock(this.#fh, this.path, this.#footer, part, footerOffset, this.#indexHandle.offset);
        const handles = decodeIndexBlock(this.path, part.offset, data, this.#enc);
        for await (const batch of this.#scan(handles, footerOffset, part.offset)) {
          count += batch.length;
          yield batch;
        }
      }
    } else {
      for await (const batch of this.#scan(top, footerOffset, this.#indexHandle.offset)) {
        count += batch.length;
        yield batch;
      }
    }
    const expected = this.properties.numEntries - (this.properties.numRangeDeletions ?? 0);
    if (count !== expected) {
      throw corrupt(this.path, this.#indexHandle.offset, `read ${count} point entries, properties say ${expected}`);
    }
  }

  /**
   * The entries whose user key is in [range.lo, range.hi) (an absent bound is open), in
   * internal-key order: the index is searched for the first and last data blocks that can
   * hold such keys, and the entries of those two blocks outside the range are dropped. Unlike
   * a full scan (`columns()`), the entry count is not checked against the table properties:
   * the caller sums the counts of all ranges (see RangeMerger).
   */
  async *rangeColumns(range: KeyRange): AsyncIterable<EntryColumns> {
    let first = true;
    for await (const run of this.rangeBlocks(range)) {
      const cols = new EntryColumns(Math.max(64, Math.min(8192, run.bytes >> 6)));
      for (let k = 0; k < run.blocks.length; k++) {
        decodeDataBlockColumns(this.path, run.offsets[k]!, run.blocks[k]!, cols, this.#globalSequence, this.#passThrough);
      }
      const from = first && range.lo !== undefined ? firstAtOrAbove(cols, 0, range.lo) : 0;
      first = false;
      const to = range.hi === undefined ? cols.length : firstAtOrAbove(cols, from, range.hi);
      if (from !== 0 || to !== cols.length) cols.keep(from, to);
      if (cols.length > 0) yield cols;
    }
  }

  /**
   * The data blocks that can hold user keys in [range.lo, range.hi), in runs, verified and
   * decompressed but not decoded: the first and last blocks may hold keys outside the range.
   * For the merge kernel, which decodes them itself.
   */
  async *rangeBlocks(range: KeyRange, scratch?: RunScratch): AsyncIterable<BlockRun> {
    for await (const raw of this.rangeRawRuns(range, scratch)) {
      scratch?.resetOutput();
      const blocks: Uint8Array[] = [];
      const offsets: number[] = [];
      for (let k = 0; k < raw.handles.length; k++) {
        blocks.push(this.blockOf(raw, k, scratch?.alloc));
        offsets.push(raw.handles[k]!.offset);
      }
      yield { blocks, offsets, bytes: raw.bytes };
    }
  }

  /**
   * As rangeBlocks, but the runs as read: neither verified nor decompressed (blockOf does both,
   * block by block). For the merge kernel, which decompresses them straight into its memory.
   * With `scratch`, a run is valid until the next one is requested. With `fetch`, runs are
   * fetched through it (a worker thread that reads and places them ahead).
   */
  async *rangeRawRuns(range: KeyRange, scratch?: RunScratch, fetch?: RunFetch): AsyncIterable<RawBlockRun> {
    this.#checkOpen();
    const footerOffset = this.fileSize - FOOTER_SIZE;
    const whole = range.lo === undefined && range.hi === undefined;
    const top = await this.#topIndex(!whole);
    const [i0, i1] = whole ? [0, top.handles.length] : blockSpan(top.keys!, range);
    if (this.properties.indexType !== INDEX_TWO_LEVEL) {
      yield* this.#runs(top.handles.slice(i0, i1), footerOffset, this.#indexHandle.offset, scratch, fetch);
      return;
    }
    for (let k = i0; k < i1; k++) {
      const part = await this.#partition(k, top.handles[k]!, !whole);
      const [j0, j1] = whole ? [0, part.handles.length] : blockSpan(part.keys!, range);
      yield* this.#runs(part.handles.slice(j0, j1), footerOffset, top.handles[k]!.offset, scratch, fetch);
    }
  }

  /**
   * Block k of a raw run, checksum-verified and decompressed (a view into the run when stored
   * uncompressed). `alloc` gives the output of a decompressed block, as in blockContents.
   */
  blockOf(run: RawBlockRun, k: number, alloc?: (n: number) => Uint8Array): Uint8Array {
    const h = run.handles[k]!;
    return blockContents(this.path, this.#footer, run.buf, h.offset - run.start, h, alloc);
  }

  /**
   * The size block k of a raw run will have once decompressed, as its bytes declare it (not yet
   * verified), or -1 when only decompressing tells (zlib, zstd) or the declared size is over
   * `max`. Lets a caller place the block before decompressing it.
   */
  declaredSize(run: RawBlockRun, k: number, max: number): number {
    const h = run.handles[k]!;
    const at = h.offset - run.start;
    const size = declaredBlockSize(run.buf[at + h.size]!, run.buf.subarray(at, at + h.size));
    return size > max ? -1 : size;
  }

  /** How the footer says blocks are checksummed (for the merge kernel, which verifies CRC-32C itself). */
  get blockChecksum(): { readonly checksumType: number; readonly baseContextChecksum: number } {
    return this.#footer;
  }

  /** The sequence number every entry takes (an ingested file's global seqno), or undefined. */
  get globalSequence(): number | undefined {
    return this.#globalSequence;
  }

  #top: DecodedIndex | undefined;
  #lastPartition: (DecodedIndex & { k: number }) | undefined;

  /** The top-level index (cached: a reader serves many ranges), with its separators if `withKeys`. */
  async #topIndex(withKeys = true): Promise<DecodedIndex> {
    if (this.#top === undefined || (withKeys && this.#top.keys === undefined)) {
      const footerOffset = this.fileSize - FOOTER_SIZE;
      const data = await readBlock(this.#fh, this.path, this.#footer, this.#indexHandle, footerOffset, this.#indexHandle.offset);
      this.#top = withKeys
        ? decodeIndexBlockWithKeys(this.path, this.#indexHandle.offset, data, this.#enc)
        : { handles: decodeIndexBlock(this.path, this.#indexHandle.offset, data, this.#enc) };
    }
    return this.#top;
  }

  /** Partition k of a partitioned index (the last one is cached: adjacent ranges share it). */
  async #partition(k: number, h: BlockHandle, withKeys = true): Promise<DecodedIndex> {
    const last = this.#lastPartition;
    if (last?.k !== k || (withKeys && last.keys === undefined)) {
      const footerOffset = this.fileSize - FOOTER_SIZE;
      checkHandle(this.path, h, footerOffset, this.#indexHandle.offset);
      const data = await readBlock(this.#fh, this.path, this.#footer, h, footerOffset, this.#indexHandle.offset);
      this.#lastPartition = withKeys
        ? { k, ...decodeIndexBlockWithKeys(this.path, h.offset, data, this.#enc) }
        : { k, handles: decodeIndexBlock(this.path, h.offset, data, this.#enc) };
    }
    return this.#lastPartition!;
  }

  /**
   * Up to `count` user keys that split the table's data into parts of about equal size (index
   * separators, each ending a data block), ascending; for choosing key ranges. A partitioned
   * index with too few partitions for `count` cuts is searched partition by partition.
   */
  async splitKeys(count: number): Promise<Uint8Array[]> {
    this.#checkOpen();
    const top = await this.#topIndex();
    let levels: IndexKeys[] = [top.keys!];
    if (this.properties.indexType === INDEX_TWO_LEVEL && top.keys!.ends.length <= count) {
      levels = [];
      for (let k = 0; k < top.handles.length; k++) levels.push((await this.#partition(k, top.handles[k]!)).keys!);
    }
    const n = levels.reduce((sum, l) => sum + l.ends.length, 0);
    const out: Uint8Array[] = [];
    if (count < 1 || n < 2) return out;
    // Every step-th separator, skipping the last (nothing follows it).
    const step = n / (count + 1);
    let next = step;
    let seen = 0;
    for (const keys of levels) {
      for (let i = 0; i < keys.ends.length && out.length < count; i++, seen++) {
        if (seen + 1 < next || seen === n - 1) continue;
        out.push(keys.bytes.slice(i === 0 ? 0 : keys.ends[i - 1]!, keys.ends[i]!));
        next += step;
      }
    }
    return out;
  }

  /**
   * Reads the data blocks of `handles` in contiguous runs of about `readBatchBytes`, one batch
   * of entries per run (#runs reads ahead, so I/O overlaps decoding).
   */
  async *#scan(handles: readonly BlockHandle[], limit: number, indexOffset: number): AsyncGenerator<EntryColumns> {
    for await (const run of this.#runs(handles, limit, indexOffset)) {
      // Sized for ~100-byte entries; grows by doubling when entries are smaller.
      const out = new EntryColumns(Math.max(64, Math.min(8192, run.bytes >> 6)));
      // Every block is verified before any is decoded (a checksum error comes first).
      const blocks = run.handles.map((_, k) => this.blockOf(run, k));
      for (let k = 0; k < blocks.length; k++) {
        decodeDataBlockColumns(this.path, run.handles[k]!.offset, blocks[k]!, out, this.#globalSequence, this.#passThrough);
      }
      if (out.length > 0) yield out;
    }
  }

  /**
   * The data blocks of `handles`, read in contiguous runs of about `readBatchBytes`,
   * checksum-verified and decompressed. READ_AHEAD runs are read ahead of the one handed out,
   * so I/O overlaps decoding. With `scratch`, runs live in reused memory: each is
   * valid only until the next one is requested (the merge kernel copies them at once), which
   * spares allocating and collecting a buffer per run.
   */
  async *#runs(handles: readonly BlockHandle[], limit: number, indexOffset: number, scratch?: RunScratch, fetch?: RunFetch): AsyncGenerator<RawBlockRun> {
    let turn = 0;
    type Run = { i: number; j: number; start: number; end: number };
    type Read = { buf: Uint8Array; placed?: PlacedBlocks };
    const ahead: { run: Run; read: Promise<Read> }[] = [];
    const readHere = (start: number, n: number, into?: Uint8Array): Promise<Read> =>
      preadExact(this.#fh, this.path, start, n, this.fileSize, into).then((buf) => ({ buf }));
    let from = 0;
    const readAhead = () => {
      while (ahead.length < READ_AHEAD) {
        const run = this.#nextRun(handles, from, limit, indexOffset);
        if (run === undefined) return;
        from = run.j;
        const n = run.end - run.start;
        const into = scratch?.raw(turn++, n);
        const read =
          fetch === undefined
            ? readHere(run.start, n, into)
            : fetch(this.#fh.fd, run.start, n, handles.slice(run.i, run.j), this).then((r) => r ?? readHere(run.start, n, into));
        // A failed read ahead is reported when awaited; keep it from being an unhandled rejection.
        read.catch(() => undefined);
        ahead.push({ run, read });
      }
    };
    try {
      readAhead();
      while (ahead.length > 0) {
        const { run, read } = ahead[0]!;
        const { buf, placed } = await read;
        ahead.shift();
        readAhead();
        yield { buf, start: run.start, handles: handles.slice(run.i, run.j), bytes: run.end - run.start, ...(placed && { placed }) };
        this.#checkOpen();
      }
    } finally {
      // Abandoned early: let the reads ahead land before their buffers (scratch) can be reused.
      await Promise.all(ahead.map((a) => a.read.catch(() => undefined)));
    }
  }

  /** The run of physically contiguous handles starting at index `i`, or undefined at the end. */
  #nextRun(
    handles: readonly BlockHandle[],
    i: number,
    limit: number,
    indexOffset: number,
  ): { i: number; j: number; start: number; end: number } | undefined {
    if (i >= handles.length) return undefined;
    const first = handles[i]!;
    checkHandle(this.path, first, limit, indexOffset);
    let j = i + 1;
    let end = first.offset + first.size + BLOCK_TRAILER_SIZE;
    while (j < handles.length) {
      const h = handles[j]!;
      if (h.offset !== end || h.offset + h.size + BLOCK_TRAILER_SIZE - first.offset > this.#readBatch) break;
      checkHandle(this.path, h, limit, indexOffset);
      end = h.offset + h.size + BLOCK_TRAILER_SIZE;
      j++;
    }
    return { i, j, start: first.offset, end };
  }

  /** Closes the file handle; further reads fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#fh.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new SnapshotError('IO_ERROR', 'table reader is closed', { file: this.path });
  }
}

/** An index block's handles, and its separators when a key range needs them. */
interface DecodedIndex {
  readonly handles: BlockHandle[];
  readonly keys?: IndexKeys;
}

/**
 * Memory reused from run to run by a consumer that is done with each run before asking for the
 * next: a read buffer per run in flight (the current one and those read ahead) and one output
 * area for decompressed blocks.
 */
export class RunScratch {
  readonly #raw: Uint8Array[] = [];
  #out = new Uint8Array(0);
  #pos = 0;

  /** The read buffer for the turn-th run, at least `n` bytes (one per run in flight, used in turn). */
  raw(turn: number, n: number): Uint8Array {
    const k = turn % (READ_AHEAD + 1);
    let buf = this.#raw[k];
    if (buf === undefined || buf.length < n) buf = this.#raw[k] = new Uint8Array(Math.max(n, 256 * 1024));
    return buf;
  }

  resetOutput(): void {
    this.#pos = 0;
  }

  /** Room for a decompressed block, valid until resetOutput (a full area is replaced, not overwritten). */
  readonly alloc = (n: number): Uint8Array => {
    if (this.#pos + n > this.#out.length) {
      this.#out = new Uint8Array(Math.max(this.#out.length, n, 1 << 20));
      this.#pos = 0;
    }
    const out = this.#out.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  };
}

/** Consecutive data blocks of a table as read: the blocks of `handles` and their trailers, from file offset `start`. */
export interface RawBlockRun {
  readonly buf: Uint8Array;
  readonly start: number;
  readonly handles: readonly BlockHandle[];
  /** Bytes read from the file for the run. */
  readonly bytes: number;
  /** The run already verified, decompressed and laid out by a RunFetch (then `buf` is empty). */
  readonly placed?: PlacedBlocks;
}

/**
 * A run's blocks verified and decompressed elsewhere (a worker thread): `bytes` holds them back
 * to back; block k's entries are bytes[list[2k], list[2k + 1]) (up to its restart array).
 */
export interface PlacedBlocks {
  readonly bytes: Uint8Array;
  readonly list: Int32Array;
  /** Called once `bytes` are copied and no longer read (their memory may then be reused). */
  readonly done?: () => void;
}

/**
 * Fetches a run on behalf of rangeRawRuns, given the reader's open file descriptor: the run
 * placed, or its bytes as read, or undefined to have the reader read it itself (which then
 * reports any read error as usual). It must read nothing after its promise settles.
 */
export type RunFetch = (fd: number, start: number, length: number, handles: readonly BlockHandle[], reader: TableReader) => Promise<{ buf: Uint8Array; placed?: PlacedBlocks } | undefined>;

/** Consecutive data blocks of a table, verified and decompressed: block k starts at file offset offsets[k]. */
export interface BlockRun {
  readonly blocks: Uint8Array[];
  readonly offsets: number[];
  /** Bytes read from the file for the run. */
  readonly bytes: number;
}

/** A user-key range [lo, hi); an absent bound is open. */
export interface KeyRange {
  readonly lo?: Uint8Array | undefined;
  readonly hi?: Uint8Array | undefined;
}

/** Separator i of `keys` compared with `key`. */
function compareSeparator(keys: IndexKeys, i: number, key: Uint8Array): number {
  const b = keys.bytes;
  const s = i === 0 ? 0 : keys.ends[i - 1]!;
  const len = keys.ends[i]! - s;
  const n = len < key.length ? len : key.length;
  for (let j = 0; j < n; j++) {
    const d = b[s + j]! - key[j]!;
    if (d !== 0) return d;
  }
  return len - key.length;
}

/** The first index whose separator is >= key (binary search), or the count. */
function firstSeparatorAtOrAbove(keys: IndexKeys, key: Uint8Array): number {
  let lo = 0;
  let hi = keys.ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareSeparator(keys, mid, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The blocks [i0, i1) that can hold user keys in `range`: block i holds keys at most
 * separator i, and block i + 1 keys at least separator i.
 */
function blockSpan(keys: IndexKeys, range: KeyRange): [number, number] {
  const n = keys.ends.length;
  const i0 = range.lo === undefined ? 0 : firstSeparatorAtOrAbove(keys, range.lo);
  const i1 = range.hi === undefined ? n : Math.min(n, firstSeparatorAtOrAbove(keys, range.hi) + 1);
  return [i0, Math.max(i0, i1)];
}

/** The first entry at or after `from` whose user key is >= key (entries are sorted). */
function firstAtOrAbove(cols: EntryColumns, from: number, key: Uint8Array): number {
  let lo = from;
  let hi = cols.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const kb = cols.keyBuf[mid]!;
    const ks = cols.keyStart[mid]!;
    const kl = cols.keyLen[mid]!;
    const n = kl < key.length ? kl : key.length;
    let c = 0;
    for (let j = 0; j < n && c === 0; j++) c = kb[ks + j]! - key[j]!;
    if (c === 0) c = kl - key.length;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Rejects tables whose entries we could not interpret exactly. */
function checkSupported(file: string, offset: number, p: TableProperties, meta: ReadonlyMap<string, BlockHandle>): void {
  if (p.comparator !== BYTEWISE) {
    if (p.comparator?.startsWith(BYTEWISE) && (p.userDefinedTimestampSize ?? 0) > 0) {
      throw unsupported(file, offset, `user-defined timestamps (comparator ${p.comparator}) are not supported`);
    }
    throw unsupported(file, offset, `comparator ${JSON.stringify(p.comparator ?? null)} is not supported (only ${BYTEWISE})`);
  }
  const it = p.indexType;
  if (it !== INDEX_BINARY && it !== INDEX_HASH && it !== INDEX_TWO_LEVEL && it !== INDEX_BINARY_FIRST_KEY) {
    throw unsupported(file, offset, `index type ${it ?? 'missing'} is not supported`);
  }
  if ((p.separateKeyValueInDataBlock ?? 0) !== 0) {
    throw unsupported(file, offset, 'separated key/value data blocks are not supported');
  }
  if (meta.has('rocksdb.compression_dict')) {
    throw unsupported(file, offset, 'dictionary compression (rocksdb.compression_dict) is not supported');
  }
  // format_version 7 keeps version 6's layout but records a compression manager as
  // "<name>;<hex types>;": only the built-in one ("BuiltinV2", or empty when nothing is compressed)
  // gives the compression type bytes their usual meaning.
  if (p.formatVersion >= 7 && !/^(BuiltinV2)?;[0-9a-fA-F]*;$/.test(p.compression ?? '')) {
    throw unsupported(file, offset, `format_version 7 table with compression manager ${JSON.stringify(p.compression ?? null)} (only the built-in one is supported)`);
  }
}

/**
 * Throws unless the block and its trailer lie before `limit` (the footer offset). `where` is
 * the offset of the block (or footer) the handle was read from: a bad handle is reported there.
 */
function checkHandle(file: string, h: BlockHandle, limit: number, where: number): void {
  if (h.size > MAX_BLOCK_BYTES || h.offset + h.size + BLOCK_TRAILER_SIZE > limit) {
    throw corrupt(file, where, `block handle (offset ${h.offset}, size ${h.size}) outside the file (footer at ${limit})`);
  }
}


/** Reads exactly `len` bytes at `pos`; a short read means the file shrank or is truncated. */
export async function preadExact(
  fh: FileHandle,
  file: string,
  pos: number,
  len: number,
  fileSize: number,
  into?: Uint8Array,
): Promise<Uint8Array> {
  if (pos < 0 || pos + len > fileSize) throw corrupt(file, Math.max(0, pos), 'read past end of file (truncated?)');
  const buf = into !== undefined && into.length >= len ? into.subarray(0, len) : new Uint8Array(len);
  let done = 0;
  while (done < len) {
    let n: number;
    try {
      ({ bytesRead: n } = await fh.read(buf, done, len - done, pos + done));
    } catch (e) {
      throw new SnapshotError('IO_ERROR', `read failed: ${(e as Error).message}`, { file, offset: pos + done, cause: e });
    }
    if (n === 0) throw corrupt(file, pos + done, 'unexpected end of file (truncated?)');
    done += n;
  }
  return buf;
}

/** Reads, verifies and decompresses one block. */
async function readBlock(
  fh: FileHandle,
  file: string,
  footer: Footer,
  h: BlockHandle,
  limit: number,
  where: number,
): Promise<Uint8Array> {
  return blockContents(file, footer, await readRawBlock(fh, file, h, limit, where), 0, h);
}

/** The bytes of one block and its trailer, after checking the handle lies before the footer. */
async function readRawBlock(fh: FileHandle, file: string, h: BlockHandle, limit: number, where: number): Promise<Uint8Array> {
  checkHandle(file, h, limit, where);
  return preadExact(fh, file, h.offset, h.size + BLOCK_TRAILER_SIZE, limit + FOOTER_SIZE);
}

const GLOBAL_SEQNO_PROPERTY = 'rocksdb.external_sst_file.global_seqno';

/**
 * Reads the properties block. IngestExternalFile with write_global_seqno overwrites the 8-byte
 * value of rocksdb.external_sst_file.global_seqno in place without updating the block's
 * checksum; RocksDB (ReadTablePropertiesHelper) then verifies the checksum with that value
 * zeroed, and so do we. Any other mismatch stays CORRUPT_CHECKPOINT.
 */
async function readPropertiesBlock(
  fh: FileHandle,
  file: string,
  footer: Footer,
  h: BlockHandle,
  limit: number,
  where: number,
): Promise<Uint8Array> {
  const buf = await readRawBlock(fh, file, h, limit, where);
  try {
    return blockContents(file, footer, buf, 0, h);
  } catch (e) {
    // RocksDB writes the properties block uncompressed; a compressed one gets no second chance.
    if (!(e instanceof SnapshotError) || e.code !== 'CORRUPT_CHECKPOINT' || buf[h.size] !== CompressionType.None) throw e;
    const data = buf.subarray(0, h.size);
    let at: number | undefined;
    try {
      for (const { key, value } of readBlockEntries(file, h.offset, data)) {
        if (value.length === 8 && value.buffer === data.buffer && new TextDecoder().decode(key) === GLOBAL_SEQNO_PROPERTY) {
          at = value.byteOffset - data.byteOffset;
        }
      }
    } catch {
      throw e;
    }
    if (at === undefined) throw e;
    const zeroed = buf.slice();
    zeroed.fill(0, at, at + 8);
    try {
      blockContents(file, footer, zeroed, 0, h);
    } catch {
      throw e;
    }
    return data;
  }
}

/**
 * Verifies the checksum of the block at `buf[start, start + size + 5)` and returns its
 * uncompressed contents (a view into `buf` when the block is stored uncompressed).
 */
export function blockContents(
  file: string,
  footer: Footer,
  buf: Uint8Array,
  start: number,
  h: BlockHandle,
  alloc?: (n: number) => Uint8Array,
): Uint8Array {
  const typeAt = start + h.size;
  // As RocksDB's VerifyBlockChecksum: kNoChecksum computes 0, so its field must hold 0 (plus
  // the context modifier from format_version 6).
  const stored = (buf[typeAt + 1]! | (buf[typeAt + 2]! << 8) | (buf[typeAt + 3]! << 16) | (buf[typeAt + 4]! << 24)) >>> 0;
  const computed = computeChecksum(footer.checksumType, buf, start, typeAt + 1);
  const expected = (stored - contextModifier(footer.baseContextChecksum, h.offset)) >>> 0;
  if (computed !== expected) {
    throw corrupt(file, h.offset, `block checksum mismatch (block at ${h.offset}, size ${h.size})`);
  }
  const type = buf[typeAt]!;
  const raw = buf.subarray(start, typeAt);
  if (type === CompressionType.None) return raw;
  try {
    return decompressBlock(type, raw, alloc);
  } catch (e) {
    if (e instanceof UnsupportedCompression) throw unsupported(file, h.offset, e.message);
    if (e instanceof DecodeFailure) throw corrupt(file, h.offset, `cannot decompress ${compressionName(type)} block: ${e.message}`, e);
    throw corrupt(file, h.offset, `cannot decompress ${compressionName(type)} block: ${String(e)}`, e);
  }
}

