/**
 * Block checksums of block-based tables (table/format.cc ComputeBuiltinChecksum,
 * table/block_based/reader_common.cc VerifyBlockChecksum): the checksum covers the block bytes
 * and the compression-type byte after them; format_version >= 6 adds a per-offset context
 * modifier to the stored value so that a block copied to another offset or file fails.
 */
import xxhash from 'xxhash-wasm';
import { crc32c, crc32cMask } from '../util/crc32c.js';
import { xxh3Low32 } from '../util/xxh3.js';

/** ChecksumType in the footer (include/rocksdb/table.h). */
export const ChecksumType = {
  None: 0,
  CRC32c: 1,
  XXHash: 2,
  XXHash64: 3,
  XXH3: 4,
} as const;
export type ChecksumType = (typeof ChecksumType)[keyof typeof ChecksumType];

/** Human name of a checksum type, as RocksDB options spell it. */
export function checksumTypeName(t: number): string {
  return ['kNoChecksum', 'kCRC32c', 'kxxHash', 'kxxHash64', 'kXXH3'][t] ?? `unknown(${t})`;
}

type Api = Awaited<ReturnType<typeof xxhash>>;
let api: Api | undefined;
let loading: Promise<Api> | undefined;

/** Loads the xxHash32/64 WebAssembly module once; call before computeChecksum. */
export async function loadChecksums(): Promise<void> {
  if (api !== undefined) return;
  loading ??= xxhash();
  api = await loading;
}

/** RocksDB's ModifyChecksumForLastByte, used by kXXH3 to fold in the compression-type byte. */
function modifyForLastByte(v: number, lastByte: number): number {
  return (v ^ Math.imul(lastByte, 0x6b9083d9)) >>> 0;
}

/**
 * ComputeBuiltinChecksum(type, buf[start, end)) as a uint32. For a block, `end` is one past the
 * compression-type byte. kNoChecksum yields 0 (callers skip verification).
 */
export function computeChecksum(type: number, buf: Uint8Array, start: number, end: number): number {
  switch (type) {
    case ChecksumType.CRC32c:
      return crc32cMask(crc32c(buf, start, end));
    case ChecksumType.XXHash:
      return api!.h32Raw(buf.subarray(start, end), 0) >>> 0;
    case ChecksumType.XXHash64:
      return Number(api!.h64Raw(buf.subarray(start, end), 0n) & 0xffffffffn);
    case ChecksumType.XXH3:
      // XXH3 of all but the last byte, then the last byte mixed in (RocksDB's special case).
      if (end === start) return 0;
      return modifyForLastByte(xxh3Low32(buf, start, end - 1), buf[end - 1]!);
    default:
      return 0;
  }
}

/** ChecksumModifierForContext: 0 unless format_version >= 6 (base != 0). */
export function contextModifier(baseContextChecksum: number, offset: number): number {
  if (baseContextChecksum === 0) return 0;
  const lo = offset % 4294967296;
  const hi = Math.floor(offset / 4294967296);
  return (baseContextChecksum ^ ((lo + hi) >>> 0)) >>> 0;
}
