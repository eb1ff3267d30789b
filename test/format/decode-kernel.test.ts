/**
 * The decode kernel's hashing (src/format/wasm/decode-kernel.wat): both streams equal xxhash-wasm
 * (the reference) of exactly the bytes fed to them, however the input is cut, wherever it lies
 * (read buffers in the kernel's memory at any alignment, or pieces outside it, copied in), in one
 * pass or two, and whichever decoder's states were in the instance before. Its scanner is held to
 * the JavaScript decoder by scan-kernel.test.ts.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHasher, xxh64 } from '../../src/format/index.js';
import { CHUNK_SLOT, decodeKernel, HashStates, READ_BUFFER_BYTES, TABLE_SLOT } from '../../src/format/wasm/decode-kernel.js';

beforeAll(loadHasher);

/** `bytes` as a view into a kernel read buffer at `align`, or as it is (outside the memory). */
function place(bytes: Uint8Array, inKernel: boolean, align: number): { view: Uint8Array; done: () => void } {
  const k = decodeKernel();
  if (!inKernel || align + bytes.length > READ_BUFFER_BYTES) return { view: bytes, done: () => {} };
  const buffer = k.takeReadBuffer()!;
  expect(buffer).toBeDefined();
  buffer.set(bytes, align);
  return { view: buffer.subarray(align, align + bytes.length), done: () => k.releaseReadBuffer(k.readBufferOf(buffer)!) };
}

/** Random bytes from a seed (xorshift32), so large inputs need not come from fast-check. */
function bytesOf(n: number, seed: number): Uint8Array {
  let x = seed >>> 0 || 1;
  return Uint8Array.from({ length: n }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x & 0xff;
  });
}

describe('the decode kernel hashes as xxhash64', () => {
  it('chunk and table streams, fed in pieces at any cuts and alignments, in or outside the memory, equal xxhash-wasm of their bytes', () => {
    const k = decodeKernel();
    fc.assert(
      fc.property(
        fc.oneof(fc.nat(400), fc.constantFrom(31, 32, 33, 64, 4096, 70_000, 300_000)),
        fc.nat(),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.nat(),
        fc.nat(),
        fc.nat(31),
        fc.boolean(),
        (n, seed, cutSeeds, tableStartSeed, tableEndSeed, align, inKernel) => {
          const bytes = bytesOf(n, seed);
          const cuts = [...new Set([0, ...cutSeeds.map((c) => c % (n + 1)), n])].sort((a, b) => a - b);
          const tableStart = tableStartSeed % (n + 1);
          const tableEnd = tableStart + (tableEndSeed % (n - tableStart + 1));
          const s = new HashStates();
          k.reset(s, CHUNK_SLOT);
          k.reset(s, TABLE_SLOT);
          for (let i = 0; i + 1 < cuts.length; i++) {
            const [from, to] = [cuts[i]!, cuts[i + 1]!];
            const { view, done } = place(bytes.subarray(from, to), inKernel, align);
            // Within the piece: chunk only, then both, then chunk only (the table stream's bounds).
            const t0 = Math.min(Math.max(tableStart, from), to) - from;
            const t1 = Math.min(Math.max(tableEnd, from), to) - from;
            if (t0 > 0) k.update(s, view, 0, -1, t0);
            if (t1 > t0) k.update(s, view, t0, t0, t1);
            if (to - from > t1) k.update(s, view, t1, -1, to - from);
            done();
          }
          expect(k.digest(s, CHUNK_SLOT)).toBe(xxh64(bytes));
          expect(k.digest(s, TABLE_SLOT)).toBe(xxh64(bytes.subarray(tableStart, tableEnd)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('one pass over both streams from different starts equals two passes', () => {
    const k = decodeKernel();
    fc.assert(
      fc.property(fc.nat(2000), fc.nat(), fc.nat(), fc.nat(), fc.boolean(), (n, seed, aSeed, bSeed, inKernel) => {
        const bytes = bytesOf(n, seed);
        const a = aSeed % (n + 1);
        const b = bSeed % (n + 1);
        const { view, done } = place(bytes, inKernel, seed % 29);
        const one = new HashStates();
        k.reset(one, CHUNK_SLOT);
        k.reset(one, TABLE_SLOT);
        k.update(one, view, a, b, n);
        done();
        expect(k.digest(one, CHUNK_SLOT)).toBe(xxh64(bytes.subarray(a)));
        expect(k.digest(one, TABLE_SLOT)).toBe(xxh64(bytes.subarray(b)));
      }),
      { numRuns: 300 },
    );
  });

  it("decoders taking turns keep their own states (the instance's slots are swapped)", () => {
    const k = decodeKernel();
    const x = bytesOf(5000, 1);
    const y = bytesOf(5000, 2);
    const sx = new HashStates();
    const sy = new HashStates();
    for (const s of [sx, sy]) for (const slot of [CHUNK_SLOT, TABLE_SLOT]) k.reset(s, slot);
    for (let at = 0; at < 5000; at += 333) {
      const to = Math.min(5000, at + 333);
      k.update(sx, x.subarray(at, to), 0, 0, to - at);
      k.update(sy, y.subarray(at, to), 0, -1, to - at);
    }
    expect(k.digest(sx, CHUNK_SLOT)).toBe(xxh64(x));
    expect(k.digest(sx, TABLE_SLOT)).toBe(xxh64(x));
    expect(k.digest(sy, CHUNK_SLOT)).toBe(xxh64(y));
    expect(k.digest(sy, TABLE_SLOT)).toBe(xxh64(new Uint8Array(0)));
  });
});

describe('the read buffers', () => {
  it('are handed out once each until given back, and any view of one maps to it', () => {
    const k = decodeKernel();
    const taken: Uint8Array[] = [];
    for (let b = k.takeReadBuffer(); b !== undefined; b = k.takeReadBuffer()) taken.push(b);
    expect(taken.length).toBeGreaterThanOrEqual(2);
    expect(new Set(taken.map((b) => b.byteOffset)).size).toBe(taken.length);
    for (const b of taken) {
      expect(b.length).toBe(READ_BUFFER_BYTES);
      expect(k.readBufferOf(b.subarray(100, 200))).toBe(b);
    }
    expect(k.readBufferOf(new Uint8Array(16))).toBeUndefined();
    for (const b of taken) k.releaseReadBuffer(b);
    k.releaseReadBuffer(taken[0]!); // twice: still one buffer
    const again: Uint8Array[] = [];
    for (let b = k.takeReadBuffer(); b !== undefined; b = k.takeReadBuffer()) again.push(b);
    expect(again.length).toBe(taken.length);
    for (const b of again) k.releaseReadBuffer(b);
  });
});
