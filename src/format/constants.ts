/**
 * Constants and limits of snapshot format v1 (spec/FORMAT.md). Changing any value that
 * affects bytes requires a new format version and a new golden folder.
 */

/** "\x89SNPV\r\n\x1a": a non-ASCII first byte and CR LF catch text-mode transfers, as PNG does. */
export const MAGIC = Uint8Array.of(0x89, 0x53, 0x4e, 0x50, 0x56, 0x0d, 0x0a, 0x1a);

/** The only version this code writes; readers reject any other (UNSUPPORTED_VERSION). */
export const FORMAT_VERSION = 1;

/** Record tags of the body. */
export const TAG_ENTRY = 0x01;
export const TAG_TABLE_END = 0x02;
export const TAG_CHUNK_END = 0x03;
export const TAG_SNAPSHOT_END = 0x04;

/** tag + key length u32 + value length u32. */
export const ENTRY_PREFIX_BYTES = 9;
/** tag + table id u32 + entry count u64 + table digest u64. */
export const TABLE_END_BYTES = 21;
/** An end record (CHUNK_END or SNAPSHOT_END) is one tag byte. */
export const END_RECORD_BYTES = 1;
/** xxhash64 of every preceding byte of the chunk, u64 little-endian. */
export const TRAILER_BYTES = 8;
/** Room every chunk keeps for its end record and trailer. */
export const CHUNK_TAIL_BYTES = END_RECORD_BYTES + TRAILER_BYTES;

/** Fixed part of a chunk header up to and including the event id length. */
export const HEADER_FIXED_PREFIX_BYTES = 30;
/** max chunk bytes u64 + chunk index u32 + previous chunk digest u64 + table position u32 + table count u32. */
export const HEADER_FIXED_SUFFIX_BYTES = 28;
/** table id u32 + name length u8. */
export const CATALOG_ENTRY_PREFIX_BYTES = 5;

/** Hard limits of the format itself (a reader rejects beyond these whatever its options). */
export const MAX_EVENT_ID_BYTES = 1024;
export const MAX_TABLE_NAME_BYTES = 255;
export const MAX_TABLES = 65_536;
export const U32_MAX = 0xffff_ffff;
/** The last chunk index a u32 can hold (spec section 6): an encoder never starts chunk 2^32. */
export const MAX_CHUNK_INDEX = U32_MAX;
export const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** Default limits for untrusted input; writers enforce the same so they never write what readers refuse. */
export const DEFAULT_MAX_KEY_BYTES = 64 * 1024;
export const DEFAULT_MAX_VALUE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_TABLES = 1024;

/** xxhash64 seed used for every digest of the format. */
export const DIGEST_SEED = 0n;
