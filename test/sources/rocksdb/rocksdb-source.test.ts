/**
 * The RocksDB source against real databases (ldb and the fixture generator, RocksDB 7.8.3),
 * with `ldb scan` as the oracle: our entries must equal its output, entry for entry.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isSnapshotError } from '../../../src/format/errors.js';
import { isRocksDbCheckpoint, openRocksDbCheckpoint } from '../../../src/sources/rocksdb/index.js';
import { readManifest } from '../../../src/sources/rocksdb/manifest.js';
import {
  cleanup,
  fingerprint,
  HAVE_LDB,
  LDB,
  ldb,
  makeFixture,
  makeFixtureBinary,
  oracleScan,
  readAll,
  readTable,
  snapshotErrorOf,
  tempDir,
} from './helpers.js';

const root = tempDir();
afterAll(() => cleanup(root));
let n = 0;
const fresh = (name: string) => join(root, `${name}-${n++}`);

const HAVE_FIXTURE = HAVE_LDB && makeFixtureBinary() !== null;

/** Asserts that every listed column family reads exactly as `ldb scan` shows it. */
async function expectMatchesOracle(db: string, families: string[]): Promise<void> {
  for (const cf of families) {
    const ours = await readTable(db, cf);
    expect(ours, `column family ${cf}`).toEqual(oracleScan(db, cf));
  }
}

function files(dir: string, re: RegExp): string[] {
  return readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => join(dir, f));
}

function flipByte(path: string, at: number): void {
  const b = readFileSync(path);
  b[at] = b[at]! ^ 0x40;
  writeFileSync(path, b);
}

/** A DB built with ldb: three families, puts, overwrites, deletes, range deletes, some in the WAL. */
function ldbDatabase(compact: boolean): string {
  const db = fresh('ldb');
  ldb(db, '--create_if_missing', 'batchput', 'apple', '1', 'banana', '2', 'cherry', '3', 'date', '4');
  ldb(db, 'create_column_family', 'meta');
  ldb(db, 'create_column_family', 'tmp');
  ldb(db, '--column_family=meta', 'batchput', 'k1', 'v1', 'k2', 'v2', 'k3', 'v3');
  ldb(db, '--column_family=tmp', 'put', 'x', 'y');
  ldb(db, 'batchput', 'banana', '22', 'elder', '5', 'fig', '6', 'grape', '7');
  if (compact) ldb(db, 'compact');
  ldb(db, 'delete', 'cherry');
  ldb(db, 'deleterange', 'elder', 'fz');
  ldb(db, '--column_family=meta', 'put', 'k2', 'v2b');
  if (compact) ldb(db, 'compact');
  ldb(db, 'drop_column_family', 'tmp');
  ldb(db, 'put', 'apple', '11'); // stays in the WAL
  ldb(db, '--column_family=meta', 'delete', 'k3'); // stays in the WAL
  return db;
}

describe.skipIf(!HAVE_LDB)('entries equal ldb scan', () => {
  test('ldb-made database: several families, overwrites, deletions, range deletions, WAL data, a dropped family', async () => {
    const db = ldbDatabase(false);
    const source = await openRocksDbCheckpoint(db);
    try {
      expect((await source.listTables()).map((t) => t.name)).toEqual(['default', 'meta']);
    } finally {
      await source.close();
    }
    await expectMatchesOracle(db, ['default', 'meta']);
    expect(await readTable(db, 'default')).toEqual([
      ['6170706c65', '3131'],
      ['62616e616e61', '3232'],
      ['64617465', '34'],
      ['6772617065', '37'],
    ]);
  });

  test('keys longer than the merge kernel handles (9 KB): the JavaScript merger takes over the range, as ldb scan', async () => {
    const db = fresh('longkeys');
    const long = (c: string) => c.repeat(9000);
    ldb(db, '--create_if_missing', 'batchput', 'a', '1', 'b', '2', long('m'), 'long-1', 'z', '26');
    ldb(db, 'compact');
    ldb(db, 'batchput', 'c', '3', long('n'), 'long-2', 'b', '22');
    await expectMatchesOracle(db, ['default']);
    expect((await readTable(db, 'default')).map(([k]) => k.length)).toEqual([2, 2, 2, 18000, 18000, 2]);
  });

  test('the same logical content with and without compaction reads identically', async () => {
    const a = ldbDatabase(false);
    const b = ldbDatabase(true);
    expect(files(a, /\.sst$/).map((f) => f.slice(-10))).not.toEqual(files(b, /\.sst$/).map((f) => f.slice(-10)));
    for (const cf of ['default', 'meta']) expect(await readTable(a, cf)).toEqual(await readTable(b, cf));
    await expectMatchesOracle(b, ['default', 'meta']);
  });

  test('an ldb checkpoint of a database reads like the database', async () => {
    const db = ldbDatabase(false);
    const cp = fresh('cp');
    ldb(db, 'checkpoint', `--checkpoint_dir=${cp}`);
    for (const cf of ['default', 'meta']) expect(await readTable(cp, cf)).toEqual(oracleScan(db, cf));
  });

  test.each(['no', 'snappy', 'lz4', 'zstd', 'zlib'])(
    'ldb load + compact with %s compression: several files per level, then L0 overwrites and a range deletion across file boundaries',
    async (compression) => {
      const db = fresh('load');
      const lines: string[] = [];
      for (let i = 0; i < 3000; i++) lines.push(`key${String((i * 7919) % 3001).padStart(6, '0')} ==> value-${i}-${'x'.repeat(i % 50)}`);
      writeFileSync(`${db}.txt`, `${lines.join('\n')}\n`);
      const small = [`--compression_type=${compression}`, '--file_size=8192', '--write_buffer_size=65536'];
      execLdbWithInput(db, ['load', '--create_if_missing', ...small], `${db}.txt`);
      ldb(db, ...small, 'compact');
      ldb(db, 'deleterange', 'key000100', 'key002000');
      ldb(db, 'batchput', 'key000150', 'back', 'key000001', 'new', 'key002999', 'newer');
      ldb(db, 'delete', 'key002998');
      const version = await readManifest(db);
      expect(Math.max(...version.columnFamilies[0]!.levels.map((l) => l.length))).toBeGreaterThan(1);
      await expectMatchesOracle(db, ['default']);
    },
  );
});

function execLdbWithInput(db: string, args: string[], inputFile: string): void {
  execFileSync(LDB, [`--db=${db}`, ...args], { input: readFileSync(inputFile), stdio: ['pipe', 'pipe', 'pipe'] });
}

describe.skipIf(!HAVE_FIXTURE)('generated databases (make-fixture)', () => {
  test('overwrites across L0 and L1+, deletions, single deletions, range deletions across levels, WAL keys', async () => {
    const db = fresh('mf');
    makeFixture([
      '--db', db, '--keys', '400', '--rounds', '5', '--compact-after', '2', '--deletes', '3', '--single-deletes', '4',
      '--range-deletes', '3', '--wal-keys', '25', '--cf', 'c2:lz4', '--cf', 'c3:none', '--compression', 'zstd',
    ]);
    expect(files(db, /\.log$/).length).toBeGreaterThan(0);
    await expectMatchesOracle(db, ['default', 'c2', 'c3']);
  });

  test('a checkpoint holding WAL-only data (never flushed for the checkpoint)', async () => {
    const db = fresh('mfdb');
    const cp = fresh('mfcp');
    makeFixture(['--db', db, '--checkpoint', cp, '--keys', '200', '--rounds', '2', '--wal-keys', '50', '--cf', 'second']);
    const wal = files(cp, /\.log$/);
    expect(wal.length).toBeGreaterThan(0);
    for (const cf of ['default', 'second']) expect(await readTable(cp, cf)).toEqual(oracleScan(db, cf));
  });

  test('everything only in the WAL, with records fragmented across 32 KiB blocks', async () => {
    const db = fresh('walonly');
    makeFixture(['--db', db, '--no-flush', '--keys', '60', '--rounds', '3', '--value-size', '40000', '--deletes', '2',
      '--single-deletes', '3', '--range-deletes', '2', '--cf', 'b']);
    expect(files(db, /\.sst$/)).toEqual([]);
    await expectMatchesOracle(db, ['default', 'b']);
  });

  test.each([
    ['format_version 2, xxhash, partitioned index', ['--format-version', '2', '--checksum', 'xxhash', '--index', 'partitioned']],
    ['format_version 5, xxh3, restart interval 1', ['--format-version', '5', '--checksum', 'xxh3', '--restart-interval', '1']],
    ['format_version 4, snappy, first-key index', ['--format-version', '4', '--compression', 'snappy', '--index', 'first-key']],
    ['format_version 3, lz4, hash index', ['--format-version', '3', '--compression', 'lz4', '--index', 'hash']],
    ['zlib, data block hash index, 1 KiB blocks', ['--compression', 'zlib', '--hash-index', '--block-size', '1024']],
  ])('several levels with %s', async (_, extra) => {
    const db = fresh('fv');
    makeFixture(['--db', db, '--keys', '500', '--rounds', '4', '--compact-after', '1', '--deletes', '5', '--range-deletes', '2', ...extra]);
    await expectMatchesOracle(db, ['default']);
  });

  test('listTables estimates live entries from table properties and the WAL', async () => {
    const db = fresh('est');
    makeFixture(['--db', db, '--keys', '300', '--rounds', '1', '--wal-keys', '10', '--cf', 'x']);
    const source = await openRocksDbCheckpoint(db);
    try {
      const tables = await source.listTables();
      expect(tables.map((t) => t.name)).toEqual(['default', 'x']);
      for (const t of tables) expect(t.estimatedEntries).toBe((await readTable(db, t.name)).length);
    } finally {
      await source.close();
    }
  });

  test('merge operands are UNSUPPORTED_FEATURE, in table files and in the WAL', async () => {
    for (const flush of [[], ['--no-flush']]) {
      const db = fresh('merge');
      makeFixture(['--db', db, '--keys', '20', '--merges', '5', '--cf', 'plain', ...flush]);
      const e = await snapshotErrorOf(() => readTable(db, 'default'));
      expect(e.code).toBe('UNSUPPORTED_FEATURE');
      expect(e.message).toMatch(/merge/i);
    }
  });

  test('blob files are UNSUPPORTED_FEATURE for their family; the MANIFEST still opens', async () => {
    const db = fresh('blob');
    makeFixture(['--db', db, '--keys', '20', '--blob-min-size', '10']);
    const source = await openRocksDbCheckpoint(db);
    try {
      expect((await source.listTables()).map((t) => t.name)).toContain('default');
    } finally {
      await source.close();
    }
    const e = await snapshotErrorOf(() => readTable(db, 'default'));
    expect(e.code).toBe('UNSUPPORTED_FEATURE');
    expect(e.message).toMatch(/blob/i);
  });

  test('wide-column entities are UNSUPPORTED_FEATURE', async () => {
    const db = fresh('wide');
    makeFixture(['--db', db, '--keys', '20', '--wide-columns', '3']);
    expect((await snapshotErrorOf(() => readTable(db, 'default'))).code).toBe('UNSUPPORTED_FEATURE');
  });
});

describe.skipIf(!HAVE_LDB)('bad checkpoints', () => {
  let good: string;
  beforeAll(() => {
    good = ldbDatabase(false);
  });
  const copy = () => {
    const d = fresh('bad');
    cpSync(good, d, { recursive: true });
    return d;
  };

  test('a missing directory is NOT_FOUND; a directory without CURRENT is not a checkpoint', async () => {
    expect((await snapshotErrorOf(() => openRocksDbCheckpoint(join(root, 'nope')))).code).toBe('NOT_FOUND');
    expect(await isRocksDbCheckpoint(join(root, 'nope'))).toBe(false);
    expect(await isRocksDbCheckpoint(good)).toBe(true);
    const d = copy();
    rmSync(join(d, 'CURRENT'));
    expect(await isRocksDbCheckpoint(d)).toBe(false);
    expect((await snapshotErrorOf(() => openRocksDbCheckpoint(d))).code).toBe('NOT_FOUND');
  });

  test('an unknown table is UNKNOWN_TABLE', async () => {
    expect((await snapshotErrorOf(() => readTable(good, 'tmp'))).code).toBe('UNKNOWN_TABLE');
  });

  test('garbage in CURRENT is CORRUPT_CHECKPOINT', async () => {
    const d = copy();
    writeFileSync(join(d, 'CURRENT'), 'MANIFEST-zz\n');
    const e = await snapshotErrorOf(() => openRocksDbCheckpoint(d));
    expect([e.code, e.file]).toEqual(['CORRUPT_CHECKPOINT', join(d, 'CURRENT')]);
  });

  test('a flipped byte in the MANIFEST is CORRUPT_CHECKPOINT at its record', async () => {
    const d = copy();
    const [manifest] = files(d, /^MANIFEST-/);
    flipByte(manifest!, 20);
    const e = await snapshotErrorOf(() => openRocksDbCheckpoint(d));
    expect([e.code, e.file, e.offset]).toEqual(['CORRUPT_CHECKPOINT', manifest, 0]);
  });

  test('a truncated MANIFEST is CORRUPT_CHECKPOINT', async () => {
    const d = copy();
    const [manifest] = files(d, /^MANIFEST-/);
    truncateSync(manifest!, readFileSync(manifest!).length - 3);
    expect((await snapshotErrorOf(() => openRocksDbCheckpoint(d))).code).toBe('CORRUPT_CHECKPOINT');
  });

  test('a flipped byte in the WAL is CORRUPT_CHECKPOINT when a table is read', async () => {
    const d = copy();
    const wal = files(d, /\.log$/).pop()!;
    flipByte(wal, 12);
    const e = await snapshotErrorOf(() => readTable(d, 'default'));
    expect([e.code, e.file, e.offset]).toEqual(['CORRUPT_CHECKPOINT', wal, 0]);
  });

  test('a missing live table file is CORRUPT_CHECKPOINT naming it', async () => {
    const d = copy();
    const sst = files(d, /\.sst$/)[0]!;
    rmSync(sst);
    const e = await snapshotErrorOf(() => readAll(d));
    expect([e.code, e.file]).toEqual(['CORRUPT_CHECKPOINT', sst]);
  });

  test('a damaged table file is CORRUPT_CHECKPOINT', async () => {
    const d = copy();
    const sst = files(d, /\.sst$/)[0]!;
    const size = readFileSync(sst).length;
    flipByte(sst, size - 10); // inside the footer's magic number
    expect((await snapshotErrorOf(() => readAll(d))).code).toBe('CORRUPT_CHECKPOINT');
  });

  test('random damage to MANIFEST, WAL and CURRENT only ever raises SnapshotError', async () => {
    let seed = 12345;
    const rand = (m: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % m;
    };
    const d = copy();
    const targets = [...files(d, /^MANIFEST-/), ...files(d, /\.log$/), join(d, 'CURRENT')];
    const originals = targets.map((t) => readFileSync(t));
    for (let i = 0; i < 150; i++) {
      const which = rand(targets.length);
      const b = Buffer.from(originals[which]!);
      let damaged: Buffer;
      if (rand(4) === 0) damaged = b.subarray(0, rand(b.length));
      else {
        for (let k = 0; k <= rand(3); k++) b[rand(b.length)] = rand(256);
        damaged = b;
      }
      writeFileSync(targets[which]!, damaged);
      try {
        await readAll(d);
      } catch (e) {
        if (!isSnapshotError(e)) throw e;
        expect(['CORRUPT_CHECKPOINT', 'UNSUPPORTED_FEATURE', 'NOT_FOUND']).toContain(e.code);
      }
      writeFileSync(targets[which]!, originals[which]!);
    }
  });
});

describe.skipIf(!HAVE_LDB)('read-only by construction', () => {
  test('reading good and corrupt checkpoints changes no file: content, size, mtime, mode, directory listing', async () => {
    const good = ldbDatabase(false);
    const corrupt = fresh('ro-bad');
    cpSync(good, corrupt, { recursive: true });
    flipByte(files(corrupt, /\.log$/).pop()!, 12);
    const walOnly = fresh('ro-wal');
    ldb(walOnly, '--create_if_missing', 'batchput', 'a', '1', 'b', '2');
    const dirs = [good, corrupt, walOnly];
    if (HAVE_FIXTURE) {
      const mf = fresh('ro-mf');
      makeFixture(['--db', mf, '--keys', '100', '--rounds', '3', '--compact-after', '0', '--merges', '2', '--wal-keys', '5']);
      dirs.push(mf);
    }
    const before = dirs.map(fingerprint);
    for (const d of dirs) {
      await readAll(d).catch((e: unknown) => {
        if (!isSnapshotError(e)) throw e;
      });
    }
    expect(dirs.map(fingerprint)).toEqual(before);
  });
});

describe.skipIf(!HAVE_LDB || process.platform !== 'linux')('resources', () => {
  const openFds = () => readdirSync('/proc/self/fd').length;

  test('abandoning a table part-way, or closing the source mid-read, closes every file', async () => {
    const db = fresh('fds');
    ldb(db, '--create_if_missing', 'batchput', 'a', '1', 'b', '2');
    ldb(db, 'batchput', 'c', '3', 'd', '4');
    ldb(db, 'batchput', 'e', '5');
    const before = openFds();
    const source = await openRocksDbCheckpoint(db, { batchSize: 1 });
    for await (const batch of source.entries('default')) {
      expect(batch.length).toBe(1);
      break;
    }
    const it = source.entries('default')[Symbol.asyncIterator]();
    await it.next();
    await source.close();
    expect(openFds()).toBe(before);
  });
});
