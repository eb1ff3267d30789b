// AssemblyScript: placing a run of data blocks in the merge kernel's memory (part of the kernel's
// module: merge.ts exports these). For each block of a run as read from the file: verify its
// checksum (CRC-32C or XXH3), decompress it (none, Snappy, LZ4) to its place, and find where its
// entries end, all in one call per run instead of several JavaScript calls and copies per block.
//
// It decides nothing: any block it cannot place (a checksum mismatch, a decoding error, a bad
// footer, a codec or size it does not take) makes it return that block's number, and the driver
// places the whole run by the JavaScript path (table-reader.ts blockContents, table/block.ts
// blockLayout), which reports the error exactly as before. The decoders are ports of
// ../../util/snappy.wat and ../../util/lz4.wat with an output base (same checks, same wide
// copies: up to 15 bytes may be written past a block's end and read past its input's end, so the
// driver leaves SLACK bytes after the region and after the run).

import { varint32, varValue } from './varint';
import { xxh3 } from './xxh3';

// Descriptor fields (byte offsets), written by the driver (../run-placer.ts: same constants).
const D_N: usize = 0; // blocks in the run
const D_HANDLES: usize = 4; // n × (u32 offset in the run, u32 size without trailer)
const D_RAW: usize = 8; // the run's bytes as read
const D_TABLES: usize = 12; // CRC-32C slicing-by-16 tables (16 × 256 u32, table k at 1024 k)
const D_DST: usize = 16; // the region: n × (start, end of entries) i32 pairs, then the blocks
const D_CTX_BASE: usize = 20; // format_version >= 6 base context checksum (0: none)
const D_START: usize = 24; // f64: the run's file offset
const D_MAX: usize = 32; // largest decompressed block taken
const D_CHECKSUM: usize = 36; // the table's checksum type (CK_*)
const D_SECRET: usize = 40; // XXH3's 192-byte default secret

// Checksum types (RocksDB's ChecksumType) the kernel verifies; any other is declined.
const CK_CRC32C: i32 = 1;
const CK_XXH3: i32 = 4;

const T_NONE: u8 = 0;
const T_SNAPPY: u8 = 1;
const T_LZ4: u8 = 4;
const T_LZ4HC: u8 = 5;

/** Snappy: a 3-byte copy element yields up to 64 bytes (snappy.ts MAX_EXPANSION). */
const SNAPPY_MAX_EXPANSION: u32 = 22;


/** The size block [p, p + size) declares once decompressed (its type byte follows it), or -1. */
function declared(p: usize, size: u32): i64 {
  const type = load<u8>(p + size);
  if (type == T_NONE) return <i64>size;
  if (type != T_SNAPPY && type != T_LZ4 && type != T_LZ4HC) return -1;
  const body = varint32(p, p + size);
  if (body == 0) return -1;
  // An honest Snappy block cannot expand more than this: the JavaScript path rejects it.
  if (type == T_SNAPPY && <u64>varValue > <u64>(p + size - body) * SNAPPY_MAX_EXPANSION) return -1;
  return <i64>varValue;
}

/**
 * Bytes the run's blocks take once decompressed (without the list and slack), or -1 when a block
 * does not declare its size or declares more than D_MAX: the driver then takes the JavaScript path.
 */
export function runSize(desc: usize): i32 {
  const n = load<i32>(desc + D_N);
  const handles = <usize>load<i32>(desc + D_HANDLES);
  const raw = <usize>load<i32>(desc + D_RAW);
  const max = <i64>load<i32>(desc + D_MAX);
  let total: i64 = 0;
  for (let k = 0; k < n; k++) {
    const h = handles + (<usize>k << 3);
    const size = declared(raw + <usize>load<u32>(h), load<u32>(h, 4));
    if (size < 0 || size > max) return -1;
    total += size;
    if (total > 0x40000000) return -1;
  }
  return <i32>total;
}

/**
 * Verifies, decompresses and lays out every block of the run (runSize first: the region holds
 * that many bytes after its list, and SLACK more). Returns -1, or the first block it could not place.
 */
export function placeRun(desc: usize): i32 {
  const n = load<i32>(desc + D_N);
  const handles = <usize>load<i32>(desc + D_HANDLES);
  const raw = <usize>load<i32>(desc + D_RAW);
  const tables = <usize>load<i32>(desc + D_TABLES);
  const list = <usize>load<i32>(desc + D_DST);
  const base = load<u32>(desc + D_CTX_BASE);
  const start = <u64>load<f64>(desc + D_START);
  const checksum = load<i32>(desc + D_CHECKSUM);
  const secret = <usize>load<i32>(desc + D_SECRET);
  if (checksum != CK_CRC32C && checksum != CK_XXH3) return 0;
  let at = list + (<usize>n << 3);
  for (let k = 0; k < n; k++) {
    const h = handles + (<usize>k << 3);
    const rel = load<u32>(h);
    const size = load<u32>(h, 4);
    const p = raw + <usize>rel;
    const typeAt = p + <usize>size;
    // RocksDB's checksum of the block and its type byte (table/format.cc ComputeBuiltinChecksum),
    // less the context modifier: the masked CRC-32C, or the low half of XXH3 of the block with
    // the type byte mixed in after it (ModifyChecksumForLastByte).
    let computed: u32;
    if (checksum == CK_CRC32C) {
      computed = rotr<u32>(~crc32c(0xffffffff, p, typeAt + 1, tables), 15) + 0xa282ead8;
    } else {
      computed = <u32>xxh3(p, <usize>size, secret) ^ (<u32>load<u8>(typeAt) * 0x6b9083d9);
    }
    let modifier: u32 = 0;
    if (base != 0) {
      const offset = start + <u64>rel;
      modifier = base ^ (<u32>offset + <u32>(offset >> 32));
    }
    if (computed != load<u32>(typeAt, 1) - modifier) return k;
    const type = load<u8>(typeAt);
    let outLen: u32 = size;
    if (type == T_NONE) {
      memory.copy(at, p, size);
    } else if (type == T_SNAPPY) {
      const ip = varint32(p, typeAt);
      if (ip == 0) return k;
      outLen = varValue;
      if (<u64>outLen > <u64>(typeAt - ip) * SNAPPY_MAX_EXPANSION) return k;
      if (snappy(at, outLen, ip, typeAt) != 0) return k;
    } else if (type == T_LZ4 || type == T_LZ4HC) {
      const ip = varint32(p, typeAt);
      if (ip == 0 || ip == typeAt) return k;
      outLen = varValue;
      if (lz4(at, outLen, ip, typeAt) != 0) return k;
    } else {
      return k;
    }
    const keysEnd = entriesEnd(at, outLen);
    if (keysEnd < 0) return k;
    store<i32>(list + (<usize>k << 3), <i32>at);
    store<i32>(list + (<usize>k << 3), <i32>(at + <usize>keysEnd), 4);
    at += <usize>outLen;
  }
  return -1;
}

/** Where the entries of the block [b, b + len) end (its restart array starts), or -1 (table/block.ts blockLayout). */
function entriesEnd(b: usize, len: u32): i32 {
  if (len < 4) return -1;
  let packed = load<u32>(b + <usize>len - 4);
  let end = <i64>len - 4;
  const hasHashIndex = (packed & 0x80000000) != 0;
  packed &= 0x7fffffff;
  if ((packed & (1 << 28)) != 0) return -1; // separated key/value storage
  packed &= ~(<u32>1 << 29); // uniform keys: layout unchanged
  if (packed > (1 << 28) - 1) return -1;
  if (hasHashIndex) {
    if (end < 2) return -1;
    const buckets = <i64>load<u16>(b + <usize>end - 2);
    end -= 2 + buckets;
    if (end < 0) return -1;
  }
  const keysEnd = end - 4 * <i64>packed;
  if (keysEnd < 0) return -1;
  if (packed == 0 && keysEnd != 0) return -1;
  return <i32>keysEnd;
}

/** Table k's entry for byte (x >> shift) & 255. */
@inline function tab(t: usize, k: usize, x: u32, shift: u32): u32 {
  return load<u32>(t + (k << 10) + (((x >> shift) & 255) << 2));
}

/**
 * Extends the pre-inverted CRC-32C c over [p, end): slicing-by-16 (twice the bytes per step of
 * ../../util/crc32c.wat's slicing-by-8 for the same dependency chain), then by 8, then bytes.
 */
function crc32c(c: u32, p: usize, end: usize, t: usize): u32 {
  while (p + 16 <= end) {
    const a = c ^ load<u32>(p);
    const b = load<u32>(p, 4);
    const x = load<u32>(p, 8);
    const y = load<u32>(p, 12);
    c =
      tab(t, 15, a, 0) ^ tab(t, 14, a, 8) ^ tab(t, 13, a, 16) ^ tab(t, 12, a, 24) ^
      tab(t, 11, b, 0) ^ tab(t, 10, b, 8) ^ tab(t, 9, b, 16) ^ tab(t, 8, b, 24) ^
      tab(t, 7, x, 0) ^ tab(t, 6, x, 8) ^ tab(t, 5, x, 16) ^ tab(t, 4, x, 24) ^
      tab(t, 3, y, 0) ^ tab(t, 2, y, 8) ^ tab(t, 1, y, 16) ^ tab(t, 0, y, 24);
    p += 16;
  }
  while (p + 8 <= end) {
    const a = c ^ load<u32>(p);
    const b = load<u32>(p, 4);
    c =
      load<u32>(t + 7168 + ((a & 255) << 2)) ^
      load<u32>(t + 6144 + (((a >> 8) & 255) << 2)) ^
      load<u32>(t + 5120 + (((a >> 16) & 255) << 2)) ^
      load<u32>(t + 4096 + ((a >> 24) << 2)) ^
      load<u32>(t + 3072 + ((b & 255) << 2)) ^
      load<u32>(t + 2048 + (((b >> 8) & 255) << 2)) ^
      load<u32>(t + 1024 + (((b >> 16) & 255) << 2)) ^
      load<u32>(t + ((b >> 24) << 2));
    p += 8;
  }
  while (p < end) {
    c = load<u32>(t + (((c ^ <u32>load<u8>(p)) & 255) << 2)) ^ (c >> 8);
    p++;
  }
  return c;
}

/** 16 bytes, as two 8-byte moves (the module is built without SIMD). */
@inline function copy16(dst: usize, src: usize): void {
  store<u64>(dst, load<u64>(src));
  store<u64>(dst, load<u64>(src, 8), 8);
}

/**
 * A back-reference of len (1..64) bytes at distance off (1..op - out), in wide chunks that only
 * read output written before them (snappy.wat): from 16 back 16 at a time; from under 8 back,
 * byte by byte over the first multiple of off that is at least 8, then 8 at a time from there.
 */
@inline function copyShort(op: usize, off: usize, len: usize): void {
  let i: usize = 0;
  if (off >= 16) {
    do {
      copy16(op + i, op + i - off);
      i += 16;
    } while (i < len);
    return;
  }
  let d = off;
  if (off < 8) {
    do d += off; while (d < 8);
    const n = len < d ? len : d;
    do {
      store<u8>(op + i, load<u8>(op + i - off));
      i++;
    } while (i < n);
  }
  while (i < len) {
    store<u64>(op + i, load<u64>(op + i - d));
    i += 8;
  }
}

/** Snappy elements [ip, iend) into exactly outLen bytes at out: 0, or snappy.wat's error number. */
function snappy(out: usize, outLen: u32, ip: usize, iend: usize): i32 {
  let op = out;
  const oend = out + <usize>outLen;
  while (ip < iend) {
    const tag = <u32>load<u8>(ip);
    ip++;
    if ((tag & 3) == 0) {
      let len = tag >> 2;
      if (len >= 60) {
        const n = <usize>(len - 59);
        if (n > iend - ip) return 1;
        len = 0;
        for (let i: usize = 0; i < n; i++) len |= <u32>load<u8>(ip + i) << (<u32>i << 3);
        ip += n;
      }
      // len is length - 1 here: compared before adding 1 so that 0xffffffff cannot wrap
      if (<usize>len >= iend - ip) return 2;
      const l = <usize>len + 1;
      if (l > oend - op) return 3;
      if (l <= 64) {
        let i: usize = 0;
        do {
          copy16(op + i, ip + i);
          i += 16;
        } while (i < l);
      } else {
        memory.copy(op, ip, l);
      }
      ip += l;
      op += l;
      continue;
    }
    let len: usize;
    let off: usize;
    if ((tag & 3) == 1) {
      if (ip >= iend) return 4;
      len = 4 + ((tag >> 2) & 7);
      off = ((tag >> 5) << 8) | <u32>load<u8>(ip);
      ip++;
    } else {
      len = (tag >> 2) + 1;
      if ((tag & 3) == 2) {
        if (iend - ip < 2) return 4;
        off = load<u16>(ip);
        ip += 2;
      } else {
        if (iend - ip < 4) return 4;
        off = load<u32>(ip);
        ip += 4;
      }
    }
    if (off == 0 || off > op - out) return 5;
    if (len > oend - op) return 6;
    copyShort(op, off, len);
    op += len;
  }
  return op == oend ? 0 : 7;
}

/** An LZ4 block [ip, iend) into exactly outLen bytes at out: 0, or lz4.wat's error number. */
function lz4(out: usize, outLen: u32, ip: usize, iend: usize): i32 {
  let op = out;
  const oend = out + <usize>outLen;
  for (;;) {
    if (ip >= iend) return 1;
    const token = <u32>load<u8>(ip);
    ip++;
    let len: usize = token >> 4;
    if (len == 15) {
      let b: u32 = 0;
      do {
        if (ip >= iend) return 2;
        b = load<u8>(ip);
        ip++;
        len += b;
        if (len > <usize>outLen) return 3;
      } while (b == 255);
    }
    if (len > iend - ip) return 4;
    if (len > oend - op) return 5;
    if (len <= 64) {
      for (let i: usize = 0; i < len; i += 16) copy16(op + i, ip + i);
    } else {
      memory.copy(op, ip, len);
    }
    ip += len;
    op += len;
    // the last sequence is literals only and ends the input exactly
    if (ip == iend) break;
    if (iend - ip < 2) return 6;
    const off = <usize>load<u16>(ip);
    ip += 2;
    if (off == 0 || off > op - out) return 7;
    len = token & 15;
    if (len == 15) {
      let b: u32 = 0;
      do {
        if (ip >= iend) return 8;
        b = load<u8>(ip);
        ip++;
        len += b;
        if (len > <usize>outLen) return 9;
      } while (b == 255);
    }
    len += 4;
    if (len > oend - op) return 10;
    if (len > 64) {
      if (off >= len) {
        memory.copy(op, op - off, len);
      } else {
        // overlapping: later bytes repeat the ones just written, so byte by byte
        for (let i: usize = 0; i < len; i++) store<u8>(op + i, load<u8>(op + i - off));
      }
    } else {
      copyShort(op, off, len);
    }
    op += len;
  }
  return op == oend ? 0 : 11;
}
