/**
 * A full disk under the outputs of restore, fetch, keygen and publish (issue 8, item 7; --out,
 * --chunk-files and --prom-textfile: test/cli/outputs.test.ts): the documented `IO_ERROR in FILE`
 * line naming the file on the full disk, exit 74, and nothing left there but what was there before
 * (fetch keeps its staging directory with the report, to resume; never a partial chunk). A real
 * 64 KiB tmpfs; the snapshot (about 130 KB) cannot fit.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REPO, runCli } from '../helpers/cli.js';

const DUMP = join(REPO, 'examples', 'dump', 'checkpoint_epoch_42');

describe('disk full under every output', () => {
  let root: string;
  let disk: string;
  let snap: string;
  let report: string;
  let repo: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'sv-hostile-enospc-'));
    disk = join(root, 'disk');
    await mkdir(disk);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]);
    snap = join(root, 's.snap');
    const made = await runCli(['digest', DUMP, '--tables', 'aggregate_blob_info', '--out', snap, '--json', '--node', 'n1']);
    expect(made.code, made.stderr).toBe(0);
    report = join(root, 'r.json');
    await writeFile(report, made.stdout);
    repo = `file://${join(root, 'repo')}`;
    const published = await runCli(['publish', repo, '--report', report, '--snapshot', snap]);
    expect(published.code, published.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    execFileSync('umount', [disk]);
    await rm(root, { recursive: true, force: true });
  });

  // Each case starts from an empty disk, whatever the one before left.
  beforeEach(async () => {
    for (const f of await readdir(disk)) await rm(join(disk, f), { recursive: true, force: true });
  });

  /** exit 74 and `IO_ERROR in <a file on the full disk>: … ENOSPC`, never internal. */
  const expectDiskFull = (r: { code: number | null; stderr: string }): void => {
    expect(r.code, r.stderr).toBe(74);
    expect(r.stderr).toMatch(new RegExp(`^snapshot-verify: IO_ERROR in ${disk}/\\S+: .*ENOSPC`));
    expect(r.stderr).not.toMatch(/internal/i);
  };

  it('fetch --out: IO_ERROR in the local file it could not write, no retry, no partial chunk left', async () => {
    const r = await runCli(['fetch', repo, '--epoch', '42', '--node', 'n1', '--out', join(disk, 'fetched')]);
    expectDiskFull(r);
    expect(r.stderr).not.toMatch(/tried 2 time/);
    expect(await readdir(disk)).toEqual(['.fetched.fetching']);
    expect(await readdir(join(disk, '.fetched.fetching'))).toEqual(['report.json']);
  }, 60_000);

  it('restore --to: IO_ERROR in a file of its temporary directory, which is removed', async () => {
    const r = await runCli(['restore', snap, '--to', join(disk, 'restored')]);
    expectDiskFull(r);
    expect(await readdir(disk)).toEqual([]);
  }, 60_000);

  it('publish to file:// on the full disk: IO_ERROR in the object, and no object under its final key', async () => {
    const r = await runCli(['publish', `file://${join(disk, 'repo')}`, '--report', report, '--snapshot', snap]);
    expectDiskFull(r);
    const files = execFileSync('find', [disk, '-type', 'f'], { encoding: 'utf8' }).trim();
    expect(files).toBe('');
  }, 60_000);

  it('keygen --out on a disk with no room: IO_ERROR in the key file, and no half pair', async () => {
    await writeFile(join(disk, 'filler'), Buffer.alloc(64 << 10)).catch(() => undefined);
    const r = await runCli(['keygen', '--out', join(disk, 'node.key')]);
    expectDiskFull(r);
    expect(await readdir(disk)).toEqual(['filler']);
  }, 60_000);
});
