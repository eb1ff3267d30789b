import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { xxh64sum } from './oracle.js';

/** `--anchor FILE` (docs/ANCHOR.md) through the real binary: digest, compare and the anchor's digest. */

let dir: string;
const file = (name: string): string => join(dir, name);

function dump(node: string, rows: [string, string][]): string {
  const d = join(dir, node, 'checkpoint_epoch_7');
  mkdirSync(d, { recursive: true });
  for (const t of ['objects', 'pools', 'local']) {
    writeFileSync(join(d, `${t}.hex`), rows.map(([k, v]) => `0x${Buffer.from(k).toString('hex')} : 0x${Buffer.from(`${t}${v}`).toString('hex')}\n`).join(''));
  }
  return d;
}

const ROWS: [string, string][] = [['a', '1'], ['b', '2'], ['c', '3']];
/** The anchor as an operator writes it: spacing, table order and number spellings of their own. */
const ANCHOR_TEXT = '{\n  "tables": [ {"name": "pools", "id": 5}, {"id": 2, "name": "objects"} ],\n  "anchorVersion": 1, "maxChunkBytes": 0, "ranges": 4\n}\n';
/** docs/ANCHOR.md §3, written out by hand. */
const CANONICAL = '{"anchorVersion":1,"tables":[{"id":2,"name":"objects"},{"id":5,"name":"pools"}],"maxChunkBytes":"0","ranges":4}';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sv-anchor-'));
  writeFileSync(file('anchor.json'), ANCHOR_TEXT);
  writeFileSync(file('other-anchor.json'), ANCHOR_TEXT.replace('"ranges": 4', '"ranges": 4, "cursor": "0"'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('digest --anchor', () => {
  it('digests exactly what the equivalent flags digest, and records the digest of the canonical form (xxh64sum of docs/ANCHOR.md §3)', async () => {
    const d = dump('n1', ROWS);
    const viaAnchor = await runCli(['digest', d, '--anchor', file('anchor.json'), '--json', '--node', 'n1']);
    expect(viaAnchor.code, viaAnchor.stderr).toBe(0);
    const viaFlags = await runCli(['digest', d, '--tables', '2=objects,5=pools', '--ranges', '4', '--json']);
    const a = JSON.parse(viaAnchor.stdout);
    const f = JSON.parse(viaFlags.stdout);
    expect(a.digest).toBe(f.digest);
    expect(a.tables.map((t: { id: number; name: string }) => `${t.id}=${t.name}`)).toEqual(['2=objects', '5=pools']);
    expect(a.rangesPerTable).toBe(4);
    expect(a.anchorDigest).toBe(xxh64sum(Buffer.from(CANONICAL)));
    expect(a.node.anchorFile).toBe(file('anchor.json'));
    expect(f.anchorDigest).toBeUndefined();
  });

  it('a flag for a parameter the anchor sets is a usage error naming it; a bad anchor file is BAD_ANCHOR (exit 64), a missing one NOT_FOUND (exit 2)', async () => {
    const d = dump('n1', ROWS);
    const conflict = await runCli(['digest', d, '--anchor', file('anchor.json'), '--tables', 'objects', '--max-chunk-bytes', '1MiB']);
    expect(conflict.code).toBe(64);
    expect(conflict.stderr).toContain(`--tables, --max-chunk-bytes conflict with --anchor ${file('anchor.json')}`);
    // --cursor is allowed when the anchor leaves the cursor out, refused when it sets one
    expect((await runCli(['digest', d, '--anchor', file('anchor.json'), '--cursor', '9'])).code).toBe(0);
    expect((await runCli(['digest', d, '--anchor', file('other-anchor.json'), '--cursor', '9'])).code).toBe(64);
    writeFileSync(file('bad.json'), '{"anchorVersion": 1, "tables": [{"id": 1, "name": "objects"}], "maxChunkByte": "0"}');
    const bad = await runCli(['digest', d, '--anchor', file('bad.json'), '--json']);
    expect(bad.code).toBe(64);
    expect(JSON.parse(bad.stdout).error).toMatchObject({ code: 'BAD_ANCHOR', file: file('bad.json') });
    expect(bad.stderr).toContain('unknown field maxChunkByte');
    const missing = await runCli(['digest', d, '--anchor', file('nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/NOT_FOUND/);
  });
});

describe('compare and anchor files', () => {
  it('names the node that used another anchor file, or none; --anchor compares the reports made at its anchor', async () => {
    const reports: string[] = [];
    for (const [node, args] of [
      ['n1', ['--anchor', file('anchor.json')]],
      ['n2', ['--anchor', file('anchor.json')]],
      ['n3', ['--anchor', file('other-anchor.json')]],
      ['n4', ['--tables', '2=objects,5=pools', '--ranges', '4']],
    ] as const) {
      const r = await runCli(['digest', dump(node, ROWS), ...args, '--json', '--node', node]);
      expect(r.code, r.stderr).toBe(0);
      writeFileSync(file(`${node}.json`), r.stdout);
      reports.push(file(`${node}.json`));
    }
    const text = await runCli(['compare', ...reports]);
    expect(text.code).toBe(0); // the anchors' fields are the same: comparable, and they agree
    expect(text.stdout).toContain(`anchor files:\n  node n3 (${file('n3.json')}) used another anchor file`);
    expect(text.stdout).toContain(`  node n4 (${file('n4.json')}) used no anchor file`);
    expect(text.stdout).not.toMatch(/node n[12] /);
    const json = JSON.parse((await runCli(['compare', ...reports, '--anchor', file('other-anchor.json'), '--json'])).stdout);
    const expected = JSON.parse(readFileSync(file('n3.json'), 'utf8')).anchorDigest;
    expect(json.anchorFileNotes.map((n: { node: string }) => n.node)).toEqual(['n1', 'n2', 'n4']);
    expect(json.anchorFileNotes.every((n: { expected: string }) => n.expected === expected)).toBe(true);
  });

  it('a report written by a newer snapshot-verify is its own verdict, NEWER_REPORT ("upgrade"), not a corrupt report', async () => {
    const r1 = await runCli(['digest', dump('m1', ROWS), '--tables', 'objects', '--json', '--node', 'm1']);
    const r2 = await runCli(['digest', dump('m2', ROWS), '--tables', 'objects', '--json', '--node', 'm2']);
    writeFileSync(file('m1.json'), r1.stdout);
    writeFileSync(file('m2.json'), r2.stdout);
    writeFileSync(file('future.json'), JSON.stringify({ ...JSON.parse(r2.stdout), schemaVersion: 9 }));
    const text = await runCli(['compare', file('m1.json'), file('m2.json'), file('future.json')]);
    expect(text.code).toBe(3);
    expect(text.stdout.split('\n')[0]).toMatch(/^NEWER REPORT: .*future\.json written by a newer snapshot-verify; upgrade this one \(the report is not damaged\); the 2 compared nodes agree/);
    expect(text.stderr).toContain('NEWER_REPORT');
    expect(text.stderr).toContain('written by a newer snapshot-verify (schema 9)');
    const json = JSON.parse((await runCli(['compare', file('m1.json'), file('m2.json'), file('future.json'), '--json'])).stdout);
    expect(json.verdict).toBe('NEWER_REPORT');
    expect(json.errors).toEqual([expect.objectContaining({ kind: 'newer', code: 'NEWER_REPORT' })]);
  });
});
