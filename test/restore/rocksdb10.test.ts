/**
 * restore judged by RocksDB 10.5.1 (the npm package rocksdb-native 3.18.1, prebuilt for
 * linux-x64; the same build test/fixtures/rocksdb/fv6 makes fixtures with) beside Debian's 7.8.3
 * (restore.test.ts): every golden case and generated contents are restored, and the directory is
 * opened read-only by RocksDB 10 with every column family; each family's entries must equal the
 * snapshot's (the golden manifest's hex, or the written tables). The package's librocksdb has no
 * zlib (opening a zlib table fails with "Zlib not supported in this build"), so restores here are
 * uncompressed, and it exposes no IngestExternalFile, so --sst-only files are judged by ldb only.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDigest } from '../../src/format/digest.js';
import type { SnapshotAnchor } from '../../src/format/header.js';
import { restoreSnapshot } from '../../src/restore/restore.js';
import { goldenPath, loadManifest } from '../helpers/golden.js';
import { cleanup, hexEntries, tempDir, writeSnapshotFile } from './helpers.js';

interface NativeDb {
  ready(): Promise<void>;
  close(): Promise<void>;
  columnFamily(name: string): NativeDb;
  iterator(range: object): AsyncIterable<{ key: Buffer; value: Buffer }>;
}
interface NativeModule {
  new (dir: string, options: object): NativeDb;
  ColumnFamily: new (name: string) => unknown;
}
const RocksDB = createRequire(import.meta.url)('rocksdb-native') as NativeModule;
const VERSION = (JSON.parse(readFileSync(join(dirname(createRequire(import.meta.url).resolve('rocksdb-native')), 'package.json'), 'utf8')) as { version: string }).version;

let work: string;
let n = 0;
const next = (what: string): string => join(work, `${what}-${n++}`);
beforeAll(() => {
  work = tempDir('sv-restore10-');
});
afterAll(() => cleanup(work));

/** Every family's entries as RocksDB 10 reads them (read-only open naming each family). */
async function rocksdb10Content(dir: string, families: readonly string[]): Promise<Map<string, [string, string][]>> {
  const names = ['default', ...families.filter((f) => f !== 'default')];
  const cfs = names.map((name) => new RocksDB.ColumnFamily(name));
  const db = new RocksDB(dir, { columnFamily: cfs[0], columnFamilies: cfs.slice(1), readOnly: true, createIfMissing: false, createMissingColumnFamilies: false });
  await db.ready();
  try {
    const out = new Map<string, [string, string][]>();
    for (const name of names) {
      const entries: [string, string][] = [];
      for await (const { key, value } of (name === 'default' ? db : db.columnFamily(name)).iterator({})) entries.push([key.toString('hex'), value.toString('hex')]);
      out.set(name, entries);
    }
    return out;
  } finally {
    await db.close();
  }
}

/** RocksDB 10 sees exactly `tables` (and an empty default family unless a table is "default"). */
async function judge10(dir: string, tables: ReadonlyMap<string, [string, string][]>): Promise<void> {
  const got = await rocksdb10Content(dir, [...tables.keys()]);
  for (const [name, entries] of got) expect(entries, `RocksDB ${VERSION === '3.18.1' ? '10.5.1' : VERSION} iteration of ${name}`).toEqual(tables.get(name) ?? []);
}

describe('restore: RocksDB 10.5.1 (rocksdb-native) opens the restored database read-only and reads the snapshot\'s entries', () => {
  it('the judge is the pinned build', () => expect(VERSION).toBe('3.18.1'));

  for (const c of loadManifest('v1').cases) {
    const restorable = c.tables.filter((t) => !t.name.includes('\0'));
    it(`golden ${c.name}`, async () => {
      const to = next(`db-${c.name}`);
      const report = await restoreSnapshot(goldenPath('v1', c), { to, ...(restorable.length < c.tables.length ? { tables: restorable.map((t) => t.name) } : {}) });
      expect(formatDigest(report.snapshot.digest)).toBe(c.digest);
      await judge10(to, new Map(restorable.map((t) => [t.name, t.entries] as [string, [string, string][]])));
    });
  }

  it('generated contents: 64 KiB keys, 1 MiB values, empty tables, "default", files cut at 512 B to 64 MiB', async () => {
    const entryArb = fc.tuple(
      fc.oneof({ weight: 8, arbitrary: fc.uint8Array({ maxLength: 24 }) }, { weight: 1, arbitrary: fc.constant(new Uint8Array(65_536).fill(0x6b)) }),
      fc.oneof({ weight: 8, arbitrary: fc.uint8Array({ maxLength: 200 }) }, { weight: 1, arbitrary: fc.constant(new Uint8Array(1 << 20).map((_, i) => i * 7919)) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.oneof(fc.constant('default'), fc.stringMatching(/^[a-z_:# ]{1,12}$/)), { minLength: 1, maxLength: 4 }),
        fc.array(fc.array(entryArb, { maxLength: 80 }), { minLength: 4, maxLength: 4 }),
        fc.constantFrom(512, 8192, 1 << 26),
        async (names, tables, maxSstBytes) => {
          const sorted = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
          const content = sorted.map((_, i) => {
            const byKey = new Map<string, { key: Uint8Array; value: Uint8Array }>();
            for (const [key, value] of tables[i]!) byKey.set(Buffer.from(key).toString('hex'), { key, value });
            return [...byKey.values()].sort((a, b) => Buffer.compare(a.key, b.key));
          });
          const anchor: SnapshotAnchor = { epoch: 1n, cursor: { index: 0n }, maxChunkBytes: 0n, tables: sorted.map((name, i) => ({ id: i + 1, name })) };
          const snap = next('gen.snap');
          await writeSnapshotFile(snap, anchor, content);
          const to = next('gen-db');
          await restoreSnapshot(snap, { to, maxSstBytes });
          await judge10(to, new Map(sorted.map((name, i) => [name, hexEntries(content[i]!)] as [string, [string, string][]])));
        },
      ),
      { numRuns: 5, seed: 10, endOnFailure: true },
    );
  }, 300_000);
});
