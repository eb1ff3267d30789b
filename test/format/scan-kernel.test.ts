import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeSnapshot, loadHasher, SnapshotDecoder, SnapshotError, type SnapshotLimits } from '../../src/format/index.js';
import { DECODE_KERNEL_WASM_BASE64 } from '../../src/format/wasm/decode-kernel-wasm.js';
import { decodeKernel, READ_BUFFER_BYTES, scanKernel } from '../../src/format/wasm/decode-kernel.js';

const WASM_DIR = join(import.meta.dirname, '..', '..', 'src', 'format', 'wasm');

/** xorshift32: the same cases on every run. */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

interface Outcome {
  error?: { code: string; offset: number | undefined; message: string };
  entries: string[];
  summary?: string;
}

/**
 * Decodes `bytes` fed in pieces of `sizes` (cycled), recording every entry, the error or the
 * summary. `inPlace`: pieces lie in the kernel's read buffers (as the reader reads files), so they
 * are scanned and hashed where they lie; else they are copied into the kernel to be.
 */
function decode(bytes: Uint8Array, sizes: readonly number[], limits: SnapshotLimits, inPlace = false): Outcome {
  const entries: string[] = [];
  const k = decodeKernel();
  const held = new Set<Uint8Array>();
  const release = (piece: Uint8Array): void => {
    const b = k.readBufferOf(piece);
    if (b !== undefined && held.delete(b)) k.releaseReadBuffer(b);
  };
  const d = new SnapshotDecoder(
    { entry: (t, key, v) => entries.push(`${t}:${Buffer.from(key).toString('hex')}=${Buffer.from(v).toString('hex')}`) },
    { limits, onPieceConsumed: release },
  );
  try {
    for (let at = 0, i = 0; at < bytes.length; i++) {
      const n = sizes[i % sizes.length]!;
      const piece = bytes.subarray(at, at + n);
      const buffer = inPlace && piece.length <= READ_BUFFER_BYTES ? k.takeReadBuffer() : undefined;
      if (buffer !== undefined) {
        held.add(buffer);
        buffer.set(piece, 7); // at an odd alignment
        d.push(buffer.subarray(7, 7 + piece.length));
      } else {
        d.push(piece.slice());
      }
      at += n;
    }
    const s = d.end();
    return { entries, summary: JSON.stringify(s, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) };
  } catch (e) {
    if (!(e instanceof SnapshotError)) throw e;
    return { entries, error: { code: e.code, offset: e.offset, message: e.message } };
  } finally {
    for (const b of held) k.releaseReadBuffer(b);
  }
}

/**
 * The outcome with the WebAssembly scanner and with the JavaScript path alone (the reference);
 * the scanner's, with pieces in the kernel's read buffers, must equal it too (checked here).
 */
function both(bytes: Uint8Array, sizes: readonly number[], limits: SnapshotLimits = {}): { kernel: Outcome; reference: Outcome } {
  scanKernel.enabled = true;
  const kernel = decode(bytes, sizes, limits);
  const inPlace = decode(bytes, sizes, limits, true);
  scanKernel.enabled = false;
  const reference = decode(bytes, sizes, limits);
  scanKernel.enabled = true;
  expect(inPlace).toEqual(reference);
  return { kernel, reference };
}

/** Random content: tables of sorted keys (shared prefixes, proper prefixes, lengths 0 to 40). */
function content(r: (n: number) => number): { key: Uint8Array; value: Uint8Array }[][] {
  const tables: { key: Uint8Array; value: Uint8Array }[][] = [];
  for (let t = 0; t < 1 + r(3); t++) {
    const keys = new Map<string, Uint8Array>();
    const count = r(4) === 0 ? r(3) : 20 + r(200);
    for (let i = 0; i < count; i++) {
      const key = Uint8Array.from({ length: r(41) }, () => (r(4) === 0 ? r(256) : 0x61 + r(3)));
      keys.set(Buffer.from(key).toString('hex'), key);
    }
    const sorted = [...keys.values()].sort((a, b) => Buffer.compare(a, b));
    tables.push(sorted.map((key) => ({ key, value: Uint8Array.from({ length: r(5) === 0 ? 300 + r(3000) : r(120) }, () => r(256)) })));
  }
  return tables;
}

afterEach(() => {
  scanKernel.enabled = true;
});

describe('the WebAssembly entry scanner decides exactly as the JavaScript decoder', () => {
  it('decode-kernel-wasm.ts is wat2wasm of decode-kernel.wat (rerun src/format/wasm/build-wasm.sh if not)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scan-wat-'));
    try {
      execFileSync('wat2wasm', [join(WASM_DIR, 'decode-kernel.wat'), '-o', join(dir, 'x.wasm')]);
      expect(readFileSync(join(dir, 'x.wasm')).toString('base64')).toBe(DECODE_KERNEL_WASM_BASE64);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('valid snapshots, chunked or not, in any piece sizes: same entries and summary, and the scanner did the work', async () => {
    await loadHasher();
    const r = rng(7);
    for (let round = 0; round < 40; round++) {
      const tables = content(r);
      const maxChunkBytes = [0n, 0n, 200n, 512n, 4096n, 65536n][r(6)]!;
      const anchor = { epoch: 3n, cursor: { index: 9n }, maxChunkBytes: maxChunkBytes === 0n ? 0n : maxChunkBytes + 4000n, tables: tables.map((_, i) => ({ id: i * 2 + 1, name: `t${i}` })) };
      const { bytes } = await encodeSnapshot(anchor, tables);
      const sizes = [[bytes.length], [1 << 20], [4096], [300, 7, 1000], [257]][r(5)]!;
      const runs = scanKernel.runs;
      const { kernel, reference } = both(bytes, sizes);
      expect(reference.error).toBeUndefined();
      expect(kernel).toEqual(reference);
      if (sizes[0]! >= 4096 && tables.some((t) => t.length > 30)) expect(scanKernel.runs).toBeGreaterThan(runs);
    }
  });

  it('every kind of damage (byte flips, lengths, key order, limits, chunk overflow): same code, offset, message and entries before it', async () => {
    await loadHasher();
    const r = rng(11);
    let errors = 0;
    const codes = new Set<string>();
    for (let round = 0; round < 160; round++) {
      const tables = content(r);
      const chunked = r(2) === 0;
      const anchor = { epoch: 1n, cursor: { index: 0n }, maxChunkBytes: chunked ? BigInt(4200 + r(3000)) : 0n, tables: tables.map((_, i) => ({ id: i, name: `t${i}` })) };
      const { bytes } = await encodeSnapshot(anchor, tables);
      let damaged = bytes.slice();
      const kind = r(6);
      if (kind === 0) {
        for (let i = 0; i < 1 + r(3); i++) {
          const at = r(damaged.length);
          damaged[at] = damaged[at]! ^ (1 << r(8));
        }
      } else if (kind === 1) {
        // A length field of some ENTRY record: find one and overwrite a byte of it.
        const at = findEntry(damaged, r);
        if (at >= 0) damaged[at + 1 + r(8)] = r(256);
      } else if (kind === 2) {
        // Key order: overwrite a key byte (lowering it breaks the order, raising it breaks the next).
        const at = findEntry(damaged, r);
        if (at >= 0 && damaged[at + 1]! > 0) damaged[at + 9] = r(2) === 0 ? 0 : 0xff;
      } else if (kind === 3) {
        // Two records swapped: an exact duplicate key or a descending one.
        const a = findEntry(damaged, r);
        if (a >= 0) damaged.copyWithin(a + 9, a + 9 + 4, a + 9 + 8);
      }
      if (kind === 5) {
        // A record repeated: an equal key, which must be refused like a smaller one.
        const at = findEntry(damaged, r);
        if (at >= 0) {
          const dv = new DataView(damaged.buffer);
          const end = at + 9 + dv.getUint32(at + 1, true) + dv.getUint32(at + 5, true);
          damaged = Buffer.concat([damaged.subarray(0, end), damaged.subarray(at, end), damaged.subarray(end)]);
        }
      }
      const limits: SnapshotLimits = kind === 4 ? { maxKeyBytes: r(40), maxValueBytes: r(200) } : {};
      const sizes = [[damaged.length], [4096], [513, 3], [1 << 16]][r(4)]!;
      const { kernel, reference } = both(damaged, sizes, limits);
      expect(kernel).toEqual(reference);
      if (reference.error !== undefined) {
        errors++;
        codes.add(reference.error.code);
      }
    }
    // The damage reached the checks the scanner makes, not only the trailers.
    expect(errors).toBeGreaterThan(80);
    for (const code of ['UNSORTED_KEYS', 'LIMIT_EXCEEDED', 'CHECKSUM_MISMATCH']) expect(codes).toContain(code);
  });
});

/** The position of some ENTRY record of a freshly encoded snapshot (walks records from the first header), or -1. */
function findEntry(bytes: Uint8Array, r: (n: number) => number): number {
  const found: number[] = [];
  // Heuristic walk: a tag 0x01 whose lengths land exactly on another plausible tag.
  for (let p = 0; p + 9 < bytes.length; p++) {
    if (bytes[p] !== 1) continue;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const kl = dv.getUint32(p + 1, true);
    const vl = dv.getUint32(p + 5, true);
    const next = p + 9 + kl + vl;
    if (kl <= 40 && vl <= 4000 && next < bytes.length && bytes[next]! >= 1 && bytes[next]! <= 4) found.push(p);
  }
  return found.length === 0 ? -1 : found[r(found.length)]!;
}
