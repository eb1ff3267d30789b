/**
 * Packed entries (src/format/packed.ts): appending a packed batch gives exactly the bytes,
 * chunk cuts, digests and errors of adding its entries one by one, however the entries are cut
 * into batches, whatever the chunk and output-buffer sizes.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  loadHasher,
  packEntries,
  PackedEntriesBuilder,
  SnapshotEncoder,
  SnapshotError,
  unpackEntries,
  type SnapshotAnchor,
  type SnapshotSummary,
} from '../../src/format/index.js';
import type { Entry } from '../../src/sources/source.js';
import { hex } from '../helpers/bytes.js';

beforeAll(loadHasher);

const anchorOf = (maxChunkBytes: bigint, tables: number): SnapshotAnchor => ({
  epoch: 7n,
  cursor: { index: 3n },
  maxChunkBytes,
  tables: Array.from({ length: tables }, (_, i) => ({ id: i, name: `t${i}` })),
});

/**
 * Encodes `tables`, each entry added one by one or in packed batches cut at `cuts`; the error is
 * its code and message. With `discardBytes` (a digest-only output) the bytes are not compared.
 */
function encode(anchor: SnapshotAnchor, tables: Entry[][], packed: boolean, cuts: number[], bufferBytes: number, options: { discardBytes?: boolean; maxKeyBytes?: number } = {}) {
  const parts: Uint8Array[] = [];
  const limits = options.maxKeyBytes === undefined ? {} : { limits: { maxKeyBytes: options.maxKeyBytes } };
  const enc = new SnapshotEncoder(anchor, { data: (b) => parts.push(b.slice()), chunkEnd() {} }, { bufferBytes, discardBytes: options.discardBytes ?? false, ...limits });
  let error: string | undefined;
  try {
    for (const entries of tables) {
      if (!packed) {
        for (const e of entries) enc.add(e.key, e.value);
      } else {
        let from = 0;
        for (const c of [...cuts.map((x) => x % (entries.length + 1)).sort((a, b) => a - b), entries.length]) {
          enc.addPacked(packEntries(entries.slice(from, Math.max(from, c))));
          from = Math.max(from, c);
        }
      }
      enc.endTable();
    }
  } catch (e) {
    error = e instanceof SnapshotError ? `${e.code} ${e.message}` : String(e);
  }
  const summary: SnapshotSummary | undefined = error === undefined ? enc.finish() : undefined;
  return { bytes: options.discardBytes === true ? '' : hex(Buffer.concat(parts)), summary, error };
}

/** Drawn tables as entries: with `sorted`, unique keys in order; else as drawn. */
function entryTables(raw: readonly (readonly [Uint8Array, Uint8Array])[][], sorted: boolean): Entry[][] {
  return raw.map((t) => {
    const es = t.map(([key, value]) => ({ key, value }));
    if (!sorted) return es;
    const byKey = new Map(es.map((e) => [hex(e.key), e]));
    return [...byKey.values()].sort((a, b) => Buffer.compare(a.key, b.key));
  });
}

const entryArb = fc.tuple(fc.uint8Array({ maxLength: 12 }), fc.uint8Array({ maxLength: 90 }));
const tablesArb = fc.array(fc.array(entryArb, { maxLength: 25 }), { minLength: 1, maxLength: 3 });

describe('packed entries', () => {
  it('addPacked gives the bytes, summary and error of add, for any batching, chunk size and buffer size', () => {
    fc.assert(
      fc.property(
        tablesArb,
        fc.boolean(),
        fc.array(fc.nat(30), { maxLength: 5 }),
        fc.oneof(fc.constant(0), fc.integer({ min: 150, max: 700 })),
        fc.integer({ min: 1, max: 400 }),
        (raw, sorted, cuts, maxChunk, bufferBytes) => {
          // Sorted unique keys, or as drawn (then UNSORTED_KEYS must come at the same entry).
          const tables = entryTables(raw, sorted);
          const anchor = anchorOf(BigInt(maxChunk), tables.length);
          const one = encode(anchor, tables, false, [], bufferBytes);
          const batched = encode(anchor, tables, true, cuts, bufferBytes);
          expect(batched).toEqual(one);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('batches checked and hashed in WebAssembly, with the bytes left out for a digest-only output: the summary and error (code and message) of add', () => {
    // Keys behind a shared prefix of 0–20 bytes: they differ anywhere, also past the first 8 bytes the scanner compares at once.
    const keyArb = fc.tuple(fc.nat(20), fc.uint8Array({ maxLength: 12 })).map(([p, k]) => Uint8Array.from([...new Array<number>(p).fill(7), ...k]));
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.tuple(keyArb, fc.uint8Array({ maxLength: 90 })), { maxLength: 25 }), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        fc.array(fc.nat(30), { maxLength: 5 }),
        fc.oneof(fc.constant(0), fc.integer({ min: 150, max: 3000 })),
        fc.oneof(fc.constant(64), fc.integer({ min: 0, max: 30 })),
        (raw, sorted, cuts, maxChunk, maxKeyBytes) => {
          const tables = entryTables(raw, sorted);
          const anchor = anchorOf(BigInt(maxChunk), tables.length);
          // Small limits make small output buffers: before an error, add and addPacked hand over
          // different amounts (a record may span buffers only with addPacked), so the bytes are
          // compared on success only; the writer aborts its sink on an error anyway.
          const settled = (r: ReturnType<typeof encode>) => (r.error === undefined ? r : { ...r, bytes: '' });
          const one = settled(encode(anchor, tables, false, [], 300, { maxKeyBytes }));
          expect(settled(encode(anchor, tables, true, cuts, 300, { maxKeyBytes }))).toEqual(one);
          expect(encode(anchor, tables, true, cuts, 300, { maxKeyBytes, discardBytes: true })).toEqual({ ...one, bytes: '' });
        },
      ),
      { numRuns: 400 },
    );
  });

  it('the builder and unpack round-trip; views stay valid after the builder moves on', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 40 }), fc.integer({ min: 1, max: 64 }), (raw, capacity) => {
        const b = new PackedEntriesBuilder(capacity);
        const batches = [];
        for (const [i, [k, v]] of raw.entries()) {
          const pad = Uint8Array.from([9, ...k, 9, ...v, 9]); // entries read from inside larger buffers
          b.push(pad, 1, k.length, pad, k.length + 2, v.length);
          if (i % 7 === 6) batches.push(b.take());
        }
        batches.push(b.take());
        const back = batches.flatMap((p) => unpackEntries(p)).map((e) => [hex(e.key), hex(e.value)]);
        expect(back).toEqual(raw.map(([k, v]) => [hex(k), hex(v)]));
        expect(batches.reduce((n, p) => n + p.count, 0)).toBe(raw.length);
      }),
    );
  });

  it('malformed batches are refused with INVALID_ARGUMENT and the offset, over-limit keys with LIMIT_EXCEEDED', () => {
    const enc = () => new SnapshotEncoder(anchorOf(0n, 1), { data() {}, chunkEnd() {} }, { limits: { maxKeyBytes: 4 } });
    const good = packEntries([{ key: Uint8Array.of(1), value: Uint8Array.of(2) }]);
    const cases: [string, Uint8Array, number, string, number | undefined][] = [
      ['truncated prefix', good.bytes.subarray(0, 5), 1, 'INVALID_ARGUMENT', 0],
      ['bad tag', Uint8Array.from([2, ...good.bytes.subarray(1)]), 1, 'INVALID_ARGUMENT', 0],
      ['past the end', good.bytes.subarray(0, good.bytes.length - 1), 1, 'INVALID_ARGUMENT', 0],
      ['wrong count', good.bytes, 2, 'INVALID_ARGUMENT', good.bytes.length],
      ['second record truncated', Uint8Array.from([...good.bytes, 1, 0]), 2, 'INVALID_ARGUMENT', good.bytes.length],
      ['key over the limit', packEntries([{ key: new Uint8Array(5), value: new Uint8Array(0) }]).bytes, 1, 'LIMIT_EXCEEDED', undefined],
    ];
    for (const [what, bytes, count, code, offset] of cases) {
      const e = (() => {
        try {
          enc().addPacked({ bytes, count });
        } catch (x) {
          return x as SnapshotError;
        }
        return undefined;
      })();
      expect(e?.code, what).toBe(code);
      expect(e?.offset, what).toBe(offset);
    }
    expect(() => unpackEntries({ bytes: good.bytes, count: 2 })).toThrow(/count says 2/);
  });
});
