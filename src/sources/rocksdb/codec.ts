/**
 * Primitive decoding for RocksDB's MANIFEST and WAL encodings: CRC32C, varints, fixed-width
 * little-endian integers and length-prefixed slices, all bounds-checked against untrusted input.
 *
 * The varint readers here throw SnapshotError with file offsets (the MANIFEST and WAL decoders
 * want that); `util/varint.ts` serves the table reader's allocation-free hot loops instead.
 */
import { SnapshotError } from '../../format/errors.js';

/** Builds the CORRUPT_CHECKPOINT error every decoder in this folder raises. */
export function corrupt(file: string, offset: number, message: string): SnapshotError {
  return new SnapshotError('CORRUPT_CHECKPOINT', message, { file, offset });
}

/** Builds the UNSUPPORTED_FEATURE error for data we must not approximate. */
export function unsupported(file: string | undefined, message: string, offset?: number): SnapshotError {
  return new SnapshotError('UNSUPPORTED_FEATURE', message, {
    ...(file === undefined ? {} : { file }),
    ...(offset === undefined ? {} : { offset }),
  });
}

// CRC32C is shared with the table reader (util/crc32c.ts).
export { crc32c, crc32cUnmask as unmaskCrc, crc32cMask as maskCrc } from './util/crc32c.js';

// ---------------------------------------------------------------------------------------------

/** Little-endian u32 at `pos` (caller guarantees 4 bytes). */
export function readU32(b: Uint8Array, pos: number): number {
  return (b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24)) >>> 0;
}

/** Little-endian u64 at `pos` as a bigint (caller guarantees 8 bytes). */
export function readU64(b: Uint8Array, pos: number): bigint {
  return BigInt(readU32(b, pos)) | (BigInt(readU32(b, pos + 4)) << 32n);
}

/** Maps a position in a decoded record to the file offset of that byte. */
export type Locate = (pos: number) => number;

/**
 * A bounds-checked cursor over one decoded record (a VersionEdit, a WriteBatch).
 * Offsets in errors are file offsets of the offending byte: `locate` maps record positions to
 * file positions (a record assembled from log fragments is not contiguous in its file); a
 * number means the record's byte 0 sits at that file offset.
 */
export class SliceReader {
  pos: number;
  readonly end: number;

  constructor(
    readonly buf: Uint8Array,
    readonly file: string,
    locate: Locate | number,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
    this.locate = typeof locate === 'number' ? (p) => locate + p : locate;
  }

  private readonly locate: Locate;

  /** The file offset of record position `pos`. */
  offsetOf(pos: number): number {
    return this.locate(pos);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  /** A CORRUPT_CHECKPOINT error located at the current position. */
  error(message: string): SnapshotError {
    return corrupt(this.file, this.locate(this.pos), message);
  }

  u8(what: string): number {
    if (this.pos >= this.end) throw this.error(`truncated ${what}`);
    return this.buf[this.pos++]!;
  }

  u32(what: string): number {
    if (this.remaining < 4) throw this.error(`truncated ${what}`);
    const v = readU32(this.buf, this.pos);
    this.pos += 4;
    return v;
  }

  u64(what: string): bigint {
    if (this.remaining < 8) throw this.error(`truncated ${what}`);
    const v = readU64(this.buf, this.pos);
    this.pos += 8;
    return v;
  }

  /** A varint32 (at most 5 bytes, value < 2^32). */
  varint32(what: string): number {
    let result = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      if (this.pos >= this.end) throw this.error(`truncated varint (${what})`);
      const byte = this.buf[this.pos++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        if (result > 0xffffffff) throw this.error(`varint32 overflow (${what})`);
        return result;
      }
    }
    throw this.error(`varint32 too long (${what})`);
  }

  /** A varint64 as a bigint (at most 10 bytes, value < 2^64). */
  varint64(what: string): bigint {
    let result = 0n;
    for (let shift = 0n; shift <= 63n; shift += 7n) {
      if (this.pos >= this.end) throw this.error(`truncated varint (${what})`);
      const byte = this.buf[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        if (result > 0xffffffffffffffffn) throw this.error(`varint64 overflow (${what})`);
        return result;
      }
    }
    throw this.error(`varint64 too long (${what})`);
  }

  /** A varint64 that must fit a JS safe integer (file numbers, sizes, levels). */
  varint64Safe(what: string): number {
    const at = this.pos;
    const v = this.varint64(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw corrupt(this.file, this.locate(at), `${what} ${v} is larger than 2^53-1`);
    }
    return Number(v);
  }

  /** `n` bytes as a view into the record (no copy; the record buffer is never reused). */
  bytes(n: number, what: string): Uint8Array {
    if (n > this.remaining) {
      throw this.error(`${what} of ${n} bytes overruns its record (${this.remaining} bytes left)`);
    }
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A varint32 length followed by that many bytes; the length is checked before slicing. */
  lengthPrefixed(what: string): Uint8Array {
    const n = this.varint32(`${what} length`);
    return this.bytes(n, what);
  }

  /** A sub-reader over a length-prefixed field, so custom fields cannot read past themselves. */
  lengthPrefixedReader(what: string): SliceReader {
    const n = this.varint32(`${what} length`);
    if (n > this.remaining) this.bytes(n, what); // throws with the standard message
    const r = new SliceReader(this.buf, this.file, this.locate, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }
}


/** Converts a sequence number to a JS number, refusing values that would lose precision. */
export function sequenceToNumber(seq: bigint | number, file: string | undefined): number {
  if (typeof seq === 'number') {
    if (Number.isSafeInteger(seq) && seq >= 0) return seq;
  } else if (seq >= 0n && seq <= BigInt(Number.MAX_SAFE_INTEGER)) {
    return Number(seq);
  }
  throw unsupported(file, `sequence number ${seq} is above 2^53-1, which this reader does not handle`);
}
