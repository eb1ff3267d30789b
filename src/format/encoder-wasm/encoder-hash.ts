/**
 * The encoder's two xxhash64 streams (the chunk's and the table's) in one WebAssembly instance
 * (encoder-hash.wat), so that bytes are copied into WebAssembly once for both, and a packed
 * batch is checked (tag, lengths, limits, key order) and hashed there with no JavaScript per
 * entry. Digests equal xxhash64 (seed 0) of the same bytes: `test/format/encoder-hash.test.ts`
 * checks them against xxhash-wasm and `xxh64sum`.
 */
import { ENCODER_HASH_WASM_BASE64 } from './encoder-hash-wasm.js';

interface Exports {
  readonly memory: WebAssembly.Memory;
  readonly entries: WebAssembly.Global;
  readonly bytes: WebAssembly.Global;
  readonly lastKey: WebAssembly.Global;
  readonly lastKeyLen: WebAssembly.Global;
  reset(slot: number): void;
  update(slot: number, p: number, end: number): void;
  digest(slot: number): bigint;
  scan(p: number, end: number, maxKey: number, maxValue: number, prev: number, prevLen: number): number;
}

/** Slot of the chunk's state, and of the table's. */
export const CHUNK = 0;
export const TABLE = 1;

/** Where copied-in bytes start (below: the two states). */
const INPUT_AT = 256;
/** Bytes copied in per step when hashing a long input (keeps the memory small). */
const STEP = 1 << 20;
const PAGE = 65536;

let compiled: WebAssembly.Module | undefined;

/** What `scanPacked` accepted: records [0, stop) of the batch, whose last key is at lastKey. */
export interface ScanResult {
  readonly stop: number;
  readonly entries: number;
  readonly bytes: number;
  /** Offset in the batch of the last accepted key, and its length (-1 when none was accepted). */
  readonly lastKey: number;
  readonly lastKeyLength: number;
}

export class EncoderHash {
  readonly #x: Exports;
  #mem: Uint8Array;

  constructor() {
    compiled ??= new WebAssembly.Module(Buffer.from(ENCODER_HASH_WASM_BASE64, 'base64'));
    this.#x = new WebAssembly.Instance(compiled, {}).exports as unknown as Exports;
    this.#mem = new Uint8Array(this.#x.memory.buffer);
    this.#x.reset(CHUNK);
    this.#x.reset(TABLE);
  }

  reset(slot: number): void {
    this.#x.reset(slot);
  }

  digest(slot: number): bigint {
    return BigInt.asUintN(64, this.#x.digest(slot));
  }

  /** Room for `n` bytes from INPUT_AT (the memory grows; views of it are made anew). */
  #room(n: number): Uint8Array {
    const need = INPUT_AT + n;
    if (need > this.#mem.length) {
      this.#x.memory.grow(Math.ceil((need - this.#mem.length) / PAGE));
      this.#mem = new Uint8Array(this.#x.memory.buffer);
    }
    return this.#mem;
  }

  /**
   * Feeds `src[chunkFrom, end)` to the chunk's state and, when tableFrom >= 0, `src[tableFrom,
   * end)` to the table's (tableFrom >= chunkFrom: the table's bytes are a tail of the chunk's).
   */
  update(src: Uint8Array, chunkFrom: number, tableFrom: number, end: number): void {
    for (let from = chunkFrom; from < end; ) {
      const to = Math.min(end, from + STEP);
      this.#room(to - from).set(src.subarray(from, to), INPUT_AT);
      this.#x.update(CHUNK, INPUT_AT, INPUT_AT + to - from);
      if (tableFrom >= 0 && tableFrom < to) {
        const t = Math.max(tableFrom, from);
        this.#x.update(TABLE, INPUT_AT + t - from, INPUT_AT + to - from);
      }
      from = to;
    }
  }

  /**
   * Accepts a run of ENTRY records from the start of `batch` (format/packed.ts), each whole, within
   * the limits and after the previous key (`lastKey[0, lastKeyLength)` for the first; length < 0:
   * none), and feeds the accepted bytes to both states. It reports nothing: the caller reads the
   * record it stopped at (if any) and raises that record's error.
   */
  scanPacked(batch: Uint8Array, lastKey: Uint8Array, lastKeyLength: number, maxKey: number, maxValue: number): ScanResult {
    const keyAt = INPUT_AT;
    const at = (INPUT_AT + Math.max(0, lastKeyLength) + 7) & ~7;
    const mem = this.#room(at - INPUT_AT + batch.length);
    if (lastKeyLength > 0) mem.set(lastKey.subarray(0, lastKeyLength), keyAt);
    mem.set(batch, at);
    const x = this.#x;
    // Limits are u32 (limits.ts); WebAssembly compares them unsigned.
    const stop = x.scan(at, at + batch.length, maxKey | 0, maxValue | 0, keyAt, lastKeyLength) - at;
    if (stop > 0) {
      x.update(CHUNK, at, at + stop);
      x.update(TABLE, at, at + stop);
    }
    const entries = x.entries.value as number;
    return {
      stop,
      entries,
      bytes: Number(x.bytes.value as bigint),
      lastKey: entries > 0 ? (x.lastKey.value as number) - at : -1,
      lastKeyLength: entries > 0 ? (x.lastKeyLen.value as number) : -1,
    };
  }
}
