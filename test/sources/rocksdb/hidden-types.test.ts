/**
 * Entry types the source cannot interpret (merge operands, wide-column entities) in real table
 * files made by RocksDB 7.8.3: refused with UNSUPPORTED_FEATURE while one is the visible
 * version of its key, skipped once a newer put, deletion or range deletion hides it (it cannot
 * affect the result then), and the result is then ldb scan's, entry for entry.
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cleanup, fingerprint, HAVE_LDB, ldb, makeFixture, makeFixtureBinary, oracleScan, readTable, snapshotErrorOf, tempDir } from './helpers.js';

const canRun = HAVE_LDB && makeFixtureBinary() !== null;

/** make-fixture's key `prefix` + 7-byte big-endian i (with --key-size 8), as hex. */
const key = (prefix: string, i: number) => `0x${prefix.charCodeAt(0).toString(16)}${i.toString(16).padStart(14, '0')}`;

/** ldb on the database itself (make-fixture's OPTIONS names a merge operator ldb lacks, and error_if_exists). */
const ldbDb = (db: string, ...args: string[]) => ldb(db, '--try_load_options=false', '--auto_compaction=false', ...args);

describe.skipIf(!canRun)('merge operands and wide-column entities hidden by newer writes', () => {
  test('visible: UNSUPPORTED_FEATURE; hidden by put, deletion or range deletion: read as ldb scan shows', async () => {
    const dir = tempDir();
    try {
      const db = join(dir, 'db');
      // 4 puts K0..K3, 3 merge operands M0..M2, 2 wide-column entities W0..W1, flushed to an SST.
      makeFixture(['--db', db, '--keys', '4', '--merges', '3', '--wide-columns', '2', '--key-size', '8', '--value-size', '6']);
      expect((await snapshotErrorOf(() => readTable(db, 'default'))).code).toBe('UNSUPPORTED_FEATURE');

      ldbDb(db, 'put', '--hex', key('M', 0), '0x01');
      ldbDb(db, 'delete', '--hex', key('M', 1));
      ldbDb(db, 'put', '--hex', key('W', 0), '0x02');
      // One merge operand and one entity still visible.
      expect((await snapshotErrorOf(() => readTable(db, 'default'))).code).toBe('UNSUPPORTED_FEATURE');
      ldbDb(db, 'put', '--hex', key('M', 2), '0x03');
      expect((await snapshotErrorOf(() => readTable(db, 'default'))).code).toBe('UNSUPPORTED_FEATURE');
      ldbDb(db, 'deleterange', '--hex', key('W', 1), key('W', 2));

      const before = fingerprint(db);
      const expected = oracleScan(db, 'default');
      expect(expected.map(([k]) => k.slice(0, 2))).toEqual(['4b', '4b', '4b', '4b', '4d', '4d', '57']);
      expect(await readTable(db, 'default')).toEqual(expected);
      expect(fingerprint(db)).toEqual(before);
    } finally {
      cleanup(dir);
    }
  }, 60_000);
});
