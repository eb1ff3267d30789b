/**
 * Snappy raw-block decompressor (the format RocksDB's kSnappyCompression writes: a varint32
 * uncompressed length, then literal/copy elements), in WebAssembly for ordinary block sizes
 * and JavaScript for huge ones; the two are checked against each other by differential fuzzing. Bounded: every literal and copy is checked
 * against the declared output size and the input end before any byte moves; an offset must
 * point into already-written output. Malformed input gives a DecodeFailure, never an
 * out-of-bounds read or an unbounded allocation.
 */
import { DecodeFailure } from './decode-failure.js';
import { SNAPPY_WASM_BASE64 } from './snappy-wasm.js';
import { readVarint32, type VarintResult } from './varint.js';
import { WasmDecoder } from './wasm-decoder.js';


const vr: VarintResult = { value: 0, pos: 0 };

/** Reads Snappy's uncompressed-length preamble without decoding. */
export function snappyUncompressedLength(input: Uint8Array): number {
  readVarint32(input, 0, input.length, vr);
  if (vr.pos < 0) throw new DecodeFailure('snappy: bad length preamble');
  return vr.value;
}

/** Outputs up to this size decode in WebAssembly; larger (rare) blocks in JavaScript. */
export const SNAPPY_WASM_MAX_OUTPUT = 1024 * 1024;

/**
 * The most output one input byte can produce: a 3-byte copy element yields up to 64 bytes.
 * A declared length above this ratio cannot be honest, so it is rejected before allocating.
 */
const MAX_EXPANSION = 22;

/**
 * Decompresses a Snappy block. `maxOutput` bounds the declared length before allocation
 * (RocksDB blocks are far smaller than the default). `alloc(n)` provides the output buffer
 * of exactly n bytes; it defaults to a fresh Uint8Array.
 */
export function snappyDecompress(
  input: Uint8Array,
  maxOutput: number,
  alloc: (n: number) => Uint8Array = (n) => new Uint8Array(n),
): Uint8Array {
  readVarint32(input, 0, input.length, vr);
  if (vr.pos >= 0 && vr.value <= SNAPPY_WASM_MAX_OUTPUT) return snappyDecompressWasm(input, maxOutput, alloc);
  return snappyDecompressJs(input, maxOutput, alloc);
}

const wasm = new WasmDecoder(SNAPPY_WASM_BASE64, [
  '',
  'snappy: truncated literal length',
  'snappy: literal past end of input',
  'snappy: literal past declared length',
  'snappy: truncated copy',
  'snappy: copy offset outside output',
  'snappy: copy past declared length',
  'snappy: output shorter than declared length',
], 'snappy');

/**
 * Reads the varint uncompressed-length preamble (leaving its end in `vr.pos`) and bounds it
 * before anything is allocated: by the caller's limit, and by what the input could expand to.
 */
function declaredLength(input: Uint8Array, maxOutput: number): number {
  const end = input.length;
  readVarint32(input, 0, end, vr);
  if (vr.pos < 0) throw new DecodeFailure('snappy: bad length preamble');
  const outLen = vr.value;
  if (outLen > maxOutput) throw new DecodeFailure(`snappy: declared length ${outLen} exceeds limit ${maxOutput}`);
  if (outLen > (end - vr.pos) * MAX_EXPANSION) throw new DecodeFailure(`snappy: declared length ${outLen} impossible for ${end} input bytes`);
  return outLen;
}

/**
 * The WebAssembly decoder (snappy.wat, called as wasm-decoder.ts says), for outputs up to
 * SNAPPY_WASM_MAX_OUTPUT bytes; same checks and errors as the JavaScript one.
 */
export function snappyDecompressWasm(
  input: Uint8Array,
  maxOutput: number,
  alloc: (n: number) => Uint8Array = (n) => new Uint8Array(n),
): Uint8Array {
  const outLen = declaredLength(input, maxOutput);
  if (outLen > SNAPPY_WASM_MAX_OUTPUT) throw new DecodeFailure('snappy: block too large for the WebAssembly decoder');
  return wasm.decode(input.subarray(vr.pos), outLen, alloc);
}

/** The JavaScript decoder: any size up to `maxOutput`. */
export function snappyDecompressJs(
  input: Uint8Array,
  maxOutput: number,
  alloc: (n: number) => Uint8Array = (n) => new Uint8Array(n),
): Uint8Array {
  const end = input.length;
  const outLen = declaredLength(input, maxOutput);
  const out = alloc(outLen);
  let ip = vr.pos;
  let op = 0;
  while (ip < end) {
    const tag = input[ip++]!;
    const kind = tag & 3;
    if (kind === 0) {
      // Literal: length-1 in the upper 6 bits, or in 1..4 following bytes for 60..63.
      let len = tag >>> 2;
      if (len >= 60) {
        const n = len - 59;
        if (ip + n > end) throw new DecodeFailure('snappy: truncated literal length');
        len = 0;
        for (let i = 0; i < n; i++) len += input[ip + i]! * 2 ** (8 * i);
        ip += n;
      }
      len += 1;
      if (len > end - ip) throw new DecodeFailure('snappy: literal past end of input');
      if (len > outLen - op) throw new DecodeFailure('snappy: literal past declared length');
      // Short literals by hand: a subarray view per literal would be garbage per element.
      if (len <= 64) {
        for (let i = 0; i < len; i++) out[op + i] = input[ip + i]!;
      } else {
        out.set(input.subarray(ip, ip + len), op);
      }
      ip += len;
      op += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (ip >= end) throw new DecodeFailure('snappy: truncated copy');
      len = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | input[ip++]!;
    } else if (kind === 2) {
      if (ip + 2 > end) throw new DecodeFailure('snappy: truncated copy');
      len = (tag >>> 2) + 1;
      offset = input[ip]! | (input[ip + 1]! << 8);
      ip += 2;
    } else {
      if (ip + 4 > end) throw new DecodeFailure('snappy: truncated copy');
      len = (tag >>> 2) + 1;
      offset = (input[ip]! | (input[ip + 1]! << 8) | (input[ip + 2]! << 16) | (input[ip + 3]! << 24)) >>> 0;
      ip += 4;
    }
    if (offset === 0 || offset > op) throw new DecodeFailure(`snappy: copy offset ${offset} outside output`);
    if (len > outLen - op) throw new DecodeFailure('snappy: copy past declared length');
    copyMatch(out, op, offset, len);
    op += len;
  }
  if (op !== outLen) throw new DecodeFailure(`snappy: produced ${op} bytes, declared ${outLen}`);
  return out;
}

/** Back-reference copy; overlapping (offset < len) copies repeat the pattern, byte by byte. */
export function copyMatch(out: Uint8Array, op: number, offset: number, len: number): void {
  const from = op - offset;
  if (offset >= len && len > 64) {
    out.copyWithin(op, from, from + len);
  } else {
    // Byte order matters when offset < len: later bytes repeat the ones just written.
    for (let i = 0; i < len; i++) out[op + i] = out[from + i]!;
  }
}
