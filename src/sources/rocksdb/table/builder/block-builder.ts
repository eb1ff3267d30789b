/**
 * Builds one block of a block-based table (table/block_based/block_builder.cc): entries
 * `shared varint32, non_shared varint32, value_length varint32, key delta, value`, a restart
 * point (uint32 offset) every `restartInterval` entries where the key is stored whole, then
 * the restart count. No data-block hash index, so the footer is the plain count (block.ts).
 */
import { ByteWriter } from './byte-writer.js';

/** A block under construction; `finish` returns its contents, `reset` starts the next one. */
export class BlockBuilder {
  readonly #restartInterval: number;
  readonly #out = new ByteWriter(8192);
  #restarts: number[] = [0];
  #counter = 0;
  #entries = 0;
  #lastKey = new Uint8Array(256);
  #lastKeyLength = 0;

  constructor(restartInterval: number) {
    this.#restartInterval = restartInterval;
  }

  get empty(): boolean {
    return this.#entries === 0;
  }

  /** Bytes the block would have if finished now. */
  get estimatedSize(): number {
    return this.#out.length + 4 * this.#restarts.length + 4;
  }

  /** The last key added (a view, valid until the next add). */
  get lastKey(): Uint8Array {
    return this.#lastKey.subarray(0, this.#lastKeyLength);
  }

  /**
   * Appends `key[0, keyLength)` → `value[valueStart, valueEnd)`. Keys must ascend in the
   * table's order; the builder does not check (the snapshot reader already did).
   */
  add(key: Uint8Array, keyLength: number, value: Uint8Array, valueStart = 0, valueEnd = value.length): void {
    let shared = 0;
    if (this.#counter >= this.#restartInterval) {
      this.#restarts.push(this.#out.length);
      this.#counter = 0;
    } else {
      const last = this.#lastKey;
      const n = Math.min(this.#lastKeyLength, keyLength);
      while (shared < n && last[shared] === key[shared]) shared++;
    }
    const out = this.#out;
    const valueLength = valueEnd - valueStart;
    out.varint(shared);
    out.varint(keyLength - shared);
    out.varint(valueLength);
    out.bytes(key, shared, keyLength);
    out.bytes(value, valueStart, valueEnd);
    if (keyLength > this.#lastKey.length) this.#lastKey = new Uint8Array(Math.max(keyLength, this.#lastKey.length * 2));
    this.#lastKey.set(key.length === keyLength ? key : key.subarray(0, keyLength), 0);
    this.#lastKeyLength = keyLength;
    this.#counter++;
    this.#entries++;
  }

  /** Appends the restart array and count; returns the block contents (a view until reset). */
  finish(): Uint8Array {
    const out = this.#out;
    for (const r of this.#restarts) out.fixed32(r);
    out.fixed32(this.#restarts.length);
    return out.view();
  }

  reset(): void {
    this.#out.reset();
    this.#restarts = [0];
    this.#counter = 0;
    this.#entries = 0;
    this.#lastKeyLength = 0;
  }
}
