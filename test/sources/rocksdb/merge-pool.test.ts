/**
 * Merging key ranges in worker threads (merge-pool.ts, the default of the built source) gives the
 * same entries, and the same errors, as merging in-thread, however finely the key space is cut.
 * The workers run compiled JavaScript, so this uses the build output (dist/, made by `npm test`
 * before vitest runs); environment.test.ts fails the suite when it is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import type { Source } from '../../../src/sources/source.js';
import { cleanup, fingerprint, FIXTURES, HAVE_LDB, makeFixture, makeFixtureBinary, oracleScan, tempDir } from './helpers.js';

const DIST = join(FIXTURES, '..', '..', '..', 'dist', 'sources', 'rocksdb', 'index.js');
const WORKER = join(DIST, '..', 'merge-worker.js');
type Options = { mergeThreads?: number; rangeBytes?: number };
type Open = (dir: string, options?: Options) => Promise<Source>;

async function load(): Promise<Open> {
  const spec = DIST;
  return ((await import(spec)) as { openRocksDbCheckpoint: Open }).openRocksDbCheckpoint;
}

async function readAllTables(open: Open, dir: string, options: Options): Promise<Record<string, [string, string][] | string>> {
  const source = await open(dir, options);
  const out: Record<string, [string, string][] | string> = {};
  try {
    for (const t of await source.listTables()) {
      const rows: [string, string][] = [];
      try {
        for await (const batch of source.entries(t.name)) {
          for (const e of batch) rows.push([Buffer.from(e.key).toString('hex'), Buffer.from(e.value).toString('hex')]);
        }
        out[t.name] = rows;
      } catch (e) {
        const err = e as { code?: string; file?: string; offset?: number };
        out[t.name] = `${err.code} ${err.file} ${err.offset}`;
      }
    }
  } finally {
    await source.close();
  }
  return out;
}

/** Ranges of 512 bytes of table file: every few data blocks start a new range. */
const TINY_RANGES = { rangeBytes: 512 };

describe('merging key ranges in worker threads (from dist/)', () => {
  test('the compiled worker is there (npm test builds it first)', () => {
    expect(existsSync(WORKER)).toBe(true);
  });

  test.each(['levels', 'ldb-three-families', 'wal-only', 'merge-operands'])(
    '%s reads the same in workers (many small ranges) as in-thread (one range)',
    async (name) => {
      const open = await load();
      const dir = join(FIXTURES, 'checkpoints', name);
      const inThread = await readAllTables(open, dir, { mergeThreads: 0, rangeBytes: 1 << 30 });
      expect(await readAllTables(open, dir, { mergeThreads: 2, ...TINY_RANGES })).toEqual(inThread);
      expect(await readAllTables(open, dir, { mergeThreads: 1 })).toEqual(inThread);
    },
  );

  test('a parent started with flags workers refuse (--expose-gc, node -e) still reads, as without a worker', async () => {
    const dir = join(FIXTURES, 'checkpoints', 'levels');
    const script = `
      const { openRocksDbCheckpoint } = await import(${JSON.stringify(pathToFileURL(DIST).href)});
      const s = await openRocksDbCheckpoint(${JSON.stringify(dir)});
      const rows = [];
      for await (const b of s.entries('default')) for (const e of b) rows.push(Buffer.from(e.key).toString('hex'));
      await s.close();
      console.log(JSON.stringify(rows));`;
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const open = await load();
    const expected = await readAllTables(open, dir, { mergeThreads: 0 });
    expect(JSON.parse(r.stdout)).toEqual((expected['default'] as [string, string][]).map(([k]) => k));
  });

  test.skipIf(!HAVE_LDB || makeFixtureBinary() === null)(
    'several levels, codecs and ranges: as ldb scan; a flipped byte is the same CORRUPT_CHECKPOINT; nothing written',
    async () => {
      const open = await load();
      const dir = tempDir();
      try {
        const db = join(dir, 'db');
        makeFixture(['--db', db, '--keys', '20000', '--rounds', '3', '--compact-after', '0', '--deletes', '7', '--range-deletes', '3',
          '--cf', 'a:lz4', '--cf', 'b:zstd', '--compression', 'snappy', '--wal-keys', '5']);
        const before = fingerprint(db);
        const ours = await readAllTables(open, db, { mergeThreads: 2, ...TINY_RANGES });
        expect(ours).toEqual(await readAllTables(open, db, { mergeThreads: 0, rangeBytes: 1 << 30 }));
        for (const cf of ['default', 'a', 'b']) expect(ours[cf], cf).toEqual(oracleScan(db, cf));
        expect(fingerprint(db)).toEqual(before);

        // Flip one byte in the middle of the largest table file: a data block's checksum fails.
        const sst = [...Object.keys(before)].filter((p) => p.endsWith('.sst')).sort((x, y) => statSync(y).size - statSync(x).size)[0]!;
        const bytes = readFileSync(sst);
        const at = bytes.length >> 1;
        bytes[at] = bytes[at]! ^ 0x40;
        writeFileSync(sst, bytes);
        const bad1 = await readAllTables(open, db, { mergeThreads: 2, ...TINY_RANGES });
        const bad0 = await readAllTables(open, db, { mergeThreads: 0, rangeBytes: 1 << 30 });
        expect(bad1).toEqual(bad0);
        expect(Object.values(bad1).some((v) => typeof v === 'string' && v.startsWith(`CORRUPT_CHECKPOINT ${sst} `))).toBe(true);
      } finally {
        cleanup(dir);
      }
    },
    120_000,
  );
});
