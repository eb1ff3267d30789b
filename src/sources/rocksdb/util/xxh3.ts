/**
 * XXH3_64bits with seed 0 and the default secret (xxHash 0.8 spec), the variant RocksDB uses for
 * ChecksumType kXXH3. Inputs up to 240 bytes and the final merge use BigInt (rare, short);
 * the long-input stripe loop, which dominates checksum time for data blocks, uses 32-bit halves.
 */

const M64 = (1n << 64n) - 1n;

const PRIME32_1 = 0x9e3779b1;
const PRIME32_2 = 0x85ebca77;
const PRIME32_3 = 0xc2b2ae3d;
const PRIME64_1 = 0x9e3779b185ebca87n;
const PRIME64_2 = 0xc2b2ae3d27d4eb4fn;
const PRIME64_3 = 0x165667b19e3779f9n;
const PRIME64_4 = 0x85ebca77c2b2ae63n;
const PRIME64_5 = 0x27d4eb2f165667c5n;
const PRIME_MX1 = 0x165667919e3779f9n;
const PRIME_MX2 = 0x9fb21c651e98df25n;

/** The 192-byte default secret, XXH3_kSecret. */
const SECRET = Uint8Array.from([
  0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
  0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
  0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
  0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
  0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
  0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
  0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
  0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
  0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
  0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
  0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
  0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
]);
const SECRET_SIZE = 192;
/** The secret as little-endian uint32 words, for the stripe loop (only 4-byte aligned offsets are used there). */
const SECRET32 = new Uint32Array(SECRET_SIZE / 4);
for (let i = 0; i < SECRET32.length; i++) SECRET32[i] = r32(SECRET, 4 * i);

const STRIPE_LEN = 64;
const STRIPES_PER_BLOCK = (SECRET_SIZE - STRIPE_LEN) / 8; // 16
const BLOCK_LEN = STRIPE_LEN * STRIPES_PER_BLOCK; // 1024

function r32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}
function r64(b: Uint8Array, p: number): bigint {
  return (BigInt(r32(b, p + 4)) << 32n) | BigInt(r32(b, p));
}
function mul128Fold64(a: bigint, b: bigint): bigint {
  const p = a * b;
  return (p ^ (p >> 64n)) & M64;
}
function xorshift(h: bigint, s: bigint): bigint {
  return h ^ (h >> s);
}
function avalanche(h: bigint): bigint {
  h = xorshift(h, 37n);
  h = (h * PRIME_MX1) & M64;
  return xorshift(h, 32n);
}
function xxh64Avalanche(h: bigint): bigint {
  h ^= h >> 33n;
  h = (h * PRIME64_2) & M64;
  h ^= h >> 29n;
  h = (h * PRIME64_3) & M64;
  return h ^ (h >> 32n);
}
function rotl64(x: bigint, r: bigint): bigint {
  return ((x << r) | (x >> (64n - r))) & M64;
}
function swap64(x: bigint): bigint {
  let r = 0n;
  for (let i = 0n; i < 8n; i++) r = (r << 8n) | ((x >> (8n * i)) & 0xffn);
  return r;
}
function mix16B(b: Uint8Array, p: number, s: number): bigint {
  return mul128Fold64(r64(b, p) ^ r64(SECRET, s), r64(b, p + 8) ^ r64(SECRET, s + 8));
}

function len0(): bigint {
  return xxh64Avalanche(r64(SECRET, 56) ^ r64(SECRET, 64));
}
function len1to3(b: Uint8Array, p: number, len: number): bigint {
  const c1 = b[p]!;
  const c2 = b[p + (len >> 1)]!;
  const c3 = b[p + len - 1]!;
  const combined = ((c1 << 16) | (c2 << 24) | c3 | (len << 8)) >>> 0;
  const bitflip = BigInt((r32(SECRET, 0) ^ r32(SECRET, 4)) >>> 0);
  return xxh64Avalanche(BigInt(combined) ^ bitflip);
}
function len4to8(b: Uint8Array, p: number, len: number): bigint {
  const in1 = BigInt(r32(b, p));
  const in2 = BigInt(r32(b, p + len - 4));
  const bitflip = r64(SECRET, 8) ^ r64(SECRET, 16);
  let h = (in2 + (in1 << 32n)) ^ bitflip;
  // rrmxmx
  h ^= rotl64(h, 49n) ^ rotl64(h, 24n);
  h = (h * PRIME_MX2) & M64;
  h ^= (h >> 35n) + BigInt(len);
  h = (h * PRIME_MX2) & M64;
  return xorshift(h, 28n);
}
function len9to16(b: Uint8Array, p: number, len: number): bigint {
  const bitflip1 = r64(SECRET, 24) ^ r64(SECRET, 32);
  const bitflip2 = r64(SECRET, 40) ^ r64(SECRET, 48);
  const lo = r64(b, p) ^ bitflip1;
  const hi = r64(b, p + len - 8) ^ bitflip2;
  const acc = (BigInt(len) + swap64(lo) + hi + mul128Fold64(lo, hi)) & M64;
  return avalanche(acc);
}
function len17to128(b: Uint8Array, p: number, len: number): bigint {
  let acc = (BigInt(len) * PRIME64_1) & M64;
  if (len > 32) {
    if (len > 64) {
      if (len > 96) {
        acc += mix16B(b, p + 48, 96) + mix16B(b, p + len - 64, 112);
      }
      acc += mix16B(b, p + 32, 64) + mix16B(b, p + len - 48, 80);
    }
    acc += mix16B(b, p + 16, 32) + mix16B(b, p + len - 32, 48);
  }
  acc += mix16B(b, p, 0) + mix16B(b, p + len - 16, 16);
  return avalanche(acc & M64);
}
function len129to240(b: Uint8Array, p: number, len: number): bigint {
  let acc = (BigInt(len) * PRIME64_1) & M64;
  const rounds = len >> 4;
  for (let i = 0; i < 8; i++) acc += mix16B(b, p + 16 * i, 16 * i);
  acc = avalanche(acc & M64);
  for (let i = 8; i < rounds; i++) acc += mix16B(b, p + 16 * i, 16 * (i - 8) + 3);
  acc += mix16B(b, p + len - 16, 136 - 17);
  return avalanche(acc & M64);
}

/** Accumulators as (lo, hi) uint32 pairs: acc[2i] = low half of lane i. */
const acc = new Uint32Array(16);

/** One 64-byte stripe: acc[i^1] += input lane i; acc[i] += lo32(k) * hi32(k), k = lane ^ secret. */
function accumulate512(b: Uint8Array, p: number, s32: number): void {
  for (let i = 0; i < 8; i++) {
    const q = p + 8 * i;
    const vLo = (b[q]! | (b[q + 1]! << 8) | (b[q + 2]! << 16) | (b[q + 3]! << 24)) >>> 0;
    const vHi = (b[q + 4]! | (b[q + 5]! << 8) | (b[q + 6]! << 16) | (b[q + 7]! << 24)) >>> 0;
    // swap lane: acc[i ^ 1] += v
    const j = 2 * (i ^ 1);
    const sumLo = acc[j]! + vLo;
    acc[j] = sumLo;
    acc[j + 1] = acc[j + 1]! + vHi + (sumLo > 0xffffffff ? 1 : 0);
    // acc[i] += kLo * kHi (32x32 -> 64). The double product is within 2^11 of the exact one, so
    // rounding (product - exact low half) / 2^32 recovers the exact high half.
    const kLo = (vLo ^ SECRET32[s32 + 2 * i]!) >>> 0;
    const kHi = (vHi ^ SECRET32[s32 + 2 * i + 1]!) >>> 0;
    const pLo = Math.imul(kLo, kHi) >>> 0;
    const pHi = Math.round((kLo * kHi - pLo) / 4294967296);
    const k = 2 * i;
    const s2 = acc[k]! + pLo;
    acc[k] = s2;
    acc[k + 1] = acc[k + 1]! + pHi + (s2 > 0xffffffff ? 1 : 0);
  }
}

/** acc = (acc ^ (acc >> 47) ^ secret[end - 64 ..]) * PRIME32_1, per lane, mod 2^64. */
function scramble(): void {
  const s32 = (SECRET_SIZE - STRIPE_LEN) / 4;
  for (let i = 0; i < 8; i++) {
    const lo = acc[2 * i]!;
    const hi = acc[2 * i + 1]!;
    const xLo = (lo ^ (hi >>> 15) ^ SECRET32[s32 + 2 * i]!) >>> 0;
    const xHi = (hi ^ SECRET32[s32 + 2 * i + 1]!) >>> 0;
    const pLo = Math.imul(xLo, PRIME32_1) >>> 0;
    const pHi = Math.round((xLo * PRIME32_1 - pLo) / 4294967296);
    acc[2 * i] = pLo;
    acc[2 * i + 1] = pHi + Math.imul(xHi, PRIME32_1);
  }
}

function lane(i: number): bigint {
  return (BigInt(acc[2 * i + 1]!) << 32n) | BigInt(acc[2 * i]!);
}

function long(b: Uint8Array, p: number, len: number): bigint {
  const init = [PRIME32_3, PRIME64_1, PRIME64_2, PRIME64_3, PRIME64_4, PRIME32_2, PRIME64_5, PRIME32_1];
  for (let i = 0; i < 8; i++) {
    const v = BigInt(init[i]!);
    acc[2 * i] = Number(v & 0xffffffffn);
    acc[2 * i + 1] = Number(v >> 32n);
  }
  const blocks = Math.floor((len - 1) / BLOCK_LEN);
  for (let n = 0; n < blocks; n++) {
    const base = p + n * BLOCK_LEN;
    for (let s = 0; s < STRIPES_PER_BLOCK; s++) accumulate512(b, base + s * STRIPE_LEN, 2 * s);
    scramble();
  }
  const stripes = Math.floor((len - 1 - BLOCK_LEN * blocks) / STRIPE_LEN);
  const base = p + blocks * BLOCK_LEN;
  for (let s = 0; s < stripes; s++) accumulate512(b, base + s * STRIPE_LEN, 2 * s);
  // Last stripe: the final 64 bytes, with the secret at offset 192 - 64 - 7 (not 4-byte aligned).
  lastStripe(b, p + len - STRIPE_LEN);
  // Merge accumulators, secret offset 11.
  let result = (BigInt(len) * PRIME64_1) & M64;
  for (let i = 0; i < 4; i++) {
    result += mul128Fold64(lane(2 * i) ^ r64(SECRET, 11 + 16 * i), lane(2 * i + 1) ^ r64(SECRET, 11 + 16 * i + 8));
  }
  return avalanche(result & M64);
}

const LAST32 = new Uint32Array(16);
for (let i = 0; i < 16; i++) LAST32[i] = r32(SECRET, SECRET_SIZE - STRIPE_LEN - 7 + 4 * i);

function lastStripe(b: Uint8Array, p: number): void {
  // Same as accumulate512 with the unaligned secret slice copied into LAST32.
  for (let i = 0; i < 8; i++) {
    const q = p + 8 * i;
    const vLo = (b[q]! | (b[q + 1]! << 8) | (b[q + 2]! << 16) | (b[q + 3]! << 24)) >>> 0;
    const vHi = (b[q + 4]! | (b[q + 5]! << 8) | (b[q + 6]! << 16) | (b[q + 7]! << 24)) >>> 0;
    const j = 2 * (i ^ 1);
    const sumLo = acc[j]! + vLo;
    acc[j] = sumLo;
    acc[j + 1] = acc[j + 1]! + vHi + (sumLo > 0xffffffff ? 1 : 0);
    const kLo = (vLo ^ LAST32[2 * i]!) >>> 0;
    const kHi = (vHi ^ LAST32[2 * i + 1]!) >>> 0;
    const pLo = Math.imul(kLo, kHi) >>> 0;
    const pHi = Math.round((kLo * kHi - pLo) / 4294967296);
    const k = 2 * i;
    const s2 = acc[k]! + pLo;
    acc[k] = s2;
    acc[k + 1] = acc[k + 1]! + pHi + (s2 > 0xffffffff ? 1 : 0);
  }
}

/** XXH3_64bits(buf[start, end)) with seed 0, as an unsigned 64-bit bigint. */
export function xxh3_64(buf: Uint8Array, start = 0, end = buf.length): bigint {
  const len = end - start;
  if (len <= 16) {
    if (len > 8) return len9to16(buf, start, len);
    if (len >= 4) return len4to8(buf, start, len);
    if (len > 0) return len1to3(buf, start, len);
    return len0();
  }
  if (len <= 128) return len17to128(buf, start, len);
  if (len <= 240) return len129to240(buf, start, len);
  return long(buf, start, len);
}

/** Lower 32 bits of XXH3_64bits(buf[start, end)), as a uint32 number. */
export function xxh3Low32(buf: Uint8Array, start = 0, end = buf.length): number {
  return Number(xxh3_64(buf, start, end) & 0xffffffffn);
}
