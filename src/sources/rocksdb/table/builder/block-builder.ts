/**
 * Builds one block of a block-based table (table/block_based/block_builder.cc): entries
 * `shared varint32, non_shared varint32, value_length varint32, key delta, value`, a restart
 * point (uint32 offset) every `restartInterval` entries where the key is stored whole, then
 * the restart count. No data-block hash index, so the footer is the plain count (block.ts).
 */
import { ByteWriter, copyBytes } from './byte-writer.js';

const EMPTY = new Uint8Array(0);

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
   * Appends the key `userKey ‖ trailer` → `value` (data blocks pass the internal key's 8-byte
   * trailer separately, so that no key is built per entry). Keys must ascend in the block's
   * order; the builder does not check (the snapshot reader already did).
   */
  add(userKey: Uint8Array, value: Uint8Array, trailer: Uint8Array = EMPTY): void {
    const ukLength = userKey.length;
    const keyLength = ukLength + trailer.length;
    let shared = 0;
    if (this.#counter >= this.#restartInterval) {
      this.#restarts.push(this.#out.length);
      this.#counter = 0;
    } else {
      const last = this.#lastKey;
      const n = Math.min(this.#lastKeyLength, keyLength);
      const m = Math.min(n, ukLength);
      while (shared < m && last[shared] === userKey[shared]) shared++;
      if (shared === ukLength) while (shared < n && last[shared] === trailer[shared - ukLength]) shared++;
    }
    const out = this.#out;
    const valueLength = value.length;
    out.reserve(15 + keyLength - shared + valueLength);
    const nonShared = keyLength - shared;
    if ((shared | nonShared | valueLength) < 0x80) {
      // The common case, one byte per varint, written in place.
      const p0 = out.length;
      out.buf[p0] = shared;
      out.buf[p0 + 1] = nonShared;
      out.buf[p0 + 2] = valueLength;
      out.length = p0 + 3;
    } else {
      out.varint(shared);
      out.varint(nonShared);
      out.varint(valueLength);
    }
    const b = out.buf;
    let p = out.length;
    if (shared < ukLength) {
      copyBytes(b, p, userKey, shared, ukLength);
      p += ukLength - shared;
      copyBytes(b, p, trailer, 0, trailer.length);
      p += trailer.length;
    } else {
      copyBytes(b, p, trailer, shared - ukLength, trailer.length);
      p += keyLength - shared;
    }
    copyBytes(b, p, value, 0, valueLength);
    out.length = p + valueLength;
    if (keyLength > this.#lastKey.length) {
      const grown = new Uint8Array(Math.max(keyLength, this.#lastKey.length * 2));
      grown.set(this.#lastKey.subarray(0, this.#lastKeyLength));
      this.#lastKey = grown;
    }
    const last = this.#lastKey;
    if (shared < ukLength) copyBytes(last, shared, userKey, shared, ukLength);
    copyBytes(last, ukLength, trailer, 0, trailer.length);
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
