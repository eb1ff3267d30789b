/**
 * LevelDB/RocksDB varints (7 bits per byte, little-endian groups, high bit = "more") and
 * fixed-width little-endian integers. Decoders never read past `end` and report failure with
 * a -1 position instead of throwing, so callers attach the file and offset to the error.
 */

/** Result slot of the varint decoders: the value, and the position after it (or -1 if bad). */
export interface VarintResult {
  value: number;
  pos: number;
}

/**
 * Decodes a varint32 at `pos` (at most 5 bytes, value < 2^32). Sets `out.pos` to -1 when the
 * varint is truncated at `end` or longer than 5 bytes.
 */
export function readVarint32(buf: Uint8Array, pos: number, end: number, out: VarintResult): void {
  let result = 0;
  for (let shift = 0; shift <= 28; shift += 7) {
    if (pos >= end) break;
    const b = buf[pos++]!;
    result += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) {
      if (result > 0xffffffff) break;
      out.value = result;
      out.pos = pos;
      return;
    }
  }
  out.value = 0;
  out.pos = -1;
}

/**
 * Decodes a varint64 at `pos` into a JS number. Values above 2^53 - 1 cannot be represented
 * exactly, so they fail like a malformed varint (`out.pos = -1`): every length, offset and count
 * we read is far below that bound in any real file.
 */
export function readVarint64(buf: Uint8Array, pos: number, end: number, out: VarintResult): void {
  // Fast path: up to 4 bytes (values below 2^28, every block offset and size in practice).
  let v = 0;
  for (let shift = 0; shift < 28 && pos + (shift / 7) < end; shift += 7) {
    const b = buf[pos + shift / 7]!;
    v |= (b & 0x7f) << shift;
    if (b < 0x80) {
      out.value = v;
      out.pos = pos + shift / 7 + 1;
      return;
    }
  }
  let result = 0;
  for (let shift = 0; shift <= 63; shift += 7) {
    if (pos >= end) break;
    const b = buf[pos++]!;
    result += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) {
      if (result > Number.MAX_SAFE_INTEGER) break;
      out.value = result;
      out.pos = pos;
      return;
    }
  }
  out.value = 0;
  out.pos = -1;
}

/** Decodes a zig-zag signed varint64 (RocksDB's PutVarsignedint64) into a JS number. */
export function readVarsigned64(buf: Uint8Array, pos: number, end: number, out: VarintResult): void {
  readVarint64(buf, pos, end, out);
  if (out.pos < 0) return;
  const u = out.value;
  // zig-zag: even → u/2, odd → -(u+1)/2; done in float arithmetic, exact below 2^53.
  out.value = u % 2 === 0 ? u / 2 : -(u + 1) / 2;
}

/** Little-endian uint32 at `pos` (caller checks bounds). */
export function readFixed32(buf: Uint8Array, pos: number): number {
  return (buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16) | (buf[pos + 3]! << 24)) >>> 0;
}

/** Little-endian uint64 at `pos` as a bigint (caller checks bounds). */
export function readFixed64(buf: Uint8Array, pos: number): bigint {
  return (BigInt(readFixed32(buf, pos + 4)) << 32n) | BigInt(readFixed32(buf, pos));
}
