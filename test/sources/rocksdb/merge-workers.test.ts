/**
 * Merge workers (src/sources/rocksdb/parallel): a family's ranges merged on worker threads give
 * exactly the entries, counts and errors (code, file, offset, message) of merging them on the
 * calling thread. Workers run compiled code, so this test reads through dist/ (npm test builds it).
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cleanup, expectAsReferenceAndLdb, MERGE_OPERAND_FIXTURE, SEVERAL_LEVELS_FIXTURE, HAVE_LDB, makeFixture, makeFixtureBinary, readAllTables, tempDir } from './helpers.js';

const DIST = join(import.meta.dirname, '..', '..', '..', 'dist', 'sources', 'rocksdb');
type Open = typeof import('../../../src/sources/rocksdb/index.js').openRocksDbCheckpoint;
const { openRocksDbCheckpoint } = (await import(join(DIST, 'index.js'))) as { openRocksDbCheckpoint: Open };
const { MergePool } = (await import(join(DIST, 'parallel', 'merge-pool.js'))) as { MergePool: { rangesSent: number } };

/** Every family's entries (readAllTables), and how many ranges the workers merged. */
async function read(dir: string, workers: number): Promise<{ tables: Record<string, string[] | string>; sent: number }> {
  const before = MergePool.rangesSent;
  const tables = await readAllTables(await openRocksDbCheckpoint(dir, { rangeBytes: 2048, batchSize: 300, workers }));
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
        const sent: { workers: number[]; one: number[] } = { workers: [], one: [] };
        const via = (workers: number, into: number[]) => async (d: string) => {
          const r = await read(d, workers);
          into.push(r.sent);
          return r.tables;
        };
        await expectAsReferenceAndLdb(db, via(2, sent.workers), via(0, sent.one), { sameEntriesBeforeError: true });
        expect(sent.one).toEqual([0, 0]); // one thread: no range sent to a worker
        expect(sent.workers[0]).toBeGreaterThan(100);
        expect(sent.workers[1]).toBeGreaterThan(0); // after the flip too, the workers merged, not the calling thread
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
