import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runCli } from '../helpers/cli.js';

const lib = (await import(join(REPO, 'dist', 'index.js'))) as typeof import('../../src/index.js');

describe('verify --each-chunk', () => {
  it("prints each chunk's own entry count: the counts of its entries, summing to the snapshot's", async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'sv-each-')), 'p.snap');
    const dump = join(REPO, 'examples', 'dump', 'checkpoint_epoch_42');
    const made = await runCli(['digest', dump, '--tables', 'aggregate_blob_info,per_object_blob_info', '--max-chunk-bytes', '16KiB', '--json', '--out', out, '--chunk-files']);
    const report = JSON.parse(made.stdout);
    const files = await lib.snapshotFiles(out);
    // Independent count: entries each chunk holds, read with the streaming reader one chunk at a time.
    const expected: string[] = [];
    for await (const ev of lib.readSnapshot(files)) {
      if (ev.kind === 'header') expected.push('0');
      if (ev.kind === 'entries') expected[expected.length - 1] = String(BigInt(expected.at(-1)!) + BigInt(ev.entries.length));
    }
    expect(expected.length).toBeGreaterThan(20);
    const r = await runCli(['verify', '--each-chunk', '--json', ...files]);
    expect(r.code).toBe(0);
    const entries = JSON.parse(r.stdout).results.map((x: { entries: string }) => x.entries);
    expect(entries).toEqual(expected);
    expect(entries.reduce((s: bigint, e: string) => s + BigInt(e), 0n)).toBe(BigInt(report.entries));
  }, 60_000);
});
