import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli } from '../helpers/cli.js';

/**
 * Signed reports end to end, as issue #10 will be checked: nodes with keys digest the real
 * RocksDB example checkpoint; a forged report (right name, wrong key), a copied report, an
 * equivocating node and an unsigned report join the compare; weights make a minority of nodes
 * a majority of weight; the certificate names exactly the right signers; verifying a snapshot
 * against it fails for one changed value and for another anchor. No digest value is written
 * here: only relations between runs.
 */

const CHECKPOINT = join(REPO, 'examples', 'checkpoint_epoch_42');
const DUMP = join(REPO, 'examples', 'dump', 'checkpoint_epoch_42');
const TABLE = 'per_object_blob_info';
let dir: string;
const p = (...parts: string[]): string => join(dir, ...parts);

async function ok(args: string[]): Promise<string> {
  const r = await runCli(args);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

/** `digest --json` of a checkpoint by a node, signed unless `key` is null, into reports/<file>.json. */
async function report(file: string, checkpoint: string, nodeName: string, key: string | null): Promise<string> {
  const out = p('reports', `${file}.json`);
  writeFileSync(out, await ok(['digest', checkpoint, '--tables', TABLE, '--node', nodeName, '--json', '--ranges', '4', ...(key === null ? [] : ['--sign-key', p('keys', `${key}.key`)])]));
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sv-trust-'));
  for (const d of ['keys', 'reports', 'trust-dir']) mkdirSync(p(d));
  for (const n of ['big', 'n1', 'n2', 'n3', 'eq', 'mallory']) await ok(['keygen', '--out', p('keys', `${n}.key`)]);
  for (const n of ['big', 'n1', 'n2', 'n3', 'eq']) cpSync(p('keys', `${n}.pub`), p('trust-dir', `${n}.pub`));
  // The same checkpoint with one value changed (the dump is the example's own ldb scan).
  mkdirSync(p('changed'));
  cpSync(DUMP, p('changed', 'checkpoint_epoch_42'), { recursive: true });
  const hex = p('changed', 'checkpoint_epoch_42', `${TABLE}.hex`);
  const text = readFileSync(hex, 'utf8');
  const at = text.indexOf(' : 0x') + 5;
  writeFileSync(hex, text.slice(0, at) + (text[at] === '0' ? '1' : '0') + text.slice(at + 1));
  const pub = (n: string): string => readFileSync(p('keys', `${n}.pub`), 'utf8');
  // big weighs 4: with n1 it is 2 of the 4 counted nodes but 5 of the total weight 8.
  writeFileSync(p('trust.json'), JSON.stringify({ trustVersion: 1, nodes: [{ name: 'big', publicKey: pub('big'), weight: 4 }, ...['n1', 'n2', 'n3', 'eq'].map((name) => ({ name, publicKey: pub(name) }))] }));
  await Promise.all([
    report('big', CHECKPOINT, 'big', 'big'),
    report('n1', CHECKPOINT, 'n1', 'n1'),
    report('n2', p('changed', 'checkpoint_epoch_42'), 'n2', 'n2'),
    report('n3', p('changed', 'checkpoint_epoch_42'), 'n3', 'n3'),
    report('eq-a', CHECKPOINT, 'eq', 'eq'),
    report('eq-b', p('changed', 'checkpoint_epoch_42'), 'eq', 'eq'),
    report('unsigned', CHECKPOINT, 'n2', null),
    report('forged', CHECKPOINT, 'big', 'mallory'),
  ]);
  cpSync(p('reports', 'n1.json'), p('reports', 'n1-copy.json'));
  await ok(['digest', CHECKPOINT, '--tables', TABLE, '--out', p('good.snap'), '--json']);
  await ok(['digest', p('changed', 'checkpoint_epoch_42'), '--tables', TABLE, '--out', p('changed.snap'), '--json']);
  await ok(['digest', CHECKPOINT, '--tables', TABLE, '--epoch', '43', '--out', p('epoch43.snap'), '--json']);
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ALL = (): string[] => ['big', 'n1', 'n1-copy', 'n2', 'n3', 'eq-a', 'eq-b', 'unsigned', 'forged'].map((n) => p('reports', `${n}.json`));

describe('keygen', () => {
  it('writes a 0600 PKCS#8 private key and the SPKI public key beside it, and never overwrites either', async () => {
    expect(statSync(p('keys', 'n1.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(p('keys', 'n1.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(readFileSync(p('keys', 'n1.pub'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const before = readFileSync(p('keys', 'n1.key'));
    const again = await runCli(['keygen', '--out', p('keys', 'n1.key')]);
    expect(again.code).toBe(64);
    expect(again.stderr).toContain('never overwrites');
    expect(readFileSync(p('keys', 'n1.key'))).toEqual(before);
  });

  it('prints the public key and a fingerprint; --json gives them to scripts', async () => {
    const r = await runCli(['keygen', '--out', p('keys', 'extra.key'), '--json']);
    const doc = JSON.parse(r.stdout) as Record<string, string>;
    expect(doc['publicKey']).toMatch(/^[0-9a-f]{64}$/);
    expect(doc['fingerprint']).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(doc['publicKeyFile']).toBe(p('keys', 'extra.pub'));
  });

  it('keys made by OpenSSL (genpkey -algorithm ed25519, pkey -pubout) sign and verify like keygen\'s', async () => {
    const key = p('keys', 'openssl.key');
    mkdirSync(p('trust-openssl'));
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', key]);
    execFileSync('openssl', ['pkey', '-in', key, '-pubout', '-out', p('trust-openssl', 'ossl.pub')]);
    const signed = p('reports', 'openssl.json');
    writeFileSync(signed, await ok(['digest', CHECKPOINT, '--tables', TABLE, '--node', 'ossl', '--json', '--sign-key', key]));
    const r = await runCli(['compare', signed, '--trust', p('trust-openssl'), '--json']);
    const doc = JSON.parse(r.stdout) as Record<string, any>;
    expect([r.code, doc['verdict'], doc['rejected']]).toEqual([0, 'AGREE', []]);
  });

  it('digest --sign-key refuses a file that is not an Ed25519 private key (BAD_KEY, exit 3) before digesting', async () => {
    const r = await runCli(['digest', CHECKPOINT, '--tables', TABLE, '--sign-key', p('keys', 'n1.pub')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^snapshot-verify: BAD_KEY in /);
  });
});

describe('compare --trust: the hostile mix', () => {
  it('counts only trusted signed votes: equivocation (exit 6), forged/unsigned rejected, the copy once, weight beats node count', async () => {
    const r = await runCli(['compare', ...ALL(), '--trust', p('trust.json'), '--json']);
    expect(r.code).toBe(6);
    const doc = JSON.parse(r.stdout) as Record<string, any>;
    expect(doc['verdict']).toBe('EQUIVOCATION');
    expect(doc['authenticated']).toBe(true);
    expect(doc['totalWeight']).toBe(8);
    // The equivocating key is named with both of its reports; neither counts.
    const eqKey = JSON.parse(readFileSync(p('reports', 'eq-a.json'), 'utf8')).signature.publicKey;
    expect(doc['equivocations']).toEqual([{ node: 'eq', publicKey: eqKey, reports: [expect.objectContaining({ file: p('reports', 'eq-a.json') }), expect.objectContaining({ file: p('reports', 'eq-b.json') })] }]);
    expect(doc['rejected'].map((x: any) => [x.file, x.reason])).toEqual([
      [p('reports', 'unsigned.json'), 'unsigned'],
      [p('reports', 'forged.json'), 'wrong-key'],
    ]);
    expect(doc['duplicates']).toEqual([{ node: 'n1', counted: { node: 'n1', file: p('reports', 'n1.json') }, copies: [{ node: 'n1', file: p('reports', 'n1-copy.json') }] }]);
    // 2 of 4 counted nodes, but weight 5 of 8: the authoritative group; n2 and n3 are the minority.
    expect(doc['compared'].map((c: any) => c.node)).toEqual(['big', 'n1', 'n2', 'n3']);
    expect(doc['groups'].map((g: any) => [g.nodes.map((n: any) => n.node), g.weight, g.authoritative])).toEqual([
      [['big', 'n1'], 5, true],
      [['n2', 'n3'], 2, false],
    ]);
    expect(doc['minority'].map((m: any) => m.node)).toEqual(['n2', 'n3']);
  });

  it('the text output says the votes are signed, and names the key, the rejected reports and the copy', async () => {
    const r = await runCli(['compare', ...ALL(), '--trust', p('trust.json')]);
    expect(r.code).toBe(6);
    expect(r.stdout.split('\n')[0]).toMatch(/^EQUIVOCATION at epoch 42: eq \(key [0-9a-f]{16}…\) signed 2 different reports; not counted\. the quorum agrees on [0-9a-f]{16}/);
    expect(r.stdout).toContain('votes: signed, one per trusted key; trust set weight 8, quorum >1/2 = weight 5');
    expect(r.stdout).toMatch(/forged\.json\): wrong-key: signed with key sha256:[0-9a-f]{16}, not the key trusted for this name/);
    expect(r.stdout).toContain('n1: counted');
  });

  it('with every weight 1 (a directory of .pub files) the same two nodes are no quorum, and no certificate is written', async () => {
    const cert = p('no-quorum.cert');
    const r = await runCli(['compare', ...ALL(), '--trust', p('trust-dir'), '--certificate', cert]);
    expect(r.code).toBe(6);
    expect(r.stdout).toMatch(/certificate: not written \(no group of trusted signers reaches the quorum \(>1\/2: weight 3 of 5\)\)/);
    expect(existsSync(cert)).toBe(false);
  });

  it('a key used under another trusted node\'s name is rejected by name', async () => {
    const stolen = p('reports', 'stolen.json');
    writeFileSync(stolen, await ok(['digest', CHECKPOINT, '--tables', TABLE, '--node', 'n1', '--json', '--ranges', '4', '--sign-key', p('keys', 'n2.key')]));
    const r = await runCli(['compare', p('reports', 'big.json'), stolen, '--trust', p('trust.json'), '--json']);
    const doc = JSON.parse(r.stdout) as Record<string, any>;
    expect(doc['rejected']).toEqual([expect.objectContaining({ file: stolen, reason: 'key-of-other-node' })]);
    expect(r.code).toBe(3);
  });

  it('an edited signed report (one range digest changed) fails its signature', async () => {
    const edited = p('reports', 'edited.json');
    const doc = JSON.parse(readFileSync(p('reports', 'n2.json'), 'utf8'));
    doc.tables[0].ranges[0].digest = '0000000000000000';
    writeFileSync(edited, JSON.stringify(doc));
    const r = await runCli(['compare', p('reports', 'big.json'), edited, '--trust', p('trust.json'), '--json']);
    expect((JSON.parse(r.stdout) as any).rejected).toEqual([expect.objectContaining({ file: edited, reason: 'bad-signature' })]);
  });

  it('without --trust the same reports are compared as unauthenticated votes, and the output says so', async () => {
    const r = await runCli(['compare', p('reports', 'big.json'), p('reports', 'n1.json')]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[1]).toMatch(/^votes: unauthenticated \(no --trust\)/);
  });

  it('a trust file with a duplicate key, a duplicate name, a bad weight or a malformed key is refused as a whole (exit 3)', async () => {
    const good = JSON.parse(readFileSync(p('trust.json'), 'utf8'));
    const cases: [string, unknown, string][] = [
      ['dup-key', { ...good, nodes: [...good.nodes, { name: 'other', publicKey: good.nodes[0].publicKey }] }, 'BAD_TRUST'],
      ['dup-name', { ...good, nodes: [...good.nodes, { ...good.nodes[1], publicKey: readFileSync(p('keys', 'mallory.pub'), 'utf8') }] }, 'BAD_TRUST'],
      ['zero-weight', { ...good, nodes: [{ ...good.nodes[0], weight: 0 }] }, 'BAD_TRUST'],
      ['fraction-weight', { ...good, nodes: [{ ...good.nodes[0], weight: 1.5 }] }, 'BAD_TRUST'],
      ['string-weight', { ...good, nodes: [{ ...good.nodes[0], weight: '2' }] }, 'BAD_TRUST'],
      ['bad-key', { ...good, nodes: [{ name: 'x', publicKey: 'abcd' }] }, 'BAD_KEY'],
    ];
    for (const [name, trust, code] of cases) {
      writeFileSync(p(`${name}.json`), JSON.stringify(trust));
      const r = await runCli(['compare', p('reports', 'big.json'), p('reports', 'n1.json'), '--trust', p(`${name}.json`), '--json']);
      expect(r.code, name).toBe(3);
      expect((JSON.parse(r.stdout) as any).error.code, name).toBe(code);
    }
  });
});

describe('certificates: compare --certificate and verify --certificate', () => {
  let cert: string;
  beforeAll(async () => {
    cert = p('epoch42.cert');
    const r = await runCli(['compare', ...ALL(), '--trust', p('trust.json'), '--certificate', cert]);
    expect(r.code).toBe(6);
  });

  it('the certificate names exactly the agreeing trusted signers', () => {
    const c = JSON.parse(readFileSync(cert, 'utf8'));
    expect(c.signers.map((s: any) => s.node)).toEqual(['big', 'n1']);
    expect(c.epoch).toBe('42');
    expect(c.quorum).toEqual({ rule: '>1/2', required: 5, weight: 5, totalWeight: 8 });
  });

  it('verify accepts the snapshot of the certified checkpoint (exit 0) and names the signers', async () => {
    const r = await runCli(['verify', p('good.snap'), '--certificate', cert, '--trust', p('trust.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^CERTIFIED .*good\.snap {2}epoch 42 {2}digest [0-9a-f]{16} {2}signed by weight 5 of 8 \(quorum needs 5\): big, n1\n$/);
  });

  it('verify fails for a snapshot with one changed value (NOT_CERTIFIED, exit 1)', async () => {
    const r = await runCli(['verify', p('changed.snap'), '--certificate', cert, '--trust', p('trust.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/NOT_CERTIFIED .*table per_object_blob_info digest/);
  });

  it('verify fails for the same content at another anchor (epoch 43)', async () => {
    const r = await runCli(['verify', p('epoch43.snap'), '--certificate', cert, '--trust', p('trust.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/NOT_CERTIFIED .*epoch 43 \(certified 42\)/);
  });

  it('restore --certificate restores only the certified snapshot: its digest comes back from the database; a changed one leaves nothing', async () => {
    const good = await runCli(['restore', p('good.snap'), '--to', p('restored-good'), '--certificate', cert, '--trust', p('trust.json'), '--json']);
    expect(good.code, good.stderr).toBe(0);
    const snap = await runCli(['digest', p('good.snap'), '--json']);
    const back = await runCli(['digest', p('restored-good'), '--tables', TABLE, '--epoch', '42', '--json']);
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout).digest).toBe(JSON.parse(snap.stdout).digest);
    const changed = await runCli(['restore', p('changed.snap'), '--to', p('restored-changed'), '--certificate', cert, '--trust', p('trust.json')]);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/NOT_CERTIFIED/);
    expect(existsSync(p('restored-changed'))).toBe(false);
    expect((await runCli(['restore', p('good.snap'), '--to', p('restored-x'), '--certificate', cert])).code).toBe(64);
  });

  it('verify fails when the verifier asks for more weight than signed (NO_QUORUM, exit 3)', async () => {
    const r = await runCli(['verify', p('good.snap'), '--certificate', cert, '--trust', p('trust.json'), '--quorum', '>2/3']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/NO_QUORUM .*weigh 5 of 8; the quorum >2\/3 needs 6/);
  });

  it('verify against a trust set that does not hold the signers counts nothing', async () => {
    const r = await runCli(['verify', p('good.snap'), '--certificate', cert, '--trust', p('trust-dir')]);
    // The directory holds the same keys with weight 1: 2 of 5 is no majority.
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('NO_QUORUM');
  });

  it('a truncated certificate, an edited digest and a signature moved between signers are BAD_CERTIFICATE (exit 3)', async () => {
    const text = readFileSync(cert, 'utf8');
    const c = JSON.parse(text);
    const variants: Record<string, string> = {
      truncated: text.slice(0, Math.floor(text.length / 2)),
      digest: JSON.stringify({ ...c, digest: c.digest.replace(/^./, (d: string) => (d === '0' ? '1' : '0')) }),
      moved: JSON.stringify({ ...c, signers: [{ ...c.signers[0], signature: c.signers[1].signature }, c.signers[1]] }),
      twice: JSON.stringify({ ...c, signers: [c.signers[0], c.signers[0]] }),
    };
    for (const [name, body] of Object.entries(variants)) {
      writeFileSync(p(`${name}.cert`), body);
      const r = await runCli(['verify', p('good.snap'), '--certificate', p(`${name}.cert`), '--trust', p('trust.json')]);
      expect(r.code, name).toBe(3);
      expect(r.stderr, name).toMatch(/^snapshot-verify: BAD_CERTIFICATE in /);
    }
  });

  it('--certificate without --trust is a usage error', async () => {
    expect((await runCli(['verify', p('good.snap'), '--certificate', cert])).code).toBe(64);
    expect((await runCli(['compare', p('reports', 'n1.json'), '--certificate', p('x.cert')])).code).toBe(64);
  });
});
