/**
 * Helpers for the restore tests: real RocksDB as the judge (Debian's ldb and sst_dump 7.8.3 and
 * open-db.cc built against Debian's librocksdb), our own digest of the restored directory, and
 * snapshots written by the library.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SnapshotSummary } from '../../src/format/encoder.js';
import type { SnapshotAnchor } from '../../src/format/header.js';
import { fileSink } from '../../src/format/sinks.js';
import { writeSnapshot, type TableContent } from '../../src/format/writer.js';
import { digestSource } from '../../src/report/digest-source.js';
import { openRocksDbCheckpoint } from '../../src/sources/rocksdb/index.js';
import { cleanup, FIXTURES, LDB, ldb, tempDir } from '../sources/rocksdb/helpers.js';

export { cleanup, ldb, tempDir };
export const SST_DUMP = '/usr/bin/sst_dump';
export const HAVE_ROCKSDB_TOOLS = existsSync(LDB) && existsSync(SST_DUMP);

const OPEN_DB_SOURCE = join(import.meta.dirname, 'open-db.cc');
const OPEN_DB = join(FIXTURES, '.build', 'open-db');

/** Builds open-db.cc against the system librocksdb (once; rebuilt when the source is newer). */
export function openDbTool(): string {
  if (!existsSync(OPEN_DB) || statSync(OPEN_DB_SOURCE).mtimeMs > statSync(OPEN_DB).mtimeMs) {
    mkdirSync(join(FIXTURES, '.build'), { recursive: true });
    if (!existsSync(join(FIXTURES, '.build', '.gitignore'))) writeFileSync(join(FIXTURES, '.build', '.gitignore'), '*\n');
    const tmp = `${OPEN_DB}.tmp.${process.pid}`;
    execFileSync('g++', ['-std=c++17', '-O1', '-o', tmp, OPEN_DB_SOURCE, '-lrocksdb', '-lpthread'], { stdio: 'pipe' });
    cpSync(tmp, OPEN_DB);
    cleanup(tmp);
  }
  return OPEN_DB;
}

/**
 * Runs open-db on a copy of `db` (it writes): LoadLatestOptions, read-write open, VerifyChecksum,
 * iteration, a put + flush + read-only reopen. Returns each family's entries by name.
 */
export function openDbContent(db: string): Map<string, [string, string][]> {
  const copy = tempDir('sv-open-db-');
  try {
    cpSync(db, join(copy, 'db'), { recursive: true });
    const r = spawnSync(openDbTool(), [join(copy, 'db')], { encoding: 'utf8', maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`open-db failed (${r.status}): ${r.stderr}`);
    const out = new Map<string, [string, string][]>();
    let current: [string, string][] = [];
    for (const line of r.stdout.split('\n')) {
      if (line === '') continue;
      const [a, b, c] = line.split(' ');
      if (a === 'cf') {
        current = [];
        out.set(Buffer.from(b!, 'hex').toString('utf8'), current);
        if (c === undefined) throw new Error(`bad open-db line ${line}`);
      } else {
        current.push([a!, b ?? '']);
      }
    }
    return out;
  } finally {
    cleanup(copy);
  }
}

/** `ldb list_column_families` as a list of names. */
export function listColumnFamilies(db: string): string[] {
  const out = ldb(db, 'list_column_families');
  const m = /\{(.*)\}/s.exec(out);
  if (m === null) throw new Error(`unexpected list_column_families output: ${out}`);
  return m[1]!.split(', ');
}

/** sst_dump --command=check --verify_checksum on one file; throws with its output on failure. */
export function sstDumpCheck(file: string): string {
  const r = spawnSync(SST_DUMP, [`--file=${file}`, '--command=check', '--verify_checksum'], { encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0 || /corrupt|error|mismatch/i.test(out)) throw new Error(`sst_dump check failed on ${file}: ${out}`);
  return out;
}

/** The SST files of a directory. */
export function sstFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.sst')).sort().map((f) => join(dir, f));
}

/** Our digest of a RocksDB directory under `anchor` (the digest command's pipeline). */
export async function digestOfDatabase(dir: string, anchor: SnapshotAnchor): Promise<SnapshotSummary> {
  const source = await openRocksDbCheckpoint(dir);
  try {
    return (await digestSource(source, { anchor })).summary;
  } finally {
    await source.close();
  }
}

/** Writes a snapshot file from in-memory tables. */
export async function writeSnapshotFile(path: string, anchor: SnapshotAnchor, tables: readonly TableContent[]): Promise<SnapshotSummary> {
  return writeSnapshot(fileSink(path), anchor, tables);
}

/** A fresh database made by ldb with the given column families (default always exists). */
export function freshDatabase(dir: string, families: readonly string[]): string {
  ldb(dir, '--create_if_missing', 'put', 'restore-test-probe', '1');
  ldb(dir, 'delete', 'restore-test-probe');
  for (const f of families) if (f !== 'default') ldb(dir, 'create_column_family', f);
  return dir;
}

/** Lower-case hex pairs of entries. */
export function hexEntries(entries: readonly { key: Uint8Array; value: Uint8Array }[]): [string, string][] {
  return entries.map((e) => [Buffer.from(e.key).toString('hex'), Buffer.from(e.value).toString('hex')]);
}
