/**
 * Test helpers for the RocksDB source: real databases made with Debian's `ldb` (RocksDB 7.8.3)
 * or the fixture generator, and `ldb scan` as the oracle. ldb opens a database read-write
 * (it recovers the WAL, flushes, rewrites the MANIFEST), so the oracle always runs on a copy.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { SnapshotError } from '../../../src/format/errors.js';
import type { Source } from '../../../src/sources/source.js';
import { openRocksDbCheckpoint } from '../../../src/sources/rocksdb/index.js';

export const LDB = '/usr/bin/ldb';
export const HAVE_LDB = existsSync(LDB);

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(here, '..', '..', 'fixtures', 'rocksdb');

/** A fresh temporary directory; removed by `cleanup`. */
export function tempDir(prefix = 'sv-rocksdb-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Runs ldb with `args` against `db`; throws with ldb's stderr on failure. */
export function ldb(db: string, ...args: string[]): string {
  return execFileSync(LDB, [`--db=${db}`, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 30,
  });
}

/** `ldb scan --hex` of one column family, run on a throw-away copy of `db`. */
export function oracleScan(db: string, columnFamily = 'default'): [string, string][] {
  const copy = tempDir('sv-oracle-');
  try {
    cpSync(db, join(copy, 'db'), { recursive: true });
    const out = ldb(join(copy, 'db'), 'scan', '--hex', `--column_family=${columnFamily}`);
    return out
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => {
        const m = /^0x([0-9A-Fa-f]*) : 0x([0-9A-Fa-f]*)$/.exec(l);
        if (m === null) throw new Error(`unexpected ldb scan line: ${l}`);
        return [m[1]!.toLowerCase(), m[2]!.toLowerCase()];
      });
  } finally {
    cleanup(copy);
  }
}

/** All entries of one table as lowercase hex pairs, checking strict ascending order. */
export async function readTable(dir: string, table: string): Promise<[string, string][]> {
  const source = await openRocksDbCheckpoint(dir);
  try {
    const out: [string, string][] = [];
    let prev: Buffer | undefined;
    for await (const batch of source.entries(table)) {
      for (const e of batch) {
        const k = Buffer.from(e.key);
        if (prev !== undefined && Buffer.compare(prev, k) >= 0) throw new Error('keys not strictly ascending');
        prev = k;
        out.push([k.toString('hex'), Buffer.from(e.value).toString('hex')]);
      }
    }
    return out;
  } finally {
    await source.close();
  }
}

/** Runs `fn` and returns the SnapshotError it rejects with (fails if it resolves or throws another type). */
export async function snapshotErrorOf(fn: () => Promise<unknown>): Promise<SnapshotError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof SnapshotError) return e;
    throw new Error(`expected a SnapshotError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected a SnapshotError, but it succeeded');
}

/** Opens `dir` and reads every table completely. */
export async function readAll(dir: string): Promise<void> {
  const source = await openRocksDbCheckpoint(dir);
  try {
    for (const t of await source.listTables()) {
      for await (const _ of source.entries(t.name)) {
        // drain
      }
    }
  } finally {
    await source.close();
  }
}

/** Content hash, size and mtime of every file under `dir`, to prove nothing was touched. */
export function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else {
        const sha = createHash('sha256').update(readFileSync(p)).digest('hex');
        out[p] = `${sha} ${st.size} ${st.mtimeMs} ${st.mode}`;
      }
    }
  };
  walk(dir);
  out['(entries)'] = readdirSync(dir).sort().join(',');
  return out;
}

let makeFixturePath: string | null | undefined;

/** The fixture generator's binary, built on first use; null when it cannot be built here. */
export function makeFixtureBinary(): string | null {
  if (makeFixturePath !== undefined) return makeFixturePath;
  const r = spawnSync('sh', [join(FIXTURES, 'build.sh')], { encoding: 'utf8' });
  makeFixturePath = r.status === 0 ? r.stdout.trim().split('\n').pop()! : null;
  return makeFixturePath;
}

/** Runs the fixture generator with `args` (see make-fixture.cc for the options). */
export function makeFixture(args: string[]): void {
  const bin = makeFixtureBinary();
  if (bin === null) throw new Error('make-fixture is not available');
  execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** make-fixture options of a checkpoint with several levels, three codecs, tombstones and WAL keys (the range tests'). */
export const SEVERAL_LEVELS_FIXTURE = ['--keys', '20000', '--rounds', '3', '--compact-after', '0', '--deletes', '7', '--range-deletes', '3',
  '--cf', 'a:lz4', '--cf', 'b:zstd', '--compression', 'snappy', '--wal-keys', '5'];

/** make-fixture options of a checkpoint whose merge operands have no operator to resolve them (the range tests'). */
export const MERGE_OPERAND_FIXTURE = ['--keys', '5000', '--rounds', '2', '--compact-after', '0', '--merges', '3', '--cf', 'a'];

/** Flips one byte in the middle of the largest table file among `files` (a data block's checksum then fails); returns its path. */
export function flipMiddleOfLargestTable(files: readonly string[]): string {
  const sst = files.filter((p) => p.endsWith('.sst')).sort((x, y) => statSync(y).size - statSync(x).size)[0]!;
  const bytes = readFileSync(sst);
  bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x40;
  writeFileSync(sst, bytes);
  return sst;
}

/** Every family of `source` as key=value lines (hex), or its error as code, file, offset and message after the entries read; closes it. */
export async function readAllTables(source: Pick<Source, 'listTables' | 'entries' | 'close'>): Promise<Record<string, string[] | string>> {
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
  return tables;
}

/**
 * The SEVERAL_LEVELS_FIXTURE checkpoint at `db` read by `read` (the way under test) gives exactly
 * what `reference` gives and what ldb scan prints, and nothing in it changes; after a flipped byte
 * in its largest table file, both give the same CORRUPT_CHECKPOINT (code, file, offset, message)
 * naming that file; with `sameEntriesBeforeError`, after as many entries too (another range size
 * may place the damaged block sooner: the entries before an error are no result).
 */
export async function expectAsReferenceAndLdb(
  db: string,
  read: (db: string) => Promise<Record<string, string[] | string>>,
  reference: (db: string) => Promise<Record<string, string[] | string>>,
  { sameEntriesBeforeError = false } = {},
): Promise<void> {
  const before = fingerprint(db);
  const got = await read(db);
  expect(got).toEqual(await reference(db));
  for (const cf of ['default', 'a', 'b']) expect(got[cf], cf).toEqual(oracleScan(db, cf).map(([k, v]) => `${k}=${v}`));
  expect(fingerprint(db)).toEqual(before);
  const sst = flipMiddleOfLargestTable(Object.keys(before));
  const errorsOf = (t: Record<string, string[] | string>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, typeof v === 'string' && !sameEntriesBeforeError ? v.replace(/ after \d+$/, '') : v]));
  const bad = await read(db);
  expect(errorsOf(bad)).toEqual(errorsOf(await reference(db)));
  expect(Object.values(bad).some((v) => typeof v === 'string' && v.startsWith(`CORRUPT_CHECKPOINT ${sst} `))).toBe(true);
}
