/**
 * The small committed checkpoints (test/fixtures/rocksdb/checkpoints/, made by make.sh) read
 * exactly as `ldb scan` showed them when they were made. Needs no RocksDB tools, so it pins
 * behaviour on every CI machine.
 */
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { openRocksDbCheckpoint } from '../../../src/sources/rocksdb/index.js';
import { cleanup, FIXTURES, fingerprint, readAll, readTable, snapshotErrorOf, tempDir } from './helpers.js';

const DIR = join(FIXTURES, 'checkpoints');
const names = readdirSync(DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

interface Expected {
  tables?: Record<string, [string, string][]>;
  errors?: Record<string, string>;
}

const work = tempDir();

afterAll(() => cleanup(work));

/** A private copy, so that a bug can never damage the committed files. */
function copyOf(name: string): string {
  const d = join(work, name);
  cpSync(join(DIR, name), d, { recursive: true });
  return d;
}

describe('committed checkpoints', () => {
  test('there are fixtures to test', () => {
    expect(names).toEqual(expect.arrayContaining(['ldb-three-families', 'levels', 'merge-operands', 'wal-only']));
  });

  test.each(names)('%s reads as ldb scan showed it', async (name) => {
    const dir = copyOf(name);
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
    const families = [...Object.keys(expected.tables ?? {}), ...Object.keys(expected.errors ?? {})].sort();
    const source = await openRocksDbCheckpoint(dir);
    try {
      expect((await source.listTables()).map((t) => t.name)).toEqual(families);
    } finally {
      await source.close();
    }
    for (const [cf, entries] of Object.entries(expected.tables ?? {})) {
      expect(await readTable(dir, cf), cf).toEqual(entries);
    }
    for (const [cf, code] of Object.entries(expected.errors ?? {})) {
      expect((await snapshotErrorOf(() => readTable(dir, cf))).code).toBe(code);
    }
  });

  test('reading them changes nothing', async () => {
    const dirs = names.map(copyOf);
    const before = dirs.map(fingerprint);
    for (const d of dirs) await readAll(d).catch(() => undefined);
    expect(dirs.map(fingerprint)).toEqual(before);
  });
});
