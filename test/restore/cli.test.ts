/** `snapshot-verify restore` as operators run it: the real binary, exit codes, stdout and stderr. */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { goldenPath, loadManifest } from '../helpers/golden.js';
import { cleanup, tempDir } from './helpers.js';

let work: string;
beforeAll(() => {
  work = tempDir('sv-restore-cli-');
});
afterAll(() => cleanup(work));

const blobInfo = () => loadManifest('v1').cases.find((c) => c.name === 'blob-info')!;

describe('restore CLI', () => {
  it('--json reports files, tables and the digest command; that command reproduces the snapshot digest', async () => {
    const to = join(work, 'db');
    const r = await runCli(['restore', goldenPath('v1', blobInfo()), '--to', to, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { ok: boolean; mode: string; snapshot: { digest: string }; tables: { name: string; entries: number; digest: string; files: string[] }[]; files: { name: string; bytes: number }[]; digestCommand: string };
    expect(doc.ok).toBe(true);
    expect(doc.mode).toBe('database');
    expect(doc.snapshot.digest).toBe(blobInfo().digest);
    expect(doc.tables.map((t) => [t.name, t.entries, t.digest])).toEqual(blobInfo().tables.map((t) => [t.name, Number(t.entryCount), t.digest]));
    expect(doc.files.map((f) => f.name).sort()).toEqual(readdirSync(to).sort());
    const args = doc.digestCommand.split(' ').slice(1); // "snapshot-verify digest DIR --tables …"
    const d = await runCli(args);
    expect(d.code).toBe(0);
    expect(d.stdout.split('\n')[0]).toContain(`digest ${blobInfo().digest}`);
  });

  it('--sst-only prints one ldb ingest command per file', async () => {
    const to = join(work, 'sst');
    const r = await runCli(['restore', goldenPath('v1', blobInfo()), '--to', to, '--sst-only', '--compression', 'zlib']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('ingest ')).length).toBe(readdirSync(to).length);
  });

  it('exit codes: 74 OUTPUT_EXISTS, 4 BAD_TABLE_NAME, 3 for a damaged snapshot, 2 UNKNOWN_TABLE, 64 bad --max-sst-bytes', async () => {
    const full = join(work, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'x'), '');
    const exists = await runCli(['restore', goldenPath('v1', blobInfo()), '--to', full]);
    expect([exists.code, exists.stderr]).toEqual([74, expect.stringContaining('OUTPUT_EXISTS')]);

    const extremes = loadManifest('v1').cases.find((c) => c.name === 'extremes')!;
    const nul = await runCli(['restore', goldenPath('v1', extremes), '--to', join(work, 'nul')]);
    expect([nul.code, nul.stderr]).toEqual([4, expect.stringContaining('BAD_TABLE_NAME')]);

    const damaged = Buffer.from(readFileSync(goldenPath('v1', blobInfo())));
    damaged[300] = damaged[300]! ^ 1;
    writeFileSync(join(work, 'damaged.snap'), damaged);
    const bad = await runCli(['restore', join(work, 'damaged.snap'), '--to', join(work, 'bad'), '--json']);
    expect(bad.code).toBe(3);
    expect(JSON.parse(bad.stdout).error.offset).toBeTypeOf('number');

    const unknown = await runCli(['restore', goldenPath('v1', blobInfo()), '--to', join(work, 'u'), '--tables', 'nope']);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('UNKNOWN_TABLE')]);

    const size = await runCli(['restore', goldenPath('v1', blobInfo()), '--to', join(work, 's'), '--max-sst-bytes', '0']);
    expect(size.code).toBe(64);
    expect(readdirSync(work).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});
