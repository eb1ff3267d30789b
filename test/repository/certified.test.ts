import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, REPO, runCli } from '../helpers/cli.js';
import { fileBackend, s3Backend, type Backend } from './backends.js';

/**
 * Certified snapshots through a repository (issue #11 item 3, and fetch by certificate): signed
 * reports of real checkpoints published to s3rver and to file://, `certify URL` writing the quorum
 * certificate into the repository write-once, `fetch --certificate / --certificate-from-repo`
 * choosing a node that published the certified content and falling back to another when a chunk
 * stays corrupt. Expected values come from other commands (compare of the report files, verify
 * --certificate of the result), never written here.
 */

const CHECKPOINT = join(REPO, 'examples', 'checkpoint_epoch_42');
const DUMP = join(REPO, 'examples', 'dump', 'checkpoint_epoch_42');
const TABLE = 'per_object_blob_info';
const SIGNERS = ['a', 'b', 'c'];

interface Report {
  digest: string;
  chunks: { index: number; bytes: number; digest: string }[];
}

describe.each(['file', 's3'] as const)('certified snapshots in a repository on %s', (kind) => {
  let backend: Backend;
  let work: string;
  const p = (...parts: string[]): string => join(work, ...parts);
  const cli = (args: string[]) => runCli(args, { env: backend.env });
  const reports = new Map<string, Report>();
  let certKey: string;
  let anchor: string;

  /** Publishes `source` as `node`, signed with `key` (its snapshot too), and keeps the report file. */
  const publish = async (node: string, source: string, key: string, epoch = '42'): Promise<void> => {
    const r = await cli(['digest', source, '--tables', TABLE, '--node', node, '--epoch', epoch, '--max-chunk-bytes', '8KiB', '--sign-key', p('keys', `${key}.key`), '--json', '--publish', backend.url, '--publish-snapshot']);
    expect(r.code, r.stderr).toBe(0);
    writeFileSync(p('reports', `${node}-${epoch}.json`), r.stdout);
    reports.set(`${node}-${epoch}`, JSON.parse(r.stdout) as Report);
  };

  beforeAll(async () => {
    assertBuilt();
    backend = kind === 'file' ? await fileBackend() : await s3Backend();
    work = await mkdtemp(join(tmpdir(), `certified-${kind}-`));
    for (const d of ['keys', 'reports', 'trust', 'other-trust']) mkdirSync(p(d));
    for (const n of [...SIGNERS, 'odd']) expect((await runCli(['keygen', '--out', p('keys', `${n}.key`)])).code).toBe(0);
    for (const n of SIGNERS) cpSync(p('keys', `${n}.pub`), p('trust', `${n}.pub`));
    cpSync(p('keys', 'odd.pub'), p('other-trust', 'odd.pub'));
    // The same checkpoint with one value changed, as the example's own ldb dump.
    cpSync(DUMP, p('changed', 'checkpoint_epoch_42'), { recursive: true });
    const hex = p('changed', 'checkpoint_epoch_42', `${TABLE}.hex`);
    const text = readFileSync(hex, 'utf8');
    const at = text.indexOf(' : 0x') + 5;
    writeFileSync(hex, text.slice(0, at) + (text[at] === '0' ? '1' : '0') + text.slice(at + 1));
    for (const n of SIGNERS) await publish(n, CHECKPOINT, n);
    // "0odd" sorts before the signers and published other content at the same anchor.
    await publish('0odd', p('changed', 'checkpoint_epoch_42'), 'odd');
    expect(reports.get('0odd-42')!.digest).not.toBe(reports.get('a-42')!.digest);
    expect(reports.get('a-42')!.chunks.length).toBeGreaterThan(5);
  });

  afterAll(async () => {
    await backend?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('certify URL writes the certificate compare --certificate makes from the same reports as files, at v1/epochs/<epoch>/certificates/<anchor-id>.json', async () => {
    const fromFiles = await runCli(['compare', ...SIGNERS.map((n) => p('reports', `${n}-42.json`)), '--trust', p('trust'), '--certificate', p('files.cert')]);
    expect(fromFiles.code, fromFiles.stderr).toBe(0);
    const r = await cli(['certify', backend.url, '--epoch', '42', '--trust', p('trust')]);
    // 0odd is signed by a key the trust set does not hold: rejected by name, as compare does (exit 3).
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/certificate: \S*v1\/epochs\/42\/certificates\/[0-9a-f]{32}\.json, signed by a, b, c/);
    anchor = (await backend.keys()).find((k) => k.endsWith('/a/report.json'))!.split('/')[3]!;
    certKey = `v1/epochs/42/certificates/${anchor}.json`;
    expect((await backend.keys()).filter((k) => k.includes('/certificates/'))).toEqual([certKey]);
    expect(Buffer.from(await backend.getRaw(certKey))).toEqual(readFileSync(p('files.cert')));
  });

  it('certify again is idempotent for identical bytes; a different certificate for the anchor is CONFLICT (exit 1) and the first is kept', async () => {
    const before = await backend.getRaw(certKey);
    const again = await cli(['certify', backend.url, '--epoch', '42', '--trust', p('trust'), '--json']);
    expect(again.code).toBe(3); // compare's verdict (the rejected report), not an error of the write
    expect(JSON.parse(again.stdout).certificate).toMatchObject({ written: true, existing: true, signers: SIGNERS });
    const other = await cli(['certify', backend.url, '--epoch', '42', '--trust', p('trust'), '--quorum', '2/3']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/CONFLICT .*certificates\/[0-9a-f]{32}\.json: a different certificate for this anchor is already in the repository \(it certifies the same snapshot digest/);
    expect(await backend.getRaw(certKey)).toEqual(before);
  });

  it('certify writes nothing without a quorum (exit 2); compare URL --publish-certificate is the same path', async () => {
    await publish('a', CHECKPOINT, 'a', '43');
    await publish('b', CHECKPOINT, 'b', '43');
    const r = await cli(['certify', backend.url, '--epoch', '43', '--trust', p('trust'), '--quorum', '3']);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('certificate: not written (no group of trusted signers reaches the quorum');
    expect((await backend.keys()).filter((k) => k.startsWith('v1/epochs/43/certificates/'))).toEqual([]);
    const c = await cli(['compare', backend.url, '--epoch', '43', '--trust', p('trust'), '--quorum', '2', '--publish-certificate']);
    expect(c.code, c.stderr).toBe(0);
    expect((await backend.keys()).filter((k) => k.startsWith('v1/epochs/43/certificates/'))).toHaveLength(1);
    expect((await cli(['compare', p('reports', 'a-43.json'), '--trust', p('trust'), '--publish-certificate'])).code).toBe(64);
  });

  it('fetch --certificate-from-repo fetches the certified snapshot from a node that published it, skipping one that published other content; verify --certificate accepts the result', async () => {
    const out = p('fetched-repo');
    const r = await cli(['fetch', backend.url, '--epoch', '42', '--certificate-from-repo', '--trust', p('trust'), '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const f = JSON.parse(r.stdout).fetched;
    expect(f).toMatchObject({ node: 'a', certified: true, digest: reports.get('a-42')!.digest, fallbacks: [] });
    const v = await runCli(['verify', join(out, 'snapshot'), '--certificate', p('files.cert'), '--trust', p('trust')]);
    expect(v.code, v.stderr).toBe(0);
    // --node picks the certified node tried first; a node that published other content is NOT_CERTIFIED.
    const b = await cli(['fetch', backend.url, '--epoch', '42', '--certificate', p('files.cert'), '--trust', p('trust'), '--node', 'b', '--out', p('fetched-b'), '--json']);
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(b.stdout).fetched.node).toBe('b');
    const odd = await cli(['fetch', backend.url, '--epoch', '42', '--certificate', p('files.cert'), '--trust', p('trust'), '--node', '0odd', '--out', p('fetched-odd')]);
    expect(odd.code).toBe(1);
    expect(odd.stderr).toMatch(/NOT_CERTIFIED .*node "0odd" published another snapshot/);
    expect(existsSync(p('fetched-odd'))).toBe(false);
    // --anchor-id with a certificate file must be the certificate's own anchor, never ignored.
    const other = await cli(['fetch', backend.url, '--epoch', '42', '--certificate', p('files.cert'), '--trust', p('trust'), '--anchor-id', '0'.repeat(32), '--out', p('fetched-other')]);
    expect(other.code).toBe(64);
    expect(other.stderr).toContain(`--anchor-id ${'0'.repeat(32)} is not the certificate's anchor (${anchor})`);
    expect(existsSync(p('fetched-other'))).toBe(false);
    const same = await cli(['fetch', backend.url, '--epoch', '42', '--certificate', p('files.cert'), '--trust', p('trust'), '--anchor-id', anchor, '--out', p('fetched-same')]);
    expect(same.code, same.stderr).toBe(0);
  });

  it('the certificate is checked before anything is fetched: untrusted signers (NO_QUORUM), an edited one or one at another key (BAD_CERTIFICATE) all exit 3 and create nothing', async () => {
    const untrusted = await cli(['fetch', backend.url, '--epoch', '42', '--certificate-from-repo', '--trust', p('other-trust'), '--out', p('x1')]);
    expect(untrusted.code).toBe(3);
    expect(untrusted.stderr).toContain('NO_QUORUM');
    const cert = await backend.getRaw(certKey);
    const c = JSON.parse(new TextDecoder().decode(cert));
    const edited = JSON.stringify({ ...c, digest: c.digest.replace(/^./, (d: string) => (d === '0' ? '1' : '0')) }, null, 2);
    const wrongKey = `v1/epochs/43/certificates/${'0'.repeat(32)}.json`;
    await backend.putRaw(wrongKey, cert);
    const moved = await cli(['fetch', backend.url, '--epoch', '43', '--anchor-id', '0'.repeat(32), '--certificate-from-repo', '--trust', p('trust'), '--out', p('x2')]);
    expect(moved.code).toBe(3);
    expect(moved.stderr).toMatch(/BAD_CERTIFICATE .*belongs at /);
    await backend.removeRaw(wrongKey);
    await backend.putRaw(certKey, new TextEncoder().encode(edited));
    const bad = await cli(['fetch', backend.url, '--epoch', '42', '--certificate-from-repo', '--trust', p('trust'), '--out', p('x3')]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('BAD_CERTIFICATE');
    await backend.putRaw(certKey, cert);
    expect((await readdir(work)).filter((n) => /^\.?x\d/.test(n))).toEqual([]);
  });

  it('a chunk that stays corrupt on one certified node is named (node, chunk index, key) and the next certified node is used; when every one is corrupt, the last is the error', async () => {
    const chunk = reports.get('a-42')!.chunks[3]!;
    const name = `chunks/${String(chunk.index).padStart(6, '0')}-${chunk.digest}`;
    const fetched = readFileSync(join(p('fetched-repo'), 'snapshot.000003'));
    const damaged = Buffer.from(fetched);
    damaged.writeUInt8(damaged.readUInt8(60) ^ 0x10, 60);
    await backend.putRaw(`v1/epochs/42/${anchor}/a/${name}`, damaged);
    const r = await cli(['fetch', backend.url, '--epoch', '42', '--certificate-from-repo', '--trust', p('trust'), '--out', p('fallback'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const f = JSON.parse(r.stdout).fetched;
    expect(f.node).toBe('b');
    expect(f.fallbacks).toHaveLength(1);
    expect(f.fallbacks[0]).toMatchObject({ node: 'a', code: 'CHECKSUM_MISMATCH' });
    expect(f.fallbacks[0].message).toMatch(new RegExp(`node "a" chunk 3 \\(.*/a/${name}\\) is corrupt: .*downloaded 2 time\\(s\\)`));
    expect(r.stderr).toMatch(/node "a" chunk 3 .*trying another certified node/);
    // Chunks verified from a are kept: b's download is the rest (chunks are content-addressed alike).
    expect(f.reused + f.downloaded).toBe(reports.get('a-42')!.chunks.length);
    expect((await runCli(['verify', join(p('fallback'), 'snapshot'), '--certificate', p('files.cert'), '--trust', p('trust')])).code).toBe(0);
    for (const n of ['b', 'c']) await backend.putRaw(`v1/epochs/42/${anchor}/${n}/${name}`, damaged);
    const none = await cli(['fetch', backend.url, '--epoch', '42', '--certificate-from-repo', '--trust', p('trust'), '--out', p('none')]);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/CHECKSUM_MISMATCH .*no certified node's snapshot could be fetched \(3 tried\); the last: node "c" chunk 3/);
    expect(existsSync(p('none'))).toBe(false);
  });

  it('prune deletes an old epoch\'s certificate with its reports, before its chunks', async () => {
    const dry = await cli(['prune', backend.url, '--keep-epochs', '1', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout).prune.pruned).toEqual([expect.objectContaining({ epoch: '42', reports: 4, certificates: 1 })]);
    const real = await cli(['prune', backend.url, '--keep-epochs', '1', '--yes']);
    expect(real.stdout).toMatch(/deleted epoch 42: 4 report\(s\) and 1 certificate\(s\), then \d+ other object\(s\)/);
    expect((await backend.keys()).filter((k) => k.startsWith('v1/epochs/42/'))).toEqual([]);
  });
});
