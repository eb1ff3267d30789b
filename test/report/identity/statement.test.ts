import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { SnapshotError } from '../../../src/format/errors.js';
import { checkReportSignature, signReport } from '../../../src/report/identity/signature.js';
import { decodeStatement, encodeStatement, statementOf, STATEMENT_MAGIC } from '../../../src/report/identity/statement.js';
import { publicKeyPem, rawPublicKey, verifyBytes } from '../../../src/report/identity/keys.js';
import type { DigestReport } from '../../../src/report/schema.js';
import { REPO } from '../../helpers/cli.js';

/**
 * Statement bytes pinned by golden/statement-v1: our encoder, an encoder written from the spec
 * alone (Python, standard library), and OpenSSL's Ed25519 (signing the pinned bytes with the
 * pinned key gives the pinned signature) must all agree.
 */

const GOLDEN = join(REPO, 'golden', 'statement-v1');
interface Manifest {
  keys: Record<string, { seed: string; publicKey: string; privateKeyPem: string }>;
  statements: { name: string; key: string; report: DigestReport; statement: string; signature: string }[];
  invalid: { name: string; statement: string; code: string; offset: number }[];
}
const manifest = JSON.parse(readFileSync(join(GOLDEN, 'manifest.json'), 'utf8')) as Manifest;
const BUMP = 'statement bytes changed: this requires a statement version bump (spec/STATEMENT.md section 8), never an edit of golden/statement-v1';
const tmp = mkdtempSync(join(tmpdir(), 'sv-statement-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('golden statements (golden/statement-v1)', () => {
  it('the generator reproduces every golden file exactly (node scripts/make-golden-statements.mjs --check)', () => {
    expect(() => execFileSync(process.execPath, ['scripts/make-golden-statements.mjs', '--check'], { cwd: REPO, stdio: 'pipe' })).not.toThrow();
  });

  it('the fixed keys are the RFC 8032 test keys (TEST 1 and TEST 2 public keys)', () => {
    expect(manifest.keys['A']!.publicKey).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    expect(manifest.keys['B']!.publicKey).toBe('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c');
    for (const k of Object.values(manifest.keys)) expect(rawPublicKey(createPrivateKey(k.privateKeyPem))).toBe(k.publicKey);
  });

  for (const c of manifest.statements) {
    it(`${c.name}: our encoder gives the pinned bytes, and they decode back to the report's fields`, () => {
      const bytes = encodeStatement(statementOf(c.report, c.report.signature!.publicKey));
      expect(Buffer.from(bytes).toString('hex'), BUMP).toBe(c.statement);
      expect(encodeStatement(decodeStatement(bytes))).toEqual(bytes);
      expect(decodeStatement(bytes).node).toBe(c.report.node.name);
    });

    it(`${c.name}: signing with the pinned key gives the pinned signature, which verifies`, () => {
      const key = createPrivateKey(manifest.keys[c.key]!.privateKeyPem);
      const { node, ...rest } = c.report;
      const resigned = signReport({ ...rest, node: { ...node, startedAt: 'another run', durationMs: 99 } }, key);
      expect(resigned.signature!.value, BUMP).toBe(c.signature);
      expect(checkReportSignature(c.report).ok).toBe(true);
    });

    it(`${c.name}: OpenSSL signs the pinned bytes to the pinned signature and verifies it`, () => {
      const stmt = join(tmp, `${c.name}.bin`);
      const keyFile = join(tmp, `${c.name}.key`);
      const pubFile = join(tmp, `${c.name}.pub`);
      const sigFile = join(tmp, `${c.name}.sig`);
      writeFileSync(stmt, Buffer.from(c.statement, 'hex'));
      writeFileSync(keyFile, manifest.keys[c.key]!.privateKeyPem);
      writeFileSync(pubFile, publicKeyPem(manifest.keys[c.key]!.publicKey));
      const sig = execFileSync('openssl', ['pkeyutl', '-sign', '-inkey', keyFile, '-rawin', '-in', stmt]);
      expect(sig.toString('hex')).toBe(c.signature);
      writeFileSync(sigFile, Buffer.from(c.signature, 'hex'));
      expect(execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pubFile, '-rawin', '-in', stmt, '-sigfile', sigFile]).toString()).toContain('Signature Verified Successfully');
    });
  }

  it('an encoder written from the spec alone (test/conformance/statement_reference.py) gives the same bytes', () => {
    const out = execFileSync('/usr/bin/python3', ['test/conformance/statement_reference.py', join(GOLDEN, 'manifest.json')], { cwd: REPO }).toString();
    const theirs = Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ')));
    expect(theirs).toEqual(Object.fromEntries(manifest.statements.map((c) => [c.name, c.statement])));
  });

  for (const v of manifest.invalid) {
    it(`invalid statement ${v.name}: ${v.code} at offset ${v.offset}`, () => {
      const e = catchError(() => decodeStatement(Buffer.from(v.statement, 'hex')));
      expect([e.code, e.offset]).toEqual([v.code, v.offset]);
    });
  }
});

describe('statement rules', () => {
  const c = manifest.statements[0]!;
  const bytes = Buffer.from(c.statement, 'hex');

  it('every truncation is BAD_STATEMENT, never a crash or a shorter statement', () => {
    for (let n = 0; n < bytes.length; n++) expect(catchError(() => decodeStatement(bytes.subarray(0, n))).code).toBe('BAD_STATEMENT');
  });

  it('any byte changed either is refused (BAD_STATEMENT) or decodes to a statement the signature no longer covers', () => {
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const m = Buffer.from(bytes);
        m[at]! ^= x;
        try {
          decodeStatement(m);
        } catch (e) {
          expect(e).toBeInstanceOf(SnapshotError);
          expect((e as SnapshotError).code).toBe('BAD_STATEMENT');
          return;
        }
        expect(verifyBytes(m, c.signature, c.report.signature!.publicKey)).toBe(false);
      }),
      { seed: 10, numRuns: 400 },
    );
  });

  it('every attested field is covered: changing any one of them breaks the signature', () => {
    const r = c.report;
    const edits: ((x: any) => void)[] = [
      (x) => (x.epoch = '43'),
      (x) => (x.cursor.index = '1001'),
      (x) => (x.cursor.eventIdHex = 'abcd02'),
      (x) => (x.maxChunkBytes = '4097'),
      (x) => (x.formatVersion = 2),
      (x) => (x.tables[1].id = 8),
      (x) => (x.tables[1].name = 'storage_pool_infp'),
      (x) => (x.tables[0].entries = '4'),
      (x) => (x.tables[0].bytes = '301'),
      (x) => (x.tables[0].digest = '0fb32ed256b474be'),
      (x) => (x.tables[0].ranges[1].digest = 'b1b2b3b4b5b6b7b9'),
      (x) => (x.tables[0].ranges[1].entries = '3'),
      (x) => (x.tables[0].ranges[0].start = '00000001'),
      (x) => (x.chunks[0].bytes = 4095),
      (x) => (x.chunks[0].digest = 'c0c1c2c3c4c5c6c8'),
      (x) => (x.digest = '1122334455667789'),
      (x) => (x.entries = '6'),
      (x) => (x.bytes = '322'),
      (x) => (x.node.name = 'node-b'),
    ];
    for (const edit of edits) {
      const x = JSON.parse(JSON.stringify(r));
      edit(x);
      expect(checkReportSignature(x), String(edit)).toMatchObject({ ok: false, problem: 'bad-signature' });
    }
    // Node-local facts are not attested.
    expect(checkReportSignature({ ...r, node: { ...r.node, source: '/elsewhere', durationMs: 5 } }).ok).toBe(true);
  });

  it('starts with the domain separator, so a statement is never mistaken for a snapshot or anything else', () => {
    expect(Buffer.from(bytes.subarray(0, STATEMENT_MAGIC.length)).toString('latin1')).toBe('snapshot-verify statement\0');
  });

  it('a name with an unpaired surrogate cannot be encoded (two such names would encode alike)', () => {
    const s = statementOf(c.report, c.report.signature!.publicKey);
    expect(catchError(() => encodeStatement({ ...s, node: 'a\ud800' })).code).toBe('BAD_STATEMENT');
  });
});

function catchError(f: () => unknown): SnapshotError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SnapshotError);
    return e as SnapshotError;
  }
  throw new Error('expected a SnapshotError');
}
