/**
 * The OPTIONS file reader (options-file.ts) and how a family's merge operator is found from it
 * (family-merge.ts). The forms are those Debian's RocksDB 7.8.3 writes (checked against real
 * files in merge-operators.test.ts); hostile input gets CORRUPT_CHECKPOINT with the line's
 * offset, or nothing but a SnapshotError.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { SnapshotError } from '../../../src/format/errors.js';
import { BUILTIN_MERGE_OPERATOR_NAMES } from '../../../src/sources/merge-operators/index.js';
import { resolveFamilyMerge } from '../../../src/sources/rocksdb/family-merge.js';
import { MAX_OPTIONS_FILE_BYTES, parseMergeOperatorValue, parseOptionsFile, readOptionsFile, type OptionsFile } from '../../../src/sources/rocksdb/options-file.js';
import { cleanup, snapshotErrorOf, tempDir } from './helpers.js';

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const file = (version: string, ...families: [string, string][]) =>
  [
    '# This is a RocksDB option file.',
    '[Version]',
    `  rocksdb_version=${version}`,
    '  options_file_version=1.1',
    '[DBOptions]',
    '  max_open_files=-1',
    ...families.flatMap(([cf, op]) => [`[CFOptions "${cf}"]`, '  comparator=leveldb.BytewiseComparator', `  merge_operator=${op}`, `[TableOptions/BlockBasedTable "${cf}"]`, '  block_size=4096']),
    '',
  ].join('\n');
const bytes = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

describe('OPTIONS file', () => {
  test('each family\'s merge_operator: nullptr, a bare id, {id=…;delimiter=…;} unescaped once, names with spaces, comments', () => {
    const f = parseOptionsFile(
      enc(file('7.8.3', ['default', 'UInt64AddOperator'], ['none', 'nullptr'], ['bar', '{id=StringAppendOperator;delimiter=|;}'], ['esc', '{id=StringAppendOperator;delimiter=\\#\\:\\\\\\n;}'], ['semi', '{id=StringAppendTESTOperator;delimiter=a;b;}'], ['blob info', 'merge blob info   # a comment'], ['empty', 'StringAppendOperator'])),
      'OPTIONS-000007',
    );
    expect(f.rocksdbVersion).toEqual([7, 8, 3]);
    const get = (cf: string) => f.mergeOperators.get(cf);
    expect(get('default')).toEqual({ id: 'UInt64AddOperator', options: new Map(), optionsComplete: true });
    expect(get('none')).toBeNull();
    expect(get('bar')?.options.get('delimiter')).toEqual(Uint8Array.of(0x7c));
    expect(bytes(Buffer.from(get('esc')!.options.get('delimiter')!).toString('latin1'))).toEqual(bytes('#:\\\n'));
    expect(Buffer.from(get('semi')!.options.get('delimiter')!).toString()).toBe('a;b');
    expect(get('semi')?.id).toBe('StringAppendTESTOperator');
    expect(get('blob info')?.id).toBe('merge blob info');
    expect(get('empty')?.options.size).toBe(0);
    expect(f.mergeOperators.has('missing')).toBe(false);
  });

  test('a bare StringAppendOperator means the empty delimiter from RocksDB 6.24 on, and is refused before (its delimiter was not recorded)', () => {
    const resolve = (version: string) =>
      resolveFamilyMerge({ table: 'cf', options: parseOptionsFile(enc(file(version, ['cf', 'StringAppendOperator'])), 'O'), tableFileOperator: undefined, plugins: [] });
    const now = resolve('6.24.0');
    expect(now.operator?.fullMerge(new Uint8Array(0), Uint8Array.of(1), [Uint8Array.of(2), Uint8Array.of(3)])).toEqual(Uint8Array.of(1, 2, 3));
    const old = resolve('6.23.3');
    expect(old.operator).toBeUndefined();
    if (old.operator === undefined) expect(old.refuse('f').message).toContain('without its delimiter');
    const braced = resolveFamilyMerge({ table: 'cf', options: parseOptionsFile(enc(file('6.1.0', ['cf', '{id=StringAppendOperator;delimiter=,;}'])), 'O'), tableFileOperator: undefined, plugins: [] });
    expect(braced.operator?.fullMerge(new Uint8Array(0), undefined, [Uint8Array.of(1), Uint8Array.of(2)])).toEqual(Uint8Array.of(1, 0x2c, 2));
  });

  test('every name RocksDB registers resolves: the well-defined ones to an operator, MergeSortOperator/sortlist to a refusal; unknown options are refused', () => {
    for (const id of BUILTIN_MERGE_OPERATOR_NAMES) {
      const r = resolveFamilyMerge({ table: 'cf', options: { path: 'O', rocksdbVersion: [7, 8, 3], mergeOperators: new Map([['cf', parseMergeOperatorValue(id, [7, 8, 3])]]) }, tableFileOperator: undefined, plugins: [] });
      if (id === 'sortlist' || id === 'MergeSortOperator') {
        expect(r.operator).toBeUndefined();
        if (r.operator === undefined) expect(r.refuse('f').message).toContain('not well defined');
      } else {
        expect(r.operator, id).toBeDefined();
      }
    }
    const withOption = resolveFamilyMerge({ table: 'cf', options: parseOptionsFile(enc(file('7.8.3', ['cf', '{id=UInt64AddOperator;width=4;}'])), 'O'), tableFileOperator: undefined, plugins: [] });
    expect(withOption.operator).toBeUndefined();
    if (withOption.operator === undefined) {
      const e = withOption.refuse('f');
      expect(e.code).toBe('UNSUPPORTED_FEATURE');
      expect(e.message).toContain('width');
    }
  });

  test('OPTIONS wins over the table files; without a section for the family, the table files\' name is used', () => {
    const options: OptionsFile = parseOptionsFile(enc(file('7.8.3', ['cf', 'MaxOperator'])), 'O');
    expect(resolveFamilyMerge({ table: 'cf', options, tableFileOperator: 'UInt64AddOperator', plugins: [] }).operator?.name).toBe('MaxOperator');
    expect(resolveFamilyMerge({ table: 'other', options, tableFileOperator: 'UInt64AddOperator', plugins: [] }).operator?.name).toBe('UInt64AddOperator');
    const unknown = resolveFamilyMerge({ table: 'other', options, tableFileOperator: 'merge blob info', plugins: [] });
    expect(unknown.operator).toBeUndefined();
    if (unknown.operator === undefined) expect(unknown.refuse('f').message).toContain(`--merge-operator 'merge blob info=PATH'`);
  });

  test('malformed lines are CORRUPT_CHECKPOINT at the line\'s offset; a column family listed twice too', () => {
    const good = file('7.8.3', ['default', 'nullptr']);
    for (const [bad, what] of [['  just words', 'neither'], ['  =value', 'without a name'], [`[CFOptions "default"]\n  merge_operator=x`, 'twice']] as const) {
      const text = `${good}${bad}\n`;
      const e = (() => {
        try {
          parseOptionsFile(enc(text), 'O');
        } catch (x) {
          return x as SnapshotError;
        }
        throw new Error('parsed');
      })();
      expect(e.code).toBe('CORRUPT_CHECKPOINT');
      expect(e.offset).toBe(good.length);
      expect(e.message).toContain(what);
    }
  });

  test('a file over the limit is refused before it is read; at the limit it is read', async () => {
    const dir = tempDir();
    try {
      const body = file('7.8.3', ['default', 'MaxOperator']);
      const pad = (n: number) => `${body}${'#'.repeat(n - body.length - 1)}\n`;
      writeFileSync(join(dir, 'OPTIONS-000001'), pad(MAX_OPTIONS_FILE_BYTES));
      expect((await readOptionsFile(join(dir, 'OPTIONS-000001'))).mergeOperators.get('default')?.id).toBe('MaxOperator');
      writeFileSync(join(dir, 'OPTIONS-000002'), pad(MAX_OPTIONS_FILE_BYTES + 1));
      const e = await snapshotErrorOf(() => readOptionsFile(join(dir, 'OPTIONS-000002')));
      expect(e.code).toBe('CORRUPT_CHECKPOINT');
    } finally {
      cleanup(dir);
    }
  });

  test('random bytes and mutated files: a result or a SnapshotError, nothing else', () => {
    const base = file('7.8.3', ['default', '{id=StringAppendOperator;delimiter=|;}'], ['x', 'UInt64AddOperator']);
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }).map((muts) => {
        const b = enc(base);
        for (const [at, v] of muts) b[at % b.length] = v;
        return b;
      })), (b) => {
        try {
          parseOptionsFile(b, 'O');
        } catch (e) {
          expect(e).toBeInstanceOf(SnapshotError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
