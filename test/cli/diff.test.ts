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

/** Two checkpoints: diff needs the tables to compare (a checkpoint may hold node-local ones). */
const T = ['--tables', 'blobs,meta'];

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
    const r = await runCli(['diff', a, same, ...T]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('IDENTICAL: 2 table(s), 5 entries, same keys and values');
    expect(r.stderr).toBe('');
  });

  it('exit 1 with the first differing table and key, then the key-level listing', async () => {
    const r = await runCli(['diff', a, b, ...T]);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`DIFFERENT: 4 key difference(s) in 1 of 2 table(s); first: table blobs key 0x${hexOf('k2')} (changed)`);
    expect(r.stdout).toContain(`~ blobs 0x${hexOf('k2')}  values differ from byte 0 (a 2 bytes, b 2 bytes)\n      a @0: 0x${hexOf('v2')}\n      b @0: 0x${hexOf('V2')}\n              ^^ byte 0\n`);
    expect(r.stdout).toContain(`- blobs 0x${hexOf('k3')}  a 0x${hexOf('v3')}`);
    expect(r.stdout).toContain(`+ blobs 0x${hexOf('k5')}  b 0x${hexOf('v5')}`);
    // a long value differing late: the 16 bytes before the first difference, with its offset, not two equal prefixes
    expect(r.stdout).toContain(`~ blobs 0x${hexOf('k4')}  values differ from byte 100 (a 100 bytes, b 101 bytes)\n      a @84: …0x${'cd'.repeat(16)}\n`);
    expect(r.stdout).toContain(`      b @84: …0x${'cd'.repeat(16)}01\n${' '.repeat(6 + 'a @84: …0x'.length + 2 * 16)}^^ byte 100\n`);
    expect(r.stdout).toContain('table meta   identical (1 entries)');
    expect(r.stdout).toContain('table blobs  2 changed, 1 added, 1 removed (a 4 entries, b 4)');
    expect(r.stderr).toBe('');
  });

  it('snapshots written by digest --out diff the same as their dump directories', async () => {
    const fromDumps = await runCli(['diff', a, b, '--json', ...T]);
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
    const r = await runCli(['diff', a, b, '--limit', '1', ...T]);
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
    const r = await runCli(['diff', a, extra, '--tables', 'blobs,meta,fresh']);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe('DIFFERENT: 0 key difference(s) in 0 of 3 table(s), 1 table(s) in one input only');
    expect(r.stdout).toContain('table fresh  only in b (2 entries)');
  });

  it('exit 2 when an input or a selected table does not exist', async () => {
    const missing = await runCli(['diff', a, join(dir, 'nope'), ...T]);
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
    const r = await runCli(['diff', a, d, ...T]);
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
    const r = spawnSync(process.execPath, ['--max-old-space-size=32', BIN, 'diff', join(dir, 'big-a'), join(dir, 'big-b'), '--json', '--tables', 't'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ totalDifferences: '1', first: { kind: 'removed', key: (123_456).toString(16).padStart(10, '0') } });
  });
});

describe('diff --json', () => {
  it('one JSON document: identical flag, exit code, inputs, first difference, counts, tables and the listing', async () => {
    const r = await runCli(['diff', a, b, '--json', '--limit', '2', ...T]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as Record<string, any>;
    expect(Object.keys(doc)).toEqual(['schemaVersion', 'identical', 'exitCode', 'a', 'b', 'first', 'keyRange', 'totalDifferences', 'limit', 'tables', 'differences']);
    expect(doc['schemaVersion']).toBe(2);
    expect(doc['identical']).toBe(false);
    expect(doc['exitCode']).toBe(1);
    expect(doc['first']).toEqual({ table: 'blobs', kind: 'changed', key: hexOf('k2'), keyBytes: 2, a: { hex: hexOf('v2'), bytes: 2 }, b: { hex: hexOf('V2'), bytes: 2 }, differsAt: 0 });
    expect(doc['totalDifferences']).toBe('4');
    expect(doc['differences'].map((d: any) => [d.kind, d.key])).toEqual([['changed', hexOf('k2')], ['removed', hexOf('k3')]]);
    expect(doc['tables']).toEqual([
      { name: 'blobs', presence: 'both', entriesA: '4', entriesB: '4', added: '1', removed: '1', changed: '2' },
      { name: 'meta', presence: 'both', entriesA: '1', entriesB: '1', added: '0', removed: '0', changed: '0' },
    ]);
    expect(r.stderr).toBe('');
  });

  it('an error is one JSON document too, and the message goes to stderr', async () => {
    const r = await runCli(['diff', a, join(dir, 'nope'), '--json', ...T]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect(r.stderr).toMatch(/NOT_FOUND/);
  });
});

describe('diff: what differs, for people', () => {
  // Values a state machine stores: text, JSON, msgpack ({"a":1,"b":[2,3]} written by hand from the
  // msgpack spec: fixmap 2, fixstr "a", 1, fixstr "b", fixarray [2, 3]) and bytes that are none of these.
  const MSGPACK = Buffer.from('82a16101a16292020' + '3', 'hex');
  const LATE = Buffer.alloc(120, 0x11);
  const LATE_B = Buffer.from(LATE);
  LATE_B[84] = 0x99;
  const rows = (second: boolean): [string | Buffer, string | Buffer][] => [
    ['\x10text', second ? 'hello there' : 'hello world'],
    ['\x20json', second ? '{"n":2}' : '{"n":1}'],
    ['\x30msgpack', second ? Buffer.from('82a16102a16292020' + '3', 'hex') : MSGPACK],
    ['\x40binary', second ? Buffer.of(0xff, 0x00, 0x02) : Buffer.of(0xff, 0x00, 0x01)],
    ['\x50late', second ? LATE_B : LATE],
  ];

  it('a changed value is shown around its first differing byte with the offset; --full shows it whole; --json has it whole', async () => {
    const c = dump('c', { vals: rows(false) });
    const d = dump('d', { vals: rows(true) });
    const r = await runCli(['diff', c, d, '--tables', 'vals']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`~ vals 0x${hexOf('\x50late')}  values differ from byte 84 (a 120 bytes, b 120 bytes)`);
    expect(r.stdout).toContain(`a @68: …0x${'11'.repeat(33)}…`);
    expect(r.stdout).toContain(`b @68: …0x${'11'.repeat(16)}99${'11'.repeat(16)}…`);
    const full = await runCli(['diff', c, d, '--tables', 'vals', '--full']);
    expect(full.stdout).toContain(`    b 0x${LATE_B.toString('hex')}\n`);
    const json = JSON.parse((await runCli(['diff', c, d, '--tables', 'vals', '--json'])).stdout);
    const late = json.differences.find((x: { key: string }) => x.key === hexOf('\x50late'));
    expect(late).toMatchObject({ differsAt: 84, a: { hex: LATE.toString('hex'), bytes: 120 }, b: { hex: LATE_B.toString('hex'), bytes: 120 } });
  });

  it('--decode utf8|json|msgpack renders what decodes and shows the rest in hex, never an error', async () => {
    const c = dump('c2', { vals: rows(false) });
    const d = dump('d2', { vals: rows(true) });
    const utf8 = await runCli(['diff', c, d, '--tables', 'vals', '--decode', 'utf8']);
    expect(utf8.code).toBe(1);
    expect(utf8.stdout).toContain('      a "hello world"\n      b "hello there"\n');
    expect(utf8.stdout).toContain('~ vals "@binary"  values differ from byte 2 (a 3 bytes, b 3 bytes)\n      a @0: 0xff0001\n'); // not UTF-8: hex
    expect(utf8.stdout).toContain(`~ vals 0x${hexOf('\x10text')}  values differ from byte 6`); // a control byte in the key: hex
    const json = await runCli(['diff', c, d, '--tables', 'vals', '--decode', 'json']);
    expect(json.stdout).toContain('      a {"n":1}\n      b {"n":2}\n');
    const msgpack = await runCli(['diff', c, d, '--tables', 'vals', '--decode', 'msgpack', '--json']);
    expect(msgpack.code).toBe(1);
    const doc = JSON.parse(msgpack.stdout);
    const m = doc.differences.find((x: { key: string }) => x.key === hexOf('\x30msgpack'));
    expect(m.decoded).toEqual({ key: null, a: '{"a":1,"b":[2,3]}', b: '{"a":2,"b":[2,3]}' });
    expect(m.a.hex).toBe(MSGPACK.toString('hex'));
    const late = doc.differences.find((x: { key: string }) => x.key === hexOf('\x50late'));
    expect(late.decoded.a).toBeNull(); // 0x11 … is a msgpack 17 followed by extra bytes: not one msgpack value
    const bad = await runCli(['diff', c, d, '--tables', 'vals', '--decode', 'yaml']);
    expect(bad.code).toBe(64);
  });

  it('--range takes a key range exactly as compare prints it; --from/--to take hex keys; both at once is a usage error', async () => {
    const c = dump('c3', { vals: rows(false) });
    const d = dump('d3', { vals: rows(true) });
    const r = await runCli(['diff', c, d, '--tables', 'vals', '--range', 'range 1 [20000000, 40000000)', '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.keyRange).toBe('[20000000, 40000000)');
    expect(doc.differences.map((x: { key: string }) => x.key)).toEqual([hexOf('\x20json'), hexOf('\x30msgpack')]);
    const open = JSON.parse((await runCli(['diff', c, d, '--tables', 'vals', '--range', '[40000000, ∞)', '--json'])).stdout);
    expect(open.differences.map((x: { key: string }) => x.key)).toEqual([hexOf('\x40binary'), hexOf('\x50late')]);
    const hex = JSON.parse((await runCli(['diff', c, d, '--tables', 'vals', '--from', '0x30', '--to', '50', '--json'])).stdout);
    expect(hex.differences.map((x: { key: string }) => x.key)).toEqual([hexOf('\x30msgpack'), hexOf('\x40binary')]);
    const both = await runCli(['diff', c, d, '--tables', 'vals', '--range', '[00000000, ∞)', '--from', '00']);
    expect(both.code).toBe(64);
    expect(both.stderr).toContain('--range conflicts with --from/--to');
  });

  it('two checkpoints without --tables list their tables (exit 64); --anchor FILE selects its tables; --anchor with --tables is refused', async () => {
    const r = await runCli(['diff', a, b]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('needs the tables to compare: --tables a,b,c or --anchor FILE');
    expect(r.stderr).toContain(`${a}: blobs, meta`);
    const anchor = join(dir, 'anchor.json');
    writeFileSync(anchor, JSON.stringify({ anchorVersion: 1, tables: [{ id: 0, name: 'meta' }] }));
    const viaAnchor = await runCli(['diff', a, b, '--anchor', anchor]);
    expect(viaAnchor.code).toBe(0);
    expect(viaAnchor.stdout).toContain('IDENTICAL: 1 table(s)');
    const both = await runCli(['diff', a, b, '--anchor', anchor, '--tables', 'blobs']);
    expect(both.code).toBe(64);
    expect(both.stderr).toMatch(/--tables conflicts with --anchor/);
  });
});
