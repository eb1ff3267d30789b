import {
  MAX_CHUNK_INDEX,
  CHUNK_TAIL_BYTES,
  ENTRY_PREFIX_BYTES,
  TABLE_END_BYTES,
  TAG_CHUNK_END,
  TAG_ENTRY,
  TAG_SNAPSHOT_END,
  TAG_TABLE_END,
  TRAILER_BYTES,
} from './constants.js';
import { CHUNK, EncoderHash, TABLE } from './encoder-wasm/encoder-hash.js';
import { SnapshotError } from './errors.js';
import { encodeChunkHeader, validateAnchor, type SnapshotAnchor, type TableRef } from './header.js';
import { resolveLimits, type ResolvedLimits, type SnapshotLimits } from './limits.js';
import { malformedPacked, packedRecordAt, writeEntryPrefix, type PackedEntries } from './packed.js';
import { compareRanges } from './bytes.js';

/** Where an encoder's bytes go. Both calls are synchronous; async sinks queue and apply backpressure. */
export interface EncoderOutput {
  /** The next bytes of the current chunk. Ownership passes to the callee; they are never reused. */
  data(bytes: Uint8Array): void;
  /** The current chunk is complete: every byte of it has been passed to `data`. */
  chunkEnd(chunk: ChunkSummary, last: boolean): void;
}

/** What a finished table contributed; `digest` is the one in its TABLE_END record. */
export interface TableSummary extends TableRef {
  readonly entries: bigint;
  /** Sum of key and value lengths: the table's logical size. */
  readonly bytes: bigint;
  readonly digest: bigint;
}

export interface ChunkSummary {
  readonly index: number;
  readonly bytes: number;
  /** The chunk's trailer: xxhash64 of every preceding byte of the chunk. */
  readonly digest: bigint;
}

/** The outcome of a complete snapshot. `digest` is the trailer of the last chunk. */
export interface SnapshotSummary {
  readonly anchor: SnapshotAnchor;
  readonly digest: bigint;
  readonly entries: bigint;
  readonly bytes: bigint;
  readonly tables: readonly TableSummary[];
  readonly chunks: readonly ChunkSummary[];
}

export type EncoderOptions = Readonly<
  Partial<{
    /** Limits the writer enforces, the same a reader applies. Defaults to the reader defaults. */
    limits: SnapshotLimits;
    /** Size of the output buffers handed to the sink. Defaults to 1 MiB. */
    bufferBytes: number;
    /**
     * The output discards the bytes (a digest only, `nullSink`): packed batches are then hashed
     * where they are and not copied to it. Defaults to false.
     */
    discardBytes: boolean;
  }>
>;

const DEFAULT_BUFFER_BYTES = 1 << 20;
/** Released buffers kept for reuse: enough to cover what the writer queues (8 MiB) so none become garbage. */
const MAX_FREE_BUFFERS = 16;

/**
 * The synchronous core of the writer: frames entries into chunks and hashes them in one pass,
 * with memory bounded by one output buffer whatever the snapshot size. Entries go in table
 * order (`add` … `endTable` per catalog table), then `finish`.
 */
export class SnapshotEncoder {
  readonly #anchor: SnapshotAnchor;
  readonly #names: Uint8Array[];
  readonly #out: EncoderOutput;
  readonly #limits: ResolvedLimits;
  readonly #maxChunk: number; // 0 = unchunked; above 2^53 it rounds, which no real chunk size can notice
  readonly #bufferBytes: number;
  readonly #headerBytes: number;
  /** Our buffers with parts handed to `data` and not yet released: reusable when it drops to 0. */
  readonly #outstanding = new WeakMap<ArrayBufferLike, number>();
  readonly #free: ArrayBufferLike[] = [];

  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;
  #emitFrom = 0; // #buf[#emitFrom, #pos) is written but not yet handed to `data`
  #chunkHashFrom = 0;
  #tableHashFrom = -1; // -1: no table's entries are being hashed

  #chunkIndex = 0;
  /** The chunk's xxhash64 (slot CHUNK) and the table's (slot TABLE). */
  readonly #hash = new EncoderHash();
  readonly #discard: boolean;
  #chunkUsed = 0;
  readonly #chunks: ChunkSummary[] = [];

  #tableIndex = 0;
  // Plain numbers: exact up to 2^53 entries or bytes, far cheaper per entry than BigInt.
  #tableEntries = 0;
  #tableBytes = 0;
  #lastKey = new Uint8Array(64);
  #lastKeyLength = -1; // -1: no entry yet in this table
  readonly #tables: TableSummary[] = [];
  #finished: SnapshotSummary | undefined;

  constructor(anchor: SnapshotAnchor, output: EncoderOutput, options: EncoderOptions = {}) {
    this.#limits = resolveLimits(options.limits);
    this.#names = validateAnchor(anchor, this.#limits);
    this.#anchor = anchor;
    this.#out = output;
    this.#maxChunk = Number(anchor.maxChunkBytes);
    // A buffer always holds a header, the largest key with its prefix, and a chunk tail.
    const header = encodeChunkHeader(anchor, this.#names, 0, 0n, 0);
    this.#headerBytes = header.length;
    this.#bufferBytes = Math.max(
      options.bufferBytes ?? DEFAULT_BUFFER_BYTES,
      header.length + ENTRY_PREFIX_BYTES + this.#limits.maxKeyBytes + TABLE_END_BYTES + CHUNK_TAIL_BYTES,
    );
    if (this.#maxChunk !== 0 && header.length + CHUNK_TAIL_BYTES > this.#maxChunk) {
      throw new SnapshotError(
        'INVALID_ARGUMENT',
        `max chunk bytes ${this.#maxChunk} cannot hold the ${header.length}-byte chunk header and its ${CHUNK_TAIL_BYTES}-byte tail`,
      );
    }
    this.#discard = options.discardBytes ?? false;
    this.#buf = this.#allocate();
    this.#view = new DataView(this.#buf.buffer);
    this.#tableHashFrom = anchor.tables.length > 0 ? 0 : -1;
    this.#startChunk(header);
  }

  /** The catalog table that `add` writes to, or undefined once every table has ended. */
  get currentTable(): TableRef | undefined {
    return this.#anchor.tables[this.#tableIndex];
  }

  /** Appends an entry to the current table; keys must be strictly ascending (UNSORTED_KEYS). */
  add(key: Uint8Array, value: Uint8Array): void {
    const table = this.#requireTable('add an entry');
    const keyLength = key.length;
    const valueLength = value.length;
    if (keyLength > this.#limits.maxKeyBytes) {
      throw new SnapshotError('LIMIT_EXCEEDED', `key of ${keyLength} bytes in table "${table.name}" exceeds the limit of ${this.#limits.maxKeyBytes}`);
    }
    if (valueLength > this.#limits.maxValueBytes) {
      throw new SnapshotError('LIMIT_EXCEEDED', `value of ${valueLength} bytes in table "${table.name}" exceeds the limit of ${this.#limits.maxValueBytes}`);
    }
    if (this.#lastKeyLength >= 0 && !this.#followsLastKey(key)) {
      throw new SnapshotError('UNSORTED_KEYS', `key ${hexPreview(key)} of table "${table.name}" (entry ${this.#tableEntries}) is not greater than the previous key`);
    }
    this.#rememberKey(key);
    const size = ENTRY_PREFIX_BYTES + keyLength + valueLength;
    this.#reserve(size);
    if (this.#pos + size > this.#buf.length) this.#flush();
    const buf = this.#buf;
    let p = writeEntryPrefix(buf, this.#pos, keyLength, valueLength);
    buf.set(key, p);
    p += keyLength;
    if (p + valueLength <= buf.length) {
      buf.set(value, p);
      this.#pos = p + valueLength;
    } else {
      // A value larger than the buffer goes out as it is: no copy, hashed in place.
      this.#pos = p;
      this.#flush();
      this.#hash.update(value, 0, 0, value.length);
      this.#out.data(value);
    }
    this.#tableEntries++;
    this.#tableBytes += keyLength + valueLength;
  }

  /**
   * Appends a packed batch (packed.ts) to the current table: the same checks and bytes as `add`
   * for each of its entries, with the records copied in bulk. On an error, the entries before
   * the offending one have been added, as with `add`.
   */
  addPacked(packed: PackedEntries): void {
    const table = this.#requireTable('add entries');
    const b = packed.bytes;
    // The whole batch in the current chunk (no cut inside it): checked and hashed in WebAssembly,
    // as far as it goes; the JavaScript loop reads the record it stopped at, if any, and reports it.
    if (b.length > 0 && (this.#maxChunk === 0 || this.#chunkUsed + b.length + CHUNK_TAIL_BYTES <= this.#maxChunk)) {
      this.#hashPending();
      const r = this.#hash.scanPacked(b, this.#lastKey, this.#lastKeyLength, this.#limits.maxKeyBytes, this.#limits.maxValueBytes);
      if (r.entries > 0) {
        this.#chunkUsed += r.stop;
        if (!this.#discard) this.#copyInHashed(b, 0, r.stop);
        this.#tableEntries += r.entries;
        this.#tableBytes += r.bytes;
        this.#rememberKey(b.subarray(r.lastKey, r.lastKey + r.lastKeyLength));
      }
      if (r.stop === b.length) {
        if (r.entries !== packed.count) throw malformedPacked(r.stop, `${r.entries} records, count says ${packed.count}`);
        return;
      }
      this.#addPackedJs(packed, table, r.stop, r.entries);
      return;
    }
    this.#addPackedJs(packed, table, 0, 0);
  }

  /** addPacked in JavaScript from record `start` on, after `before` records added from the batch. */
  #addPackedJs(packed: PackedEntries, table: TableRef, start: number, before: number): void {
    const b = packed.bytes;
    const end = b.length;
    const maxKey = this.#limits.maxKeyBytes;
    const maxValue = this.#limits.maxValueBytes;
    const maxChunk = this.#maxChunk;
    let runStart = start; // records [runStart, p) are checked but not yet copied
    let prevKey = -1; // start of the previous key in `b`, or -1: compare with #lastKey
    let prevKeyLength = 0;
    let p = start;
    let entries = 0;
    let bytes = 0; // key and value bytes
    let unreserved = 0; // record bytes not yet counted in the chunk (unchunked: no cut to find)
    try {
      while (p < end) {
        // The record's prefix, read inline (packedRecordAt only to report a malformed one).
        if (end - p < ENTRY_PREFIX_BYTES || b[p] !== TAG_ENTRY) packedRecordAt(b, p);
        const keyLength = (b[p + 1]! | (b[p + 2]! << 8) | (b[p + 3]! << 16)) + b[p + 4]! * 0x1000000;
        const valueLength = (b[p + 5]! | (b[p + 6]! << 8) | (b[p + 7]! << 16)) + b[p + 8]! * 0x1000000;
        if (keyLength + valueLength > end - p - ENTRY_PREFIX_BYTES) packedRecordAt(b, p);
        if (keyLength > maxKey) {
          throw new SnapshotError('LIMIT_EXCEEDED', `key of ${keyLength} bytes in table "${table.name}" exceeds the limit of ${maxKey}`);
        }
        if (valueLength > maxValue) {
          throw new SnapshotError('LIMIT_EXCEEDED', `value of ${valueLength} bytes in table "${table.name}" exceeds the limit of ${maxValue}`);
        }
        const k = p + ENTRY_PREFIX_BYTES;
        const ordered = prevKey >= 0
          ? compareRanges(b, prevKey, prevKeyLength, b, k, keyLength) < 0
          : this.#lastKeyLength < 0 || compareRanges(this.#lastKey, 0, this.#lastKeyLength, b, k, keyLength) < 0;
        if (!ordered) {
          const key = b.subarray(k, k + keyLength);
          throw new SnapshotError('UNSORTED_KEYS', `key ${hexPreview(key)} of table "${table.name}" (entry ${this.#tableEntries + entries}) is not greater than the previous key`);
        }
        const size = ENTRY_PREFIX_BYTES + keyLength + valueLength;
        if (maxChunk === 0) {
          unreserved += size;
        } else {
          if (this.#chunkUsed + size + CHUNK_TAIL_BYTES > maxChunk) {
            this.#copyIn(b, runStart, p); // the records before the cut belong to the current chunk
            runStart = p;
          }
          this.#reserve(size);
        }
        prevKey = k;
        prevKeyLength = keyLength;
        entries++;
        bytes += keyLength + valueLength;
        p += size;
      }
    } finally {
      this.#chunkUsed += unreserved;
      this.#copyIn(b, runStart, p);
      this.#tableEntries += entries;
      this.#tableBytes += bytes;
      if (prevKey >= 0) this.#rememberKey(b.subarray(prevKey, prevKey + prevKeyLength));
    }
    if (before + entries !== packed.count) throw malformedPacked(p, `${before + entries} records, count says ${packed.count}`);
  }

  /**
   * As #copyIn, for bytes already hashed (everything before them was hashed too): the hashing
   * marks move along, so that a flush midway does not hash them again.
   */
  #copyInHashed(src: Uint8Array, from: number, to: number): void {
    while (from < to) {
      if (this.#pos === this.#buf.length) {
        this.#markHashed();
        this.#flush();
      }
      const n = Math.min(to - from, this.#buf.length - this.#pos);
      this.#buf.set(src.subarray(from, from + n), this.#pos);
      this.#pos += n;
      from += n;
    }
    this.#markHashed();
  }

  #markHashed(): void {
    this.#chunkHashFrom = this.#pos;
    if (this.#tableHashFrom >= 0) this.#tableHashFrom = this.#pos;
  }

  /** Copies src[from, to) to the output, flushing full buffers (records may span buffers). */
  #copyIn(src: Uint8Array, from: number, to: number): void {
    while (from < to) {
      if (this.#pos === this.#buf.length) this.#flush();
      const n = Math.min(to - from, this.#buf.length - this.#pos);
      this.#buf.set(src.subarray(from, from + n), this.#pos);
      this.#pos += n;
      from += n;
    }
  }

  /** The current table's last key so far (a view, valid until the next entry), or undefined before its first. */
  get lastKey(): Uint8Array | undefined {
    return this.#lastKeyLength < 0 ? undefined : this.#lastKey.subarray(0, this.#lastKeyLength);
  }

  /** True when `key` sorts strictly after the previous key (bytewise; a proper prefix sorts first). */
  #followsLastKey(key: Uint8Array): boolean {
    const last = this.#lastKey;
    const n = Math.min(this.#lastKeyLength, key.length);
    for (let i = 0; i < n; i++) {
      const a = last[i]!;
      const b = key[i]!;
      if (a !== b) return a < b;
    }
    return key.length > this.#lastKeyLength;
  }

  /** Closes the current table with its TABLE_END record (count and digest). */
  endTable(): TableSummary {
    const table = this.#requireTable('end a table');
    this.#hashPending();
    const digest = this.#hash.digest(TABLE);
    this.#tableHashFrom = -1;
    this.#reserve(TABLE_END_BYTES);
    if (this.#pos + TABLE_END_BYTES > this.#buf.length) this.#flush();
    const p = this.#pos;
    this.#buf[p] = TAG_TABLE_END;
    this.#view.setUint32(p + 1, table.id, true);
    this.#view.setBigUint64(p + 5, BigInt(this.#tableEntries), true);
    this.#view.setBigUint64(p + 13, digest, true);
    this.#pos += TABLE_END_BYTES;
    const summary: TableSummary = { id: table.id, name: table.name, entries: BigInt(this.#tableEntries), bytes: BigInt(this.#tableBytes), digest };
    this.#tables.push(summary);
    this.#tableIndex++;
    this.#hash.reset(TABLE);
    this.#tableEntries = 0;
    this.#tableBytes = 0;
    this.#lastKeyLength = -1;
    if (this.#tableIndex < this.#anchor.tables.length) this.#tableHashFrom = this.#pos;
    return summary;
  }

  /** Writes SNAPSHOT_END and the last trailer; every catalog table must have ended. */
  finish(): SnapshotSummary {
    if (this.#finished !== undefined) return this.#finished;
    if (this.#tableIndex < this.#anchor.tables.length) {
      throw new SnapshotError('INVALID_ARGUMENT', `table "${this.#anchor.tables[this.#tableIndex]!.name}" was not ended`);
    }
    const last = this.#closeChunk(TAG_SNAPSHOT_END);
    let entries = 0n;
    let bytes = 0n;
    for (const t of this.#tables) {
      entries += t.entries;
      bytes += t.bytes;
    }
    this.#finished = { anchor: this.#anchor, digest: last.digest, entries, bytes, tables: this.#tables, chunks: this.#chunks };
    return this.#finished;
  }

  #requireTable(action: string): TableRef {
    if (this.#finished !== undefined) throw new SnapshotError('INVALID_ARGUMENT', `cannot ${action}: the snapshot is finished`);
    const table = this.#anchor.tables[this.#tableIndex];
    if (table === undefined) throw new SnapshotError('INVALID_ARGUMENT', `cannot ${action}: every catalog table has ended`);
    return table;
  }

  #rememberKey(key: Uint8Array): void {
    if (key.length > this.#lastKey.length) this.#lastKey = new Uint8Array(Math.max(key.length, this.#lastKey.length * 2));
    this.#lastKey.set(key);
    this.#lastKeyLength = key.length;
  }

  /**
   * The canonical chunk cut: a record goes in the current chunk if, with it, the chunk still has
   * room for its tail; otherwise the chunk ends (CHUNK_END) and a new one begins.
   */
  #reserve(size: number): void {
    if (this.#maxChunk !== 0 && this.#chunkUsed + size + CHUNK_TAIL_BYTES > this.#maxChunk) {
      // Every chunk header has the same size, so a record that cannot fit an empty chunk never will.
      if (this.#headerBytes + size + CHUNK_TAIL_BYTES > this.#maxChunk) {
        throw new SnapshotError(
          'LIMIT_EXCEEDED',
          `a ${size}-byte record does not fit in a chunk of at most ${this.#maxChunk} bytes (after the ${this.#headerBytes}-byte header)`,
        );
      }
      if (this.#chunkIndex >= MAX_CHUNK_INDEX) {
        // The index is a u32: chunk 2^32 would wrap to 0 and read as a new snapshot's first chunk.
        throw new SnapshotError('LIMIT_EXCEEDED', `a snapshot holds at most ${MAX_CHUNK_INDEX + 1} chunks: choose a larger max chunk size than ${this.#maxChunk} bytes`);
      }
      const previous = this.#closeChunk(TAG_CHUNK_END);
      this.#chunkIndex++;
      this.#hash.reset(CHUNK);
      this.#startChunk(encodeChunkHeader(this.#anchor, this.#names, this.#chunkIndex, previous.digest, this.#tableIndex));
    }
    this.#chunkUsed += size;
  }

  #startChunk(header: Uint8Array): void {
    if (this.#pos + header.length > this.#buf.length) this.#flush();
    this.#chunkHashFrom = this.#pos;
    this.#buf.set(header, this.#pos);
    this.#pos += header.length;
    this.#chunkUsed = header.length;
    if (this.#tableHashFrom >= 0) this.#tableHashFrom = this.#pos;
  }

  #closeChunk(tag: number): ChunkSummary {
    if (this.#pos + CHUNK_TAIL_BYTES > this.#buf.length) this.#flush();
    this.#hashPending(); // the table's entries end before the end record
    this.#buf[this.#pos++] = tag;
    this.#hash.update(this.#buf, this.#chunkHashFrom, -1, this.#pos);
    const digest = this.#hash.digest(CHUNK);
    this.#view.setBigUint64(this.#pos, digest, true);
    this.#pos += TRAILER_BYTES;
    this.#chunkHashFrom = this.#pos;
    if (this.#tableHashFrom >= 0) this.#tableHashFrom = this.#pos;
    const chunk: ChunkSummary = { index: this.#chunkIndex, bytes: this.#chunkUsed + CHUNK_TAIL_BYTES, digest };
    this.#chunks.push(chunk);
    this.#emit();
    this.#out.chunkEnd(chunk, tag === TAG_SNAPSHOT_END);
    return chunk;
  }

  /** Feeds bytes written since the last call to the chunk hasher and, inside a table, the table hasher. */
  #hashPending(): void {
    // The table's bytes are a tail of the chunk's (tableHashFrom >= chunkHashFrom): one copy into WebAssembly for both.
    if (this.#pos > this.#chunkHashFrom) this.#hash.update(this.#buf, this.#chunkHashFrom, this.#tableHashFrom, this.#pos);
    this.#markHashed();
  }

  #allocate(): Uint8Array {
    return new Uint8Array(this.#bufferBytes);
  }

  /** Hands over what is written and continues at the start of a buffer (callers need room). */
  #flush(): void {
    this.#hashPending();
    this.#emit();
    this.#nextBuffer();
  }

  /**
   * Gives back bytes passed to `data` once their consumer is done with them, for reuse. Without
   * this, each emitted MiB is a fresh allocation that lingers until a GC (tens of MB of RSS).
   * Bytes the encoder did not allocate (large values passed through) are ignored.
   */
  release(bytes: Uint8Array): void {
    const buffer = bytes.buffer;
    const held = this.#outstanding.get(buffer);
    if (held === undefined) return;
    if (held > 1) {
      this.#outstanding.set(buffer, held - 1);
      return;
    }
    this.#outstanding.delete(buffer);
    if (buffer !== this.#buf.buffer && this.#free.length < MAX_FREE_BUFFERS) this.#free.push(buffer);
  }

  /**
   * Hands the bytes written since the last hand-over to `data`; writing goes on after them in the
   * same buffer. A chunk end emits, so with small chunks one buffer carries many chunks: a fresh
   * buffer per chunk cost a zeroed MiB per 4 KiB chunk (2 GB of RSS queued behind a file sink).
   */
  #emit(): void {
    if (this.#pos === this.#emitFrom) return;
    const buffer = this.#buf.buffer;
    this.#outstanding.set(buffer, (this.#outstanding.get(buffer) ?? 0) + 1);
    this.#out.data(this.#buf.subarray(this.#emitFrom, this.#pos));
    this.#emitFrom = this.#pos;
  }

  /** Continues at offset 0: of this buffer if no part of it is still held, else of a free or new one. */
  #nextBuffer(): void {
    if (this.#outstanding.has(this.#buf.buffer)) {
      const reused = this.#free.pop();
      this.#buf = reused === undefined ? this.#allocate() : new Uint8Array(reused);
      this.#view = new DataView(this.#buf.buffer);
    }
    this.#pos = 0;
    this.#emitFrom = 0;
    this.#chunkHashFrom = 0;
    if (this.#tableHashFrom >= 0) this.#tableHashFrom = 0;
  }
}

function hexPreview(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes.subarray(0, 32)).toString('hex');
  return `0x${hex}${bytes.length > 32 ? '…' : ''}`;
}
