/**
 * Exported column families (src/sources/rocksdb-export/) made by real RocksDB:
 * Checkpoint::ExportColumnFamily in the fixture tool, whose in-memory metadata the tool writes as
 * metadata.json in Restate's layout. The export's digest must equal the digest of the same family
 * in a checkpoint taken just before, and of its `ldb scan` dump; nothing in the directory changes.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDigest } from '../../../src/format/digest.js';
import { digestSource } from '../../../src/report/digest-source.js';
import { openRocksDbCheckpoint } from '../../../src/sources/rocksdb/index.js';
import { openRocksDbExport } from '../../../src/sources/rocksdb-export/index.js';
import type { Source } from '../../../src/sources/source.js';
import { runCli } from '../../helpers/cli.js';
import { cleanup, fingerprint, makeFixture, tempDir } from '../rocksdb/helpers.js';
import { digestHere, digestOf, EPOCH, ldbDigest, walrusShaped } from '../rocksdb-backup/fixtures.js';

const FAMILY = 'per_object_blob_info';
let dir: string;
let exported: string;
let checkpoint: string;

interface ExportedFile {
  name: string;
  level: number;
  size: number;
  start_key: string;
  end_key: string;
  column_family_name: string;
}

beforeAll(() => {
  dir = tempDir('sv-export-');
  exported = join(dir, 'export');
  checkpoint = join(dir, 'checkpoint');
  makeFixture(['--db', join(dir, 'db'), ...walrusShaped(31), '--checkpoint', checkpoint, '--export', exported, '--export-cf', FAMILY]);
}, 60_000);
afterAll(() => cleanup(dir));

function metadata(d = exported): { db_comparator_name: string; files: ExportedFile[] } {
  return JSON.parse(readFileSync(join(d, 'metadata.json'), 'utf8'));
}

function copyOf(name: string): string {
  const to = join(dir, name);
  cpSync(exported, to, { recursive: true });
  return to;
}

async function failure(d: string, tables = FAMILY): Promise<{ code: number | null; stderr: string; error: { code: string; file: string; offset: number | null } }> {
  const r = await runCli(['digest', d, '--tables', tables, '--epoch', String(EPOCH), '--json']);
  return { code: r.code, stderr: r.stderr, error: JSON.parse(r.stdout).error };
}

describe('digest of an exported column family', () => {
  it('equals the digest of the family in a checkpoint of the same state and of its ldb dump; the table is named by --tables when RocksDB\'s metadata names none', async () => {
    const md = metadata();
    // RocksDB 7.8's ExportImportFilesMetaData leaves column_family_name empty; levels 0 and lower ones are both there.
    expect(md.files.every((f) => f.column_family_name === '')).toBe(true);
    expect(new Set(md.files.map((f) => f.level > 0)).size).toBe(2);
    const before = fingerprint(exported);
    const r = await digestOf(exported, [FAMILY]);
    expect(r.node.sourceKind).toBe('rocksdb-export');
    expect(r.digest).toBe(await digestHere(checkpoint, {}, [FAMILY]));
    expect(r.digest).toBe(ldbDigest(checkpoint, [FAMILY]));
    expect(fingerprint(exported)).toEqual(before);
  }, 60_000);

  it('the read options are checked as a checkpoint\'s are (batchSize, rangeBytes: positive integers); valid ones keep the digest', async () => {
    const anchor = { epoch: EPOCH, cursor: { index: 0n }, maxChunkBytes: 0n, tables: [{ id: 0, name: FAMILY }] };
    const digestWith = async (source: Source): Promise<string> => {
      try {
        return formatDigest((await digestSource(source, { anchor })).summary.digest);
      } finally {
        await source.close();
      }
    };
    for (const bad of [{ batchSize: 0 }, { rangeBytes: -1 }, { rangeBytes: 1.5 }]) {
      await expect(digestWith(await openRocksDbExport(exported, bad))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/must be a positive integer/) });
      await expect(openRocksDbCheckpoint(checkpoint, bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    expect(await digestWith(await openRocksDbExport(exported, { batchSize: 7, rangeBytes: 4096 }))).toBe(await digestHere(exported, {}, [FAMILY]));
  }, 60_000);

  it('reads Restate\'s metadata.json (PartitionSnapshotMetadata V1): the table is the column family it names', async () => {
    const d = copyOf('restate');
    const md = metadata(d);
    const restate = {
      version: 'V1', cluster_name: 'c', partition_id: 0, node_name: 'n1', created_at: '2026-01-01T00:00:00Z', snapshot_id: 'snap_1',
      key_range: { start: 0, end: 100 }, log_id: 0, min_applied_lsn: 42, db_comparator_name: md.db_comparator_name,
      files: md.files.map((f) => ({ ...f, column_family_name: FAMILY, directory: '/var/restate/db' })),
    };
    writeFileSync(join(d, 'metadata.json'), JSON.stringify(restate, null, 2));
    const list = await runCli(['digest', d, '--epoch', '7']);
    expect(list.code).toBe(64);
    expect(list.stderr).toContain(`holds 1 table(s)`);
    expect(list.stderr).toContain(FAMILY);
    expect((await digestOf(d, [FAMILY])).digest).toBe(await digestHere(checkpoint, {}, [FAMILY]));
    const other = await failure(d, 'storage_pool_info');
    expect(other.code).toBe(2);
    expect(other.error.code).toBe('UNKNOWN_TABLE');
    // Another metadata version is not guessed at.
    writeFileSync(join(d, 'metadata.json'), JSON.stringify({ ...restate, version: 'V2' }));
    const v2 = await failure(d);
    expect(v2.code).toBe(4);
    expect(v2.error.code).toBe('UNSUPPORTED_FEATURE');
  }, 60_000);

  it('a flipped byte in an exported SST is CORRUPT_CHECKPOINT naming the file and the block offset', async () => {
    const d = copyOf('flip');
    const f = metadata(d).files[0]!;
    const path = join(d, f.name.replace(/^\//, ''));
    const bytes = readFileSync(path);
    bytes[60] = bytes[60]! ^ 0x04;
    writeFileSync(path, bytes);
    const r = await failure(d);
    expect(r.code).toBe(3);
    expect(r.error).toMatchObject({ code: 'CORRUPT_CHECKPOINT', file: path, offset: 0 });
  }, 30_000);

  it('a file of another size than the metadata lists, a missing file, overlapping files in one level, and a FIFO are CORRUPT_CHECKPOINT', async () => {
    const size = copyOf('size');
    const md = metadata(size);
    md.files[0]!.size += 1;
    writeFileSync(join(size, 'metadata.json'), JSON.stringify(md));
    expect((await failure(size)).error).toMatchObject({ code: 'CORRUPT_CHECKPOINT', file: join(size, md.files[0]!.name.replace(/^\//, '')) });

    const missing = copyOf('missing');
    rmSync(join(missing, metadata(missing).files[0]!.name.replace(/^\//, '')));
    expect((await failure(missing)).error.code).toBe('CORRUPT_CHECKPOINT');

    const overlap = copyOf('overlap');
    const mo = metadata(overlap);
    const lower = mo.files.filter((f) => f.level > 0);
    for (const f of lower) f.level = 1;
    // Two files claiming one level must not overlap; make them.
    const all = mo.files.filter((f) => f.level === 0);
    if (all.length > 0 && lower.length > 0) {
      all[0]!.level = 1;
      all[0]!.start_key = lower[0]!.start_key;
    }
    writeFileSync(join(overlap, 'metadata.json'), JSON.stringify(mo));
    const o = await failure(overlap);
    expect(o.code).toBe(3);
    expect(o.stderr).toContain('overlap');

    const fifo = copyOf('fifo');
    const name = metadata(fifo).files[0]!.name.replace(/^\//, '');
    rmSync(join(fifo, name));
    expect(spawnSync('mkfifo', [join(fifo, name)]).status).toBe(0);
    const ff = await failure(fifo);
    expect(ff.code).toBe(3);
    expect(ff.stderr).toContain('not a regular file');
  }, 60_000);
});
