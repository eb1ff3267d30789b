import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SnapshotError } from '../../../src/format/errors.js';
import { buildCertificate, certificateText, verifyCertificate } from '../../../src/report/identity/certificate.js';
import { generateKeyPair } from '../../../src/report/identity/keys.js';
import { formatQuorum, MAJORITY, parseQuorum, requiredWeight } from '../../../src/report/identity/quorum.js';
import { checkReportSignature, signReport } from '../../../src/report/identity/signature.js';
import { parseTrustFile, trustSetFromKeyFiles } from '../../../src/report/identity/trust-set.js';
import type { DigestReport } from '../../../src/report/schema.js';
import { REPO } from '../../helpers/cli.js';

/** Certificates checked offline against trust sets: the golden one, and every way to damage one. */

const GOLDEN = join(REPO, 'golden', 'statement-v1');
const manifest = JSON.parse(readFileSync(join(GOLDEN, 'manifest.json'), 'utf8')) as {
  keys: Record<string, { privateKeyPem: string; publicKey: string }>;
  statements: { name: string; report: DigestReport }[];
  certificates: { file: string; trust: string; quorum: string; signers: string[]; weight: number }[];
};
const golden = manifest.certificates[0]!;
const certText = readFileSync(join(GOLDEN, golden.file), 'utf8');
const trust = parseTrustFile(readFileSync(join(GOLDEN, golden.trust), 'utf8'), 'trust.json');
const cert = JSON.parse(certText);

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SnapshotError);
    return (e as SnapshotError).code;
  }
  return 'accepted';
}

describe('quorum certificates', () => {
  it('the golden certificate verifies against its trust set with the signers and weight the manifest names', () => {
    const c = verifyCertificate(certText, trust, parseQuorum(golden.quorum), 'cert');
    expect(c.signers.filter((s) => s.counted).map((s) => s.node)).toEqual(golden.signers);
    expect(c.weight).toBe(golden.weight);
    expect(c.content.digest).toBe(manifest.statements[0]!.report.digest);
  });

  it('the verifier applies its own rule and weights, not the certificate\'s', () => {
    // Weight 3 of 3 signed: ">2/3" holds, but a trust set where a third member weighs 10 has no quorum.
    expect(verifyCertificate(certText, trust, parseQuorum('>2/3'), 'cert').required).toBe(3);
    const bigger = parseTrustFile(JSON.stringify({ trustVersion: 1, nodes: [...trust.members, { name: 'z', publicKey: generateKeyPair().publicKey, weight: 10 }] }), 't');
    expect(code(() => verifyCertificate(certText, bigger, MAJORITY, 'cert'))).toBe('NO_QUORUM');
  });

  it('a signer the trust set does not hold, or holds under another name, is listed but not counted', () => {
    const onlyA = parseTrustFile(JSON.stringify({ trustVersion: 1, nodes: [{ name: 'node-a', publicKey: manifest.keys['A']!.publicKey, weight: 2 }, { name: 'x', publicKey: generateKeyPair().publicKey }] }), 't');
    const c = verifyCertificate(certText, onlyA, MAJORITY, 'cert');
    expect(c.signers.map((s) => [s.node, s.counted])).toEqual([['node-a', true], ['node-b', false]]);
    const renamed = parseTrustFile(JSON.stringify({ trustVersion: 1, nodes: [{ name: 'node-b', publicKey: manifest.keys['A']!.publicKey }, { name: 'node-a', publicKey: manifest.keys['B']!.publicKey }] }), 't');
    expect(code(() => verifyCertificate(certText, renamed, parseQuorum('1'), 'cert'))).toBe('NO_QUORUM');
  });

  const damaged: [string, () => string][] = [
    ['truncated', () => certText.slice(0, certText.length - 10)],
    ['not a certificate', () => JSON.stringify({ ...cert, certificate: 'x' })],
    ['another version', () => JSON.stringify({ ...cert, certificateVersion: 2 })],
    ['an edited digest', () => JSON.stringify({ ...cert, digest: '0000000000000000' })],
    ['an edited epoch', () => JSON.stringify({ ...cert, epoch: '43' })],
    ['an edited table digest', () => JSON.stringify({ ...cert, tables: [{ ...cert.tables[0], digest: '0000000000000000' }, cert.tables[1]] })],
    ['a signature moved to the other signer', () => JSON.stringify({ ...cert, signers: [{ ...cert.signers[0], signature: cert.signers[1].signature }, cert.signers[1]] })],
    ['a signer renamed', () => JSON.stringify({ ...cert, signers: [{ ...cert.signers[0], node: 'node-c' }, cert.signers[1]] })],
    ['one signer twice', () => JSON.stringify({ ...cert, signers: [cert.signers[0], cert.signers[0]] })],
    ['no signers', () => JSON.stringify({ ...cert, signers: [] })],
    ['a statement byte flipped', () => JSON.stringify({ ...cert, signers: [{ ...cert.signers[0], statement: cert.signers[0].statement.replace(/.$/, (d: string) => (d === '0' ? '1' : '0')) }, cert.signers[1]] })],
    ['a statement of another anchor replayed beside a valid one', () => {
      const key = createPrivateKey(manifest.keys['B']!.privateKeyPem);
      const other = signReport({ ...manifest.statements[0]!.report, epoch: '41', node: { ...manifest.statements[0]!.report.node, name: 'node-b' } }, key);
      const s = checkReportSignature(other);
      if (!s.ok) throw new Error('unsigned');
      return JSON.stringify({ ...cert, signers: [cert.signers[0], { ...cert.signers[1], statement: Buffer.from(s.bytes).toString('hex'), signature: other.signature!.value }] });
    }],
  ];
  for (const [name, make] of damaged) {
    it(`${name}: BAD_CERTIFICATE, nothing counted`, () => {
      expect(code(() => verifyCertificate(make(), trust, MAJORITY, 'cert'))).toBe('BAD_CERTIFICATE');
    });
  }

  it('every truncation of the certificate text is refused', () => {
    for (let n = 0; n < certText.length - 2; n += 7) expect(code(() => verifyCertificate(certText.slice(0, n), trust, MAJORITY, 'cert'))).toBe('BAD_CERTIFICATE');
  });

  it('a certificate built again from the golden statements is the golden text', () => {
    // Rebuilt from the signed reports, as compare does, in another order: signers sort by name.
    const reports = [manifest.statements[0]!.report];
    const a = checkReportSignature(reports[0]!);
    const b = signReport({ ...reports[0]!, node: { ...reports[0]!.node, name: 'node-b' } }, createPrivateKey(manifest.keys['B']!.privateKeyPem));
    const bc = checkReportSignature(b);
    if (!a.ok || !bc.ok) throw new Error('unsigned');
    const rebuilt = buildCertificate([{ statement: bc.statement, bytes: bc.bytes, signature: b.signature!.value, weight: 1 }, { statement: a.statement, bytes: a.bytes, signature: reports[0]!.signature!.value, weight: 2 }], MAJORITY, 3);
    expect(certificateText(rebuilt)).toBe(certText);
  });
});

describe('trust sets', () => {
  const k1 = generateKeyPair();
  const k2 = generateKeyPair();
  const file = (nodes: unknown[]): string => JSON.stringify({ trustVersion: 1, nodes });
  it('a directory of <node>.pub files: names from the file names, weight 1', () => {
    const set = trustSetFromKeyFiles([{ fileName: 'b.pub', text: k2.publicKeyPem }, { fileName: 'a.pub', text: k1.publicKeyPem }], 'dir');
    expect(set.members.map((m) => [m.name, m.publicKey, m.weight])).toEqual([['a', k1.publicKey, 1], ['b', k2.publicKey, 1]]);
    expect(set.totalWeight).toBe(2);
  });

  const bad: [string, string, string][] = [
    ['duplicate name', file([{ name: 'a', publicKey: k1.publicKey }, { name: 'a', publicKey: k2.publicKey }]), 'BAD_TRUST'],
    ['duplicate key under two names', file([{ name: 'a', publicKey: k1.publicKey }, { name: 'b', publicKey: k1.publicKeyPem }]), 'BAD_TRUST'],
    ['weight 0', file([{ name: 'a', publicKey: k1.publicKey, weight: 0 }]), 'BAD_TRUST'],
    ['negative weight', file([{ name: 'a', publicKey: k1.publicKey, weight: -1 }]), 'BAD_TRUST'],
    ['fractional weight', file([{ name: 'a', publicKey: k1.publicKey, weight: 0.5 }]), 'BAD_TRUST'],
    ['weight as a string', file([{ name: 'a', publicKey: k1.publicKey, weight: '1' }]), 'BAD_TRUST'],
    ['weight over 2^32 - 1', file([{ name: 'a', publicKey: k1.publicKey, weight: 2 ** 32 }]), 'BAD_TRUST'],
    ['no members', file([]), 'BAD_TRUST'],
    ['an empty name', file([{ name: '', publicKey: k1.publicKey }]), 'BAD_TRUST'],
    ['a short hex key', file([{ name: 'a', publicKey: k1.publicKey.slice(2) }]), 'BAD_KEY'],
    ['a private key', file([{ name: 'a', publicKey: k1.publicKeyPem.replace(/PUBLIC/g, 'PRIVATE') }]), 'BAD_KEY'],
    ['a PEM of garbage', file([{ name: 'a', publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' }]), 'BAD_KEY'],
    ['another version', JSON.stringify({ trustVersion: 2, nodes: [] }), 'BAD_TRUST'],
    ['not JSON', '{"trustVersion": 1, "nodes": [', 'BAD_TRUST'],
  ];
  for (const [name, text, expected] of bad) {
    it(`${name}: ${expected}, the whole set refused`, () => {
      expect(code(() => parseTrustFile(text, 'trust.json'))).toBe(expected);
    });
  }
});

describe('quorum rules', () => {
  it('N, P/Q and >P/Q give the exact least weight out of the total', () => {
    expect(requiredWeight(parseQuorum('3'), 10)).toBe(3);
    expect(requiredWeight(parseQuorum('2/3'), 9)).toBe(6);
    expect(requiredWeight(parseQuorum('2/3'), 10)).toBe(7);
    expect(requiredWeight(parseQuorum('>2/3'), 9)).toBe(7);
    expect(requiredWeight(parseQuorum('>2/3'), 10)).toBe(7);
    expect(requiredWeight(MAJORITY, 4)).toBe(3);
    expect(requiredWeight(MAJORITY, 5)).toBe(3);
    expect(requiredWeight(parseQuorum('1/1'), 7)).toBe(7);
    expect(formatQuorum(parseQuorum(' >2/3 '))).toBe('>2/3');
  });

  it('anything else is a usage error naming the flag and the forms', () => {
    for (const q of ['0', 'abc', '-1', '3/2', '>1/1', '2/0', '1.5', '']) expect(code(() => parseQuorum(q)), q).toBe('INVALID_ARGUMENT');
  });
});
