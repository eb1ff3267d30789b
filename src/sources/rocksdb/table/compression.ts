/**
 * Block decompression by RocksDB CompressionType (the byte in each block trailer). With
 * format_version >= 2 (compress_format_version 2) every codec except Snappy is preceded by a
 * varint uncompressed size, which bounds the output before anything is allocated.
 */
import { inflateRawSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { DecodeFailure } from '../util/decode-failure.js';
import { lz4Decompress } from '../util/lz4.js';
import { snappyDecompress, snappyUncompressedLength } from '../util/snappy.js';
import { readVarint32, type VarintResult } from '../util/varint.js';

/** CompressionType values (include/rocksdb/compression_type.h). */
export const CompressionType = {
  None: 0x0,
  Snappy: 0x1,
  Zlib: 0x2,
  BZip2: 0x3,
  LZ4: 0x4,
  LZ4HC: 0x5,
  Xpress: 0x6,
  ZSTD: 0x7,
  /** Pre-1.0 ZSTD files were tagged with this value; same format. */
  ZSTDNotFinal: 0x40,
} as const;

/** Largest uncompressed block we accept; RocksDB blocks are KiBs, a huge value makes MiBs. */
export const MAX_BLOCK_BYTES = 512 * 1024 * 1024;

/** Name of a compression type, as RocksDB prints it. */
export function compressionName(t: number): string {
  switch (t) {
    case 0: return 'NoCompression';
    case 1: return 'Snappy';
    case 2: return 'Zlib';
    case 3: return 'BZip2';
    case 4: return 'LZ4';
    case 5: return 'LZ4HC';
    case 6: return 'Xpress';
    case 7: case 0x40: return 'ZSTD';
    default: return t >= 0x80 ? `custom compression 0x${t.toString(16)}` : `unknown compression 0x${t.toString(16)}`;
  }
}

/** A valid block whose codec we do not implement; the caller maps it to UNSUPPORTED_FEATURE. */
export class UnsupportedCompression extends Error {
  override readonly name = 'UnsupportedCompression';
}

const vr: VarintResult = { value: 0, pos: 0 };

const ARENA_CHUNK = 1024 * 1024;
let arena = new Uint8Array(0);
let arenaPos = 0;

/**
 * Output buffers for Snappy/LZ4 blocks, carved from 1 MiB chunks: one ArrayBuffer per MiB of
 * decompressed data instead of one per block. Chunks are never reused (entries keep views into
 * them); a chunk is freed when no view into it remains.
 */
function arenaAlloc(n: number): Uint8Array {
  if (n > ARENA_CHUNK / 4) return new Uint8Array(n);
  if (n > arena.length - arenaPos) {
    arena = new Uint8Array(ARENA_CHUNK);
    arenaPos = 0;
  }
  const out = arena.subarray(arenaPos, arenaPos + n);
  arenaPos += n;
  return out;
}

function sizePrefix(input: Uint8Array): { size: number; body: Uint8Array } {
  readVarint32(input, 0, input.length, vr);
  if (vr.pos < 0) throw new DecodeFailure('bad uncompressed-size prefix');
  if (vr.value > MAX_BLOCK_BYTES) throw new DecodeFailure(`uncompressed size ${vr.value} exceeds limit ${MAX_BLOCK_BYTES}`);
  return { size: vr.value, body: input.subarray(vr.pos) };
}

/**
 * Checks a zstd frame header: no dictionary, and a content size (if present) equal to `size`.
 * Returns whether the frame declares its content size.
 */
function checkZstdFrame(body: Uint8Array, size: number): boolean {
  if (body.length < 6 || body[0] !== 0x28 || body[1] !== 0xb5 || body[2] !== 0x2f || body[3] !== 0xfd) {
    throw new DecodeFailure('zstd: bad frame magic');
  }
  const flg = body[4]!;
  const singleSegment = (flg >> 5) & 1;
  const dictFlag = flg & 3;
  const fcsFlag = flg >> 6;
  let p = 5 + (singleSegment ? 0 : 1);
  const dictBytes = dictFlag === 3 ? 4 : dictFlag;
  let dictId = 0;
  for (let i = 0; i < dictBytes; i++) dictId += body[p + i]! * 2 ** (8 * i);
  if (dictId !== 0) throw new UnsupportedCompression('zstd block compressed with a dictionary');
  p += dictBytes;
  const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
  if (fcsBytes === 0) return false;
  if (p + fcsBytes > body.length) throw new DecodeFailure('zstd: truncated frame header');
  let fcs = 0;
  for (let i = 0; i < fcsBytes; i++) fcs += body[p + i]! * 2 ** (8 * i);
  if (fcsBytes === 2) fcs += 256;
  if (fcs !== size) throw new DecodeFailure(`zstd: frame content size ${fcs} differs from declared ${size}`);
  return true;
}

/** fzstd with the output size known: exactly `size` bytes or DecodeFailure. */
function zstd(body: Uint8Array, size: number): Uint8Array {
  const hasContentSize = checkZstdFrame(body, size);
  try {
    if (hasContentSize) {
      // fzstd allocates exactly the (checked) content size. Passing our own output buffer
      // instead is much slower: fzstd then compares it with a number, stringifying it.
      const out = zstdDecompress(body);
      if (out.length !== size) throw new DecodeFailure(`zstd: produced ${out.length} bytes, declared ${size}`);
      return out;
    }
    // Without a content size fzstd would allocate the frame's window size (up to 2 GiB).
    const out = new Uint8Array(size);
    zstdDecompress(body, out);
    return out;
  } catch (e) {
    if (e instanceof DecodeFailure) throw e;
    throw new DecodeFailure(`zstd: ${(e as Error).message}`);
  }
}

/**
 * The uncompressed size a block's bytes declare (Snappy's preamble, LZ4's size prefix; a stored
 * block's own size), or -1 when the codec does not declare it up front or the declaration is
 * unreadable. Nothing is verified: decompressing checks it.
 */
export function declaredBlockSize(type: number, input: Uint8Array): number {
  if (type === CompressionType.None) return input.length;
  if (type !== CompressionType.Snappy && type !== CompressionType.LZ4 && type !== CompressionType.LZ4HC) return -1;
  readVarint32(input, 0, input.length, vr);
  return vr.pos < 0 ? -1 : vr.value;
}

/**
 * Decompresses one block's bytes. Throws DecodeFailure for malformed data and
 * UnsupportedCompression for a codec we do not implement (BZip2, Xpress, custom).
 */
export function decompressBlock(type: number, input: Uint8Array, alloc: (n: number) => Uint8Array = arenaAlloc): Uint8Array {
  switch (type) {
    case CompressionType.Snappy: {
      if (snappyUncompressedLength(input) > MAX_BLOCK_BYTES) throw new DecodeFailure('snappy: declared length too large');
      return snappyDecompress(input, MAX_BLOCK_BYTES, alloc);
    }
    case CompressionType.LZ4:
    case CompressionType.LZ4HC: {
      const { size, body } = sizePrefix(input);
      return lz4Decompress(body, size, alloc);
    }
    case CompressionType.Zlib: {
      // RocksDB deflates with window_bits -14: raw deflate, no zlib header.
      const { size, body } = sizePrefix(input);
      let out: Buffer;
      try {
        out = inflateRawSync(body, { maxOutputLength: Math.max(size, 1) });
      } catch (e) {
        throw new DecodeFailure(`zlib: ${(e as Error).message}`);
      }
      if (out.length !== size) throw new DecodeFailure(`zlib: produced ${out.length} bytes, declared ${size}`);
      return new Uint8Array(out.buffer, out.byteOffset, out.length);
    }
    case CompressionType.ZSTD:
    case CompressionType.ZSTDNotFinal: {
      const { size, body } = sizePrefix(input);
      return zstd(body, size);
    }
    default:
      throw new UnsupportedCompression(`block compressed with ${compressionName(type)}, which is not supported`);
  }
}
