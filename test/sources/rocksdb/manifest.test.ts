import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { readManifest } from '../../../src/sources/rocksdb/manifest.js';
import { decodeVersionEdit } from '../../../src/sources/rocksdb/version-edit.js';
import { cleanup, HAVE_LDB, ldb, snapshotErrorOf, tempDir } from './helpers.js';
import { internalKey, lengthPrefixed, TestLogWriter, varint } from './log-writer.js';

const root = tempDir();
afterAll(() => cleanup(root));
let n = 0;

/** A checkpoint directory with CURRENT and a MANIFEST made of `edits`. */
function manifestDir(edits: number[][], current = 'MANIFEST-000003\n'): string {
  const dir = join(root, `m${n++}`);
  mkdirSync(dir);
  const w = new TestLogWriter();
  for (const e of edits) w.add(Uint8Array.from(e));
  writeFileSync(join(dir, 'MANIFEST-000003'), w.bytes());
  writeFileSync(join(dir, 'CURRENT'), current);
  return dir;
}

const header = [1, ...lengthPrefixed('leveldb.BytewiseComparator'), 2, ...varint(4), 3, ...varint(10), 4, ...varint(100)];
const newFile4 = (level: number, num: number, lo: string, hi: string, custom: number[] = []) => [
  103, ...varint(level), ...varint(num), ...varint(1234),
  ...lengthPrefixed(internalKey(lo, 5, 1)), ...lengthPrefixed(internalKey(hi, 6, 1)),
  ...varint(5), ...varint(6), ...custom, 1,
];
const cf = (id: number) => [...varint(200), ...varint(id)];

describe('MANIFEST replay', () => {
  test('live files per level: additions, deletions, trivial moves; L0 newest first', async () => {
    const dir = manifestDir([
      header,
      [...newFile4(0, 7, 'a', 'c'), ...newFile4(0, 8, 'b', 'd', [13, ...lengthPrefixed(varint(9))])],
      [...newFile4(1, 9, 'm', 'p'), 6, ...varint(0), ...varint(7), ...newFile4(2, 7, 'a', 'c')],
      [...newFile4(0, 11, 'x', 'y', [13, ...lengthPrefixed(varint(12))])],
    ]);
    const v = await readManifest(dir);
    expect(v.lastSequence).toBe(100n);
    expect(v.columnFamilies.map((c) => c.name)).toEqual(['default']);
    const d = v.columnFamilies[0]!;
    expect(d.level0.map((f) => f.number)).toEqual([11, 8]);
    expect(d.levels.map((l) => l.map((f) => f.number))).toEqual([[9], [7]]);
    expect(d.logNumber).toBe(4);
  });

  test('column families: names from the MANIFEST, dropped ones excluded, sorted by name', async () => {
    const dir = manifestDir([
      header,
      [...cf(1), ...varint(201), ...lengthPrefixed('zeta'), 2, ...varint(6)],
      [...cf(2), ...varint(201), ...lengthPrefixed('alpha')],
      [...cf(3), ...varint(201), ...lengthPrefixed('gone')],
      [...cf(3), ...newFile4(0, 12, 'a', 'b')],
      [...cf(3), ...varint(202)],
    ]);
    const v = await readManifest(dir);
    expect(v.columnFamilies.map((c) => [c.name, c.id, c.logNumber])).toEqual([
      ['alpha', 2, 0],
      ['default', 0, 4],
      ['zeta', 1, 6],
    ]);
  });

  test('atomic groups apply together; an unfinished trailing group is dropped like RocksDB does', async () => {
    const dir = manifestDir([
      header,
      [...newFile4(0, 20, 'a', 'b'), ...varint(300), ...varint(1)],
      [...newFile4(0, 21, 'c', 'd'), ...varint(300), ...varint(0)],
      [...newFile4(0, 22, 'e', 'f'), ...varint(300), ...varint(1)],
    ]);
    const v = await readManifest(dir);
    expect(v.columnFamilies[0]!.level0.map((f) => f.number).sort()).toEqual([20, 21]);
  });

  test('forward-compatible tags and safe-to-ignore custom fields are skipped', async () => {
    const dir = manifestDir([
      [...header, ...varint(8193), ...lengthPrefixed('db-id'), ...varint(8199), ...lengthPrefixed([1, 2, 3]), ...varint(9000), ...lengthPrefixed([9])],
      newFile4(0, 5, 'a', 'b', [5, ...lengthPrefixed(varint(77)), 12, ...lengthPrefixed(new Array(16).fill(1)), 40, ...lengthPrefixed([])]),
      [...varint(8196), ...varint(4), 2, ...varint(99), 1, ...varint(8197), ...varint(3)],
    ]);
    expect((await readManifest(dir)).columnFamilies[0]!.level0.map((f) => f.number)).toEqual([5]);
  });

  test.each([
    ['an unknown tag', [[...header, 77]], 'CORRUPT_CHECKPOINT'],
    ['a truncated varint', [[...header, 2, 0x80]], 'CORRUPT_CHECKPOINT'],
    ['a length that overruns the record', [[...header, 1, 50, 1, 2]], 'CORRUPT_CHECKPOINT'],
    ['deleting a file that is not live', [header, [6, 0, 99]], 'CORRUPT_CHECKPOINT'],
    ['adding a live file again', [header, newFile4(0, 5, 'a', 'b'), newFile4(1, 5, 'a', 'b')], 'CORRUPT_CHECKPOINT'],
    ['overlapping files on L1', [header, [...newFile4(1, 5, 'a', 'f'), ...newFile4(1, 6, 'e', 'g')]], 'CORRUPT_CHECKPOINT'],
    ['an edit for a column family never added', [header, [...cf(9), 2, 1]], 'CORRUPT_CHECKPOINT'],
    ['a column family added twice', [header, [...cf(1), ...varint(201), 1, 0x61], [...cf(1), ...varint(201), 1, 0x62]], 'CORRUPT_CHECKPOINT'],
    ['a level out of range', [header, newFile4(99, 5, 'a', 'b')], 'CORRUPT_CHECKPOINT'],
    ['no last sequence', [[1, ...lengthPrefixed('x'), 3, 5]], 'CORRUPT_CHECKPOINT'],
    ['an unknown must-understand file field', [header, newFile4(0, 5, 'a', 'b', [70, ...lengthPrefixed([1])])], 'UNSUPPORTED_FEATURE'],
  ])('%s is %s', async (_, edits, code) => {
    const e = await snapshotErrorOf(() => readManifest(manifestDir(edits as number[][])));
    expect(e.code).toBe(code);
    expect(e.file).toMatch(/MANIFEST-000003$/);
  });

  test('blob file additions and blob references mark their family (refused when it is read)', async () => {
    const dir = manifestDir([
      header,
      [...cf(1), ...varint(201), ...lengthPrefixed('blobs')],
      [...cf(1), ...varint(400), 8, 1, 100, 0, 0, 0],
      [...cf(0), ...newFile4(0, 5, 'a', 'b', [4, ...lengthPrefixed(varint(0))])],
    ]);
    const v = await readManifest(dir);
    expect(v.columnFamilies.map((c) => [c.name, c.blobFiles])).toEqual([['blobs', true], ['default', false]]);
    const refs = manifestDir([header, newFile4(0, 5, 'a', 'b', [4, ...lengthPrefixed(varint(8))])]);
    expect((await readManifest(refs)).columnFamilies[0]!.blobFiles).toBe(true);
  });

  test('error offsets point into the file: header 7 bytes + position in the edit', () => {
    const e = (() => {
      try {
        decodeVersionEdit(Uint8Array.from([...header, 77]), 'M', 100);
      } catch (err) {
        return err as { code: string; offset: number };
      }
      throw new Error('no error');
    })();
    expect([e.code, e.offset]).toEqual(['CORRUPT_CHECKPOINT', 100 + header.length + 1]);
  });

  test.each([
    ['missing', undefined, 'NOT_FOUND'],
    ['empty', '', 'CORRUPT_CHECKPOINT'],
    ['without newline', 'MANIFEST-000003', 'CORRUPT_CHECKPOINT'],
    ['naming a path', '../MANIFEST-000003\n', 'CORRUPT_CHECKPOINT'],
    // A checkpoint missing the MANIFEST it names is damaged, like one missing a table file.
    ['naming a missing MANIFEST', 'MANIFEST-000004\n', 'CORRUPT_CHECKPOINT'],
    ['two lines', 'MANIFEST-000003\nMANIFEST-000003\n', 'CORRUPT_CHECKPOINT'],
  ])('CURRENT %s is %s', async (_, current, code) => {
    const dir = manifestDir([header]);
    if (current === undefined) cleanup(join(dir, 'CURRENT'));
    else writeFileSync(join(dir, 'CURRENT'), current);
    expect((await snapshotErrorOf(() => readManifest(dir))).code).toBe(code);
  });

  test.skipIf(!HAVE_LDB)('a real MANIFEST lists what ldb list_column_families lists', async () => {
    const db = join(root, 'real');
    ldb(db, '--create_if_missing', 'put', 'k', 'v');
    ldb(db, 'create_column_family', 'one');
    ldb(db, 'create_column_family', 'two');
    ldb(db, 'drop_column_family', 'one');
    ldb(db, '--column_family=two', 'put', 'a', 'b');
    const v = await readManifest(db);
    expect(v.columnFamilies.map((c) => c.name)).toEqual(['default', 'two']);
    expect(ldb(db, 'list_column_families')).toContain('two');
  });
});
