import { newHasher, xxh64, type Hasher64 } from './digest.js';

/**
 * Bytes pushed in pieces of any size, consumed front to back. Views are zero-copy when the bytes
 * lie in one piece and copied when they span pieces, so a reader fed 1 byte at a time decodes
 * exactly as one fed whole. Consumed bytes are hashed lazily, a piece span at a time (one wasm
 * call per span, not per record): the chunk's bytes, and the table hasher's while the decoder
 * reads a table's entries. Each is brought up to date only when it is read or changed, so
 * starting and stopping the table hasher (in every chunk) does not cut the chunk's hashing into
 * more calls. A chunk that lies in one piece (4 KiB chunks in 128 KiB reads) is hashed in one
 * one-shot call: no streaming state is created for it.
 */
export class ByteQueue {
  #pieces: Uint8Array[] = [];
  #head = 0; // index of the first unconsumed piece
  #headPos = 0; // consumed bytes of the head piece
  #chunkFrom = 0; // consumed bytes of the head piece from here on are not yet chunk-hashed
  #tableFrom = 0; // … nor table-hashed
  #chunkHashing = false;
  /** Streaming state of the chunk hash, created only when a chunk spans pieces. */
  #chunkHasher: Hasher64 | undefined;
  #tableHasher: Hasher64 | undefined;
  #available = 0;
  /** A view of the buffer under the head piece, kept while pieces share it (takeU64). */
  #view: DataView | undefined;
  /** Stream offset of the next unconsumed byte. */
  offset = 0;
  /** Called with each pushed piece once every byte of it is consumed and hashed. */
  onPieceConsumed: ((piece: Uint8Array) => void) | undefined;

  get available(): number {
    return this.#available;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    // Plain Uint8Array views: Buffer#subarray is several times slower per call.
    this.#pieces.push(bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    this.#available += bytes.length;
  }

  /** The head piece and the position of the next byte in it, for zero-copy fast paths. */
  get headPiece(): Uint8Array | undefined {
    return this.#pieces[this.#head];
  }

  get headPos(): number {
    return this.#headPos;
  }

  /** The next n bytes without consuming them, or undefined when fewer have arrived. */
  peek(n: number): Uint8Array | undefined {
    if (n > this.#available) return undefined;
    const first = this.#pieces[this.#head];
    if (first === undefined) return new Uint8Array(0);
    if (this.#headPos + n <= first.length) return first.subarray(this.#headPos, this.#headPos + n);
    return this.#copy(n, new Uint8Array(n));
  }

  /** The next byte without consuming it, or -1 when none has arrived (no view: once per record). */
  peekByte(): number {
    const first = this.#pieces[this.#head];
    return first === undefined ? -1 : first[this.#headPos]!; // a head piece always has an unconsumed byte
  }

  /** Consumes 8 bytes (≤ available) as a little-endian u64: a chunk trailer, without a view of it. */
  takeU64(): bigint {
    const first = this.#pieces[this.#head]!;
    let value: bigint;
    if (this.#headPos + 8 <= first.length) {
      if (this.#view?.buffer !== first.buffer) this.#view = new DataView(first.buffer);
      value = this.#view.getBigUint64(first.byteOffset + this.#headPos, true);
    } else {
      const bytes = this.#copy(8, new Uint8Array(8));
      value = new DataView(bytes.buffer).getBigUint64(0, true);
    }
    this.skip(8);
    return value;
  }

  /** The next n bytes (n ≤ available) copied into `scratch` (at least n long); returns the filled part. */
  peekInto(n: number, scratch: Uint8Array): Uint8Array {
    return this.#copy(n, scratch).subarray(0, n);
  }

  #copy(n: number, out: Uint8Array): Uint8Array {
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
    const first = this.#pieces[this.#head];
    if (first !== undefined && this.#headPos + n < first.length) {
      this.#headPos += n; // the common case: still inside the head piece
      return;
    }
    while (n > 0) {
      const piece = this.#pieces[this.#head]!;
      const take = Math.min(n, piece.length - this.#headPos);
      this.#headPos += take;
      n -= take;
      if (this.#headPos === piece.length) {
        if (this.#chunkHashing && piece.length > this.#chunkFrom) (this.#chunkHasher ??= newHasher()).update(piece.subarray(this.#chunkFrom));
        if (this.#tableHasher !== undefined && piece.length > this.#tableFrom) this.#tableHasher.update(piece.subarray(this.#tableFrom));
        this.#pieces[this.#head] = EMPTY; // release it for the garbage collector
        this.onPieceConsumed?.(piece);
        this.#head++;
        this.#headPos = 0;
        this.#chunkFrom = 0;
        this.#tableFrom = 0;
      }
    }
    if (this.#head > 64 && this.#head * 2 > this.#pieces.length) {
      this.#pieces = this.#pieces.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Starts the chunk hash: bytes consumed from now on are covered by `endChunkHash`. */
  startChunkHash(): void {
    this.#chunkHashing = true;
    this.#chunkHasher = undefined;
    this.#chunkFrom = this.#headPos;
  }

  /** xxhash64 of the bytes consumed since `startChunkHash`; stops the chunk hash. */
  endChunkHash(): bigint {
    const piece = this.#pieces[this.#head];
    const rest = piece === undefined ? EMPTY : piece.subarray(this.#chunkFrom, this.#headPos);
    const hasher = this.#chunkHasher;
    this.#chunkHashing = false;
    this.#chunkHasher = undefined;
    this.#chunkFrom = this.#headPos;
    if (hasher === undefined) return xxh64(rest); // the whole chunk lies in the head piece
    hasher.update(rest);
    return hasher.digest();
  }

  /** Sets (or clears) the table hasher: bytes consumed from now on go to it. */
  setTableHasher(hasher: Hasher64 | undefined): void {
    const piece = this.#pieces[this.#head];
    if (piece !== undefined && this.#tableHasher !== undefined && this.#headPos > this.#tableFrom) this.#tableHasher.update(piece.subarray(this.#tableFrom, this.#headPos));
    this.#tableFrom = this.#headPos;
    this.#tableHasher = hasher;
  }
}

const EMPTY = new Uint8Array(0);
