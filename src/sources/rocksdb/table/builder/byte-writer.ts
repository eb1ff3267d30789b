/**
 * A growable little-endian byte buffer with LevelDB/RocksDB encodings: varint32/64, fixed32/64,
 * length-prefixed slices. The writer's counterpart of util/varint.ts (which reads them).
 */

/** Appends encoded integers and bytes to a buffer that doubles when full. */
export class ByteWriter {
  buf: Uint8Array;
  length = 0;

  constructor(capacity = 4096) {
    this.buf = new Uint8Array(capacity);
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.length));
    this.buf = b;
  }

  /** An unsigned varint below 2^53 (varint32 and varint64 encode alike). */
  varint(v: number): void {
    this.reserve(10);
    const b = this.buf;
    let p = this.length;
    while (v >= 0x80) {
      b[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[p++] = v;
    this.length = p;
  }

  /** A varint of a u64 given as a bigint (sequence numbers). */
  varintBig(v: bigint): void {
    this.reserve(10);
    while (v >= 0x80n) {
      this.buf[this.length++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.length++] = Number(v);
  }

  fixed32(v: number): void {
    this.reserve(4);
    const b = this.buf;
    const p = this.length;
    b[p] = v & 0xff;
    b[p + 1] = (v >>> 8) & 0xff;
    b[p + 2] = (v >>> 16) & 0xff;
    b[p + 3] = (v >>> 24) & 0xff;
    this.length = p + 4;
  }

  fixed64(v: bigint): void {
    this.fixed32(Number(v & 0xffffffffn));
    this.fixed32(Number((v >> 32n) & 0xffffffffn));
  }

  byte(v: number): void {
    this.reserve(1);
    this.buf[this.length++] = v;
  }

  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.reserve(n);
    copyBytes(this.buf, this.length, src, start, end);
    this.length += n;
  }

  /** A varint length, then the bytes (PutLengthPrefixedSlice). */
  lengthPrefixed(src: Uint8Array): void {
    this.varint(src.length);
    this.bytes(src);
  }

  /** The bytes written so far (a view, valid until the next write or reset). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }
}

/** Encodes one value with a fresh writer; for small, cold values (properties, handles). */
export function encode(write: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter(16);
  write(w);
  return w.view().slice();
}

/** Copies src[start, end) to dst at `at`: a loop for short runs (no view allocated), `set` for long ones. */
export function copyBytes(dst: Uint8Array, at: number, src: Uint8Array, start: number, end: number): void {
  const n = end - start;
  if (n <= 16) {
    for (let i = 0; i < n; i++) dst[at + i] = src[start + i]!;
  } else {
    dst.set(start === 0 && end === src.length ? src : src.subarray(start, end), at);
  }
}
