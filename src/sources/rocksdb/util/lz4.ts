/**
 * LZ4 block-format decompressor (what LZ4_decompress_safe accepts; RocksDB's kLZ4Compression
 * and kLZ4HCCompression both write it). The output size is known up front (RocksDB stores it
 * in a varint prefix), and the block must decode to exactly that size. Every length is checked
 * against the input end and the output size before bytes move.
 */
import { DecodeFailure } from './decode-failure.js';
import { LZ4_WASM_BASE64 } from './lz4-wasm.js';
import { copyMatch } from './snappy.js';
import { WasmDecoder } from './wasm-decoder.js';

/** Outputs up to this size decode in WebAssembly (lz4.wat); larger (rare) blocks in JavaScript. */
export const LZ4_WASM_MAX_OUTPUT = 1024 * 1024;

/**
 * Decompresses an LZ4 block into exactly `outLen` bytes (caller bounds `outLen`); `alloc(n)`
 * provides the output buffer, a fresh Uint8Array by default.
 */
export function lz4Decompress(
  input: Uint8Array,
  outLen: number,
  alloc: (n: number) => Uint8Array = (n) => new Uint8Array(n),
): Uint8Array {
  if (input.length > 0 && outLen <= LZ4_WASM_MAX_OUTPUT) return lz4DecompressWasm(input, outLen, alloc);
  return lz4DecompressJs(input, outLen, alloc);
}

const wasm = new WasmDecoder(LZ4_WASM_BASE64, [
  '',
  'lz4: truncated sequence',
  'lz4: truncated literal length',
  'lz4: literal length past declared size',
  'lz4: literals past end of input',
  'lz4: literals past declared size',
  'lz4: truncated match offset',
  'lz4: match offset outside output',
  'lz4: truncated match length',
  'lz4: match length past declared size',
  'lz4: match past declared size',
  'lz4: output shorter than declared size',
], 'lz4');

/**
 * The WebAssembly decoder (lz4.wat, called as wasm-decoder.ts says), for outputs up to
 * LZ4_WASM_MAX_OUTPUT bytes; the same checks as the JavaScript one, in the same order.
 */
export function lz4DecompressWasm(
  input: Uint8Array,
  outLen: number,
  alloc: (n: number) => Uint8Array = (n) => new Uint8Array(n),
): Uint8Array {
  if (input.length === 0) throw new DecodeFailure('lz4: empty input');
  if (outLen > LZ4_WASM_MAX_OUTPUT) throw new DecodeFailure('lz4: block too large for the WebAssembly decoder');
  return wasm.decode(input, outLen, alloc);
}

/** The JavaScript decoder: any size. */
export function lz4DecompressJs(
  input: Uint8Array,
  outLen: number,
  alloc: (n: number) => Uint8Array = (n) => new Uint8Array(n),
): Uint8Array {
  const out = alloc(outLen);
  const end = input.length;
  let ip = 0;
  let op = 0;
  if (end === 0) throw new DecodeFailure('lz4: empty input');
  for (;;) {
    if (ip >= end) throw new DecodeFailure('lz4: truncated sequence');
    const token = input[ip++]!;
    // Literal run: high nibble, 15 means "add following bytes until one is < 255".
    let litLen = token >>> 4;
    if (litLen === 15) {
      for (;;) {
        if (ip >= end) throw new DecodeFailure('lz4: truncated literal length');
        const b = input[ip++]!;
        litLen += b;
        if (litLen > outLen) throw new DecodeFailure('lz4: literal length past declared size');
        if (b !== 255) break;
      }
    }
    if (litLen > end - ip) throw new DecodeFailure('lz4: literals past end of input');
    if (litLen > outLen - op) throw new DecodeFailure('lz4: literals past declared size');
    if (litLen <= 64) {
      for (let i = 0; i < litLen; i++) out[op + i] = input[ip + i]!;
    } else {
      out.set(input.subarray(ip, ip + litLen), op);
    }
    ip += litLen;
    op += litLen;
    // The last sequence is literals only and ends the input exactly.
    if (ip === end) break;
    if (ip + 2 > end) throw new DecodeFailure('lz4: truncated match offset');
    const offset = input[ip]! | (input[ip + 1]! << 8);
    ip += 2;
    if (offset === 0 || offset > op) throw new DecodeFailure(`lz4: match offset ${offset} outside output`);
    let matchLen = token & 15;
    if (matchLen === 15) {
      for (;;) {
        if (ip >= end) throw new DecodeFailure('lz4: truncated match length');
        const b = input[ip++]!;
        matchLen += b;
        if (matchLen > outLen) throw new DecodeFailure('lz4: match length past declared size');
        if (b !== 255) break;
      }
    }
    matchLen += 4;
    if (matchLen > outLen - op) throw new DecodeFailure('lz4: match past declared size');
    copyMatch(out, op, offset, matchLen);
    op += matchLen;
  }
  if (op !== outLen) throw new DecodeFailure(`lz4: produced ${op} bytes, declared ${outLen}`);
  return out;
}
