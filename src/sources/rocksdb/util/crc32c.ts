/**
 * CRC-32C (Castagnoli), as RocksDB's util/crc32c: slicing-by-8 tables, plus RocksDB's "mask"
 * that stored checksums go through (a CRC of data that embeds CRCs is otherwise weak).
 */
import { CRC32C_WASM_BASE64 } from './crc32c-wasm.js';

const POLY = 0x82f63b78; // reflected Castagnoli polynomial

/**
 * `count` tables of 256 entries for slicing-by-`count`: T[k][b] = CRC of byte b followed by k
 * zero bytes, table k at entry 256 * k.
 */
export function crc32cTables(count: number): Uint32Array {
  const t = new Uint32Array(count * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    let c = t[i]!;
    for (let k = 1; k < count; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + i] = c >>> 0;
    }
  }
  return t;
}

/** The slicing-by-8 tables (this module's loops). */
const TABLES = crc32cTables(8);

const wasm = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(CRC32C_WASM_BASE64, 'base64')));
const wasmExtend = wasm.exports['extend'] as (c: number, p: number, end: number) => number;
const wasmBytes = new Uint8Array((wasm.exports['memory'] as WebAssembly.Memory).buffer);
new Uint32Array(wasmBytes.buffer, 0, TABLES.length).set(TABLES);
const INPUT_AT = 8192;
/** Input copied into the module per call; its one 64 KiB page never grows. */
const WASM_CHUNK = 65536 - INPUT_AT;
/** Below this, copying into WebAssembly costs more than it saves. */
const WASM_MIN = 64;

/**
 * Extends `crc` (0 for a fresh start) over `buf[start, end)`; returns the unmasked CRC-32C.
 * Long inputs run in WebAssembly (crc32c.wat) in chunks, short ones in JavaScript.
 */
export function crc32cExtend(crc: number, buf: Uint8Array, start = 0, end = buf.length): number {
  if (end - start < WASM_MIN) return crc32cExtendJs(crc, buf, start, end);
  let c = ~crc >>> 0;
  for (let p = start; p < end; p += WASM_CHUNK) {
    const n = Math.min(WASM_CHUNK, end - p);
    wasmBytes.set(buf.subarray(p, p + n), INPUT_AT);
    c = wasmExtend(c, INPUT_AT, INPUT_AT + n) >>> 0;
  }
  return ~c >>> 0;
}

/** The JavaScript slicing-by-8 loop (short inputs; the reference for the WebAssembly one). */
export function crc32cExtendJs(crc: number, buf: Uint8Array, start = 0, end = buf.length): number {
  const T = TABLES;
  let c = ~crc >>> 0;
  let i = start;
  // Slicing-by-8: consume 8 bytes per step with 8 table lookups.
  for (; i + 8 <= end; i += 8) {
    const a = (c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24))) >>> 0;
    c =
      T[7 * 256 + (a & 0xff)]! ^
      T[6 * 256 + ((a >>> 8) & 0xff)]! ^
      T[5 * 256 + ((a >>> 16) & 0xff)]! ^
      T[4 * 256 + (a >>> 24)]! ^
      T[3 * 256 + buf[i + 4]!]! ^
      T[2 * 256 + buf[i + 5]!]! ^
      T[256 + buf[i + 6]!]! ^
      T[buf[i + 7]!]!;
  }
  for (; i < end; i++) c = T[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32C of `buf[start, end)`. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  return crc32cExtend(0, buf, start, end);
}

const MASK_DELTA = 0xa282ead8;

/** RocksDB's crc32c::Mask: rotate right by 15 bits and add a constant. */
export function crc32cMask(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

/** Inverse of crc32cMask. */
export function crc32cUnmask(masked: number): number {
  const rot = (masked - MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}
