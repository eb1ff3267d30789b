/**
 * The place worker (src/sources/rocksdb/kernel/place-ahead.ts, on by default with two cores): runs of data blocks read
 * and placed on a worker thread give exactly the entries and errors (code, file, offset, message)
 * of placing them on the calling thread, and of ldb scan. Workers run compiled code, so this test
 * reads through dist/ (npm test builds it).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { cleanup, expectAsReferenceAndLdb, HAVE_LDB, makeFixture, makeFixtureBinary, readAllTables, SEVERAL_LEVELS_FIXTURE, tempDir } from './helpers.js';

const DIST = join(import.meta.dirname, '..', '..', '..', 'dist', 'sources', 'rocksdb');
type Open = typeof import('../../../src/sources/rocksdb/index.js').openRocksDbCheckpoint;
const { openRocksDbCheckpoint } = (await import(join(DIST, 'index.js'))) as { openRocksDbCheckpoint: Open };
const { PlaceAhead } = (await import(join(DIST, 'kernel', 'place-ahead.js'))) as typeof import('../../../src/sources/rocksdb/kernel/place-ahead.js');
const { placeTraps } = (await import(join(DIST, 'kernel', 'run-placer.js'))) as typeof import('../../../src/sources/rocksdb/kernel/run-placer.js');
const { defaultPlaceAheadBytes } = (await import(join(DIST, 'rocksdb-source.js'))) as typeof import('../../../src/sources/rocksdb/rocksdb-source.js');

/** Every family's entries, with the place worker for every family (or none), and how many runs it placed. */
async function read(dir: string, worker: boolean): Promise<{ tables: Record<string, string[] | string>; placed: number }> {
  // Ready first: until then runs are placed on this thread, and a small checkpoint could end before.
  if (worker) await PlaceAhead.get()!.started;
  const before = PlaceAhead.runsPlaced;
  const tables = await readAllTables(await openRocksDbCheckpoint(dir, { rangeBytes: 64 * 1024, batchSize: 300, workers: 0, placeAheadBytes: worker ? 0 : Infinity }));
  return { tables, placed: PlaceAhead.runsPlaced - before };
}

describe('the place worker', () => {
  test.skipIf(!HAVE_LDB || makeFixtureBinary() === null).each([
    ['CRC-32C', []],
    ['XXH3', ['--checksum', 'xxh3']],
  ])(
    'several levels, codecs (snappy, lz4, zstd), tombstones and WAL keys, %s: the entries of one thread and of ldb scan; a flipped byte the same error after the same entries',
    async (_name, extra) => {
      const dir = tempDir();
      try {
        const db = join(dir, 'db');
        makeFixture(['--db', db, ...SEVERAL_LEVELS_FIXTURE, ...extra]);
        const placed: { worker: number[]; one: number[] } = { worker: [], one: [] };
        const via = (worker: boolean, into: number[]) => async (d: string) => {
          const r = await read(d, worker);
          into.push(r.placed);
          return r.tables;
        };
        await expectAsReferenceAndLdb(db, via(true, placed.worker), via(false, placed.one), { sameEntriesBeforeError: true });
        expect(placed.one).toEqual([0, 0]); // without it: no run placed by the worker
        expect(placed.worker[0]).toBeGreaterThan(20); // the worker placed runs (zstd ones come back as read)
        expect(placed.worker[1]).toBeGreaterThan(0); // after the flip too
        expect(placeTraps()).toBe(0);
      } finally {
        cleanup(dir);
      }
    },
    180_000,
  );

  test.skipIf(makeFixtureBinary() === null)(
    'codecs the worker places (snappy, lz4, none): it places every run of a sound checkpoint and declines none, so a run misplaced and rescued by the calling thread shows',
    async () => {
      const dir = tempDir();
      try {
        const db = join(dir, 'db');
        makeFixture(['--db', db, '--keys', '20000', '--rounds', '2', '--compact-after', '0', '--deletes', '7', '--cf', 'a:lz4', '--cf', 'b:none', '--compression', 'snappy']);
        const declined = PlaceAhead.runsDeclined;
        const worker = await read(db, true);
        expect(PlaceAhead.runsDeclined - declined).toBe(0);
        expect(worker.placed).toBeGreaterThan(20);
        expect(worker.tables).toEqual((await read(db, false)).tables);
      } finally {
        cleanup(dir);
      }
    },
    120_000,
  );

  test('by default on with two or more cores for families of 32 MiB and more; SNAPSHOT_VERIFY_PLACE_WORKER=0 turns it off, =1 on', () => {
    expect(defaultPlaceAheadBytes(undefined, 2)).toBe(32 << 20);
    expect(defaultPlaceAheadBytes(undefined, 64)).toBe(32 << 20);
    expect(defaultPlaceAheadBytes(undefined, 1)).toBe(Infinity);
    expect(defaultPlaceAheadBytes('', 2)).toBe(32 << 20);
    expect(defaultPlaceAheadBytes('0', 8)).toBe(Infinity);
    expect(defaultPlaceAheadBytes('1', 1)).toBe(32 << 20);
  });

  test('the worker never keeps the process alive: a run that ends before its first fetch (an error before the worker is ready) exits', () => {
    // Found from outside (issue #8 campaign): a flipped byte early in the first family of 32 MiB
    // or more printed CORRUPT_CHECKPOINT, then the process hung: the worker's port was ref'd again
    // by the 'message' listener added after unref(), and only a fetch's answer unref'd it.
    const dir = tempDir();
    try {
      // A module file, not -e: a worker inherits --input-type and would fail to start.
      const script = join(dir, 'started.mjs');
      const url = pathToFileURL(join(DIST, 'kernel', 'place-ahead.js')).href;
      writeFileSync(script, `const { PlaceAhead } = await import(${JSON.stringify(url)});\nconst p = PlaceAhead.get();\nconst keep = setInterval(() => {}, 1000);\nawait p.started;\nclearInterval(keep);\nif (!p.ready) process.exit(7);\n`);
      const env = { ...process.env };
      delete env['NODE_EXTRA_CA_CERTS'];
      const r = spawnSync(process.execPath, [script], { env, timeout: 15_000, encoding: 'utf8' });
      expect(r.error, 'the process did not exit by itself within 15 s').toBeUndefined();
      expect(r.status, r.stderr).toBe(0); // 7: the worker did not start, and the test would prove nothing
    } finally {
      cleanup(dir);
    }
  }, 30_000);

  test('placeAheadBytes must be a non-negative number', async () => {
    const dir = tempDir();
    try {
      for (const bad of [-1, Number.NaN]) {
        await expect(openRocksDbCheckpoint(dir, { placeAheadBytes: bad })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      }
    } finally {
      cleanup(dir);
    }
  });
});
