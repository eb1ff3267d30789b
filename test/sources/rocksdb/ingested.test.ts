/**
 * Ingested external SST files (SstFileWriter + IngestExternalFile), made with the fixture
 * generator (`--external-sst`) and ingested by Debian's `ldb ingest_extern_sst` (RocksDB 7.8.3)
 * into a database whose keys overlap the file's, so that RocksDB assigns the file a global
 * sequence number above the existing versions. The keys inside the file keep sequence 0:
 * - ingested with `--write_global_seqno=false` (RocksDB's default since 6.x), the property
 *   rocksdb.external_sst_file.global_seqno stays 0 and the sequence comes from the MANIFEST's
 *   largest seqno of the file (TableReader's `largestSequence`);
 * - ingested with `--write_global_seqno=true`, the property holds it.
 * Either way the ingested versions must win over the older overlapping puts and deletions,
 * entry for entry as `ldb scan --hex` shows them.
 */
import { describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { openRocksDbCheckpoint } from '../../../src/sources/rocksdb/index.js';
import { readManifest } from '../../../src/sources/rocksdb/manifest.js';
import { TableReader } from '../../../src/sources/rocksdb/table/index.js';
import {
  cleanup,
  fingerprint,
  HAVE_LDB,
  ldb,
  makeFixture,
  makeFixtureBinary,
  oracleScan,
  readTable,
  tempDir,
} from './helpers.js';

const canRun = HAVE_LDB && makeFixtureBinary() !== null;

/** The external file's key i, as make-fixture writes it with --key-size 8: 'E' + 7-byte big-endian i. */
function extKey(i: number): string {
  return `45${i.toString(16).padStart(14, '0')}`;
}

/**
 * ldb on the database itself (this test builds it): make-fixture's OPTIONS has error_if_exists,
 * and without --auto_compaction=false ldb's open compacts the ingested files away.
 */
function ldbDb(db: string, ...args: string[]): string {
  return ldb(db, '--try_load_options=false', '--auto_compaction=false', ...args);
}

describe.skipIf(!canRun)('ingested external SST files (real RocksDB ingestion)', () => {
  test('global seqno from the MANIFEST (property 0) and from the property both resolve like ldb scan', async () => {
    const dir = tempDir();
    try {
      const db = join(dir, 'db');
      const ext1 = join(dir, 'ext1.sst'); // keys E0..E39
      const ext2 = join(dir, 'ext2.sst'); // keys E0..E19, other values (another seed)
      makeFixture(['--db', db, '--keys', '40', '--rounds', '2', '--key-size', '8', '--value-size', '6', '--deletes', '5', '--external-sst', ext1]);
      makeFixture(['--db', join(dir, 'scratch'), '--seed', '7', '--keys', '20', '--key-size', '8', '--value-size', '6', '--external-sst', ext2]);

      // Older versions of keys of the first file: puts and a deletion (the ingested puts win).
      ldbDb(db, 'put', '--hex', `0x${extKey(25)}`, '0xAAAA');
      ldbDb(db, 'put', '--hex', `0x${extKey(27)}`, '0xBBBB');
      ldbDb(db, 'put', '--hex', `0x${extKey(100)}`, '0xCCCC'); // in no file: stays
      ldbDb(db, 'delete', '--hex', `0x${extKey(29)}`);
      ldbDb(db, 'ingest_extern_sst', ext1, '--allow_global_seqno', '--write_global_seqno=false');

      // Newer versions over the first ingestion, then the second file, with its global seqno
      // written into its (copied) properties, over some of them.
      ldbDb(db, 'put', '--hex', `0x${extKey(5)}`, '0xDDDD'); // hidden by the second file
      ldbDb(db, 'delete', '--hex', `0x${extKey(11)}`); // hidden by the second file
      ldbDb(db, 'put', '--hex', `0x${extKey(31)}`, '0xEEEE'); // newer than the first file: wins
      ldbDb(db, 'delete', '--hex', `0x${extKey(33)}`); // newer than the first file: wins
      ldbDb(db, 'ingest_extern_sst', ext2, '--allow_global_seqno', '--write_global_seqno=true');
      // And a last write that shadows one key of the second file.
      ldbDb(db, 'put', '--hex', `0x${extKey(13)}`, '0xFFFF');

      // The checkpoint really holds both kinds of ingested file.
      const version = await readManifest(db);
      const cf = version.columnFamilies.find((c) => c.name === 'default')!;
      const kinds: string[] = [];
      for (const f of [...cf.level0, ...cf.levels.flat()]) {
        const t = await TableReader.open(join(db, `${String(f.number).padStart(6, '0')}.sst`));
        try {
          if (t.properties.externalSstFileVersion === 2) {
            expect(f.largestSeqno).toBeGreaterThan(0n);
            kinds.push((t.properties.externalSstFileGlobalSeqno ?? 0) === 0 ? 'from-manifest' : 'from-property');
          }
        } finally {
          await t.close();
        }
      }
      expect(kinds.sort()).toEqual(['from-manifest', 'from-property']);

      const before = fingerprint(db);
      const expected = oracleScan(db, 'default');
      const ours = await readTable(db, 'default');
      expect(ours.length).toBe(expected.length);
      expect(ours).toEqual(expected);
      // Spot checks of what the ingestions decided.
      const map = new Map(ours);
      expect(map.get(extKey(25))).toMatch(/^[0-9a-f]{12}$/); // first file over older put
      expect(map.get(extKey(29))).toMatch(/^[0-9a-f]{12}$/); // first file over older deletion
      expect(map.get(extKey(31))).toBe('eeee');
      expect(map.has(extKey(33))).toBe(false);
      expect(map.get(extKey(5))).toMatch(/^[0-9a-f]{12}$/); // second file over newer put
      expect(map.get(extKey(11))).toMatch(/^[0-9a-f]{12}$/); // second file over deletion
      expect(map.get(extKey(13))).toBe('ffff');
      expect(map.get(extKey(100))).toBe('cccc');
      expect(fingerprint(db)).toEqual(before);

      // Through the listing too: the family is listed with an estimate.
      const source = await openRocksDbCheckpoint(db);
      try {
        const tables = await source.listTables();
        expect(tables.map((t) => t.name)).toEqual(['default']);
        expect(tables[0]!.estimatedEntries).toBeGreaterThanOrEqual(ours.length);
      } finally {
        await source.close();
      }
    } finally {
      cleanup(dir);
    }
  }, 60_000);
});
