import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, BIN, REPO, runCli } from '../helpers/cli.js';
import { fileBackend, s3Backend, type Backend } from './backends.js';

/**
 * The repository end to end, with the real CLI, against a real S3-protocol server (s3rver on an
 * ephemeral loopback port) and against file:// on disk: the same cases on both.
 */

const CHECKPOINT = join(REPO, 'examples', 'checkpoint_epoch_42');
const TABLES = 'aggregate_blob_info,per_object_blob_info';
const NODES = ['node-a', 'node-b', 'node-c'];

interface Report {
  digest: string;
  epoch: string;
  chunks: { index: number; bytes: number; digest: string }[];
  node: { name: string };
}

describe.each(['file', 's3'] as const)('repository on %s', (kind) => {
  let backend: Backend;
  let work: string;
  const reports = new Map<string, Report>();
  const cli = (args: string[]) => runCli(args, { env: backend.env });

  beforeAll(async () => {
    assertBuilt();
    backend = kind === 'file' ? await fileBackend() : await s3Backend();
    work = await mkdtemp(join(tmpdir(), `repo-test-${kind}-`));
    // Three nodes publish the same real checkpoint, chunked, reports and chunks.
    for (const node of NODES) {
      const r = await cli(['digest', CHECKPOINT, '--tables', TABLES, '--node', node, '--max-chunk-bytes', '8KiB', '--json', '--publish', backend.url, '--publish-snapshot']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('report written');
      reports.set(node, JSON.parse(r.stdout) as Report);
    }
  });

  afterAll(async () => {
    await backend?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('publish writes one report and one object per chunk, keyed by epoch, anchor id, node, chunk index and digest', async () => {
    const keys = await backend.keys();
    for (const node of NODES) {
      const report = reports.get(node)!;
      const own = keys.filter((k) => k.includes(`/${node}/`));
      const reportKeys = own.filter((k) => k.endsWith('/report.json'));
      expect(reportKeys).toHaveLength(1);
      expect(reportKeys[0]).toMatch(new RegExp(`^v1/epochs/42/[0-9a-f]{32}/${node}/report\\.json$`));
      const chunkNames = own.filter((k) => k.includes('/chunks/')).map((k) => k.split('/').pop()).sort();
      expect(chunkNames).toEqual(report.chunks.map((c) => `${String(c.index).padStart(6, '0')}-${c.digest}`));
      expect(report.chunks.length).toBeGreaterThan(20);
    }
    // Every node's anchor is the same, so the three share one anchor id folder.
    expect(new Set(keys.map((k) => k.split('/')[3])).size).toBe(1);
  });

  it('compare URL gives the verdict compare gives for the same reports as files', async () => {
    const dir = join(work, 'reports');
    await rm(dir, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    for (const [node, report] of reports) await writeFile(join(dir, `${node}.json`), JSON.stringify(report));
    const fromFiles = await cli(['compare', dir, '--json']);
    const fromRepo = await cli(['compare', backend.url, '--json']);
    expect(fromRepo.code, fromRepo.stderr).toBe(0);
    expect(fromFiles.code).toBe(0);
    const strip = (text: string) => JSON.parse(text.replace(/"(file)": "[^"]*"/g, '"$1": ""').replace(/\([^)]*report\.json\)|\([^)]*\.json\)/g, '()'));
    expect(strip(fromRepo.stdout)).toEqual(strip(fromFiles.stdout));
    expect(JSON.parse(fromRepo.stdout).verdict).toBe('AGREE');
  });

  it('compare URL picks the newest epoch holding two reports, and --epoch chooses', async () => {
    // One node alone at epoch 43: too few to compare, so epoch 42 stays the default.
    const r = await cli(['digest', CHECKPOINT, '--tables', TABLES, '--node', 'node-a', '--epoch', '43', '--publish', backend.url]);
    expect(r.code, r.stderr).toBe(0);
    const auto = await cli(['compare', backend.url, '--json']);
    expect(JSON.parse(auto.stdout).anchor.epoch).toBe('42');
    expect(auto.stderr).toContain('comparing epoch 42');
    const chosen = await cli(['compare', backend.url, '--epoch', '43', '--json']);
    expect(chosen.code).toBe(2); // one report: too few
    expect(JSON.parse(chosen.stdout).verdict).toBe('TOO_FEW');
  });

  it('re-publishing the same snapshot is idempotent; a different snapshot for the node and anchor is refused (CONFLICT, exit 1)', async () => {
    const again = await cli(['digest', CHECKPOINT, '--tables', TABLES, '--node', 'node-b', '--max-chunk-bytes', '8KiB', '--publish', backend.url, '--publish-snapshot']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('already published for this snapshot');
    expect(again.stderr).toMatch(/0 chunk\(s\) uploaded \(0 bytes\), \d+ already there/);
    // A report claiming another digest at the same anchor (report only, so no chunk check).
    const forged = structuredClone(reports.get('node-b')!) as Report & Record<string, unknown>;
    const last = forged.chunks[forged.chunks.length - 1]!;
    last.digest = forged.digest = forged.digest === '0000000000000001' ? '0000000000000002' : '0000000000000001';
    const file = join(work, 'forged.json');
    await writeFile(file, JSON.stringify(forged));
    const before = await backend.keys();
    const refused = await cli(['publish', backend.url, '--report', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/CONFLICT .*node-b\/report\.json: node "node-b" already published a different snapshot/);
    expect(await backend.keys()).toEqual(before);
  });

  it('publish refuses a snapshot that is not the report\'s: no report, and no object under a digest its bytes do not have', async () => {
    const snap = join(work, 'other.snap');
    const made = await cli(['digest', CHECKPOINT, '--tables', 'aggregate_blob_info', '--node', 'node-x', '--max-chunk-bytes', '8KiB', '--out', snap, '--json']);
    expect(made.code, made.stderr).toBe(0);
    const report = join(work, 'node-x.json');
    await writeFile(report, made.stdout);
    const wrong = join(work, 'wrong.snap');
    const bytes = await readFile(snap);
    bytes.writeUInt8(bytes.readUInt8(100) ^ 1, 100); // same size, one bit different
    await writeFile(wrong, bytes);
    const before = await backend.keys();
    const r = await cli(['publish', backend.url, '--report', report, '--snapshot', wrong]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/CHECKSUM_MISMATCH in .*wrong\.snap at offset 0 \(0x0\): chunk 0 is not the report's/);
    // Chunks checked in parallel with chunk 0 may have been uploaded: only correct ones, as orphans.
    const added = (await backend.keys()).filter((k) => !before.includes(k));
    const chunks = (JSON.parse(made.stdout) as Report).chunks;
    for (const k of added) {
      const m = /\/node-x\/chunks\/(\d{6})-([0-9a-f]{16})$/.exec(k);
      expect(m, k).not.toBeNull();
      expect(Number(m![1])).not.toBe(0);
      expect(m![2]).toBe(chunks[Number(m![1])]!.digest);
    }
    expect(added.some((k) => k.endsWith('report.json'))).toBe(false);
  });

  it('fetch downloads, verifies and places a snapshot that verify and digest accept', async () => {
    const out = join(work, 'fetched-a');
    const r = await cli(['fetch', backend.url, '--epoch', '42', '--node', 'node-a', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const fetched = JSON.parse(r.stdout).fetched;
    const report = reports.get('node-a')!;
    expect(fetched).toMatchObject({ digest: report.digest, chunks: report.chunks.length, downloaded: report.chunks.length, reused: 0, refetched: 0 });
    const v = await cli(['verify', join(out, 'snapshot'), '--json']);
    expect(v.code, v.stdout).toBe(0);
    expect(JSON.parse(v.stdout).results[0].digest).toBe(report.digest);
    expect(JSON.parse(await readFile(join(out, 'report.json'), 'utf8')).digest).toBe(report.digest);
    expect((await readdir(work)).filter((n) => n.includes('.fetching'))).toEqual([]);
  });

  it('a fetch killed midway resumes without downloading the chunks it verified', async () => {
    const out = join(work, 'fetched-b');
    const staging = join(work, '.fetched-b.fetching');
    const child = spawn(process.execPath, [BIN, 'fetch', backend.url, '--epoch', '42', '--node', 'node-b', '--out', out, '--parallel', '1'], { env: { ...process.env, ...backend.env }, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Kill -9 once three chunks are verified and placed in the staging directory.
    for (;;) {
      const names = await readdir(staging).catch(() => [] as string[]);
      if (names.filter((n) => /^snapshot\.\d{6}$/.test(n)).length >= 3) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    await exited;
    expect(existsSync(out)).toBe(false); // never placed half done
    const kept = (await readdir(staging)).filter((n) => /^snapshot\.\d{6}$/.test(n)).length;
    const total = reports.get('node-b')!.chunks.length;
    expect(kept).toBeGreaterThanOrEqual(3);
    expect(kept).toBeLessThan(total);
    const r = await cli(['fetch', backend.url, '--epoch', '42', '--node', 'node-b', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const fetched = JSON.parse(r.stdout).fetched;
    expect(fetched.reused).toBe(kept);
    expect(fetched.downloaded).toBe(total - kept);
    const v = await cli(['verify', join(out, 'snapshot')]);
    expect(v.code, v.stdout).toBe(0);
    expect(existsSync(staging)).toBe(false);
  });

  it('a corrupted chunk object is named by node, chunk index and key after one re-fetch; nothing is placed', async () => {
    const report = reports.get('node-c')!;
    const c = report.chunks[5]!;
    const key = (await backend.keys()).find((k) => k.endsWith(`/node-c/chunks/${String(c.index).padStart(6, '0')}-${c.digest}`))!;
    const out = join(work, 'fetched-c');
    // Same length, one byte changed, as bit rot on the server would do.
    const dir = join(work, 'fetched-a');
    const bytes = await readFile(join(dir, 'snapshot.000005'));
    bytes.writeUInt8(bytes.readUInt8(40) ^ 0xff, 40);
    await backend.putRaw(key, bytes);
    const r = await cli(['fetch', backend.url, '--epoch', '42', '--node', 'node-c', '--out', out]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`CHECKSUM_MISMATCH in ${kind === 'file' ? '' : 's3://'}`);
    expect(r.stderr).toContain(key);
    expect(r.stderr).toMatch(/node "node-c" chunk 5 \(.*\) is corrupt: .*downloaded 2 time\(s\)/);
    expect(existsSync(out)).toBe(false);
    // A missing chunk is named too (NOT_FOUND, exit 2).
    await backend.removeRaw(key);
    const missing = await cli(['fetch', backend.url, '--epoch', '42', '--node', 'node-c', '--out', out]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/NOT_FOUND .*chunk 5 is missing/);
  });

  it('garbage under the prefix is named and ignored; a report at the wrong key is reported as corrupt, never compared', async () => {
    await backend.putRaw('v1/epochs/42/stray.txt', new TextEncoder().encode('not ours'));
    await backend.putRaw('v1/epochs/not-an-epoch/x', new TextEncoder().encode('x'));
    await backend.putRaw('README-other-tool', new TextEncoder().encode('outside v1/: never read'));
    const misplacedKey = (await backend.keys()).find((k) => k.endsWith('/node-a/report.json') && k.startsWith('v1/epochs/42/'))!.replace('/node-a/', '/node-z/');
    await backend.putRaw(misplacedKey, new TextEncoder().encode(JSON.stringify(reports.get('node-a'))));
    const r = await cli(['compare', backend.url, '--epoch', '42', '--json']);
    expect(r.code).toBe(3); // a corrupt report; the three real ones still agree
    const doc = JSON.parse(r.stdout);
    expect(doc.compared.map((n: { node: string }) => n.node)).toEqual(NODES);
    expect(doc.errors).toHaveLength(1);
    expect(doc.errors[0].file).toContain('node-z/report.json');
    expect(doc.errors[0].code).toBe('BAD_REPORT');
    expect(r.stderr).toMatch(/ignored 1 object\(s\) the repository layout does not define: .*stray\.txt/);
    await backend.removeRaw(misplacedKey);
    const clean = await cli(['compare', backend.url, '--epoch', '42']);
    expect(clean.code, clean.stderr).toBe(0);
  });

  it('prune keeps the K newest epochs, deletes reports before chunks, dry run by default; what remains fetches and verifies', async () => {
    for (const epoch of ['40', '41']) {
      for (const node of ['node-a', 'node-b']) {
        const r = await cli(['digest', CHECKPOINT, '--tables', TABLES, '--node', node, '--epoch', epoch, '--max-chunk-bytes', '64KiB', '--publish', backend.url, '--publish-snapshot']);
        expect(r.code, r.stderr).toBe(0);
      }
    }
    const before = await backend.keys();
    const dry = await cli(['prune', backend.url, '--keep-epochs', '2', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout).prune;
    expect(plan.dryRun).toBe(true);
    expect(plan.kept).toEqual(['43', '42']);
    expect(plan.pruned.map((p: { epoch: string }) => p.epoch)).toEqual(['40', '41']);
    expect(await backend.keys()).toEqual(before);
    const real = await cli(['prune', backend.url, '--keep-epochs', '2', '--yes']);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toMatch(/deleted epoch 40: 2 report\(s\), then \d+ other object\(s\)/);
    const after = await backend.keys();
    expect(after.filter((k) => /^v1\/epochs\/4[01]\//.test(k))).toEqual([]);
    expect(after).toContain('README-other-tool');
    expect(after.some((k) => k.startsWith('v1/epochs/not-an-epoch/'))).toBe(true); // not an epoch: left alone
    // Every snapshot still in the repository fetches and verifies (node-c's chunk 5 was deleted above).
    for (const node of ['node-a', 'node-b']) {
      const out = join(work, `after-prune-${node}`);
      const r = await cli(['fetch', backend.url, '--epoch', '42', '--node', node, '--out', out]);
      expect(r.code, r.stderr).toBe(0);
    }
  });
});
