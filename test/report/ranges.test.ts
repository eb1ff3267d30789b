/**
 * Range digests (src/report/ranges.ts) fed packed batches, as the RocksDB source's fast path does,
 * are byte-identical to range digests fed entry by entry, whatever the contents, K and the cut of
 * the table into batches; and both are what the spec's definition computes independently
 * (xxh64sum of each range's ENTRY records, test/cli/oracle.ts).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareBytes } from '../../src/format/bytes.js';
import { loadHasher } from '../../src/format/digest.js';
import { packEntries } from '../../src/format/packed.js';
import { MAX_RANGES, RangeDigester } from '../../src/report/ranges.js';
import type { RangeDigestReport } from '../../src/report/schema.js';
import { entryRecords, rangeOfKey, xxh64sum } from '../cli/oracle.js';

type Row = readonly [Uint8Array, Uint8Array];

/** Sorted, distinct keys; short keys (under the 4 prefix bytes) and keys near range starts are common. */
const rowsArb = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.uint8Array({ maxLength: 3 }),
        fc.uint8Array({ minLength: 4, maxLength: 12 }),
        // Keys at and around the start of some range, for K up to 64.
        fc.tuple(fc.integer({ min: 1, max: 63 }), fc.integer({ min: 2, max: 64 }), fc.integer({ min: -1, max: 1 }), fc.uint8Array({ maxLength: 3 })).map(([i, k, d, tail]) => {
          const p = Math.max(0, Math.min(2 ** 32 - 1, Math.floor((Math.min(i, k - 1) * 2 ** 32) / k) + d));
          return Uint8Array.of(p >>> 24, (p >>> 16) & 0xff, (p >>> 8) & 0xff, p & 0xff, ...tail);
        }),
      ),
      fc.uint8Array({ maxLength: 40 }),
    ),
    { maxLength: 120 },
  )
  .map((rows) => {
    const sorted = [...rows].sort((a, b) => compareBytes(a[0], b[0]));
    return sorted.filter((r, i) => i === 0 || compareBytes(sorted[i - 1]![0], r[0]) !== 0) as Row[];
  });

/** The rows cut at `cuts` (positions, any order) into consecutive batches. */
function batches(rows: readonly Row[], cuts: readonly number[]): Row[][] {
  const at = [...new Set(cuts.map((c) => c % (rows.length + 1)))].sort((a, b) => a - b);
  const out: Row[][] = [];
  let from = 0;
  for (const c of [...at, rows.length]) {
    out.push(rows.slice(from, c));
    from = c;
  }
  return out;
}

function byEntries(rows: readonly Row[], k: number): RangeDigestReport[] {
  const d = new RangeDigester(k);
  for (const [key, value] of rows) d.add(key, value);
  return d.finish();
}

/** Range digests of batches; with `knownLast`, each batch given with its last key, as the writer gives it. */
function byPacked(parts: readonly (readonly Row[])[], k: number, knownLast = false): RangeDigestReport[] {
  const d = new RangeDigester(k);
  for (const part of parts) d.addPacked(packEntries(part.map(([key, value]) => ({ key, value }))), knownLast ? part.at(-1)?.[0] : undefined);
  return d.finish();
}

describe('range digests from packed batches', () => {
  beforeAll(loadHasher);

  it('equal range digests computed entry by entry, for random contents, K and batch cuts', () => {
    fc.assert(
      fc.property(rowsArb, fc.integer({ min: 1, max: 70 }), fc.array(fc.nat(), { maxLength: 6 }), (rows, k, cuts) => {
        const expected = byEntries(rows, k);
        expect(byPacked(batches(rows, cuts), k)).toEqual(expected);
        expect(byPacked(batches(rows, cuts), k, true)).toEqual(expected); // whole batches hashed at once where they lie in one range
      }),
      { numRuns: 300, seed: 13 },
    );
  });

  it('equal them with the most ranges allowed', () => {
    const rows = fc.sample(rowsArb, { numRuns: 3, seed: 5 });
    for (const r of rows) expect(byPacked(batches(r, [3, 11]), MAX_RANGES)).toEqual(byEntries(r, MAX_RANGES));
  });

  it('are the xxh64sum of the ENTRY records of each range (the definition, computed independently)', () => {
    const rows = fc.sample(rowsArb, { numRuns: 20, seed: 7 }).flat().sort((a, b) => compareBytes(a[0], b[0]));
    const distinct = rows.filter((r, i) => i === 0 || compareBytes(rows[i - 1]![0], r[0]) !== 0);
    expect(distinct.length).toBeGreaterThan(40);
    for (const k of [1, 5, 64]) {
      const got = byPacked(batches(distinct, [7, 19, 33]), k);
      expect(got).toHaveLength(k);
      for (const r of got) {
        const inRange = distinct.filter(([key]) => rangeOfKey(key, k) === r.index);
        expect(r.entries).toBe(String(inRange.length));
        expect(r.digest).toBe(xxh64sum(entryRecords(inRange)));
      }
    }
  });

  it('an empty batch changes nothing', () => {
    const rows: Row[] = [[Uint8Array.of(0x80, 1, 2, 3), Uint8Array.of(9)]];
    expect(byPacked([[], rows, []], 4)).toEqual(byEntries(rows, 4));
  });
});
