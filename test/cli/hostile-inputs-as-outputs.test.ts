/**
 * An output never replaces a file the same run reads, whatever option names it: found by the
 * hostile campaign of issue #8 run from outside (the `--out`/`--prom-textfile` of digest and
 * compare's outputs pointed at the anchor file, the signing key, a merge operator module, a
 * chunk of the input's chunk set, a report compared). Each is refused with exit 64 before any
 * work, and the file keeps its bytes.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli } from '../helpers/cli.js';

const DUMP = join(REPO, 'examples', 'dump', 'checkpoint_epoch_42');
const TABLE = ['--tables', 'storage_pool_info'];
let root: string;

const sha = async (path: string): Promise<string> => createHash('sha256').update(await readFile(path)).digest('hex');

/** Runs the CLI and expects a refusal (exit 64, INVALID_ARGUMENT) that leaves `kept` byte-identical. */
async function refused(args: readonly string[], kept: string, why: RegExp, cwd?: string): Promise<void> {
  const before = await sha(kept);
  const r = await runCli(args, cwd === undefined ? {} : { cwd });
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(64);
  expect(r.stderr).toMatch(/^snapshot-verify: INVALID_ARGUMENT in /);
  expect(r.stderr).toMatch(why);
  expect(await sha(kept), args.join(' ')).toBe(before);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sv-in-out-'));
});

describe('digest: files read besides the checkpoint are inputs too', () => {
  it('refuses --out and --prom-textfile naming the --anchor file, the --sign-key or a --merge-operator module', async () => {
    const anchor = join(root, 'anchor.json');
    await writeFile(anchor, JSON.stringify({ anchorVersion: 1, tables: [{ id: 0, name: 'storage_pool_info' }] }));
    const key = join(root, 'node.key');
    expect((await runCli(['keygen', '--out', key])).code).toBe(0);
    const module = join(root, 'op.mjs');
    await writeFile(module, "export default { name: 'op', fullMerge: () => new Uint8Array(0) };\n");
    for (const flag of ['--out', '--prom-textfile']) {
      await refused(['digest', DUMP, '--anchor', anchor, flag, anchor], anchor, /is the input/);
      await refused(['digest', DUMP, ...TABLE, '--sign-key', key, flag, key], key, /is the input/);
      await refused(['digest', DUMP, ...TABLE, '--merge-operator', `op=${module}`, flag, module], module, /is the input/);
    }
  }, 60_000);
});

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('digest: the chunks a snapshot path names are inputs too', () => {
  it('refuses --out/--prom-textfile naming a chunk of the input chunk set, or of the earlier P.NNNNNN layout', async () => {
    const set = join(root, 'set.snap');
    const made = await runCli(['digest', DUMP, '--tables', 'per_object_blob_info', '--max-chunk-bytes', '4KiB', '--out', set, '--chunk-files']);
    expect(made.code, made.stderr).toBe(0);
    const chunks = (await readdir(root)).filter((n) => n.startsWith('set.snap.')).sort();
    expect(chunks.length).toBeGreaterThan(2);
    for (const flag of ['--out', '--prom-textfile']) {
      for (const chunk of [chunks[0]!, chunks[1]!, chunks[chunks.length - 1]!]) {
        await refused(['digest', set, flag, join(root, chunk)], join(root, chunk), new RegExp(`is a file the input ${escapeRe(set)} names`));
      }
    }
    // The earlier layout: P.000000, P.000001, … with no P.
    for (const [i, chunk] of chunks.entries()) await copyFile(join(root, chunk), join(root, `old.${String(i).padStart(6, '0')}`));
    await refused(['digest', join(root, 'old'), '--out', join(root, 'old.000001')], join(root, 'old.000001'), new RegExp(`is a file the input ${escapeRe(join(root, 'old'))} names`));
    // A relative spelling of the same chunk is the same file.
    await refused(['digest', 'set.snap', '--out', `./${chunks[1]!}`], join(root, chunks[1]!), /is a file the input set\.snap names/, root);
  }, 60_000);
});

describe('compare: reports, trust set and anchor are inputs of its outputs', () => {
  it('refuses --prom-textfile and --certificate naming a report compared, a file of a report directory, the trust set, the anchor, or each other', async () => {
    const dir = join(root, 'cmp');
    const trust = join(dir, 'trust');
    await mkdir(trust, { recursive: true });
    const key = join(dir, 'n1.key');
    expect((await runCli(['keygen', '--out', key])).code).toBe(0);
    await copyFile(join(dir, 'n1.pub'), join(trust, 'n1.pub'));
    const reports = join(dir, 'reports');
    await mkdir(reports);
    const report = join(reports, 'n1.json');
    const made = await runCli(['digest', DUMP, ...TABLE, '--json', '--node', 'n1', '--sign-key', key]);
    expect(made.code, made.stderr).toBe(0);
    await writeFile(report, made.stdout);
    const anchor = join(dir, 'anchor.json');
    await writeFile(anchor, JSON.stringify({ anchorVersion: 1, tables: [{ id: 0, name: 'storage_pool_info' }] }));
    const signed = ['--trust', trust, '--quorum', '1'];
    // The certificate this compare writes when nothing is refused: the refusals are not a side effect of another failure.
    const ok = await runCli(['compare', report, ...signed, '--certificate', join(dir, 'cert.json')]);
    expect(ok.code, ok.stderr).toBe(0);
    await refused(['compare', report, '--prom-textfile', report], report, /is the input/);
    await refused(['compare', reports, '--prom-textfile', join(reports, 'metrics.json')], report, /lies inside the input/);
    await refused(['compare', report, ...signed, '--certificate', report], report, /is the input/);
    await refused(['compare', report, ...signed, '--certificate', join(trust, 'n1.pub')], join(trust, 'n1.pub'), /lies inside the input/);
    await refused(['compare', report, '--anchor', anchor, '--prom-textfile', anchor], anchor, /is the input/);
    await refused(['compare', report, ...signed, '--certificate', join(dir, 'x'), '--prom-textfile', join(dir, 'x')], report, /also given to --certificate/);
    expect(await readdir(reports)).toEqual(['n1.json']);
  }, 60_000);
});

/** In a new directory `dir`: node n1's snapshot s.snap and report r.json, published to the repository `repo` (a file:// URL). */
async function published(dir: string): Promise<{ snap: string; report: string; repo: string }> {
  await mkdir(dir);
  const snap = join(dir, 's.snap');
  const made = await runCli(['digest', DUMP, ...TABLE, '--json', '--node', 'n1', '--out', snap]);
  expect(made.code, made.stderr).toBe(0);
  const report = join(dir, 'r.json');
  await writeFile(report, made.stdout);
  const repo = `file://${join(dir, 'repo')}`;
  expect((await runCli(['publish', repo, '--report', report, '--snapshot', snap])).code).toBe(0);
  return { snap, report, repo };
}

describe('fetch --out', () => {
  it('refuses a dangling symbolic link as an existing --out (exit 64): nothing is staged beside it, nothing created at its target', async () => {
    const dir = join(root, 'fetch');
    const { repo } = await published(dir);
    const out = join(dir, 'out');
    await symlink(join(dir, 'nowhere'), out);
    const r = await runCli(['fetch', repo, '--epoch', '42', '--node', 'n1', '--out', out]);
    expect(r.code, r.stderr).toBe(64);
    expect(r.stderr).toMatch(/^snapshot-verify: INVALID_ARGUMENT: --out .* already exists/);
    expect(await readlink(out)).toBe(join(dir, 'nowhere'));
    expect((await readdir(dir)).sort()).toEqual(['out', 'r.json', 'repo', 's.snap']);
  }, 60_000);
});

describe('an empty output path', () => {
  it('is a usage error (exit 64) for every output option, "--out -" included, and nothing is written', async () => {
    const cwd = join(root, 'empty');
    await mkdir(cwd);
    const { snap, report, repo } = await published(join(root, 'empty-inputs'));
    for (const args of [
      ['digest', DUMP, ...TABLE, '--out', '-'],
      ['digest', DUMP, ...TABLE, '--out', ''],
      ['digest', DUMP, ...TABLE, '--prom-textfile', ''],
      ['compare', report, '--prom-textfile', ''],
      ['keygen', '--out', ''],
      ['restore', snap, '--to', ''],
      ['fetch', repo, '--epoch', '42', '--node', 'n1', '--out', ''],
    ]) {
      const r = await runCli(args, { cwd });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(64);
      expect(r.stderr).toMatch(/^snapshot-verify: INVALID_ARGUMENT: --(out|prom-textfile|to) is empty/);
    }
    expect(await readdir(cwd)).toEqual([]);
  }, 60_000);
});
