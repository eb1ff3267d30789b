import { CHUNK_SLOT, decodeKernel, HashStates, TABLE_SLOT } from './wasm/decode-kernel.js';

/**
 * Bytes pushed in pieces of any size, consumed front to back. Views are zero-copy when the bytes
 * lie in one piece and copied when they span pieces, so a reader fed 1 byte at a time decodes
 * exactly as one fed whole. Consumed bytes are hashed lazily, a piece span at a time (one wasm
 * call per span, not per record): the chunk's bytes, and the table's while the decoder reads a
 * table's entries, both in the decode kernel (wasm/decode-kernel.wat), in one pass over the bytes
 * both cover. Each is brought up to date only when it is read or changed, so starting and
 * stopping the table hash (in every chunk) does not cut the chunk's hashing into more calls.
 */
export class ByteQueue {
  #pieces: Uint8Array[] = [];
  #head = 0; // index of the first unconsumed piece
  #headPos = 0; // consumed bytes of the head piece
  #hashed = 0; // consumed bytes of the head piece from here on are not yet hashed
  #chunkHashing = false;
  #tableHashing = false;
  readonly #kernel = decodeKernel();
  readonly #states = new HashStates();
  #available = 0;
  /** A view of the buffer under the head piece, kept while pieces share it (takeU64). */
  #view: DataView | undefined;
  /** Stream offset of the next unconsumed byte. */
  offset = 0;
  /** Called with each pushed piece once every byte of it is consumed and hashed. */
  onPieceConsumed: ((piece: Uint8Array) => void) | undefined;

  constructor() {
    this.#kernel.reset(this.#states, CHUNK_SLOT);
    this.#kernel.reset(this.#states, TABLE_SLOT);
  }

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

  /**
   * This queue's hash states, brought up to date with every byte consumed so far: for a caller
   * that feeds the next bytes to them itself in the kernel (the decoder's chunk pass), then
   * consumes those bytes with `skipHashed`.
   */
  hashStatesNow(): HashStates {
    this.#flush();
    return this.#states;
  }

  /** Consumes n bytes of the head piece (headPos + n ≤ its length) that the caller hashed itself (`hashStatesNow`). */
  skipHashed(n: number): void {
    this.#hashed = this.#headPos + n;
    this.skip(n);
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
        this.#hash(piece, piece.length);
        this.#pieces[this.#head] = EMPTY; // release it for the garbage collector
        this.onPieceConsumed?.(piece);
        this.#head++;
        this.#headPos = 0;
        this.#hashed = 0;
      }
    }
    if (this.#head > 64 && this.#head * 2 > this.#pieces.length) {
      this.#pieces = this.#pieces.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Brings the active hashes up to position `end` of `piece` (the head piece). */
  #hash(piece: Uint8Array, end: number): void {
    const from = this.#hashed;
    if (end > from && (this.#chunkHashing || this.#tableHashing)) this.#kernel.update(this.#states, piece, this.#chunkHashing ? from : -1, this.#tableHashing ? from : -1, end);
    this.#hashed = end;
  }

  /** Starts the chunk hash: bytes consumed from now on are covered by `endChunkHash`. */
  startChunkHash(): void {
    this.#flush();
    this.#kernel.reset(this.#states, CHUNK_SLOT);
    this.#chunkHashing = true;
  }

  /** xxhash64 of the bytes consumed since `startChunkHash`; stops the chunk hash. */
  endChunkHash(): bigint {
    this.#flush();
    this.#chunkHashing = false;
    return this.#kernel.digest(this.#states, CHUNK_SLOT);
  }

  /** Starts (true) or stops (false) feeding consumed bytes to the table hash. */
  hashTable(on: boolean): void {
    this.#flush();
    this.#tableHashing = on;
  }

  /** xxhash64 of the bytes fed to the table hash since `resetTableHash`. */
  tableDigest(): bigint {
    this.#flush();
    return this.#kernel.digest(this.#states, TABLE_SLOT);
  }

  /** Starts the table hash afresh (a new table). */
  resetTableHash(): void {
    this.#flush();
    this.#kernel.reset(this.#states, TABLE_SLOT);
  }

  /** Hashes the consumed bytes of the head piece not yet hashed. */
  #flush(): void {
    const piece = this.#pieces[this.#head];
    if (piece !== undefined) this.#hash(piece, this.#headPos);
    else this.#hashed = this.#headPos;
  }
}

const EMPTY = new Uint8Array(0);
