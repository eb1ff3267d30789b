/**
 * Key ranges (range-split.ts, TableReader.rangeColumns, RangeMerger): a family cut into ranges
 * and merged range by range gives exactly the entries of one whole merge, whatever the cuts.
 * A family is cut into ranges to bound what a fallback of the merge kernel costs (the
 * JavaScript merger redoes one range).
 */
import fc from 'fast-check';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { compareBytes } from '../../../src/format/bytes.js';
import { openRocksDbCheckpoint } from '../../../src/sources/rocksdb/index.js';
import { cutsInside, largestRun, toRanges } from '../../../src/sources/rocksdb/range-split.js';
import { TableReader, type InternalEntry, type KeyRange } from '../../../src/sources/rocksdb/table/index.js';
import { cleanup, expectAsReferenceAndLdb, fingerprint, MERGE_OPERAND_FIXTURE, SEVERAL_LEVELS_FIXTURE, FIXTURES, HAVE_LDB, makeFixture, makeFixtureBinary, readAllTables, tempDir } from './helpers.js';

const SST = join(FIXTURES, 'sst');
const tables = readdirSync(SST).filter((f) => f.endsWith('.sst')).sort();

async function allEntries(path: string): Promise<InternalEntry[]> {
  const r = await TableReader.open(path);
  const out: InternalEntry[] = [];
  for await (const batch of r.entries()) out.push(...batch);
  await r.close();
  return out;
}

async function rangeEntries(r: TableReader, range: KeyRange): Promise<InternalEntry[]> {
  const out: InternalEntry[] = [];
  for await (const cols of r.rangeColumns(range)) for (let i = 0; i < cols.length; i++) out.push(cols.entry(i));
  return out;
}

const inRange = (k: Uint8Array, r: KeyRange) =>
  (r.lo === undefined || compareBytes(k, r.lo) >= 0) && (r.hi === undefined || compareBytes(k, r.hi) < 0);
const view = (es: InternalEntry[]) => es.map((e) => [Buffer.from(e.userKey).toString('hex'), e.sequence, e.type, Buffer.from(e.value).toString('hex')]);

describe('toRanges', () => {
  test('ranges are ascending, disjoint and cover every key exactly once', () => {
    const key = fc.uint8Array({ maxLength: 4 });
    fc.assert(
      fc.property(fc.array(key, { maxLength: 12 }), fc.array(key, { minLength: 1, maxLength: 20 }), (splits, probes) => {
        const ranges = toRanges(splits);
        for (let i = 1; i < ranges.length; i++) expect(ranges[i]!.lo).toEqual(ranges[i - 1]!.hi);
        expect(ranges[0]!.lo).toBeUndefined();
        expect(ranges.at(-1)!.hi).toBeUndefined();
        for (const r of ranges) if (r.lo !== undefined && r.hi !== undefined) expect(compareBytes(r.lo, r.hi)).toBeLessThan(0);
        for (const p of probes) expect(ranges.filter((r) => inRange(p, r)).length).toBe(1);
      }),
    );
  });

  test('the largest run is the one with most bytes; cuts follow the range size', () => {
    const a = [{ fileSize: 10 }, { fileSize: 15 }];
    const b = [{ fileSize: 30 }];
    expect(largestRun([a, b, []])).toBe(b);
    expect(largestRun([[], []])).toBeUndefined();
    expect(cutsInside(100, 30)).toBe(2);
    expect(cutsInside(10, 30)).toBe(0);
  });
});

describe('TableReader.rangeColumns', () => {
  test('there are fixtures (partitioned, first-key, hash and binary indexes)', () => expect(tables.length).toBeGreaterThanOrEqual(5));

  test.each(tables)('%s: any range gives exactly the entries of a full scan within it', async (name) => {
    const path = join(SST, name);
    const all = await allEntries(path);
    const keys = all.map((e) => e.userKey);
    const r = await TableReader.open(path);
    try {
      // Bounds are existing keys, keys just after them, or arbitrary bytes; either may be open.
      const bound = fc.oneof(
        fc.constant(undefined),
        fc.constantFrom(...keys),
        fc.constantFrom(...keys).map((k) => Uint8Array.from([...k, 0])),
        fc.uint8Array({ maxLength: 6 }),
      );
      await fc.assert(
        fc.asyncProperty(bound, bound, async (lo, hi) => {
          const range = { lo, hi };
          expect(view(await rangeEntries(r, range))).toEqual(view(all.filter((e) => inRange(e.userKey, range))));
        }),
        { numRuns: 60 },
      );
      // The split keys cut the table into ranges whose concatenation is the whole table.
      const cuts = await r.splitKeys(5);
      expect(cuts.length).toBeGreaterThan(0);
      const pieces: InternalEntry[] = [];
      for (const range of toRanges(cuts)) pieces.push(...(await rangeEntries(r, range)));
      expect(view(pieces)).toEqual(view(all));
    } finally {
      await r.close();
    }
  });
});

describe('a checkpoint merged range by range', () => {
  const read = async (dir: string, rangeBytes: number) => readAllTables(await openRocksDbCheckpoint(dir, { rangeBytes }));

  /** Ranges the source cuts the largest table file into at `rangeBytes` (the rule of range-split.ts). */
  async function cutsOfLargest(files: string[], rangeBytes: number): Promise<number> {
    const largest = files.filter((p) => p.endsWith('.sst')).sort((x, y) => statSync(y).size - statSync(x).size)[0]!;
    const t = await TableReader.open(largest);
    try {
      return (await t.splitKeys(cutsInside(statSync(largest).size, rangeBytes))).length;
    } finally {
      await t.close();
    }
  }

  test.skipIf(!HAVE_LDB || makeFixtureBinary() === null)(
    'several levels, codecs, tombstones, WAL keys and a few hundred ranges: as ldb scan; a flipped byte is the same CORRUPT_CHECKPOINT; nothing written',
    async () => {
      const dir = tempDir();
      try {
        const db = join(dir, 'db');
        makeFixture(['--db', db, ...SEVERAL_LEVELS_FIXTURE]);
        expect(await cutsOfLargest(Object.keys(fingerprint(db)), 2048)).toBeGreaterThan(100);
        await expectAsReferenceAndLdb(db, (d) => read(d, 2048), (d) => read(d, 1 << 30));
      } finally {
        cleanup(dir);
      }
    },
    120_000,
  );

  test.skipIf(!HAVE_LDB || makeFixtureBinary() === null)(
    'a visible merge operand past many ranges is the same UNSUPPORTED_FEATURE as with one range, after entries in the same order',
    async () => {
      const dir = tempDir();
      try {
        const db = join(dir, 'db');
        makeFixture(['--db', db, ...MERGE_OPERAND_FIXTURE]);
        expect(await cutsOfLargest(Object.keys(fingerprint(db)), 2048)).toBeGreaterThan(10);
        // Everything up to the error: the entries yielded, then the error's code and file.
        const upToError = async (rangeBytes: number) => {
          const source = await openRocksDbCheckpoint(db, { rangeBytes, batchSize: 100 });
          const rows: string[] = [];
          try {
            for await (const batch of source.entries('default')) for (const e of batch) rows.push(Buffer.from(e.key).toString('hex'));
            return { rows, error: 'none' };
          } catch (e) {
            const err = e as { code?: string; file?: string };
            return { rows, error: `${err.code} ${err.file}` };
          } finally {
            await source.close();
          }
        };
        const whole = await upToError(1 << 30);
        expect(whole.error).toMatch(/^UNSUPPORTED_FEATURE /);
        expect(whole.rows.length).toBeGreaterThan(1000);
        const ranged = await upToError(2048);
        expect(ranged.error).toBe(whole.error);
        // How many entries come out before the error depends on where batches end; their order does not.
        const n = Math.min(ranged.rows.length, whole.rows.length);
        expect(n).toBeGreaterThan(1000);
        expect(ranged.rows.slice(0, n)).toEqual(whole.rows.slice(0, n));
      } finally {
        cleanup(dir);
      }
    },
    120_000,
  );
});
