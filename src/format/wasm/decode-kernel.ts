/**
 * The decoder's per-byte work in WebAssembly (decode-kernel.wat): the ENTRY scanner and the two
 * xxhash64 streams (chunk and table). One instance per process with a fixed memory that never
 * grows, so views of it stay valid: the reader reads files straight into its read buffers, and a
 * piece lying there is scanned and hashed in place; any other piece is copied into a staging
 * area first. Each decoder owns its hash states (`HashStates`); the instance's two slots hold the
 * states of the decoder that used them last and are swapped when another decoder calls (diff
 * reads two snapshots in turns: a swap per piece, 256 bytes).
 *
 * The scanner only accepts: the first record it does not accept is left to the JavaScript
 * decoder, which reports any error exactly as before (same code, offset and message).
 */
import { DECODE_KERNEL_WASM_BASE64 } from './decode-kernel-wasm.js';

interface Exports {
  readonly memory: WebAssembly.Memory;
  reset(slot: number): void;
  update(slot: number, p: number, end: number): void;
  update2(a: number, b: number, end: number): void;
  digest(slot: number): bigint;
  scan(p: number, end: number, prev: number, prevLen: number, maxKey: number, maxValue: number, room: number): number;
  chunks(
    p: number, end: number, tmpl: number, tmplLen: number, fieldsAt: number, index: number, prevDigest: bigint, tablePos: number,
    prev: number, prevLen: number, maxKey: number, maxValue: number, max: number, prevUsed: number, out: number, maxOut: number,
  ): number;
}

/** Slots of the chunk's and the table's hash states. */
export const CHUNK_SLOT = 0;
export const TABLE_SLOT = 1;
/** Where the two saved slots lie (128 + 128 * slot, 128 bytes each). */
const STATES_AT = 128;
const STATES_BYTES = 256;

/** Where the previous key is placed, and the longest one given to the scanner (beyond, the JavaScript path carries on). */
const PREV_AT = 1024;
export const SCAN_MAX_PREVIOUS_KEY = 65536;
/** Bytes of pieces outside the memory are copied here to be scanned or hashed, this many at a time. */
const STAGE_AT = PREV_AT + SCAN_MAX_PREVIOUS_KEY;
const STAGE_BYTES = 256 << 10;
/** The chunk pass (`chunks`): the header template, then each accepted chunk's size and trailer. */
const TEMPLATE_AT = STAGE_AT + STAGE_BYTES;
const CHUNKS_MAX_HEADER = 4096;
const CHUNKS_OUT_AT = TEMPLATE_AT + CHUNKS_MAX_HEADER;
const CHUNKS_MAX_OUT = 2048;
const CHUNKS_RESULTS_AT = 512;
/** The read buffers: the reader's reads land here (READ_BUFFER_BYTES each, as many as READ_BUFFERS). */
export const READ_BUFFER_BYTES = 128 << 10;
const READ_BUFFERS = 8;
const READ_AT = 6 * 65536;
const PAGES = (READ_AT + READ_BUFFERS * READ_BUFFER_BYTES) / 65536;

/**
 * For tests (not exported by the library): `enabled: false` makes the decoder take its JavaScript
 * path for every record and chunk, the reference the kernel is checked against; `chunks: false`
 * turns off the chunk pass alone; `runs` counts the scans that accepted at least one record and
 * `passChunks` the chunks the chunk pass accepted, so a test can tell they were used.
 */
export const scanKernel = { enabled: true, chunks: true, runs: 0, passChunks: 0 };

/** What one scan accepted. Positions are indexes into the scanned array. */
export interface ScanResult {
  /** Position after the last accepted record (= `from` when none was). */
  end: number;
  /** Records accepted. */
  count: number;
  /** Their key and value bytes. */
  bytes: number;
  /** Position and length of the last accepted key (meaningful when count > 0). */
  lastKeyAt: number;
  lastKeyLength: number;
}

/** What one chunk pass accepted (`Kernel.chunks`). */
export interface ChunksResult {
  /** Position after the last accepted chunk (= `from` when none was). */
  end: number;
  /** Chunks accepted; their sizes and trailers are `sizes[0, count)` and `digests[0, count)` until the next pass. */
  count: number;
  readonly sizes: Float64Array;
  readonly digests: BigUint64Array;
  /** Their ENTRY records and key+value bytes. */
  entries: number;
  bytes: number;
  /** Position (in the piece) and length of the last accepted key. */
  lastKeyAt: number;
  lastKeyLength: number;
  /** Header and record bytes of the last accepted chunk, and its trailer. */
  lastUsed: number;
  lastDigest: bigint;
}

/** What the chain expects of the next chunk, for `Kernel.chunks`. */
export interface ChunkChain {
  /**
   * The first chunk's header, and where its fields after the anchor start (index u32 at +8):
   * later headers equal it but for index, previous digest and table position.
   */
  template: Uint8Array;
  fieldsAt: number;
  index: number;
  previousDigest: bigint;
  tablePosition: number;
  maxChunkBytes: number;
  /** Header and record bytes of the previous chunk (0: none, the cut rule does not apply). */
  previousUsed: number;
}

/** A decoder's two hash states (chunk, table) while another decoder's are in the instance. */
export class HashStates {
  readonly saved = new Uint8Array(STATES_BYTES);
}

class Kernel {
  readonly #x: Exports;
  readonly bytes: Uint8Array;
  readonly buffer: ArrayBuffer;
  readonly #results: Uint32Array;
  #owner: HashStates | undefined;
  readonly #buffers: Uint8Array[] = [];
  readonly #free: Uint8Array[] = [];

  readonly #chunkResults: Uint32Array;
  readonly #chunkDigest: BigUint64Array;
  readonly #chunksOut: ChunksResult;

  constructor() {
    this.#x = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(DECODE_KERNEL_WASM_BASE64, 'base64'))).exports as unknown as Exports;
    this.#x.memory.grow(PAGES - this.#x.memory.buffer.byteLength / 65536); // once: views stay valid
    this.buffer = this.#x.memory.buffer;
    this.bytes = new Uint8Array(this.buffer);
    this.#results = new Uint32Array(this.buffer, 0, 4);
    this.#chunkResults = new Uint32Array(this.buffer, CHUNKS_RESULTS_AT, 6);
    this.#chunkDigest = new BigUint64Array(this.buffer, CHUNKS_RESULTS_AT + 24, 1);
    this.#chunksOut = {
      end: 0, count: 0, entries: 0, bytes: 0, lastKeyAt: 0, lastKeyLength: 0, lastUsed: 0, lastDigest: 0n,
      sizes: new Float64Array(this.buffer, CHUNKS_OUT_AT, CHUNKS_MAX_OUT),
      digests: new BigUint64Array(this.buffer, CHUNKS_OUT_AT + 8 * CHUNKS_MAX_OUT, CHUNKS_MAX_OUT),
    };
    for (let i = 0; i < READ_BUFFERS; i++) this.#buffers.push(new Uint8Array(this.buffer, READ_AT + i * READ_BUFFER_BYTES, READ_BUFFER_BYTES));
    this.#free.push(...[...this.#buffers].reverse());
  }

  /** A free read buffer, or undefined when all are in use. */
  takeReadBuffer(): Uint8Array | undefined {
    return this.#free.pop();
  }

  /** The read buffer `piece` is a view into (the same object `takeReadBuffer` gave), or undefined. */
  readBufferOf(piece: Uint8Array): Uint8Array | undefined {
    if (piece.buffer !== this.buffer || piece.byteOffset < READ_AT) return undefined;
    return this.#buffers[Math.floor((piece.byteOffset - READ_AT) / READ_BUFFER_BYTES)];
  }

  /** Gives back a read buffer `takeReadBuffer` gave. */
  releaseReadBuffer(buffer: Uint8Array): void {
    if (!this.#free.includes(buffer)) this.#free.push(buffer);
  }

  /** Brings `states` into slots 0 and 1, saving the previous owner's. */
  #use(states: HashStates): void {
    if (this.#owner === states) return;
    const b = this.bytes;
    if (this.#owner !== undefined) this.#owner.saved.set(b.subarray(STATES_AT, STATES_AT + STATES_BYTES));
    b.set(states.saved, STATES_AT);
    this.#owner = states;
  }

  reset(states: HashStates, slot: number): void {
    this.#use(states);
    this.#x.reset(slot);
  }

  digest(states: HashStates, slot: number): bigint {
    this.#use(states);
    return BigInt.asUintN(64, this.#x.digest(slot));
  }

  /**
   * Feeds `piece[chunkFrom, end)` to the chunk slot (when chunkFrom >= 0) and `piece[tableFrom,
   * end)` to the table slot (when tableFrom >= 0), in one pass over the bytes both cover.
   */
  update(states: HashStates, piece: Uint8Array, chunkFrom: number, tableFrom: number, end: number): void {
    this.#use(states);
    const x = this.#x;
    if (piece.buffer === this.buffer) {
      const at = piece.byteOffset;
      hashAt(x, chunkFrom < 0 ? -1 : at + chunkFrom, tableFrom < 0 ? -1 : at + tableFrom, at + end);
      return;
    }
    const first = chunkFrom < 0 ? tableFrom : tableFrom < 0 ? chunkFrom : Math.min(chunkFrom, tableFrom);
    if (first < 0) return;
    for (let from = first; from < end; ) {
      const to = Math.min(end, from + STAGE_BYTES);
      this.bytes.set(piece.subarray(from, to), STAGE_AT);
      const stage = (p: number): number => (p < 0 || p >= to ? -1 : STAGE_AT + Math.max(p, from) - from);
      hashAt(x, stage(chunkFrom), stage(tableFrom), STAGE_AT + to - from);
      from = to;
    }
  }

  /**
   * Accepts ENTRY records of `src[from, to)`: each must be whole in that range, within the
   * limits, fit `room` (bytes the chunk still admits; Infinity when unchunked) and have a key
   * strictly after the previous one (`prev[0, prevLength)`, or none when prevLength < 0;
   * prevLength ≤ SCAN_MAX_PREVIOUS_KEY). A piece outside the memory is scanned from a copy of
   * at most STAGE_BYTES of it. Fills and returns `out`.
   */
  scan(src: Uint8Array, from: number, to: number, prev: Uint8Array, prevLength: number, maxKey: number, maxValue: number, room: number, out: ScanResult): ScanResult {
    let base: number; // where src[0] lies in the memory
    let end: number;
    if (src.buffer === this.buffer) {
      base = src.byteOffset;
      end = base + to;
    } else {
      const n = Math.min(to - from, STAGE_BYTES);
      this.bytes.set(src.subarray(from, from + n), STAGE_AT);
      base = STAGE_AT - from;
      end = STAGE_AT + n;
    }
    if (prevLength > 0) this.bytes.set(prev.subarray(0, prevLength), PREV_AT);
    // Limits up to 2^32 - 1 pass as i32 bit patterns; the module compares them unsigned.
    const stop = this.#x.scan(base + from, end, PREV_AT, prevLength, maxKey | 0, maxValue | 0, room);
    const r = this.#results;
    out.end = stop - base;
    out.count = r[0]!;
    out.bytes = r[1]!;
    out.lastKeyAt = r[2]! - base;
    out.lastKeyLength = r[3]!;
    return out;
  }

  /**
   * The chunk pass (decode-kernel.wat, `chunks`) on `piece[from, piece.length)`: whole chunks
   * the chain expects (`chain`), their entries after the previous key (`prev[0, prevLength)`,
   * prevLength ≤ SCAN_MAX_PREVIOUS_KEY, or none when < 0) within the limits, trailers checked;
   * it stops before the first chunk it does not accept, which the JavaScript decoder then reads.
   * Hashes with `states`: the chunk hash is left fresh, the table hash has the accepted entries.
   * The result is shared, overwritten by the next pass. Undefined when it cannot run here: the
   * piece is not in the kernel's memory (the reader's read buffers), the header is longer than
   * CHUNKS_MAX_HEADER, or chunks may reach 2^30 bytes (the pass counts in u32).
   */
  chunks(states: HashStates, piece: Uint8Array, from: number, chain: ChunkChain, prev: Uint8Array, prevLength: number, maxKey: number, maxValue: number): ChunksResult | undefined {
    const t = chain.template;
    if (piece.buffer !== this.buffer || t.length > CHUNKS_MAX_HEADER || chain.maxChunkBytes >= 2 ** 30) return undefined;
    this.#use(states);
    const base = piece.byteOffset;
    this.bytes.set(t, TEMPLATE_AT);
    if (prevLength > 0) this.bytes.set(prev.subarray(0, prevLength), PREV_AT);
    const stop = this.#x.chunks(base + from, base + piece.length, TEMPLATE_AT, t.length, chain.fieldsAt, chain.index, chain.previousDigest, chain.tablePosition,
      PREV_AT, prevLength, maxKey | 0, maxValue | 0, chain.maxChunkBytes, chain.previousUsed, CHUNKS_OUT_AT, CHUNKS_MAX_OUT);
    const r = this.#chunkResults;
    const out = this.#chunksOut;
    out.end = stop - base;
    out.count = r[0]!;
    out.entries = r[1]!;
    out.bytes = r[2]!;
    out.lastKeyAt = r[3]! - base;
    out.lastKeyLength = r[4]!;
    out.lastUsed = r[5]!;
    out.lastDigest = this.#chunkDigest[0]!;
    return out;
  }
}

function hashAt(x: Exports, a: number, b: number, end: number): void {
  if (a >= 0 && b >= 0) x.update2(a, b, end);
  else if (a >= 0) x.update(CHUNK_SLOT, a, end);
  else if (b >= 0) x.update(TABLE_SLOT, b, end);
}

let kernel: Kernel | undefined;

/** The process's kernel, instantiated on first use. */
export function decodeKernel(): Kernel {
  return (kernel ??= new Kernel());
}

export type { Kernel as DecodeKernel };
