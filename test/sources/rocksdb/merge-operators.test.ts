/**
 * Merge operands in real RocksDB checkpoints (Debian's 7.8.3, written by the fixture tool), read
 * exactly as RocksDB's own iterator reads them: the fixture tool's `--scan` opens a copy
 * read-only with the same operators and prints every entry, and that is the oracle. Workloads mix
 * operands with puts, deletions, single deletions and range deletions, in the WAL, in L0 and over
 * bases compacted to lower levels, for every built-in operator this reader applies with no flag,
 * and for a plugin operator (the fixture's "concat").
 */
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test, vi } from 'vitest';
import type { MergeOperator } from '../../../src/sources/merge-operator.js';
import { openRocksDbCheckpoint } from '../../../src/sources/rocksdb/index.js';
import { readManifest } from '../../../src/sources/rocksdb/manifest.js';
import { RangeMerger } from '../../../src/sources/rocksdb/range-merger.js';
import { cleanup, fingerprint, makeFixture, makeFixtureBinary, readTable, snapshotErrorOf, tempDir } from './helpers.js';

const canRun = makeFixtureBinary() !== null;

/** Column families and the operator spec each is written with (MergeOperator::CreateFromString). */
const BUILTIN_FAMILIES: [string, string][] = [
  ['default', 'uint64add'],
  ['append_bar', '{id=StringAppendOperator;delimiter=|}'],
  ['append_empty', '{id=StringAppendOperator;delimiter=}'], // OPTIONS then records the bare name
  ['append_escaped', '{id=StringAppendOperator;delimiter=#:}'], // OPTIONS escapes both: \#\:
  ['append_test', '{id=StringAppendTESTOperator;delimiter=ab}'],
  ['max', 'max'],
  ['put', 'put'],
  ['put_v1', 'put_v1'],
  ['xor', 'bytesxor'],
];

function operatorFlags(families: [string, string][]): string[] {
  return families.flatMap(([cf, spec]) => (cf === 'default' ? ['--merge-operator', spec] : ['--cf', cf, '--cf-merge-operator', `${cf}=${spec}`]));
}

/** RocksDB's iterator over every family of `db` (on a copy), as hex pairs per family. */
function rocksdbScan(db: string, families: [string, string][]): Map<string, [string, string][]> {
  const copy = tempDir('sv-scan-');
  try {
    cpSync(db, join(copy, 'db'), { recursive: true });
    const flags = families.flatMap(([cf, spec]) => (cf === 'default' ? ['--merge-operator', spec] : ['--cf-merge-operator', `${cf}=${spec}`]));
    const out = execFileSync(makeFixtureBinary()!, ['--scan', join(copy, 'db'), ...flags], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const byFamily = new Map<string, [string, string][]>();
    for (const line of out.split('\n').filter((l) => l.length > 0)) {
      const [cf, k, v] = line.split(' ') as [string, string, string];
      if (!byFamily.has(cf)) byFamily.set(cf, []);
      byFamily.get(cf)!.push([k, v]);
    }
    return byFamily;
  } finally {
    cleanup(copy);
  }
}

async function readWith(dir: string, table: string, mergeOperators: MergeOperator[]): Promise<[string, string][]> {
  const source = await openRocksDbCheckpoint(dir, { mergeOperators });
  try {
    const out: [string, string][] = [];
    for await (const batch of source.entries(table)) for (const e of batch) out.push([Buffer.from(e.key).toString('hex'), Buffer.from(e.value).toString('hex')]);
    return out;
  } finally {
    await source.close();
  }
}

const concat: MergeOperator = {
  name: 'concat',
  fullMerge: (_key, existing, operands) => Buffer.concat(existing === undefined ? [...operands] : [existing, ...operands]),
};

const dirs: string[] = [];
function fresh(): string {
  const d = tempDir('sv-merge-');
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach(cleanup));

/** Writes a database and its checkpoint with a merge workload over `families`; returns the checkpoint. */
function workload(seed: number, families: [string, string][], extra: string[] = []): string {
  const d = fresh();
  makeFixture([
    '--db', join(d, 'db'), '--checkpoint', join(d, 'cp'), '--seed', String(seed),
    '--keys', '150', '--rounds', '3', '--compact-after', '0', '--deletes', '7', '--single-deletes', '5', '--range-deletes', '3',
    '--merge-every', '4', '--merge-workload', '1200', '--merge-keys', '30', '--key-size', '12', '--value-size', '16',
    ...operatorFlags(families), ...extra,
  ]);
  return join(d, 'cp');
}

describe.skipIf(!canRun)('merge operands read as RocksDB reads them', () => {
  test.each([1, 2, 3])(
    'built-in operators (uint64add, stringappend with delimiters |, empty, #:, stringappendtest, max, put, put_v1, bytesxor), seed %i: equal to RocksDB\'s iterator, with no flag; nothing written',
    async (seed) => {
      const cp = workload(seed, BUILTIN_FAMILIES);
      // The workload is what the test claims: operands in the WAL, in L0 and over lower levels.
      const manifest = await readManifest(cp);
      for (const cf of manifest.columnFamilies) {
        expect(cf.level0.length, cf.name).toBeGreaterThan(0);
        expect(cf.levels.flat().length, cf.name).toBeGreaterThan(0);
      }
      const wal = readdirSync(cp).filter((f) => f.endsWith('.log'));
      expect(wal.reduce((n, f) => n + statSync(join(cp, f)).size, 0)).toBeGreaterThan(1000);
      const options = readFileSync(join(cp, readdirSync(cp).find((f) => f.startsWith('OPTIONS-'))!), 'latin1');
      expect(options).toContain('merge_operator=StringAppendOperator\n');
      expect(options).toContain('merge_operator={id=StringAppendOperator;delimiter=\\#\\:;}');

      const before = fingerprint(cp);
      const oracle = rocksdbScan(cp, BUILTIN_FAMILIES);
      // The kernel merges the operands itself: the JavaScript merger never redoes a range.
      const js = vi.spyOn(RangeMerger.prototype as unknown as { mergeJs: () => unknown }, 'mergeJs');
      try {
        for (const [cf] of BUILTIN_FAMILIES) {
          const want = oracle.get(cf) ?? [];
          expect(want.length, cf).toBeGreaterThan(100);
          expect(await readTable(cp, cf), cf).toEqual(want);
        }
        expect(js).not.toHaveBeenCalled();
      } finally {
        js.mockRestore();
      }
      expect(fingerprint(cp)).toEqual(before);
    },
    120_000,
  );

  test('operands only in the WAL of a database never flushed, merged onto nothing and onto puts', async () => {
    const d = fresh();
    const families: [string, string][] = [['default', 'uint64add'], ['append', '{id=StringAppendOperator;delimiter=, }']];
    makeFixture(['--db', join(d, 'db'), '--keys', '60', '--rounds', '3', '--deletes', '5', '--range-deletes', '2', '--no-flush', '--merge-every', '3', '--value-size', '8', ...operatorFlags(families)]);
    const db = join(d, 'db');
    expect(readdirSync(db).filter((f) => f.endsWith('.sst'))).toEqual([]);
    const oracle = rocksdbScan(db, families);
    for (const [cf] of families) expect(await readTable(db, cf), cf).toEqual(oracle.get(cf) ?? []);
  });

  test('a plugin operator (the fixture\'s "concat") given by name: equal to RocksDB\'s iterator; without it UNSUPPORTED_FEATURE naming it and --merge-operator', async () => {
    const families: [string, string][] = [['default', 'concat'], ['other', 'concat']];
    const cp = workload(7, families, ['--merges', '20']);
    const oracle = rocksdbScan(cp, families);
    for (const [cf] of families) expect(await readWith(cp, cf, [concat]), cf).toEqual(oracle.get(cf) ?? []);
    const e = await snapshotErrorOf(() => readTable(cp, 'default'));
    expect(e.code).toBe('UNSUPPORTED_FEATURE');
    expect(e.message).toContain('"concat"');
    expect(e.message).toContain('--merge-operator concat=PATH');
  });

  test('a plugin that throws is MERGE_FAILED naming the key and a file of the checkpoint, from the kernel path too', async () => {
    const cp = workload(8, [['default', 'concat']]);
    const failing: MergeOperator = { name: 'concat', fullMerge: () => { throw new Error('refused'); } };
    const e = await snapshotErrorOf(() => readWith(cp, 'default', [failing]));
    expect(e.code).toBe('MERGE_FAILED');
    expect(e.file).toMatch(new RegExp(`^${cp.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(\\d{6}\\.sst|\\(WAL\\))$`));
    expect(e.message).toMatch(/key 0x[0-9a-f]+ in column family "default"/);
    expect(e.message).toContain('refused');
  });

  test('plugins take precedence over a built-in of the same name', async () => {
    const cp = workload(9, [['default', 'max']]);
    const min: MergeOperator = { name: 'MaxOperator', fullMerge: () => Uint8Array.of(0xee) };
    const rows = await readWith(cp, 'default', [min]);
    const oracle = rocksdbScan(cp, [['default', 'max']]).get('default')!;
    expect(rows.length).toBe(oracle.length);
    expect(rows.filter(([, v]) => v === 'ee').length).toBeGreaterThan(0);
  });

  test('without OPTIONS the table files name the operator: uint64add still reads as RocksDB; a stringappend (delimiter unknown) and a WAL-only family are refused', async () => {
    const families: [string, string][] = [['default', 'uint64add'], ['append', '{id=StringAppendOperator;delimiter=|}']];
    const cp = workload(10, families);
    const oracle = rocksdbScan(cp, families);
    const copy = join(fresh(), 'cp');
    cpSync(cp, copy, { recursive: true });
    for (const f of readdirSync(copy).filter((n) => n.startsWith('OPTIONS-'))) rmSync(join(copy, f));
    expect(await readTable(copy, 'default')).toEqual(oracle.get('default'));
    const e = await snapshotErrorOf(() => readTable(copy, 'append'));
    expect(e.code).toBe('UNSUPPORTED_FEATURE');
    expect(e.message).toContain('without its delimiter');

    const d = fresh();
    makeFixture(['--db', join(d, 'db'), '--keys', '5', '--no-flush', '--merge-every', '2', '--merge-operator', 'uint64add']);
    for (const f of readdirSync(join(d, 'db')).filter((n) => n.startsWith('OPTIONS-'))) rmSync(join(d, 'db', f));
    const w = await snapshotErrorOf(() => readTable(join(d, 'db'), 'default'));
    expect(w.code).toBe('UNSUPPORTED_FEATURE');
    expect(w.message).toContain('records no merge operator');
  });

  test('OPTIONS saying merge_operator=nullptr: operands are UNSUPPORTED_FEATURE saying so; a damaged OPTIONS file is CORRUPT_CHECKPOINT only once an operand needs it', async () => {
    const cp = workload(11, [['default', 'uint64add']]);
    const copy = join(fresh(), 'cp');
    cpSync(cp, copy, { recursive: true });
    const name = readdirSync(copy).find((n) => n.startsWith('OPTIONS-'))!;
    const text = readFileSync(join(copy, name), 'latin1');
    writeFileSync(join(copy, name), text.replace('merge_operator=UInt64AddOperator', 'merge_operator=nullptr'));
    const e = await snapshotErrorOf(() => readTable(copy, 'default'));
    expect(e.code).toBe('UNSUPPORTED_FEATURE');
    expect(e.message).toContain('merge_operator=nullptr');

    writeFileSync(join(copy, name), `${text}\nthis line is not an option\n`);
    const c = await snapshotErrorOf(() => readTable(copy, 'default'));
    expect(c.code).toBe('CORRUPT_CHECKPOINT');
    expect(c.file).toBe(join(copy, name));
    expect(c.offset).toBe(text.length + 1);
    // A family without visible operands does not need the operator.
    const d = fresh();
    makeFixture(['--db', join(d, 'db'), '--keys', '20', '--merge-operator', 'uint64add']);
    const opt = readdirSync(join(d, 'db')).find((n) => n.startsWith('OPTIONS-'))!;
    writeFileSync(join(d, 'db', opt), 'garbage\n');
    expect((await readTable(join(d, 'db'), 'default')).length).toBe(20);
  });
});
