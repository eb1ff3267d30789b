/**
 * XXH3_64bits with seed 0 and the default secret (xxHash 0.8 spec), the variant RocksDB uses for
 * ChecksumType kXXH3. Inputs up to 240 bytes use BigInt (rare: only tiny blocks); long inputs,
 * i.e. almost every block, accumulate in WebAssembly and merge in 32-bit halves, allocation-free.
 */
import { XXH3_WASM_BASE64 } from './xxh3-wasm.js';

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
export const SECRET = Uint8Array.from([
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

/**
 * The stripe/scramble loops run in WebAssembly (xxh3.wat): native 64-bit multiplies make them
 * about ten times faster than 32-bit-halves JavaScript. Memory layout: accumulators at byte 256
 * (read back as 16 uint32 halves), input copied to byte 1024. The memory grows to the largest
 * block hashed and is kept for the process's life.
 */
const wasm = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(XXH3_WASM_BASE64, 'base64')));
const wasmMemory = wasm.exports['memory'] as WebAssembly.Memory;
const wasmAccumulate = wasm.exports['accumulate'] as (len: number) => void;
const INPUT_AT = 1024;
let wasmBytes = new Uint8Array(wasmMemory.buffer);
let acc = new Uint32Array(wasmMemory.buffer, 256, 16);

// 64-bit arithmetic on (hi, lo) uint32 halves for the long path's merge step, so that hashing
// a block allocates no BigInt. Results land in rHi/rLo.
let rHi = 0;
let rLo = 0;

/**
 * Exact high half of the 64-bit product of two uint32s, given the exact low half: the double
 * product is within 2^11 of the exact one, so rounding (product - low) / 2^32 is exact.
 */
function mulHi32(a: number, b: number, lo: number): number {
  return Math.round((a * b - lo) / 4294967296);
}

/** (rHi, rLo) = fold64(a * b): low 64 bits XOR high 64 bits of the 128-bit product. */
function mulFold64(aH: number, aL: number, bH: number, bL: number): void {
  const p0l = Math.imul(aL, bL) >>> 0;
  const p0h = mulHi32(aL, bL, p0l);
  const p1l = Math.imul(aL, bH) >>> 0;
  const p1h = mulHi32(aL, bH, p1l);
  const p2l = Math.imul(aH, bL) >>> 0;
  const p2h = mulHi32(aH, bL, p2l);
  const p3l = Math.imul(aH, bH) >>> 0;
  const p3h = mulHi32(aH, bH, p3l);
  const t = p0h + p1l + p2l;
  const w1 = t >>> 0;
  const u = p3l + p1h + p2h + Math.floor(t / 4294967296);
  const w2 = u >>> 0;
  const w3 = (p3h + Math.floor(u / 4294967296)) >>> 0;
  rHi = (w1 ^ w3) >>> 0;
  rLo = (p0l ^ w2) >>> 0;
}

/** (rHi, rLo) = (hi, lo) * (cH, cL) mod 2^64. */
function mul64(hi: number, lo: number, cH: number, cL: number): void {
  const pl = Math.imul(lo, cL) >>> 0;
  const ph = mulHi32(lo, cL, pl);
  rLo = pl;
  rHi = (ph + Math.imul(lo, cH) + Math.imul(hi, cL)) >>> 0;
}

const MX1_H = 0x16566791;
const MX1_L = 0x9e3779f9;
const P64_1_H = 0x9e3779b1;
const P64_1_L = 0x85ebca87;

/** Secret words at byte offset 11 (the merge step's unaligned secret), as uint32s. */
const MERGE32 = new Uint32Array(16);
for (let i = 0; i < 16; i++) MERGE32[i] = r32(SECRET, 11 + 4 * i);

/** XXH3 of a long input; leaves the 64-bit result in (rHi, rLo). */
function long(b: Uint8Array, p: number, len: number): void {
  if (INPUT_AT + len > wasmBytes.length) {
    wasmMemory.grow(Math.ceil((INPUT_AT + len - wasmBytes.length) / 65536));
    wasmBytes = new Uint8Array(wasmMemory.buffer);
    acc = new Uint32Array(wasmMemory.buffer, 256, 16);
  }
  wasmBytes.set(b.subarray(p, p + len), INPUT_AT);
  wasmAccumulate(len);
  // Merge: result = len * PRIME64_1 + sum of fold64((acc[2i] ^ s) * (acc[2i+1] ^ s')).
  mul64(Math.floor(len / 4294967296), len >>> 0, P64_1_H, P64_1_L);
  let hi = rHi;
  let lo = rLo;
  for (let i = 0; i < 4; i++) {
    const aL = acc[4 * i]! ^ MERGE32[4 * i]!;
    const aH = acc[4 * i + 1]! ^ MERGE32[4 * i + 1]!;
    const bL = acc[4 * i + 2]! ^ MERGE32[4 * i + 2]!;
    const bH = acc[4 * i + 3]! ^ MERGE32[4 * i + 3]!;
    mulFold64(aH >>> 0, aL >>> 0, bH >>> 0, bL >>> 0);
    const sl = lo + rLo;
    lo = sl >>> 0;
    hi = (hi + rHi + (sl > 0xffffffff ? 1 : 0)) >>> 0;
  }
  // avalanche: h ^= h >> 37; h *= PRIME_MX1; h ^= h >> 32
  lo = (lo ^ (hi >>> 5)) >>> 0;
  mul64(hi, lo, MX1_H, MX1_L);
  rLo = (rLo ^ rHi) >>> 0;
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
  long(buf, start, len);
  return (BigInt(rHi) << 32n) | BigInt(rLo);
}

/** Lower 32 bits of XXH3_64bits(buf[start, end)), as a uint32 number. */
export function xxh3Low32(buf: Uint8Array, start = 0, end = buf.length): number {
  if (end - start > 240) {
    long(buf, start, end - start);
    return rLo;
  }
  return Number(xxh3_64(buf, start, end) & 0xffffffffn);
}
