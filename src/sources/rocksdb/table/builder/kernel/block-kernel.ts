/**
 * Drives the data-block kernel (assembly/blocks.ts, compiled to WebAssembly): lays out its
 * memory, copies runs of snapshot ENTRY records in, and hands back each finished data block.
 * Per entry no JavaScript runs; per block the table builder adds the block's index entry.
 * Finished blocks can stay where they were built (`keepBlock`), one after the other, so that the
 * caller writes them to the file straight from the kernel's memory (`output`), copied nowhere.
 *
 * Memory (addresses the kernel reads from the control block; offsets must match the kernel):
 * control block and CRC tables, the restart array, the last key, the input records, and the
 * block area last (so that growing it is a memory.grow and nothing moves): kept blocks not yet
 * taken, then the open block.
 */
import { BLOCK_KERNEL_WASM_BASE64 } from './block-kernel-wasm.js';

const C_POS = 0;
const C_BLOCK = 4;
const C_BLOCK_CAP = 8;
const C_BLOCK_LEN = 12;
const C_RESTARTS = 16;
const C_BLOCK_ENTRIES = 28;
const C_LAST_KEY = 32;
const C_LAST_KEY_LEN = 36;
const C_BLOCK_SIZE = 40;
const C_RESTART_INTERVAL = 44;
const C_CRC = 48;
const C_NEED = 52;
const C_ENTRIES = 56;
const C_RAW_KEY = 64;
const C_RAW_VALUE = 72;
const FIXED_BYTES = 128 + 16 * 256 * 4; // control block + CRC tables (slicing-by-16)
const PAGE = 65536;

/** Statuses of add() and finishBlock(). */
export const KernelStatus = { Done: 0, Block: 1, Grow: 2 } as const;

/** Bytes of an ENTRY record's prefix (tag, key length, value length). */
export const ENTRY_RECORD_PREFIX = 9;
/** Input capacity at first: one read piece of the snapshot reader. */
const INITIAL_INPUT = 1 << 20;
/** A kernel whose memory grew past this (huge records) is not kept for reuse. */
const POOLED_MAX_BYTES = 16 << 20;

interface Exports {
  readonly memory: WebAssembly.Memory;
  init(): void;
  add(end: number): number;
  finishBlock(): number;
  resetBlock(): void;
}

let compiled: WebAssembly.Module | undefined;
const pool: BlockKernel[] = [];

const align = (n: number): number => (n + 7) & ~7;

/** One kernel instance: the data blocks of one table file at a time. */
export class BlockKernel {
  readonly #x: Exports;
  #bytes: Uint8Array;
  #i32: Int32Array;
  #f64: Float64Array;
  #inAt = 0;
  #inCap = 0;
  /** Start of the block area: kept blocks run from here to the open block. */
  #outAt = 0;
  /** The kept blocks were handed out by `output`: drop them before anything else changes. */
  #outTaken = false;

  private constructor() {
    compiled ??= new WebAssembly.Module(Buffer.from(BLOCK_KERNEL_WASM_BASE64, 'base64'));
    this.#x = new WebAssembly.Instance(compiled).exports as unknown as Exports;
    this.#x.init();
    this.#bytes = new Uint8Array(this.#x.memory.buffer);
    this.#i32 = new Int32Array(this.#x.memory.buffer, 0, 32);
    this.#f64 = new Float64Array(this.#x.memory.buffer, 0, 16);
  }

  /** A kernel ready for a new table (from the pool when one is free). */
  static take(blockSize: number, restartInterval: number, crc: boolean): BlockKernel {
    const k = pool.pop() ?? new BlockKernel();
    k.#start(blockSize, restartInterval, crc);
    return k;
  }

  /** Returns the kernel for reuse; the caller must not use it again. */
  release(): void {
    if (this.#bytes.length <= POOLED_MAX_BYTES && pool.length < 2) pool.push(this);
  }

  #start(blockSize: number, restartInterval: number, crc: boolean): void {
    const i = this.#i32;
    i[C_BLOCK_SIZE >> 2] = blockSize;
    i[C_RESTART_INTERVAL >> 2] = restartInterval;
    i[C_CRC >> 2] = crc ? 1 : 0;
    i[C_LAST_KEY_LEN >> 2] = 0;
    i[C_BLOCK_LEN >> 2] = 0;
    if (this.#outAt !== 0) i[C_BLOCK >> 2] = this.#outAt; // no kept block carries over
    this.#outTaken = false;
    this.#f64[C_ENTRIES >> 3] = 0;
    this.#f64[C_RAW_KEY >> 3] = 0;
    this.#f64[C_RAW_VALUE >> 3] = 0;
    // Restarts: a block holds at most blockSize / 11 + 1 entries (each adds ≥ 11 bytes).
    const restartsBytes = align(4 * (Math.floor(blockSize / 11) + 3));
    this.#layout(restartsBytes, Math.max(this.#inCap, INITIAL_INPUT), Math.max(64 * 1024, 2 * blockSize + 4096));
    this.#x.resetBlock();
  }

  /**
   * Places restarts, last key, input and block area (growing memory as needed), moving the
   * kept blocks, the open block and the last key when their addresses change. Capacities only
   * grow; `blockCap` counts from the open block's start.
   */
  #layout(restartsBytes: number, inCap: number, blockCap: number): void {
    const i = this.#i32;
    const oldLastKey = i[C_LAST_KEY >> 2]!;
    const oldOut = this.#outAt;
    const kept = oldOut === 0 ? 0 : i[C_BLOCK >> 2]! - oldOut;
    const restarts = FIXED_BYTES;
    const lastKey = restarts + restartsBytes;
    const input = lastKey + align(inCap + 16);
    const out = input + align(inCap);
    const need = out + kept + blockCap;
    const have = this.#x.memory.buffer.byteLength;
    if (need > have) {
      this.#x.memory.grow(Math.ceil((need - have) / PAGE));
      this.#bytes = new Uint8Array(this.#x.memory.buffer);
      this.#i32 = new Int32Array(this.#x.memory.buffer, 0, 32);
      this.#f64 = new Float64Array(this.#x.memory.buffer, 0, 16);
    }
    const j = this.#i32;
    if (oldOut !== 0 && oldOut !== out) this.#bytes.copyWithin(out, oldOut, oldOut + kept + j[C_BLOCK_LEN >> 2]!);
    if (oldLastKey !== 0 && oldLastKey !== lastKey) this.#bytes.copyWithin(lastKey, oldLastKey, oldLastKey + j[C_LAST_KEY_LEN >> 2]!);
    j[C_RESTARTS >> 2] = restarts;
    j[C_LAST_KEY >> 2] = lastKey;
    j[C_BLOCK >> 2] = out + kept;
    j[C_BLOCK_CAP >> 2] = this.#bytes.length - (out + kept);
    this.#outAt = out;
    this.#inAt = input;
    this.#inCap = inCap;
  }

  /** Drops the kept blocks `output` handed out: the open block moves to the area's start. */
  #dropTaken(): void {
    if (!this.#outTaken) return;
    this.#outTaken = false;
    const i = this.#i32;
    const block = i[C_BLOCK >> 2]!;
    if (block === this.#outAt) return;
    this.#bytes.copyWithin(this.#outAt, block, block + i[C_BLOCK_LEN >> 2]!);
    i[C_BLOCK >> 2] = this.#outAt;
    i[C_BLOCK_CAP >> 2] = this.#bytes.length - this.#outAt;
  }

  /** Bytes of kept blocks not yet handed out. */
  get keptBytes(): number {
    return this.#outTaken ? 0 : this.#i32[C_BLOCK >> 2]! - this.#outAt;
  }

  /**
   * The kept blocks, back to back, handed out once: a view valid until the next call of any
   * other method (write it out first).
   */
  output(): Uint8Array {
    const v = this.#bytes.subarray(this.#outAt, this.#outAt + this.keptBytes);
    this.#outTaken = true;
    return v;
  }

  /** Input capacity: runs copied in at once must be at most this long. */
  get inputCapacity(): number {
    return this.#inCap;
  }

  /** Makes room for a record of `bytes` bytes in the input. */
  growInput(bytes: number): void {
    this.#dropTaken();
    const restartsBytes = this.#i32[C_LAST_KEY >> 2]! - FIXED_BYTES;
    this.#layout(restartsBytes, Math.max(bytes, 2 * this.#inCap), this.#i32[C_BLOCK_CAP >> 2]!);
  }

  /** Copies records src[start, end) into the input; returns the kernel address of the first. */
  load(src: Uint8Array, start: number, end: number): number {
    this.#dropTaken();
    this.#bytes.set(start === 0 && end === src.length ? src : src.subarray(start, end), this.#inAt);
    return this.#inAt;
  }

  /** The kernel's bytes (views taken from it are invalidated by any growth). */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /**
   * Adds the records of the input from `pos` to `end` (kernel addresses). Returns a status;
   * `pos` is then where it stopped. On Grow the block buffer is grown here and the call retried.
   */
  add(pos: number, end: number): number {
    this.#dropTaken();
    this.#i32[C_POS >> 2] = pos;
    for (;;) {
      const s = this.#x.add(end);
      if (s !== KernelStatus.Grow) return s;
      const need = this.#i32[C_NEED >> 2]!;
      this.#layout(this.#i32[C_LAST_KEY >> 2]! - FIXED_BYTES, this.#inCap, Math.max(need, 2 * this.#i32[C_BLOCK_CAP >> 2]!));
    }
  }

  get pos(): number {
    return this.#i32[C_POS >> 2]!;
  }

  /** Entries in the open block. */
  get blockEntries(): number {
    return this.#i32[C_BLOCK_ENTRIES >> 2]!;
  }

  /** Finishes the open block; its bytes are then `block()`. */
  finishBlock(): void {
    this.#dropTaken();
    this.#x.finishBlock();
  }

  /** The finished block (contents, plus the trailer in CRC mode): a view until the next call. */
  block(): Uint8Array {
    const at = this.#i32[C_BLOCK >> 2]!;
    return this.#bytes.subarray(at, at + this.#i32[C_BLOCK_LEN >> 2]!);
  }

  /** Starts the next block where the finished one was (its bytes were copied out). */
  resetBlock(): void {
    this.#x.resetBlock();
  }

  /** Keeps the finished block (for `output`) and starts the next block after it. */
  keepBlock(): void {
    const i = this.#i32;
    const next = i[C_BLOCK >> 2]! + i[C_BLOCK_LEN >> 2]!;
    i[C_BLOCK >> 2] = next;
    i[C_BLOCK_CAP >> 2] = this.#bytes.length - next;
    this.#x.resetBlock();
  }

  /** The last internal key added: a view until the next call. */
  lastKey(): Uint8Array {
    const at = this.#i32[C_LAST_KEY >> 2]!;
    return this.#bytes.subarray(at, at + this.#i32[C_LAST_KEY_LEN >> 2]!);
  }

  get entries(): number {
    return this.#f64[C_ENTRIES >> 3]!;
  }

  get rawKeyBytes(): number {
    return this.#f64[C_RAW_KEY >> 3]!;
  }

  get rawValueBytes(): number {
    return this.#f64[C_RAW_VALUE >> 3]!;
  }
}
