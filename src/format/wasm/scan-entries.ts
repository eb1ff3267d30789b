/**
 * The decoder's per-entry checks in WebAssembly (scan-entries.wat): a run of ENTRY records is
 * accepted in one call instead of one JavaScript step per record. The module only accepts; the
 * first record it does not accept is left to the JavaScript decoder, which reports any error
 * exactly as before (same code, offset and message).
 */
import { SCAN_ENTRIES_WASM_BASE64 } from './scan-entries-wasm.js';

/** Where the previous key is placed: after the 16 result bytes. */
const PREV_AT = 16;
/** Longest previous key the module is given; after a longer one the JavaScript path carries on. */
export const SCAN_MAX_PREVIOUS_KEY = 65536;
/** Input bytes copied in per call: the rest of the module's 6 pages (about 320 KiB, cache-sized). */
const INPUT_AT = PREV_AT + SCAN_MAX_PREVIOUS_KEY;
const INPUT_BYTES = 6 * 65536 - INPUT_AT;

/**
 * For tests (not exported by the library): `enabled: false` makes the decoder take its JavaScript
 * path for every record, the reference the module is checked against; `runs` counts the scans
 * that accepted at least one record, so a test can tell the module was used.
 */
export const scanKernel = { enabled: true, runs: 0 };

type ScanFn = (p: number, end: number, prev: number, prevLen: number, maxKey: number, maxValue: number, room: number) => number;

let module: { scan: ScanFn; bytes: Uint8Array; results: Uint32Array } | undefined;

function load(): NonNullable<typeof module> {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(SCAN_ENTRIES_WASM_BASE64, 'base64')));
  const memory = instance.exports['memory'] as WebAssembly.Memory; // never grows: views stay valid
  return { scan: instance.exports['scan'] as ScanFn, bytes: new Uint8Array(memory.buffer), results: new Uint32Array(memory.buffer, 0, 4) };
}

/** What one scan accepted. Positions are indexes into the scanned array. */
export interface ScanResult {
  /** Position after the last accepted record (= `from` when none was). */
  end: number;
  /** Records accepted. */
  count: number;
  /** Their key and value bytes. */
  bytes: number;
  /** Position and length of the last accepted key (meaningful when count > 0). */
  lastKeyAt: number;
  lastKeyLength: number;
}

/**
 * Accepts ENTRY records of `src[from, to)`: each must be whole in that range, within the
 * limits, fit `room` (bytes the chunk still admits; Infinity when unchunked) and have a key
 * strictly after the previous one (`prev[0, prevLength)`, or none when prevLength < 0;
 * prevLength ≤ SCAN_MAX_PREVIOUS_KEY). Fills and returns `out`.
 */
export function scanEntries(
  src: Uint8Array,
  from: number,
  to: number,
  prev: Uint8Array,
  prevLength: number,
  maxKey: number,
  maxValue: number,
  room: number,
  out: ScanResult,
): ScanResult {
  const m = (module ??= load());
  const n = Math.min(to - from, INPUT_BYTES);
  m.bytes.set(src.subarray(from, from + n), INPUT_AT);
  if (prevLength > 0) m.bytes.set(prev.subarray(0, prevLength), PREV_AT);
  // Limits up to 2^32 - 1 pass as i32 bit patterns; the module compares them unsigned.
  const end = m.scan(INPUT_AT, INPUT_AT + n, PREV_AT, prevLength, maxKey | 0, maxValue | 0, room);
  const r = m.results;
  out.end = from + (end - INPUT_AT);
  out.count = r[0]!;
  out.bytes = r[1]!;
  out.lastKeyAt = from + (r[2]! - INPUT_AT);
  out.lastKeyLength = r[3]!;
  return out;
}
