import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, BIN, runCli } from '../helpers/cli.js';

/** `diff` run as operators run it, on dump directories and on snapshots written by `digest --out`. */

let dir: string;

const hexOf = (s: string | Buffer): string => Buffer.from(s).toString('hex');

/** A dump directory with one `<table>.hex` per entry of `tables` (rows sorted here, as ldb scan prints). */
function dump(name: string, tables: Record<string, [string | Buffer, string | Buffer][]>): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  for (const [table, rows] of Object.entries(tables)) {
    const sorted = [...rows].sort((x, y) => Buffer.compare(Buffer.from(x[0]), Buffer.from(y[0])));
    writeFileSync(join(d, `${table}.hex`), sorted.map(([k, v]) => `0x${hexOf(k).toUpperCase()} : 0x${hexOf(v).toUpperCase()}\n`).join(''));
  }
  return d;
}

const LONG = Buffer.alloc(100, 0xcd);
const A = { blobs: [['k1', 'v1'], ['k2', 'v2'], ['k3', 'v3'], ['k4', LONG]] as [string, string | Buffer][], meta: [['m', '1']] as [string, string][] };
const B = { blobs: [['k1', 'v1'], ['k2', 'V2'], ['k4', Buffer.concat([LONG, Buffer.of(1)])], ['k5', 'v5']] as [string, string | Buffer][], meta: [['m', '1']] as [string, string][] };

let a: string;
let b: string;
let same: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sv-diff-'));
  a = dump('a', A);
  b = dump('b', B);
  same = dump('same', A);
  for (const [src, out] of [[a, 'a.snap'], [b, 'b.snap']] as const) {
    const r = await runCli(['digest', src, '--tables', 'blobs,meta', '--epoch', '12', '--out', join(dir, out)]);
    expect(r.code, r.stderr).toBe(0);
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('diff: exit codes and output', () => {
  it('exit 0 and "IDENTICAL" for logically identical inputs; nothing on stderr', async () => {
    const r = await runCli(['diff', a, same]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('IDENTICAL: 2 table(s), 5 entries, same keys and values');
    expect(r.stderr).toBe('');
  });

  it('exit 1 with the first differing table and key, then the key-level listing', async () => {
    const r = await runCli(['diff', a, b]);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`DIFFERENT: 4 key difference(s) in 1 of 2 table(s); first: table blobs key 0x${hexOf('k2')} (changed)`);
    expect(r.stdout).toContain(`~ blobs 0x${hexOf('k2')}  a 0x${hexOf('v2')}  b 0x${hexOf('V2')}  (values differ from byte 0)`);
    expect(r.stdout).toContain(`- blobs 0x${hexOf('k3')}  a 0x${hexOf('v3')}`);
    expect(r.stdout).toContain(`+ blobs 0x${hexOf('k5')}  b 0x${hexOf('v5')}`);
    // values longer than 64 bytes: the first 64 bytes, then their length
    expect(r.stdout).toContain(`~ blobs 0x${hexOf('k4')}  a 0x${'cd'.repeat(64)}… (100 bytes)  b 0x${'cd'.repeat(64)}… (101 bytes)  (values differ from byte 100)`);
    expect(r.stdout).toContain('table meta   identical (1 entries)');
    expect(r.stdout).toContain('table blobs  2 changed, 1 added, 1 removed (a 4 entries, b 4)');
    expect(r.stderr).toBe('');
  });

  it('snapshots written by digest --out diff the same as their dump directories', async () => {
    const fromDumps = await runCli(['diff', a, b, '--json']);
    const fromSnaps = await runCli(['diff', join(dir, 'a.snap'), join(dir, 'b.snap'), '--json']);
    expect(fromSnaps.code).toBe(1);
    const x = JSON.parse(fromDumps.stdout) as Record<string, unknown>;
    const y = JSON.parse(fromSnaps.stdout) as Record<string, unknown>;
    expect(y['differences']).toEqual(x['differences']);
    expect(y['tables']).toEqual(x['tables']);
    expect(y['a']).toMatchObject({ kind: 'snapshot', epoch: '12', tables: '0=blobs,1=meta' });
  });

  it('a snapshot and a checkpoint can be diffed against each other', async () => {
    const r = await runCli(['diff', join(dir, 'a.snap'), same]);
    expect(r.code).toBe(0);
  });

  it('--limit bounds the listing; the counts stay complete', async () => {
    const r = await runCli(['diff', a, b, '--limit', '1']);
    expect(r.code).toBe(1);
    expect(r.stdout.match(/^ {2}[~+-] /gm)).toHaveLength(1);
    expect(r.stdout).toContain('… 3 more not listed (--limit 1; all are counted above)');
  });

  it('--tables selects the tables compared (as digest takes them)', async () => {
    const r = await runCli(['diff', a, b, '--tables', 'meta']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('IDENTICAL: 1 table(s)');
  });

  it('a table present in one input only is named, with its entry count', async () => {
    const extra = dump('extra', { ...A, fresh: [['x', '1'], ['y', '2']] });
    const r = await runCli(['diff', a, extra]);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe('DIFFERENT: 0 key difference(s) in 0 of 3 table(s), 1 table(s) in one input only');
    expect(r.stdout).toContain('table fresh  only in b (2 entries)');
  });

  it('exit 2 when an input or a selected table does not exist', async () => {
    const missing = await runCli(['diff', a, join(dir, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/NOT_FOUND/);
    expect(missing.stdout).toBe('');
    const table = await runCli(['diff', a, b, '--tables', 'zzz']);
    expect(table.code).toBe(2);
    expect(table.stderr).toMatch(/UNKNOWN_TABLE/);
  });

  it('exit 3 for a corrupt snapshot, with its code, file and offset on stderr', async () => {
    const bytes = readFileSync(join(dir, 'b.snap'));
    const at = bytes.length - 20; // inside the last records: a checksum must catch it
    bytes[at] = bytes[at]! ^ 0xff;
    const bad = join(dir, 'bad.snap');
    writeFileSync(bad, bytes);
    const r = await runCli(['diff', join(dir, 'a.snap'), bad]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^snapshot-verify: [A-Z_]+ in .*bad\.snap at offset \d+/);
    expect(r.stdout).toBe('');
  });

  it('exit 3 for a corrupt dump line', async () => {
    const d = dump('broken', A);
    writeFileSync(join(d, 'blobs.hex'), '0x6B31 : 0x7631\nnot a line\n');
    const r = await runCli(['diff', a, d]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/BAD_DUMP in .*blobs\.hex at offset 16/);
  });

  it('exit 64 for usage errors', async () => {
    for (const args of [['diff', a], ['diff', a, b, '--limit', '-1'], ['diff', a, b, '--bogus'], ['diff', a, b, '--tables', '']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(64);
      expect(r.stdout).toBe('');
    }
  });
});

describe('diff: constant memory', () => {
  it('diffs two 400,000-entry tables inside a 32 MiB JavaScript heap (tables are merged, never materialized)', () => {
    assertBuilt();
    const n = 400_000;
    const value = 'AB'.repeat(40);
    const lines = (skip: number): string => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) if (i !== skip) out.push(`0x${i.toString(16).padStart(10, '0').toUpperCase()} : 0x${value}\n`);
      return out.join('');
    };
    mkdirSync(join(dir, 'big-a'));
    mkdirSync(join(dir, 'big-b'));
    writeFileSync(join(dir, 'big-a', 't.hex'), lines(-1));
    writeFileSync(join(dir, 'big-b', 't.hex'), lines(123_456));
    const r = spawnSync(process.execPath, ['--max-old-space-size=32', BIN, 'diff', join(dir, 'big-a'), join(dir, 'big-b'), '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ totalDifferences: '1', first: { kind: 'removed', key: (123_456).toString(16).padStart(10, '0') } });
  });
});

describe('diff --json', () => {
  it('one JSON document: identical flag, exit code, inputs, first difference, counts, tables and the listing', async () => {
    const r = await runCli(['diff', a, b, '--json', '--limit', '2']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as Record<string, any>;
    expect(Object.keys(doc)).toEqual(['schemaVersion', 'identical', 'exitCode', 'a', 'b', 'first', 'totalDifferences', 'limit', 'tables', 'differences']);
    expect(doc['schemaVersion']).toBe(1);
    expect(doc['identical']).toBe(false);
    expect(doc['exitCode']).toBe(1);
    expect(doc['first']).toEqual({ table: 'blobs', kind: 'changed', key: hexOf('k2'), keyBytes: 2, a: { hex: hexOf('v2'), bytes: 2, truncated: false }, b: { hex: hexOf('V2'), bytes: 2, truncated: false }, differsAt: 0 });
    expect(doc['totalDifferences']).toBe('4');
    expect(doc['differences'].map((d: any) => [d.kind, d.key])).toEqual([['changed', hexOf('k2')], ['removed', hexOf('k3')]]);
    expect(doc['tables']).toEqual([
      { name: 'blobs', presence: 'both', entriesA: '4', entriesB: '4', added: '1', removed: '1', changed: '2' },
      { name: 'meta', presence: 'both', entriesA: '1', entriesB: '1', added: '0', removed: '0', changed: '0' },
    ]);
    expect(r.stderr).toBe('');
  });

  it('an error is one JSON document too, and the message goes to stderr', async () => {
    const r = await runCli(['diff', a, join(dir, 'nope'), '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect(r.stderr).toMatch(/NOT_FOUND/);
  });
});
