/**
 * Merge workers (src/sources/rocksdb/parallel): a family's ranges merged on worker threads give
 * exactly the entries, counts and errors (code, file, offset, message) of merging them on the
 * calling thread. Workers run compiled code, so this test reads through dist/ (npm test builds it).
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cleanup, fingerprint, flipMiddleOfLargestTable, MERGE_OPERAND_FIXTURE, SEVERAL_LEVELS_FIXTURE, HAVE_LDB, makeFixture, makeFixtureBinary, oracleScan, tempDir } from './helpers.js';

const DIST = join(import.meta.dirname, '..', '..', '..', 'dist', 'sources', 'rocksdb');
type Open = typeof import('../../../src/sources/rocksdb/index.js').openRocksDbCheckpoint;
const { openRocksDbCheckpoint } = (await import(join(DIST, 'index.js'))) as { openRocksDbCheckpoint: Open };
const { MergePool } = (await import(join(DIST, 'parallel', 'merge-pool.js'))) as { MergePool: { rangesSent: number } };

/** Every family's entries as key=value lines, or its error as code, file, offset and message; and what the workers merged. */
async function read(dir: string, workers: number): Promise<{ tables: Record<string, string[] | string>; sent: number }> {
  const before = MergePool.rangesSent;
  const source = await openRocksDbCheckpoint(dir, { rangeBytes: 2048, batchSize: 300, workers });
  const tables: Record<string, string[] | string> = {};
  try {
    for (const t of await source.listTables()) {
      const rows: string[] = [];
      try {
        for await (const batch of source.entries(t.name)) for (const e of batch) rows.push(`${Buffer.from(e.key).toString('hex')}=${Buffer.from(e.value).toString('hex')}`);
        tables[t.name] = rows;
      } catch (e) {
        const err = e as { code?: string; file?: string; offset?: number; message?: string };
        tables[t.name] = `${err.code} ${err.file} ${err.offset} ${err.message} after ${rows.length}`;
      }
    }
  } finally {
    await source.close();
  }
  return { tables, sent: MergePool.rangesSent - before };
}

describe('merge workers', () => {
  test.skipIf(!HAVE_LDB || makeFixtureBinary() === null)(
    'several levels, codecs, tombstones and WAL keys over many ranges: the entries of one thread and of ldb scan; a flipped byte the same error after the same entries',
    async () => {
      const dir = tempDir();
      try {
        const db = join(dir, 'db');
        makeFixture(['--db', db, ...SEVERAL_LEVELS_FIXTURE]);
        const before = fingerprint(db);
        const one = await read(db, 0);
        expect(one.sent).toBe(0);
        const two = await read(db, 2);
        expect(two.sent).toBeGreaterThan(100);
        expect(two.tables).toEqual(one.tables);
        for (const cf of ['default', 'a', 'b']) expect(two.tables[cf], cf).toEqual(oracleScan(db, cf).map(([k, v]) => `${k}=${v}`));
        expect(fingerprint(db)).toEqual(before);

        const sst = flipMiddleOfLargestTable(Object.keys(before));
        const bad = await read(db, 2);
        expect(bad.sent).toBeGreaterThan(0); // the workers merged, not the calling thread
        expect(bad.tables).toEqual((await read(db, 0)).tables);
        expect(Object.values(bad.tables).some((v) => typeof v === 'string' && v.startsWith(`CORRUPT_CHECKPOINT ${sst} `))).toBe(true);
      } finally {
        cleanup(dir);
      }
    },
    180_000,
  );

  test.skipIf(!HAVE_LDB || makeFixtureBinary() === null)(
    'a visible merge operand without an operator: the same UNSUPPORTED_FEATURE (the plan\'s own message) after the same entries',
    async () => {
      const dir = tempDir();
      try {
        const db = join(dir, 'db');
        makeFixture(['--db', db, ...MERGE_OPERAND_FIXTURE]);
        const one = await read(db, 0);
        const two = await read(db, 2);
        expect(two.sent).toBeGreaterThan(10);
        expect(String(one.tables['default'])).toMatch(/^UNSUPPORTED_FEATURE /);
        expect(two.tables).toEqual(one.tables);
      } finally {
        cleanup(dir);
      }
    },
    120_000,
  );
});
