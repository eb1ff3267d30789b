// AssemblyScript: XXH3_64bits with seed 0 (xxHash 0.8 spec), for RocksDB's kXXH3 block checksums
// in place.ts. The default secret (192 bytes, XXH3_kSecret) is at `s`, placed by the driver
// (kernel-merger.ts, from ../../util/xxh3.ts SECRET). The reference is ../../util/xxh3.ts (which
// codecs.test.ts checks against xxhsum -H3); kernel-place.test.ts checks this one against it.

const PRIME32_1: u64 = 0x9e3779b1;
const PRIME32_2: u64 = 0x85ebca77;
const PRIME32_3: u64 = 0xc2b2ae3d;
const PRIME64_1: u64 = 0x9e3779b185ebca87;
const PRIME64_2: u64 = 0xc2b2ae3d27d4eb4f;
const PRIME64_3: u64 = 0x165667b19e3779f9;
const PRIME64_4: u64 = 0x85ebca77c2b2ae63;
const PRIME64_5: u64 = 0x27d4eb2f165667c5;
const PRIME_MX1: u64 = 0x165667919e3779f9;
const PRIME_MX2: u64 = 0x9fb21c651e98df25;

/** Low 64 bits XOR high 64 bits of the 128-bit product a * b. */
@inline function mulFold64(a: u64, b: u64): u64 {
  const aL = a & 0xffffffff;
  const aH = a >> 32;
  const bL = b & 0xffffffff;
  const bH = b >> 32;
  const ll = aL * bL;
  const hl = aH * bL;
  const lh = aL * bH;
  const hh = aH * bH;
  const cross = (ll >> 32) + (hl & 0xffffffff) + lh;
  const hi = (hl >> 32) + (cross >> 32) + hh;
  const lo = (cross << 32) | (ll & 0xffffffff);
  return lo ^ hi;
}

@inline function avalanche(h: u64): u64 {
  h ^= h >> 37;
  h *= PRIME_MX1;
  return h ^ (h >> 32);
}

@inline function xxh64Avalanche(h: u64): u64 {
  h ^= h >> 33;
  h *= PRIME64_2;
  h ^= h >> 29;
  h *= PRIME64_3;
  return h ^ (h >> 32);
}

@inline function mix16B(p: usize, s: usize): u64 {
  return mulFold64(load<u64>(p) ^ load<u64>(s), load<u64>(p, 8) ^ load<u64>(s, 8));
}

/** XXH3_64bits of [p, p + len) with seed 0; the secret at s. */
export function xxh3(p: usize, len: usize, s: usize): u64 {
  if (len <= 16) {
    if (len > 8) {
      const lo = load<u64>(p) ^ (load<u64>(s, 24) ^ load<u64>(s, 32));
      const hi = load<u64>(p + len - 8) ^ (load<u64>(s, 40) ^ load<u64>(s, 48));
      return avalanche(<u64>len + bswap<u64>(lo) + hi + mulFold64(lo, hi));
    }
    if (len >= 4) {
      const in1 = <u64>load<u32>(p);
      const in2 = <u64>load<u32>(p + len - 4);
      let h = (in2 + (in1 << 32)) ^ (load<u64>(s, 8) ^ load<u64>(s, 16));
      h ^= rotl<u64>(h, 49) ^ rotl<u64>(h, 24);
      h *= PRIME_MX2;
      h ^= (h >> 35) + <u64>len;
      h *= PRIME_MX2;
      return h ^ (h >> 28);
    }
    if (len > 0) {
      const c1 = <u32>load<u8>(p);
      const c2 = <u32>load<u8>(p + (len >> 1));
      const c3 = <u32>load<u8>(p + len - 1);
      const combined = (c1 << 16) | (c2 << 24) | c3 | (<u32>len << 8);
      return xxh64Avalanche(<u64>combined ^ <u64>(load<u32>(s) ^ load<u32>(s, 4)));
    }
    return xxh64Avalanche(load<u64>(s, 56) ^ load<u64>(s, 64));
  }
  if (len <= 128) {
    let acc = <u64>len * PRIME64_1;
    if (len > 32) {
      if (len > 64) {
        if (len > 96) acc += mix16B(p + 48, s + 96) + mix16B(p + len - 64, s + 112);
        acc += mix16B(p + 32, s + 64) + mix16B(p + len - 48, s + 80);
      }
      acc += mix16B(p + 16, s + 32) + mix16B(p + len - 32, s + 48);
    }
    acc += mix16B(p, s) + mix16B(p + len - 16, s + 16);
    return avalanche(acc);
  }
  if (len <= 240) {
    let acc = <u64>len * PRIME64_1;
    const rounds = len >> 4;
    for (let i: usize = 0; i < 8; i++) acc += mix16B(p + 16 * i, s + 16 * i);
    acc = avalanche(acc);
    for (let i: usize = 8; i < rounds; i++) acc += mix16B(p + 16 * i, s + 16 * (i - 8) + 3);
    acc += mix16B(p + len - 16, s + 136 - 17);
    return avalanche(acc);
  }
  return long(p, len, s);
}

/**
 * The long input (> 240 bytes): 8 accumulators over 64-byte stripes, 16 per 1024-byte block. The
 * accumulators are locals, so the 8 lanes are written out (AssemblyScript cannot index locals).
 */
function long(p: usize, len: usize, s: usize): u64 {
  let a0: u64 = PRIME32_3;
  let a1: u64 = PRIME64_1;
  let a2: u64 = PRIME64_2;
  let a3: u64 = PRIME64_3;
  let a4: u64 = PRIME64_4;
  let a5: u64 = PRIME32_2;
  let a6: u64 = PRIME64_5;
  let a7: u64 = PRIME32_1;
  const blocks = (len - 1) >> 10;
  // Stripe k of each block and its secret offset 8k; after the last full block, the partial
  // block's whole stripes; then the last 64 bytes with the secret at 121.
  const total = blocks * 16 + (((len - 1) & 1023) >> 6);
  for (let k: usize = 0; k <= total; k++) {
    let q: usize;
    let t: usize;
    if (k == total) {
      q = p + len - 64;
      t = s + 121;
    } else {
      q = p + (k << 6);
      t = s + ((k & 15) << 3);
    }
    let v = load<u64>(q);
    let x = v ^ load<u64>(t);
    a1 += v;
    a0 += (x & 0xffffffff) * (x >> 32);
    v = load<u64>(q, 8);
    x = v ^ load<u64>(t, 8);
    a0 += v;
    a1 += (x & 0xffffffff) * (x >> 32);
    v = load<u64>(q, 16);
    x = v ^ load<u64>(t, 16);
    a3 += v;
    a2 += (x & 0xffffffff) * (x >> 32);
    v = load<u64>(q, 24);
    x = v ^ load<u64>(t, 24);
    a2 += v;
    a3 += (x & 0xffffffff) * (x >> 32);
    v = load<u64>(q, 32);
    x = v ^ load<u64>(t, 32);
    a5 += v;
    a4 += (x & 0xffffffff) * (x >> 32);
    v = load<u64>(q, 40);
    x = v ^ load<u64>(t, 40);
    a4 += v;
    a5 += (x & 0xffffffff) * (x >> 32);
    v = load<u64>(q, 48);
    x = v ^ load<u64>(t, 48);
    a7 += v;
    a6 += (x & 0xffffffff) * (x >> 32);
    v = load<u64>(q, 56);
    x = v ^ load<u64>(t, 56);
    a6 += v;
    a7 += (x & 0xffffffff) * (x >> 32);
    if ((k & 15) == 15 && k < blocks * 16) {
      // the scramble after each full block: acc = (acc ^ (acc >> 47) ^ secret[128 + 8i]) * PRIME32_1
      a0 = (a0 ^ (a0 >> 47) ^ load<u64>(s, 128)) * PRIME32_1;
      a1 = (a1 ^ (a1 >> 47) ^ load<u64>(s, 136)) * PRIME32_1;
      a2 = (a2 ^ (a2 >> 47) ^ load<u64>(s, 144)) * PRIME32_1;
      a3 = (a3 ^ (a3 >> 47) ^ load<u64>(s, 152)) * PRIME32_1;
      a4 = (a4 ^ (a4 >> 47) ^ load<u64>(s, 160)) * PRIME32_1;
      a5 = (a5 ^ (a5 >> 47) ^ load<u64>(s, 168)) * PRIME32_1;
      a6 = (a6 ^ (a6 >> 47) ^ load<u64>(s, 176)) * PRIME32_1;
      a7 = (a7 ^ (a7 >> 47) ^ load<u64>(s, 184)) * PRIME32_1;
    }
  }
  // The merge: len * PRIME64_1 + fold64 of each accumulator pair with the secret at 11.
  let r = <u64>len * PRIME64_1;
  r += mulFold64(a0 ^ load<u64>(s, 11), a1 ^ load<u64>(s, 19));
  r += mulFold64(a2 ^ load<u64>(s, 27), a3 ^ load<u64>(s, 35));
  r += mulFold64(a4 ^ load<u64>(s, 43), a5 ^ load<u64>(s, 51));
  r += mulFold64(a6 ^ load<u64>(s, 59), a7 ^ load<u64>(s, 67));
  return avalanche(r);
}
