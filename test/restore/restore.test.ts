/**
 * restore: real RocksDB is the judge. Every restored database is opened by Debian's ldb 7.8.3
 * (list_column_families, scan, checkconsistency), its SST files pass sst_dump's checksum check,
 * open-db.cc (librocksdb 7.8.3) loads its OPTIONS, opens it read-write, verifies every checksum
 * and iterates; --sst-only files are ingested into a fresh database by ldb ingest_extern_sst.
 * Content is compared with the golden manifest (independent of our reader) or with the written
 * tables, and our digest of the restored directory with the snapshot's.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDigest } from '../../src/format/digest.js';
import { SnapshotError } from '../../src/format/errors.js';
import type { SnapshotAnchor } from '../../src/format/header.js';
import { fileSink } from '../../src/format/sinks.js';
import { digestSource } from '../../src/report/digest-source.js';
import { restoreSnapshot, type RestoreReport } from '../../src/restore/restore.js';
import type { Entry } from '../../src/sources/source.js';
import { openRocksDbCheckpoint } from '../../src/sources/rocksdb/index.js';
import { TableReader } from '../../src/sources/rocksdb/table/index.js';
import { loadManifest, goldenPath, type GoldenCase } from '../helpers/golden.js';
import { oracleScan } from '../sources/rocksdb/helpers.js';
import {
  cleanup,
  digestOfDatabase,
  freshDatabase,
  hexEntries,
  ldb,
  listColumnFamilies,
  openDbContent,
  openDbTool,
  sstDumpCheck,
  sstFiles,
  tempDir,
  writeSnapshotFile,
} from './helpers.js';

let work: string;
let n = 0;
const next = (what: string): string => join(work, `${what}-${n++}`);

beforeAll(() => {
  work = tempDir('sv-restore-');
  openDbTool(); // build once, outside any test's time budget
}, 120_000);
afterAll(() => cleanup(work));

function anchorOf(c: GoldenCase, names: readonly string[]): SnapshotAnchor {
  const eventId = Buffer.from(c.anchor.eventIdHex, 'hex');
  return {
    epoch: BigInt(c.anchor.epoch),
    cursor: eventId.length === 0 ? { index: BigInt(c.anchor.cursorIndex) } : { index: BigInt(c.anchor.cursorIndex), eventId: new Uint8Array(eventId) },
    maxChunkBytes: BigInt(c.anchor.maxChunkBytes),
    tables: c.anchor.tables.filter((t) => names.includes(t.name)),
  };
}

/** Asserts that RocksDB sees exactly `tables` (name → hex entries) in the database `db`. */
function judgeDatabase(db: string, tables: ReadonlyMap<string, [string, string][]>, scanEach = true): void {
  expect(new Set(listColumnFamilies(db))).toEqual(new Set(['default', ...tables.keys()]));
  expect(ldb(db, 'checkconsistency')).toMatch(/OK/);
  for (const f of sstFiles(db)) sstDumpCheck(f);
  // ldb scan opens the whole database per family; with many families open-db alone iterates them all.
  if (scanEach) for (const [name, entries] of tables) expect(oracleScan(db, name), `ldb scan of ${name}`).toEqual(entries);
  const opened = openDbContent(db);
  expect(new Set(opened.keys())).toEqual(new Set(['default', ...tables.keys()]));
  for (const [name, entries] of opened) expect(entries, `open-db iteration of ${name}`).toEqual(tables.get(name) ?? []);
}

/** Ingests each table's --sst-only files into a fresh ldb database and scans it back. */
function judgeIngestion(report: RestoreReport, tables: ReadonlyMap<string, [string, string][]>): void {
  const db = freshDatabase(next('fresh'), [...tables.keys()]);
  for (const t of report.tables) {
    for (const f of t.files) sstDumpCheck(join(report.dir, f));
    // ldb ingests one file per call; a table's files do not overlap, so each lands on its own.
    for (const f of t.files) ldb(db, `--column_family=${t.name}`, 'ingest_extern_sst', join(report.dir, f));
  }
  for (const [name, entries] of tables) expect(oracleScan(db, name), `scan of ingested ${name}`).toEqual(entries);
}

describe('restore: every valid golden case (golden/v1) becomes RocksDB files with the same content', () => {
  const cases = loadManifest('v1').cases;
  it('has cases to check', () => expect(cases.length).toBeGreaterThanOrEqual(12));

  for (const c of cases) {
    const restorable = c.tables.filter((t) => !t.name.includes('\0'));
    const expected = new Map(restorable.map((t) => [t.name, t.entries] as [string, [string, string][]]));
    const subset = restorable.length < c.tables.length ? { tables: restorable.map((t) => t.name) } : {};

    it(`${c.name}: database that ldb, sst_dump and librocksdb open, digest ${restorable.length < c.tables.length ? 'of each table ' : ''}equal to the snapshot's`, async () => {
      const to = next(`db-${c.name}`);
      const report = await restoreSnapshot(goldenPath('v1', c), { to, ...subset });
      expect(formatDigest(report.snapshot.digest)).toBe(c.digest);
      expect(report.tables.map((t) => t.entries)).toEqual(restorable.map((t) => Number(t.entryCount)));
      judgeDatabase(to, expected);
      const digest = await digestOfDatabase(to, anchorOf(c, restorable.map((t) => t.name)));
      if (restorable.length === c.tables.length) expect(formatDigest(digest.digest)).toBe(c.digest);
      expect(digest.tables.map((t) => formatDigest(t.digest))).toEqual(restorable.map((t) => t.digest));
    });

    it(`${c.name}: --sst-only files that ldb ingest_extern_sst takes into a fresh database`, async () => {
      const to = next(`sst-${c.name}`);
      const report = await restoreSnapshot(goldenPath('v1', c), { to, sstOnly: true, compression: n % 2 === 0 ? 'zlib' : 'none', ...subset });
      // No CURRENT, MANIFEST or OPTIONS: only table files, none for an empty table.
      expect(readdirSync(to).every((f) => f.endsWith('.sst'))).toBe(true);
      expect(readdirSync(to).length).toBe(restorable.filter((t) => t.entryCount !== '0').length);
      judgeIngestion(report, expected);
    });
  }
});

describe('restore: the writer\'s tables read back through our own reader', () => {
  it('properties say what was written: entries, family, comparator, codec, ingestion version 2 with global seqno 0', async () => {
    const c = loadManifest('v1').cases.find((x) => x.name === 'blob-info')!;
    const to = next('props');
    const report = await restoreSnapshot(goldenPath('v1', c), { to, sstOnly: true, compression: 'zlib' });
    const reader = await TableReader.open(join(to, report.tables[0]!.files[0]!));
    try {
      const p = reader.properties;
      expect(p.numEntries).toBe(40);
      expect(p.columnFamilyName).toBe('aggregate_blob_info');
      expect(p.columnFamilyId).toBe(0x7fffffff);
      expect(p.comparator).toBe('leveldb.BytewiseComparator');
      expect(p.compression).toBe('Zlib');
      expect(p.formatVersion).toBe(5);
      expect(p.checksumName).toBe('kCRC32c');
      expect(p.externalSstFileVersion).toBe(2);
      expect(p.externalSstFileGlobalSeqno).toBe(0);
      const entries = [];
      for await (const batch of reader.entries()) entries.push(...batch);
      expect(entries.every((e) => e.sequence === 0 && e.type === 1)).toBe(true);
      expect(entries.map((e) => [Buffer.from(e.userKey).toString('hex'), Buffer.from(e.value).toString('hex')])).toEqual(c.tables[0]!.entries);
    } finally {
      await reader.close();
    }
  });
});

/** Content for the property test: table names (sometimes "default"), keys up to 64 KiB, values up to 1 MiB. */
const keyArb = fc.oneof(
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 24 }) },
  { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 65_536 }).map((len) => new Uint8Array(len).fill(0x6b)) },
);
const valueArb = fc.oneof(
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 1 << 20 }).map((len) => new Uint8Array(len).map((_, i) => (i * 7919) >>> 5)) },
);
const contentArb = fc
  .record({
    names: fc.uniqueArray(fc.oneof(fc.constant('default'), fc.stringMatching(/^[a-z_:#\\ ]{1,12}$/), fc.constant('ブロブ')), { maxLength: 5 }),
    tables: fc.array(fc.array(fc.tuple(keyArb, valueArb), { maxLength: 60 }), { minLength: 5, maxLength: 5 }),
    compression: fc.constantFrom('none' as const, 'zlib' as const),
    maxSstBytes: fc.constantFrom(512, 8192, 1 << 26),
  })
  .map(({ names, tables, compression, maxSstBytes }) => {
    const sortedNames = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const content: Entry[][] = sortedNames.map((_, i) => {
      const byKey = new Map<string, Entry>();
      for (const [key, value] of tables[i]!) byKey.set(Buffer.from(key).toString('hex'), { key, value });
      return [...byKey.values()].sort((a, b) => Buffer.compare(a.key, b.key));
    });
    const anchor: SnapshotAnchor = { epoch: 9n, cursor: { index: 3n }, maxChunkBytes: 0n, tables: sortedNames.map((name, i) => ({ id: 2 * i + 1, name })) };
    return { anchor, content, compression, maxSstBytes };
  });

describe('restore: generated contents (empty tables, 64 KiB keys, 1 MiB values, "default", odd names, file cuts)', () => {
  it('restored database: RocksDB reads the same entries and our digest equals the snapshot digest', async () => {
    await fc.assert(
      fc.asyncProperty(contentArb, async ({ anchor, content, compression, maxSstBytes }) => {
        const snap = next('gen.snap');
        const written = await writeSnapshotFile(snap, anchor, content);
        const to = next('gen-db');
        const report = await restoreSnapshot(snap, { to, compression, maxSstBytes });
        expect(report.snapshot.digest).toBe(written.digest);
        expect((await digestOfDatabase(to, anchor)).digest).toBe(written.digest);
        const tables = new Map(anchor.tables.map((t, i) => [t.name, hexEntries(content[i]!)] as [string, [string, string][]]));
        judgeDatabase(to, tables);
        // The default family exists even when no table is called "default", and is then empty.
        expect(report.tables.find((t) => t.columnFamilyId === 0)?.name ?? 'default').toBe('default');
        const sst = next('gen-sst');
        judgeIngestion(await restoreSnapshot(snap, { to: sst, sstOnly: true, compression, maxSstBytes }), tables);
      }),
      { numRuns: 6, seed: 12, endOnFailure: true },
    );
  }, 600_000);

  it('many tables: 100 column families, ids 1..100 in catalog order, default empty', async () => {
    const names = Array.from({ length: 100 }, (_, i) => `t${String(i).padStart(3, '0')}`);
    const anchor: SnapshotAnchor = { epoch: 1n, cursor: { index: 0n }, maxChunkBytes: 4096n, tables: names.map((name, i) => ({ id: i + 10, name })) };
    const content = names.map((name, i) => (i % 7 === 0 ? [] : [{ key: Buffer.from(name), value: Buffer.from(`v${i}`) }]));
    const snap = next('many.snap');
    const written = await writeSnapshotFile(snap, anchor, content);
    const to = next('many-db');
    const report = await restoreSnapshot(snap, { to });
    expect(report.tables.map((t) => t.columnFamilyId)).toEqual(names.map((_, i) => i + 1));
    expect((await digestOfDatabase(to, anchor)).digest).toBe(written.digest);
    judgeDatabase(to, new Map(names.map((name, i) => [name, hexEntries(content[i]!)] as [string, [string, string][]])), false);
    expect(oracleScan(to, 't099')).toEqual(hexEntries(content[99]!));
  }, 300_000);

  it('a large table cut into many SST files on the last level: ordered, non-overlapping, consistent', async () => {
    const count = 50_000;
    const entries = Array.from({ length: count }, (_, i) => ({ key: Buffer.from(`key-${String(i * 37).padStart(9, '0')}`), value: Buffer.from(Array.from({ length: i % 300 }, (_, j) => (i * 31 + j * 17) & 0xff)) }));
    const anchor: SnapshotAnchor = { epoch: 2n, cursor: { index: 0n }, maxChunkBytes: 0n, tables: [{ id: 1, name: 'big' }] };
    const snap = next('big.snap');
    const written = await writeSnapshotFile(snap, anchor, [entries]);
    const to = next('big-db');
    const report = await restoreSnapshot(snap, { to, maxSstBytes: 256 * 1024, compression: 'zlib' });
    expect(report.tables[0]!.files.length).toBeGreaterThan(3);
    expect((await digestOfDatabase(to, anchor)).digest).toBe(written.digest);
    judgeDatabase(to, new Map([['big', hexEntries(entries)]]));
    expect(ldb(to, 'manifest_dump')).toMatch(/--- level 6 ---/);
  }, 300_000);
});

describe('restore: real checkpoints → digest --out → restore → the same digest', () => {
  const fixtures = join(import.meta.dirname, '..', 'fixtures', 'rocksdb', 'checkpoints');
  const checkpoints: [string, string[]][] = [
    [join(import.meta.dirname, '..', '..', 'examples', 'checkpoint_epoch_42'), ['aggregate_blob_info', 'per_object_blob_info']],
    ...readdirSync(fixtures)
      .filter((d) => existsSync(join(fixtures, d, 'CURRENT')) && d !== 'merge-operands')
      .map((d) => [join(fixtures, d), []] as [string, string[]]),
  ];
  for (const [dir, chosen] of checkpoints) {
    it(`${dir.split('/').slice(-1)[0]}`, async () => {
      const source = await openRocksDbCheckpoint(dir);
      const names = chosen.length > 0 ? chosen : (await source.listTables()).map((t) => t.name);
      const anchor: SnapshotAnchor = { epoch: 42n, cursor: { index: 7n }, maxChunkBytes: 0n, tables: names.map((name, i) => ({ id: i + 1, name })) };
      const snap = next('real.snap');
      let summary;
      try {
        summary = (await digestSource(source, { anchor, sink: fileSink(snap) })).summary;
      } finally {
        await source.close();
      }
      const to = next('real-db');
      await restoreSnapshot(snap, { to });
      expect((await digestOfDatabase(to, anchor)).digest).toBe(summary.digest);
      const tables = new Map<string, [string, string][]>();
      for (const name of names) tables.set(name, oracleScan(dir, name));
      judgeDatabase(to, tables);
    }, 120_000);
  }
});

describe('restore: bad input leaves nothing RocksDB could open', () => {
  const blobInfo = (): GoldenCase => loadManifest('v1').cases.find((x) => x.name === 'blob-info')!;
  const leftovers = (to: string): string[] => readdirSync(dirname(to)).filter((f) => f.includes(to.split('/').pop()!));

  async function codeOf(p: Promise<unknown>): Promise<SnapshotError> {
    try {
      await p;
    } catch (e) {
      if (e instanceof SnapshotError) return e;
      throw e;
    }
    throw new Error('resolved');
  }

  it('a damaged snapshot: the reader\'s code and offset, no target, no temporary directory', async () => {
    const bytes = readFileSync(goldenPath('v1', blobInfo()));
    for (const at of [200, bytes.length - 3]) {
      const damaged = Buffer.from(bytes);
      damaged[at] = damaged[at]! ^ 0x40;
      const snap = next('damaged.snap');
      writeFileSync(snap, damaged);
      const to = next('damaged-db');
      const e = await codeOf(restoreSnapshot(snap, { to }));
      expect(['CHECKSUM_MISMATCH', 'BAD_RECORD', 'UNSORTED_KEYS', 'NON_CANONICAL']).toContain(e.code);
      expect(e.offset).toBeTypeOf('number');
      expect(existsSync(to)).toBe(false);
      expect(leftovers(to)).toEqual([]);
    }
  });

  it('damaged after many SST files were written and synced: nothing left, no descriptor left open', async () => {
    // Files complete and are fsynced in the background while the next are built; the damage is
    // found only at the trailer, when several of those syncs may still be running.
    const entries = Array.from({ length: 20_000 }, (_, i) => ({ key: Buffer.from(`k${String(i).padStart(8, '0')}`), value: Buffer.alloc(60, i & 0xff) }));
    const anchor: SnapshotAnchor = { epoch: 1n, cursor: { index: 0n }, maxChunkBytes: 0n, tables: [{ id: 1, name: 't' }] };
    const good = next('many.snap');
    await writeSnapshotFile(good, anchor, [entries]);
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const bytes = readFileSync(good);
    for (const at of [bytes.length - 3, bytes.length >> 1]) {
      const damaged = Buffer.from(bytes);
      damaged[at] = damaged[at]! ^ 0x01;
      const snap = next('many-damaged.snap');
      writeFileSync(snap, damaged);
      const to = next('many-damaged-db');
      const before = fds();
      const e = await codeOf(restoreSnapshot(snap, { to, maxSstBytes: 16 * 1024 }));
      expect(['CHECKSUM_MISMATCH', 'UNSORTED_KEYS']).toContain(e.code);
      expect(fds()).toBe(before);
      expect(existsSync(to)).toBe(false);
      expect(leftovers(to)).toEqual([]);
    }
    // The same bytes undamaged: many files (so the failures above came after many were complete).
    const report = await restoreSnapshot(good, { to: next('many-db'), maxSstBytes: 16 * 1024 });
    expect(report.tables[0]!.files.length).toBeGreaterThan(20);
  });

  it('a truncated snapshot: TRUNCATED, nothing left', async () => {
    const bytes = readFileSync(goldenPath('v1', blobInfo()));
    const snap = next('cut.snap');
    writeFileSync(snap, bytes.subarray(0, bytes.length - 100));
    const to = next('cut-db');
    expect((await codeOf(restoreSnapshot(snap, { to }))).code).toBe('TRUNCATED');
    expect(leftovers(to)).toEqual([]);
  });

  it('an existing non-empty directory: OUTPUT_EXISTS, its contents untouched; an empty one is filled', async () => {
    const to = next('exists');
    mkdirSync(to);
    writeFileSync(join(to, 'keep'), 'x');
    expect((await codeOf(restoreSnapshot(goldenPath('v1', blobInfo()), { to }))).code).toBe('OUTPUT_EXISTS');
    expect(readdirSync(to)).toEqual(['keep']);
    const empty = next('empty');
    mkdirSync(empty);
    await restoreSnapshot(goldenPath('v1', blobInfo()), { to: empty });
    expect(readdirSync(empty)).toContain('CURRENT');
  });

  it('a table named with NUL: BAD_TABLE_NAME before anything is written', async () => {
    const extremes = loadManifest('v1').cases.find((x) => x.name === 'extremes')!;
    const to = next('nul');
    expect((await codeOf(restoreSnapshot(goldenPath('v1', extremes), { to }))).code).toBe('BAD_TABLE_NAME');
    expect(leftovers(to)).toEqual([]);
  });

  it('an unknown --tables name: UNKNOWN_TABLE', async () => {
    const to = next('unknown');
    expect((await codeOf(restoreSnapshot(goldenPath('v1', blobInfo()), { to, tables: ['nope'] }))).code).toBe('UNKNOWN_TABLE');
    expect(leftovers(to)).toEqual([]);
  });

  it('the pre-commit hook (where a certificate check plugs in) sees the verified digest and can veto', async () => {
    const to = next('veto');
    let seen: bigint | undefined;
    const veto = new SnapshotError('CHECKSUM_MISMATCH', 'not certified');
    await expect(restoreSnapshot(goldenPath('v1', blobInfo()), { to, beforeCommit: (s) => { seen = s.digest; throw veto; } })).rejects.toBe(veto);
    expect(formatDigest(seen!)).toBe(blobInfo().digest);
    expect(leftovers(to)).toEqual([]);
  });
});

describe('restore: runs of records whatever the input pieces', () => {
  it('a snapshot streamed in pieces of 1 to N bytes (views at an offset into larger buffers) restores to the same digest', async () => {
    const anchor: SnapshotAnchor = { epoch: 5n, cursor: { index: 0n }, maxChunkBytes: 0n, tables: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }] };
    const table = (tag: string, n: number): Entry[] => Array.from({ length: n }, (_, i) => ({ key: Buffer.from(`${tag}${String(i).padStart(5, '0')}`), value: Buffer.alloc(i % 97, i & 0xff) }));
    const snap = next('pieces.snap');
    const written = await writeSnapshotFile(snap, anchor, [table('a', 2500), table('b', 1500)]);
    const bytes = readFileSync(snap);
    for (const max of [7, 300, 70_000]) {
      let seed = max;
      const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
      async function* pieces(): AsyncGenerator<Uint8Array> {
        for (let p = 0; p < bytes.length; ) {
          const n = Math.min(1 + Math.floor(rnd() * max), bytes.length - p);
          const b = Buffer.alloc(n + 16);
          bytes.copy(b, 8, p, p + n);
          yield b.subarray(8, 8 + n);
          p += n;
        }
      }
      const to = next(`pieces-db-${max}`);
      const report = await restoreSnapshot(pieces(), { to, maxSstBytes: 20_000 });
      expect(report.tables[0]!.files.length).toBeGreaterThan(1);
      expect((await digestOfDatabase(to, anchor)).digest).toBe(written.digest);
    }
  }, 120_000);
});
