import type { Hasher64 } from './digest.js';

/**
 * Bytes pushed in pieces of any size, consumed front to back. Views are zero-copy when the bytes
 * lie in one piece and copied when they span pieces, so a reader fed 1 byte at a time decodes
 * exactly as one fed whole. Consumed bytes are fed to a hasher lazily, a piece span at a time.
 */
export class ByteQueue {
  #pieces: Uint8Array[] = [];
  #head = 0; // index of the first unconsumed piece
  #headPos = 0; // consumed bytes of the head piece
  #hashFrom = 0; // consumed bytes of the head piece not yet hashed start here
  #available = 0;
  /** Stream offset of the next unconsumed byte. */
  offset = 0;
  /** Consumed bytes go to this hasher; undefined: consumed bytes are not hashed. */
  hasher: Hasher64 | undefined;

  get available(): number {
    return this.#available;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#pieces.push(bytes);
    this.#available += bytes.length;
  }

  /** The next n bytes without consuming them, or undefined when fewer have arrived. */
  peek(n: number): Uint8Array | undefined {
    if (n > this.#available) return undefined;
    const first = this.#pieces[this.#head];
    if (first === undefined) return new Uint8Array(0);
    if (this.#headPos + n <= first.length) return first.subarray(this.#headPos, this.#headPos + n);
    const out = new Uint8Array(n);
    let filled = 0;
    let i = this.#head;
    let pos = this.#headPos;
    while (filled < n) {
      const piece = this.#pieces[i]!;
      const take = Math.min(n - filled, piece.length - pos);
      out.set(piece.subarray(pos, pos + take), filled);
      filled += take;
      i++;
      pos = 0;
    }
    return out;
  }

  /** Consumes n bytes (n ≤ available) and returns them as one view. */
  take(n: number): Uint8Array {
    const view = this.peek(n)!;
    this.skip(n);
    return view;
  }

  /** Consumes n bytes (n ≤ available). */
  skip(n: number): void {
    this.#available -= n;
    this.offset += n;
    while (n > 0) {
      const piece = this.#pieces[this.#head]!;
      const take = Math.min(n, piece.length - this.#headPos);
      this.#headPos += take;
      n -= take;
      if (this.#headPos === piece.length) {
        if (this.hasher !== undefined && this.#headPos > this.#hashFrom) this.hasher.update(piece.subarray(this.#hashFrom));
        this.#pieces[this.#head] = EMPTY; // release it for the garbage collector
        this.#head++;
        this.#headPos = 0;
        this.#hashFrom = 0;
      }
    }
    if (this.hasher === undefined) this.#hashFrom = this.#headPos;
    if (this.#head > 64 && this.#head * 2 > this.#pieces.length) {
      this.#pieces = this.#pieces.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Hashes every consumed byte not hashed yet; call before switching or reading the hasher. */
  syncHash(): void {
    const piece = this.#pieces[this.#head];
    if (piece !== undefined && this.hasher !== undefined && this.#headPos > this.#hashFrom) {
      this.hasher.update(piece.subarray(this.#hashFrom, this.#headPos));
    }
    this.#hashFrom = this.#headPos;
  }
}

const EMPTY = new Uint8Array(0);
