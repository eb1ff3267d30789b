import {
  CHUNK_TAIL_BYTES,
  ENTRY_PREFIX_BYTES,
  HEADER_FIXED_PREFIX_BYTES,
  TABLE_END_BYTES,
  TAG_CHUNK_END,
  TAG_ENTRY,
  TAG_SNAPSHOT_END,
  TAG_TABLE_END,
  TRAILER_BYTES,
} from './constants.js';
import { ByteQueue } from './byte-queue.js';
import { formatDigest } from './digest.js';
import type { ChunkSummary, SnapshotSummary, TableSummary } from './encoder.js';
import { SnapshotError, type FormatErrorCode } from './errors.js';
import { u32 } from './packed.js';
import { decodeChunkHeader, sameAnchor, type ChunkHeader } from './header.js';
import { resolveLimits, type ResolvedLimits, type SnapshotLimits } from './limits.js';
import { decodeKernel, SCAN_MAX_PREVIOUS_KEY, scanKernel, type ChunkChain, type ScanResult } from './wasm/decode-kernel.js';

/** Below this many bytes left in the head piece, one WebAssembly call costs more than it saves. */
const SCAN_MIN_BYTES = 256;

/** What a decoder reports, in stream order. Views passed to `entry` stay valid (never reused). */
export interface DecoderEvents {
  /** A chunk header was read and checked against the chain (each chunk, the first included). */
  header?(header: ChunkHeader, offset: number): void;
  entry?(tableIndex: number, key: Uint8Array, value: Uint8Array): void;
  /**
   * When given, a run of ENTRY records whole in one input piece comes here as its bytes (the
   * layout of packed.ts: records back to back) instead of one `entry` call per record; entries
   * outside such runs still come to `entry`. The view stays valid as `entry`'s do.
   */
  entryRecords?(tableIndex: number, records: Uint8Array, count: number): void;
  /** A TABLE_END matched the entries read: count and digest verified. */
  tableEnd?(table: TableSummary): void;
  /** A chunk's trailer verified. */
  chunkEnd?(chunk: ChunkSummary, last: boolean): void;
}

export type DecoderOptions = Readonly<
  Partial<{
    limits: SnapshotLimits;
    /**
     * Verify one chunk on its own: any chunk index, no chain, the input ends after its trailer.
     * Defaults to false (a whole snapshot: chunk 0 to the chunk ending with SNAPSHOT_END).
     */
    standaloneChunk: boolean;
    /**
     * The caller keeps no entry views beyond the `entry` call (e.g. it verifies only): records
     * spanning input pieces are assembled in one reused buffer. Defaults to false.
     */
    transientEntries: boolean;
    /** Called with each input piece once fully consumed, so the caller may reuse it. */
    onPieceConsumed: (piece: Uint8Array) => void;
  }>
>;

type State = 'header' | 'records' | 'trailer' | 'done';

/**
 * The push-driven reader of the format: feed bytes in pieces of any size with `push`, then call
 * `end`. Validates everything the spec requires and throws SnapshotError with the stream offset.
 * Entries are reported before the trailer that covers them is checked: a consumer must treat
 * them as provisional until `end` returns.
 */
export class SnapshotDecoder {
  readonly #events: DecoderEvents;
  readonly #limits: ResolvedLimits;
  readonly #standalone: boolean;
  readonly #reuseScratch: boolean;
  readonly #q = new ByteQueue();
  readonly #kernel = decodeKernel();
  #state: State = 'header';

  #first: ChunkHeader | undefined;
  /**
   * The first header's bytes: a later chunk's header is these bytes with its index, previous
   * digest and table position set (what the chain expects). Compared byte for byte, the header
   * of each 4 KiB chunk is checked without being decoded; any other header is decoded below.
   */
  #template: { bytes: Uint8Array; view: DataView; fieldsAt: number } | undefined;
  #chunk: ChunkHeader | undefined;
  #maxChunk = 0;
  #chunkStart = 0;
  #chunkUsed = 0;
  #chunkRecords = 0;
  #previousChunkUsed = 0;
  #previousDigest = 0n;
  #lastChunk = false;
  /**
   * Each chunk's size and trailer, compact until the summary is built: an object and a BigInt
   * kept per 4 KiB chunk, promoted through the young generation, grew the heap by megabytes.
   */
  readonly #chunks = new ChunkList();

  #tableIndex = 0;
  #tableHashing = false;
  // Plain numbers: exact up to 2^53, far cheaper per entry than BigInt.
  #tableEntries = 0;
  #tableBytes = 0;
  // A copy, not a view: the input buffers may be reused once consumed (verifySnapshot pools them).
  #lastKey = new Uint8Array(64);
  #lastKeyLength = -1; // -1: no entry yet in this table
  #scratch: Uint8Array | undefined;
  /** A standalone chunk starting mid-table cannot check that table's count and digest. */
  #partialTable = -1;
  /** Entries and key+value bytes read: a standalone chunk's own counts (its tables may not end in it). */
  #entriesRead = 0;
  #bytesRead = 0;
  readonly #tables: TableSummary[] = [];
  #summary: SnapshotSummary | undefined;
  readonly #scan: ScanResult = { end: 0, count: 0, bytes: 0, lastKeyAt: 0, lastKeyLength: 0 };
  /** Whole chunks may be read by the kernel's chunk pass (#readChunks): nobody asked for events within a chunk. */
  readonly #chunkPass: boolean;
  #chain: ChunkChain | undefined;

  constructor(events: DecoderEvents = {}, options: DecoderOptions = {}) {
    this.#events = events;
    this.#limits = resolveLimits(options.limits);
    this.#standalone = options.standaloneChunk ?? false;
    this.#chunkPass = !this.#standalone && events.header === undefined && events.entry === undefined && events.entryRecords === undefined && events.chunkEnd === undefined;
    this.#reuseScratch = options.transientEntries ?? false;
    if (options.onPieceConsumed !== undefined) this.#q.onPieceConsumed = options.onPieceConsumed;
    this.#q.startChunkHash();
  }

  /** Stream offset of the next byte the decoder will consume. */
  get offset(): number {
    return this.#q.offset;
  }

  /** The first chunk's header, once read. */
  get header(): ChunkHeader | undefined {
    return this.#first;
  }

  push(bytes: Uint8Array): void {
    this.#q.push(bytes);
    for (;;) {
      if (this.#state === 'header') {
        if (this.#chunkPass && this.#template !== undefined && this.#readChunks()) continue;
        if (!this.#readHeader()) return;
      } else if (this.#state === 'records') {
        if (!this.#readRecord()) return;
      } else if (this.#state === 'trailer') {
        if (!this.#readTrailer()) return;
      } else {
        if (this.#q.available > 0) this.#fail('TRAILING_BYTES', this.#q.offset, `${this.#q.available}+ bytes follow the end of the snapshot`);
        return;
      }
    }
  }

  /** Declares the input complete; throws TRUNCATED unless the snapshot (or chunk) ended exactly. */
  end(): SnapshotSummary {
    if (this.#state !== 'done' || this.#summary === undefined) {
      const where = this.#state === 'header' ? 'in a chunk header' : this.#state === 'trailer' ? 'in a chunk trailer' : 'before the end record';
      this.#fail('TRUNCATED', this.#q.offset + this.#q.available, `the input ends ${where}`);
    }
    return this.#summary!;
  }

  #fail(code: FormatErrorCode, offset: number, message: string): never {
    throw new SnapshotError(code, message, { offset });
  }

  #readHeader(): boolean {
    if (this.#template !== undefined && this.#readExpectedHeader()) return true;
    const start = this.#q.offset;
    const r = decodeChunkHeader((n) => this.#q.peek(n), start, this.#limits);
    if (r === undefined) return false;
    const h = r.header;
    // As a double: above 2^53 it rounds, but chunk sizes (< 2^53) compare with it exactly the same.
    const max = Number(h.maxChunkBytes);
    if (max !== 0 && r.size + CHUNK_TAIL_BYTES > max) {
      const maxField = start + HEADER_FIXED_PREFIX_BYTES + (h.cursor.eventId?.length ?? 0);
      this.#fail('LIMIT_EXCEEDED', maxField, `max chunk bytes ${max} cannot hold the ${r.size}-byte header and a ${CHUNK_TAIL_BYTES}-byte tail`);
    }
    if (this.#first === undefined) {
      if (!this.#standalone && h.chunkIndex !== 0) {
        this.#fail('CHUNK_SEQUENCE', start, `the snapshot starts with chunk ${h.chunkIndex}, not chunk 0`);
      }
      this.#first = h;
      const bytes = this.#q.peek(r.size)!.slice();
      this.#template = { bytes, view: new DataView(bytes.buffer), fieldsAt: HEADER_FIXED_PREFIX_BYTES + (h.cursor.eventId?.length ?? 0) };
      this.#tableIndex = h.tablePosition;
      if (this.#standalone && h.chunkIndex > 0) this.#partialTable = h.tablePosition;
    } else {
      if (!sameAnchor(this.#first, h)) {
        this.#fail('CHUNK_SEQUENCE', start, `chunk ${h.chunkIndex} belongs to another snapshot (its epoch, cursor, catalog or chunk size differ)`);
      }
      const expected = this.#chunks.count;
      if (h.chunkIndex !== expected) this.#fail('CHUNK_SEQUENCE', start, `expected chunk ${expected}, found chunk ${h.chunkIndex}`);
      if (h.previousChunkDigest !== this.#previousDigest) {
        this.#fail('CHUNK_SEQUENCE', start, `chunk ${h.chunkIndex} does not follow chunk ${expected - 1}: previous digest ${formatDigest(h.previousChunkDigest)}, expected ${formatDigest(this.#previousDigest)}`);
      }
      if (h.tablePosition !== this.#tableIndex) {
        this.#fail('CHUNK_SEQUENCE', start, `chunk ${h.chunkIndex} starts at table ${h.tablePosition}, expected ${this.#tableIndex}`);
      }
    }
    this.#beginChunk(h, start, r.size, max);
    return true;
  }

  /**
   * The header the chain expects next, if it lies whole in the head piece byte for byte: then
   * decoding it would find exactly the first header's anchor and the expected index, previous
   * digest and table position, and every check above would pass. False otherwise (read above).
   */
  #readExpectedHeader(): boolean {
    const { bytes, view, fieldsAt } = this.#template!;
    const piece = this.#q.headPiece;
    const pos = this.#q.headPos;
    const n = bytes.length;
    if (piece === undefined || pos + n > piece.length) return false;
    const index = this.#chunks.count;
    view.setUint32(fieldsAt + 8, index, true);
    view.setBigUint64(fieldsAt + 12, this.#previousDigest, true);
    view.setUint32(fieldsAt + 20, this.#tableIndex, true);
    for (let i = 0; i < n; i++) if (piece[pos + i] !== bytes[i]) return false;
    const f = this.#first!;
    const h: ChunkHeader = {
      formatVersion: f.formatVersion,
      epoch: f.epoch,
      cursor: f.cursor,
      maxChunkBytes: f.maxChunkBytes,
      chunkIndex: index,
      previousChunkDigest: this.#previousDigest,
      tablePosition: this.#tableIndex,
      tables: f.tables,
    };
    this.#beginChunk(h, this.#q.offset, n, this.#maxChunk);
    return true;
  }

  /**
   * The chunk pass: whole chunks lying in the head piece, read by the decode kernel (`chunks` in
   * wasm/decode-kernel.wat) in one call when each is what the chain expects (the first header's
   * bytes with the expected fields, as #readExpectedHeader), holds only ENTRY records the scanner
   * accepts, keeps the cut rule and ends with a matching trailer: then every check below would
   * pass for it, and the state after it is what reading it here would leave. False when it
   * accepted none: the chunk is read below, which reports any error exactly as before. At 4 KiB
   * a chunk, the JavaScript steps per chunk (header, trailer, hashes, chain) cost more than the
   * chunk's records and hashing; the pass makes them one call per piece.
   */
  #readChunks(): boolean {
    const q = this.#q;
    const piece = q.headPiece;
    const t = this.#template!;
    const max = this.#maxChunk;
    if (piece === undefined || !scanKernel.enabled || !scanKernel.chunks) return false;
    if (max === 0 || this.#tableIndex >= this.#first!.tables.length || this.#lastKeyLength > SCAN_MAX_PREVIOUS_KEY) return false;
    const from = q.headPos;
    if (piece.length - from < t.bytes.length + ENTRY_PREFIX_BYTES + CHUNK_TAIL_BYTES) return false;
    const chain = (this.#chain ??= { template: t.bytes, fieldsAt: t.fieldsAt, index: 0, previousDigest: 0n, tablePosition: 0, maxChunkBytes: max, previousUsed: 0 });
    chain.index = this.#chunks.count;
    chain.previousDigest = this.#previousDigest;
    chain.tablePosition = this.#tableIndex;
    chain.previousUsed = this.#previousChunkUsed;
    const r = this.#kernel.chunks(q.hashStatesNow(), piece, from, chain, this.#lastKey, this.#lastKeyLength, this.#limits.maxKeyBytes, this.#limits.maxValueBytes);
    if (r === undefined || r.count === 0) return false;
    scanKernel.passChunks += r.count;
    if (r.lastKeyLength > this.#lastKey.length) this.#lastKey = new Uint8Array(Math.max(r.lastKeyLength, this.#lastKey.length * 2));
    this.#lastKey.set(piece.subarray(r.lastKeyAt, r.lastKeyAt + r.lastKeyLength));
    this.#lastKeyLength = r.lastKeyLength;
    this.#chunks.addRun(r.sizes, r.digests, r.count);
    this.#tableEntries += r.entries;
    this.#tableBytes += r.bytes;
    this.#entriesRead += r.entries;
    this.#bytesRead += r.bytes;
    this.#previousDigest = r.lastDigest;
    this.#previousChunkUsed = r.lastUsed;
    q.skipHashed(r.end - from);
    return true;
  }

  #beginChunk(h: ChunkHeader, start: number, size: number, max: number): void {
    this.#q.skip(size);
    this.#chunk = h;
    this.#maxChunk = max;
    this.#chunkStart = start;
    this.#chunkUsed = size;
    this.#chunkRecords = 0;
    this.#events.header?.(h, start);
    this.#state = 'records';
  }

  /** Checks a record against the chunk's maximum and the canonical cut rule before it is read. */
  #admit(size: number, at: number): void {
    if (this.#maxChunk === 0) return;
    if (this.#chunkUsed + size + CHUNK_TAIL_BYTES > this.#maxChunk) {
      this.#fail('LIMIT_EXCEEDED', at, `a ${size}-byte record overflows chunk ${this.#chunk!.chunkIndex} (max ${this.#maxChunk} bytes)`);
    }
    if (this.#fitsPreviousChunk(size)) {
      this.#fail('NON_CANONICAL', at, `this ${size}-byte record fits in the previous chunk, so that chunk must not have ended`);
    }
  }

  /** The canonical cut rule: a chunk's first record must not have fitted in the previous chunk. */
  #fitsPreviousChunk(size: number): boolean {
    return this.#chunkRecords === 0 && this.#chunk!.chunkIndex > 0 && this.#previousChunkUsed > 0 && this.#previousChunkUsed + size + CHUNK_TAIL_BYTES <= this.#maxChunk;
  }

  #readRecord(): boolean {
    const q = this.#q;
    const at = q.offset;
    const tag = q.peekByte();
    if (tag < 0) return false;
    const tables = this.#chunk!.tables;
    if (tag === TAG_ENTRY) {
      if (this.#scanRun(tables.length)) return true;
      let keyLength: number;
      let valueLength: number;
      const piece = q.headPiece!;
      const pos = q.headPos;
      if (pos + ENTRY_PREFIX_BYTES <= piece.length) {
        // Fast path: the prefix lies in one piece; read it without a view or a DataView.
        keyLength = (piece[pos + 1]! | (piece[pos + 2]! << 8) | (piece[pos + 3]! << 16)) + piece[pos + 4]! * 0x1000000;
        valueLength = (piece[pos + 5]! | (piece[pos + 6]! << 8) | (piece[pos + 7]! << 16)) + piece[pos + 8]! * 0x1000000;
      } else {
        const prefix = q.peek(ENTRY_PREFIX_BYTES);
        if (prefix === undefined) return false;
        const dv = new DataView(prefix.buffer, prefix.byteOffset, ENTRY_PREFIX_BYTES);
        keyLength = dv.getUint32(1, true);
        valueLength = dv.getUint32(5, true);
      }
      if (this.#tableIndex >= tables.length) this.#fail('BAD_RECORD', at, 'an entry follows the end of the last table');
      if (keyLength > this.#limits.maxKeyBytes) this.#fail('LIMIT_EXCEEDED', at + 1, `key of ${keyLength} bytes exceeds the limit of ${this.#limits.maxKeyBytes}`);
      if (valueLength > this.#limits.maxValueBytes) this.#fail('LIMIT_EXCEEDED', at + 5, `value of ${valueLength} bytes exceeds the limit of ${this.#limits.maxValueBytes}`);
      const size = ENTRY_PREFIX_BYTES + keyLength + valueLength;
      this.#admit(size, at);
      let key: Uint8Array;
      let value: Uint8Array;
      if (pos + size <= piece.length) {
        key = piece.subarray(pos + ENTRY_PREFIX_BYTES, pos + ENTRY_PREFIX_BYTES + keyLength);
        value = piece.subarray(pos + ENTRY_PREFIX_BYTES + keyLength, pos + size);
      } else {
        if (q.available < size) return false;
        // A record spanning pieces is assembled; without entry events one scratch buffer serves all.
        const record = this.#reuseScratch ? q.peekInto(size, (this.#scratch = growScratch(this.#scratch, size))) : q.peek(size)!;
        key = record.subarray(ENTRY_PREFIX_BYTES, ENTRY_PREFIX_BYTES + keyLength);
        value = record.subarray(ENTRY_PREFIX_BYTES + keyLength);
      }
      if (this.#lastKeyLength >= 0 && !follows(this.#lastKey, this.#lastKeyLength, key)) {
        this.#fail('UNSORTED_KEYS', at + ENTRY_PREFIX_BYTES, `key of entry ${this.#tableEntries} in table "${tables[this.#tableIndex]!.name}" is not greater than the previous key`);
      }
      if (!this.#tableHashing) {
        q.hashTable(true);
        this.#tableHashing = true;
      }
      q.skip(size);
      if (key.length > this.#lastKey.length) this.#lastKey = new Uint8Array(Math.max(key.length, this.#lastKey.length * 2));
      this.#lastKey.set(key);
      this.#lastKeyLength = key.length;
      this.#tableEntries++;
      this.#tableBytes += keyLength + valueLength;
      this.#entriesRead++;
      this.#bytesRead += keyLength + valueLength;
      this.#chunkUsed += size;
      this.#chunkRecords++;
      this.#events.entry?.(this.#tableIndex, key, value);
      return true;
    }
    this.#stopTableHashing();
    if (tag === TAG_TABLE_END) {
      const record = q.peek(TABLE_END_BYTES);
      if (record === undefined) return false;
      const table = tables[this.#tableIndex];
      if (table === undefined) this.#fail('BAD_RECORD', at, 'a table end follows the end of the last table');
      this.#admit(TABLE_END_BYTES, at);
      const dv = new DataView(record.buffer, record.byteOffset, TABLE_END_BYTES);
      const id = dv.getUint32(1, true);
      const count = dv.getBigUint64(5, true);
      const digest = dv.getBigUint64(13, true);
      if (id !== table.id) this.#fail('TABLE_MISMATCH', at + 1, `table end names table id ${id}, expected ${table.id} ("${table.name}")`);
      const partial = this.#tableIndex === this.#partialTable;
      if (!partial && count !== BigInt(this.#tableEntries)) this.#fail('TABLE_MISMATCH', at + 5, `table "${table.name}" declares ${count} entries, ${this.#tableEntries} were read`);
      const actual = q.tableDigest(); // complete: hashing stopped before this record
      if (!partial && digest !== actual) this.#fail('CHECKSUM_MISMATCH', at + 13, `table "${table.name}" digest ${formatDigest(digest)} does not match its entries (${formatDigest(actual)})`);
      q.skip(TABLE_END_BYTES);
      const summary: TableSummary = { id: table.id, name: table.name, entries: count, bytes: BigInt(this.#tableBytes), digest };
      this.#tables.push(summary);
      this.#tableIndex++;
      q.resetTableHash();
      this.#tableEntries = 0;
      this.#tableBytes = 0;
      this.#lastKeyLength = -1;
      this.#chunkUsed += TABLE_END_BYTES;
      this.#chunkRecords++;
      this.#events.tableEnd?.(summary);
      return true;
    }
    if (tag === TAG_CHUNK_END) {
      if (this.#maxChunk === 0) this.#fail('BAD_RECORD', at, 'a chunk end in an unchunked snapshot (max chunk bytes 0)');
      if (this.#chunkRecords === 0) this.#fail('NON_CANONICAL', at, 'a chunk must hold at least one record before it ends');
      q.skip(1);
      this.#lastChunk = false;
      this.#state = 'trailer';
      return true;
    }
    if (tag === TAG_SNAPSHOT_END) {
      if (this.#tableIndex < tables.length) this.#fail('BAD_RECORD', at, `the snapshot ends before table "${tables[this.#tableIndex]!.name}" ended`);
      if (this.#chunkRecords === 0 && this.#chunk!.chunkIndex > 0 && !this.#standalone) {
        this.#fail('NON_CANONICAL', at, 'the end record fits in the previous chunk, so that chunk must not have ended');
      }
      q.skip(1);
      this.#lastChunk = true;
      this.#state = 'trailer';
      return true;
    }
    return this.#fail('BAD_RECORD', at, `unknown record tag 0x${tag.toString(16).padStart(2, '0')}`);
  }

  /**
   * The fast path: a run of ENTRY records whole in the head piece, checked by the WebAssembly
   * scanner (wasm/decode-kernel.wat), which accepts exactly the records the code below would and
   * stops before any other. False when it accepted none: the record is read below, and any error
   * is reported there. A chunk's first record after chunk 0 is scanned too once the cut rule holds
   * for it (else it is read below, which reports NON_CANONICAL): a JavaScript step per chunk
   * cost as much as a 4 KiB chunk's scan.
   */
  #scanRun(tableCount: number): boolean {
    const q = this.#q;
    const piece = q.headPiece!;
    const pos = q.headPos;
    if (piece.length - pos < SCAN_MIN_BYTES || !scanKernel.enabled || this.#tableIndex >= tableCount || this.#lastKeyLength > SCAN_MAX_PREVIOUS_KEY) return false;
    const max = this.#maxChunk;
    // The cut rule (#admit) for a chunk's first record, left to the JavaScript path to report. Its prefix lies in the piece (≥ SCAN_MIN_BYTES left).
    if (max !== 0 && this.#chunkRecords === 0 && this.#fitsPreviousChunk(ENTRY_PREFIX_BYTES + u32(piece, pos + 1) + u32(piece, pos + 5))) return false;
    // The chunk's room as the check `used + size + 9 > max` sees it; beyond 2^53 no real chunk reaches it.
    const room = max === 0 || max > Number.MAX_SAFE_INTEGER ? Infinity : max - this.#chunkUsed - CHUNK_TAIL_BYTES;
    // Records it accepts lie within `room` bytes: copying more of a 128 KiB piece per 4 KiB chunk made the copy quadratic.
    const to = room < piece.length - pos ? pos + room : piece.length;
    const r = this.#kernel.scan(piece, pos, to, this.#lastKey, this.#lastKeyLength, this.#limits.maxKeyBytes, this.#limits.maxValueBytes, room, this.#scan);
    if (r.count === 0) return false;
    scanKernel.runs++;
    if (!this.#tableHashing) {
      q.hashTable(true);
      this.#tableHashing = true;
    }
    const consumed = r.end - pos;
    q.skip(consumed);
    if (r.lastKeyLength > this.#lastKey.length) this.#lastKey = new Uint8Array(Math.max(r.lastKeyLength, this.#lastKey.length * 2));
    this.#lastKey.set(piece.subarray(r.lastKeyAt, r.lastKeyAt + r.lastKeyLength));
    this.#lastKeyLength = r.lastKeyLength;
    this.#tableEntries += r.count;
    this.#tableBytes += r.bytes;
    this.#entriesRead += r.count;
    this.#bytesRead += r.bytes;
    this.#chunkUsed += consumed;
    this.#chunkRecords += r.count;
    const entry = this.#events.entry;
    if (this.#events.entryRecords !== undefined) {
      this.#events.entryRecords(this.#tableIndex, piece.subarray(pos, r.end), r.count);
    } else if (entry !== undefined) {
      // The accepted records lie whole in the piece: their keys and values are views into it.
      for (let p = pos; p < r.end; ) {
        const k = p + ENTRY_PREFIX_BYTES;
        const keyLength = (piece[p + 1]! | (piece[p + 2]! << 8) | (piece[p + 3]! << 16)) + piece[p + 4]! * 0x1000000;
        const valueLength = (piece[p + 5]! | (piece[p + 6]! << 8) | (piece[p + 7]! << 16)) + piece[p + 8]! * 0x1000000;
        p = k + keyLength + valueLength;
        entry(this.#tableIndex, piece.subarray(k, k + keyLength), piece.subarray(k + keyLength, p));
      }
    }
    return true;
  }

  #stopTableHashing(): void {
    if (this.#tableHashing) {
      this.#q.hashTable(false);
      this.#tableHashing = false;
    }
  }

  #readTrailer(): boolean {
    const q = this.#q;
    if (q.available < TRAILER_BYTES) return false;
    const actual = q.endChunkHash(); // the trailer is not part of what it covers
    const at = q.offset;
    const stored = q.takeU64();
    if (stored !== actual) {
      this.#fail('CHECKSUM_MISMATCH', at, `chunk ${this.#chunk!.chunkIndex} trailer ${formatDigest(stored)} does not match its bytes (${formatDigest(actual)})`);
    }
    const index = this.#chunk!.chunkIndex;
    const size = q.offset - this.#chunkStart;
    this.#chunks.add(index, size, stored);
    this.#previousDigest = stored;
    this.#previousChunkUsed = this.#chunkUsed;
    this.#events.chunkEnd?.({ index, bytes: size, digest: stored }, this.#lastChunk);
    if (this.#lastChunk || this.#standalone) {
      this.#state = 'done';
      this.#finish(stored);
    } else {
      q.startChunkHash();
      this.#state = 'header';
    }
    return true;
  }

  #finish(digest: bigint): void {
    let entries = BigInt(this.#entriesRead);
    let bytes = BigInt(this.#bytesRead);
    if (!this.#standalone) {
      // A whole snapshot: the counts its TABLE_END records declare (and were checked against).
      entries = 0n;
      bytes = 0n;
      for (const t of this.#tables) {
        entries += t.entries;
        bytes += t.bytes;
      }
    }
    const h = this.#first!;
    const summary = {
      anchor: { epoch: h.epoch, cursor: h.cursor, tables: h.tables, maxChunkBytes: h.maxChunkBytes },
      digest,
      entries,
      bytes,
      tables: this.#tables,
    };
    this.#summary = withLazyChunks(summary, this.#chunks);
  }
}

/** How many chunks a summary holds, by a decoder's count when it has one: without making the list (chunkCount). */
const chunkCounts = new WeakMap<SnapshotSummary, number>();

/**
 * `summary` with `chunks` made from `list` on first read (an enumerable property, as a plain
 * one: JSON, spreads and comparisons see the list). An object and a BigInt per chunk, made at
 * the end of a 4 KiB-chunked snapshot (30,000 per million entries) and all surviving, grew the
 * young heap of a verify that never reads them by 5 MB of peak memory.
 */
function withLazyChunks(summary: Omit<SnapshotSummary, 'chunks'>, list: ChunkList): SnapshotSummary {
  let chunks: ChunkSummary[] | undefined;
  const out = Object.defineProperty(summary, 'chunks', { enumerable: true, configurable: true, get: () => (chunks ??= list.summaries()) }) as SnapshotSummary;
  chunkCounts.set(out, list.count);
  return out;
}

/** `summary.chunks.length`, without making the list when a decoder made the summary. */
export function chunkCount(summary: SnapshotSummary): number {
  return chunkCounts.get(summary) ?? summary.chunks.length;
}

/** Chunk summaries in typed arrays: indexes run on from the first chunk's. */
class ChunkList {
  #first = 0;
  count = 0;
  #bytes = new Float64Array(16);
  #digests = new BigUint64Array(16);

  add(index: number, bytes: number, digest: bigint): void {
    if (this.count === 0) this.#first = index;
    if (this.count === this.#bytes.length) this.#grow();
    this.#bytes[this.count] = bytes;
    this.#digests[this.count] = digest;
    this.count++;
  }

  /** `count` chunks following those added, their sizes and digests in the arrays given. */
  addRun(bytes: Float64Array, digests: BigUint64Array, count: number): void {
    while (this.count + count > this.#bytes.length) this.#grow();
    this.#bytes.set(bytes.subarray(0, count), this.count);
    this.#digests.set(digests.subarray(0, count), this.count);
    this.count += count;
  }

  #grow(): void {
    const grown = new Float64Array(this.#bytes.length * 2);
    grown.set(this.#bytes);
    this.#bytes = grown;
    const digests = new BigUint64Array(this.#bytes.length);
    digests.set(this.#digests);
    this.#digests = digests;
  }

  summaries(): ChunkSummary[] {
    const out = new Array<ChunkSummary>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = { index: this.#first + i, bytes: this.#bytes[i]!, digest: this.#digests[i]! };
    return out;
  }
}

/** True when `key` sorts strictly after `last` (bytewise; a proper prefix sorts first). */
function follows(last: Uint8Array, lastLength: number, key: Uint8Array): boolean {
  const n = Math.min(lastLength, key.length);
  for (let i = 0; i < n; i++) {
    const a = last[i]!;
    const b = key[i]!;
    if (a !== b) return a < b;
  }
  return key.length > lastLength;
}

function growScratch(scratch: Uint8Array | undefined, size: number): Uint8Array {
  return scratch !== undefined && scratch.length >= size ? scratch : new Uint8Array(Math.max(size, (scratch?.length ?? 0) * 2));
}

/**
 * The error a decoder raises for a whole byte string, or undefined when it is a valid snapshot.
 * For conformance vectors and tests.
 */
export function decodeError(bytes: Uint8Array, options: DecoderOptions = {}): { code: string; offset: number | undefined } | undefined {
  const decoder = new SnapshotDecoder({}, options);
  try {
    decoder.push(bytes);
    decoder.end();
    return undefined;
  } catch (e) {
    if (e instanceof SnapshotError) return { code: e.code, offset: e.offset };
    throw e;
  }
}
