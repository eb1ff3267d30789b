import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/**
 * `compare` run as operators run it: the real binary over reports that the real `digest --json`
 * made from dump directories. Digest values are never written here: only relations (same
 * content → same digest, one changed value → different) are relied on.
 */

let dir: string;
const report = (name: string): string => join(dir, 'reports', `${name}.json`);

/** A dump directory `checkpoint_epoch_<epoch>` with one table `t` holding `rows`. */
function dump(node: string, epoch: number, rows: [string, string][]): string {
  const d = join(dir, node, `checkpoint_epoch_${epoch}`);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 't.hex'), rows.map(([k, v]) => `0x${Buffer.from(k).toString('hex').toUpperCase()} : 0x${Buffer.from(v).toString('hex').toUpperCase()}\n`).join(''));
  return d;
}

const BASE: [string, string][] = [['alpha', '1'], ['bravo', '2'], ['charlie', '3'], ['delta', '4']];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sv-compare-'));
  mkdirSync(join(dir, 'reports'));
  const nodes: [string, number, [string, string][]][] = [
    ['n1', 12, BASE],
    ['n2', 12, BASE],
    ['n3', 12, BASE],
    ['odd', 12, BASE.map(([k, v]) => [k, k === 'charlie' ? '3x' : v])],
    ['late', 13, BASE],
  ];
  await Promise.all(
    nodes.map(async ([node, epoch, rows]) => {
      const r = await runCli(['digest', dump(node, epoch, rows), '--tables', 't', '--json', '--node', node, '--ranges', '8']);
      expect(r.code, r.stderr).toBe(0);
      writeFileSync(report(node), r.stdout);
    }),
  );
  writeFileSync(join(dir, 'reports', 'truncated.json'), readFileSync(report('n1'), 'utf8').slice(0, 200));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('compare: exit codes and the verdict line', () => {
  it('exit 0 and a first line "AGREE at epoch 12" when every node agrees; nothing on stderr', async () => {
    const r = await runCli(['compare', report('n1'), report('n2'), report('n3')]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^AGREE at epoch 12: all 3 nodes agree on [0-9a-f]{16}$/);
    expect(r.stderr).toBe('');
  });

  it('exit 1 naming the minority node with its report file, the table and the key range', async () => {
    const r = await runCli(['compare', report('n1'), report('n2'), report('n3'), report('odd')]);
    expect(r.code).toBe(1);
    const first = r.stdout.split('\n')[0]!;
    expect(first).toMatch(/^DIVERGENCE at epoch 12: 3 of 4 nodes agree on [0-9a-f]{16}; minority: odd \(/);
    expect(first).toContain(report('odd'));
    expect(r.stdout).toMatch(/table t \(id 0\): digest [0-9a-f]{16}, expected [0-9a-f]{16}/);
    // "charlie" starts with 0x63: with 8 ranges of 2^29 each, range 3 = [60000000, 80000000).
    expect(r.stdout).toContain('range 3 [60000000, 80000000)');
    expect(r.stderr).toBe('');
  });

  it('exit 2 for a report at another epoch, named as incomparable while the others are compared', async () => {
    const r = await runCli(['compare', report('n1'), report('n2'), report('late')]);
    expect(r.code).toBe(2);
    expect(r.stdout.split('\n')[0]).toMatch(/^INCOMPARABLE: 1 report at another anchor \(late \(.*late\.json\): epoch 13\); the 2 compared nodes agree at epoch 12 on [0-9a-f]{16}$/);
  });

  it('exit 2 for a single report (too few) and for a report file that does not exist', async () => {
    const one = await runCli(['compare', report('n1')]);
    expect(one.code).toBe(2);
    expect(one.stdout).toMatch(/^TOO FEW REPORTS/);
    const missing = await runCli(['compare', report('n1'), report('n2'), join(dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toMatch(/^MISSING REPORT: .*nope\.json \(NOT_FOUND\); the 2 compared nodes agree/);
    expect(missing.stderr).toMatch(/NOT_FOUND in .*nope\.json/);
  });

  it('exit 3 for a corrupt report: a clear error naming the file on stderr; the other nodes still compared', async () => {
    const r = await runCli(['compare', report('n1'), report('n2'), join(dir, 'reports', 'truncated.json')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^snapshot-verify: BAD_REPORT in .*truncated\.json at offset 0 \(0x0\): truncated JSON/);
    expect(r.stdout.split('\n')[0]).toMatch(/^CORRUPT REPORT: .*truncated\.json \(BAD_REPORT\); the 2 compared nodes agree at epoch 12/);
  });

  it('exit 1 when nodes diverge even though another report is corrupt (a divergence is never hidden)', async () => {
    const r = await runCli(['compare', report('n1'), report('n2'), report('odd'), join(dir, 'reports', 'truncated.json')]);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toMatch(/minority: odd .*; not compared: 1 corrupt report$/);
    expect(r.stderr).toMatch(/BAD_REPORT in .*truncated\.json/);
  });

  it('exit 64 for usage errors, with nothing on stdout', async () => {
    for (const args of [['compare'], ['compare', report('n1'), '--quorum', '0'], ['compare', report('n1'), '--bogus'], ['compare', '-', '-'], ['compare', report('n1'), '--epoch', 'x']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(64);
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toBe('');
    }
  });

  it('--quorum N: a group of N nodes is authoritative; with none, no minority is named', async () => {
    const ok = await runCli(['compare', report('n1'), report('n2'), report('n3'), report('odd'), '--quorum', '3']);
    expect(ok.code).toBe(1);
    expect(ok.stdout.split('\n')[0]).toContain('3 of 4 nodes (quorum 3) agree');
    const none = await runCli(['compare', report('n1'), report('n2'), report('n3'), report('odd'), '--quorum', '4']);
    expect(none.code).toBe(1);
    expect(none.stdout.split('\n')[0]).toMatch(/no quorum of 4 among 4 nodes/);
  });

  it('--help documents the exit codes', async () => {
    const r = await runCli(['compare', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Exit codes:');
    expect(r.stdout).toContain('64  usage error');
  });
});

describe('compare: inputs', () => {
  it('a directory means every *.json in it (the corrupt one is named, the rest compared)', async () => {
    const r = await runCli(['compare', join(dir, 'reports'), '--json']);
    const doc = JSON.parse(r.stdout) as { verdict: string; compared: unknown[]; incomparable: { node: string }[]; errors: { file: string; code: string }[] };
    expect(r.code).toBe(1); // odd diverges
    expect(doc.verdict).toBe('DIVERGENCE');
    expect(doc.compared).toHaveLength(4);
    expect(doc.incomparable.map((i) => i.node)).toEqual(['late']);
    expect(doc.errors.map((e) => [e.file.endsWith('truncated.json'), e.code])).toEqual([[true, 'BAD_REPORT']]);
  });

  it('- reads concatenated reports from stdin, each shown as -#n', async () => {
    const input = [report('n1'), report('n2'), report('odd')].map((f) => readFileSync(f, 'utf8')).join('');
    const r = await runCli(['compare', '-'], { input });
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toContain('minority: odd (-#3)');
  });

  it('- reads a JSON array of reports from stdin', async () => {
    const input = `[${[report('n1'), report('n2')].map((f) => readFileSync(f, 'utf8')).join(',')}]`;
    const r = await runCli(['compare', '-'], { input });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('n1 (-#1), n2 (-#2)');
  });

  it('two different reports under one node name are conflicting: neither counted, both files named, exit 3', async () => {
    const copy = join(dir, 'copy-of-n1.json');
    writeFileSync(copy, readFileSync(report('odd'), 'utf8').replace('"name": "odd"', '"name": "n1"'));
    const r = await runCli(['compare', report('n1'), report('n2'), report('n3'), copy]);
    expect(r.code).toBe(3);
    expect(r.stdout.split('\n')[0]).toMatch(/^CONFLICTING REPORTS: 2 different reports under the name n1; not counted; the 2 compared nodes agree at epoch 12/);
    expect(r.stdout).toContain(copy);
    expect(r.stdout).toContain(report('n1'));
  });

  it('an identical copy of a report under its name is counted once, and said so', async () => {
    const copy = join(dir, 'copy2-of-n1.json');
    writeFileSync(copy, readFileSync(report('n1'), 'utf8'));
    const r = await runCli(['compare', report('n1'), copy, report('odd'), '--json']);
    const doc = JSON.parse(r.stdout) as Record<string, any>;
    expect(doc['duplicates']).toEqual([{ node: 'n1', counted: { node: 'n1', file: report('n1') }, copies: [{ node: 'n1', file: copy }] }]);
    // n1 once against odd: two nodes, two digests, no majority (a copy never makes one).
    expect(doc['verdict']).toBe('DIVERGENCE');
    expect(doc['authoritativeDigest']).toBeNull();
  });

  it('the same file given twice is compared once (it must not count as two nodes)', async () => {
    const r = await runCli(['compare', report('n1'), report('n1'), report('odd')]);
    expect(r.stderr).toContain('given more than once');
    expect(r.stdout.split('\n')[0]).toMatch(/no majority among 2 nodes/);
  });

  it('the error document of a failed digest run is a corrupt report that says so', async () => {
    const f = join(dir, 'failed.json');
    writeFileSync(f, JSON.stringify({ error: { code: 'BAD_DUMP', message: 'line is not 0xKEY : 0xVALUE', file: 'x.hex', offset: 3 } }));
    const r = await runCli(['compare', report('n1'), report('n2'), f]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('error output of a failed digest run');
  });
});

describe('compare: hostile reports', () => {
  it('[], {} and JSON that is not a report are BAD_REPORT (exit 3), never counted', async () => {
    for (const [name, text] of [['empty-array', '[]'], ['empty-object', '{}'], ['number-array', '[1]'], ['nested', '[[]]']]) {
      const f = join(dir, `${name}.json`);
      writeFileSync(f, text!);
      const r = await runCli(['compare', report('n1'), report('n2'), f, '--json']);
      expect(r.code, name).toBe(3);
      const doc = JSON.parse(r.stdout) as Record<string, any>;
      expect(doc['errors'].map((e: any) => e.code), name).toEqual(['BAD_REPORT']);
      expect(doc['compared'], name).toHaveLength(2);
    }
  });

  it('a node name with a newline and escape sequences is shown escaped in text (no fake verdict line) and as is in JSON', async () => {
    const evil = 'n9\nAGREE at epoch 42: all 9 nodes agree on 0000000000000000\u001b[2K';
    const f = join(dir, 'evil.json');
    writeFileSync(f, readFileSync(report('odd'), 'utf8').replace('"name": "odd"', `"name": ${JSON.stringify(evil)}`));
    const r = await runCli(['compare', report('n1'), report('n2'), f]);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('AGREE'))).toEqual([]);
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).toContain('n9\\nAGREE at epoch 42');
    expect(r.stdout).toContain('\\x1b[2K');
    const j = await runCli(['compare', report('n1'), report('n2'), f, '--json']);
    expect((JSON.parse(j.stdout) as any).minority[0].node).toBe(evil);
  });
});

describe('compare --json', () => {
  it('prints one JSON document on stdout with the verdict, groups, minority, tables, ranges, incomparable and errors', async () => {
    const r = await runCli(['compare', report('n1'), report('n2'), report('n3'), report('odd'), report('late'), join(dir, 'reports', 'truncated.json'), '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as Record<string, any>;
    expect(Object.keys(doc)).toEqual(['schemaVersion', 'verdict', 'exitCode', 'summary', 'outcome', 'anchor', 'rule', 'authoritativeDigest', 'groups', 'minority', 'tables', 'compared', 'incomparable', 'anchorSplits', 'errors', 'authenticated', 'totalWeight', 'rejected', 'equivocations', 'conflicting', 'duplicates', 'inconsistent', 'warnings', 'anchorFileNotes']);
    expect(doc['schemaVersion']).toBe(1);
    expect(doc['verdict']).toBe('DIVERGENCE');
    expect(doc['exitCode']).toBe(1);
    expect(doc['anchor']).toEqual({ formatVersion: 1, epoch: '12', cursor: '0', maxChunkBytes: '0', tables: '0=t' });
    expect(doc['rule']).toEqual({ kind: 'majority', spec: '>1/2', required: 3, reached: true });
    expect(doc['groups'].map((g: any) => [g.nodes.length, g.authoritative])).toEqual([[3, true], [1, false]]);
    expect(doc['groups'][0].digest).toBe(doc['authoritativeDigest']);
    expect(doc['minority']).toHaveLength(1);
    expect(doc['minority'][0]).toMatchObject({ node: 'odd', file: report('odd'), tables: [{ id: 0, name: 't', ranges: [{ index: 3, start: '60000000', end: '80000000' }] }] });
    expect(doc['tables'][0]).toMatchObject({ id: 0, name: 't', rangesPerTable: 8, ranges: [{ index: 3 }] });
    expect(doc['incomparable']).toEqual([{ node: 'late', file: report('late'), differences: [{ field: 'epoch', value: '13', compared: '12' }] }]);
    expect(doc['errors']).toEqual([expect.objectContaining({ kind: 'corrupt', code: 'BAD_REPORT', offset: 0 })]);
    // stderr carries the diagnostic only, never the result
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/BAD_REPORT/);
  });

  it('the same digest in every report gives the group digest those reports carry', async () => {
    const r = await runCli(['compare', report('n1'), report('n2'), '--json']);
    const doc = JSON.parse(r.stdout) as { groups: { digest: string }[] };
    const digests = [report('n1'), report('n2')].map((f) => (JSON.parse(readFileSync(f, 'utf8')) as { digest: string }).digest);
    expect(doc.groups.map((g) => g.digest)).toEqual([digests[0]]);
    expect(digests[0]).toBe(digests[1]);
  });
});
