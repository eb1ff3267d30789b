#!/usr/bin/env node
// Writes golden/statement-v1/: statements (spec/STATEMENT.md) of fixed reports signed with fixed
// keys (RFC 8032 test seeds; Ed25519 is deterministic, so every signature is checkable), invalid
// statements with their error offsets, and a quorum certificate with its trust file.
// Append-only: an existing file is never rewritten; if this build would write different bytes,
// it writes nothing and says to bump the statement version. New cases go into new files
// (manifest-2.json, ...). Tests run it with --check, which writes nothing.
// Usage: npm run build && node scripts/make-golden-statements.mjs [--check]
import { createPrivateKey } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCertificate, certificateText, checkReportSignature, encodeStatement, rawPublicKey, signReport, statementOf, STATEMENT_VERSION } from '../dist/index.js';

const checkOnly = process.argv.includes('--check');
const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden', `statement-v${STATEMENT_VERSION}`);

/** RFC 8032 section 7.1, TEST 1 and TEST 2 secret keys (their public keys are in the RFC). */
const SEEDS = {
  A: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  B: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
};
const PKCS8_ED25519_PREFIX = '302e020100300506032b657004220420';
const keyOf = (seed) => createPrivateKey({ key: Buffer.from(PKCS8_ED25519_PREFIX + seed, 'hex'), format: 'der', type: 'pkcs8' });
const keys = Object.fromEntries(Object.entries(SEEDS).map(([n, seed]) => [n, keyOf(seed)]));

const node = (name) => ({ name, source: '/var/lib/node/checkpoint_epoch_42', sourceKind: 'rocksdb', startedAt: '2026-01-01T00:00:00.000Z', durationMs: 1, toolVersion: '0.1.0' });
const range = (index, start, end, entries, digest) => ({ index, start, end, entries, digest });

/** Reports whose fields cover every statement field: event id, chunks, ranges, ids with gaps, non-ASCII names. */
const REPORTS = {
  'two-tables-ranges': {
    schemaVersion: 1, formatVersion: 1, epoch: '42', cursor: { index: '1000', eventIdHex: 'abcd01' }, maxChunkBytes: '4096', rangesPerTable: 2,
    digest: '1122334455667788', entries: '5', bytes: '321',
    tables: [
      { id: 0, name: 'per_object_blob_info', entries: '3', bytes: '300', digest: '0fb32ed256b474bf', ranges: [range(0, '00000000', '80000000', '1', 'a1a2a3a4a5a6a7a8'), range(1, '80000000', '', '2', 'b1b2b3b4b5b6b7b8')] },
      { id: 7, name: 'storage_pool_info', entries: '2', bytes: '21', digest: 'ffffffffffffffff', ranges: [range(0, '00000000', '80000000', '0', 'ef46db3751d8e999'), range(1, '80000000', '', '2', '0000000000000001')] },
    ],
    chunks: [{ index: 0, bytes: 4096, digest: 'c0c1c2c3c4c5c6c7' }, { index: 1, bytes: 77, digest: '1122334455667788' }],
    node: node('node-a'),
  },
  'empty-catalog': {
    schemaVersion: 1, formatVersion: 1, epoch: '0', cursor: { index: '0', eventIdHex: '' }, maxChunkBytes: '0', rangesPerTable: 0,
    digest: '0000000000000000', entries: '0', bytes: '0', tables: [], chunks: [{ index: 0, bytes: 40, digest: '0000000000000000' }],
    node: node('n'),
  },
  'unicode-names': {
    schemaVersion: 1, formatVersion: 1, epoch: '18446744073709551615', cursor: { index: '18446744073709551615', eventIdHex: '00' }, maxChunkBytes: '18446744073709551615', rangesPerTable: 1,
    digest: 'fedcba9876543210', entries: '1', bytes: '2',
    tables: [{ id: 4294967295, name: 'blob_info_ü', entries: '1', bytes: '2', digest: '0123456789abcdef', ranges: [range(0, '00000000', '', '1', '0123456789abcdef')] }],
    chunks: [{ index: 0, bytes: 9007199254740991, digest: 'fedcba9876543210' }],
    node: node('nœud-東京'),
  },
};
const SIGNER = { 'two-tables-ranges': 'A', 'empty-catalog': 'B', 'unicode-names': 'A' };

const statements = Object.entries(REPORTS).map(([name, report]) => {
  const signed = signReport(report, keys[SIGNER[name]]);
  const check = checkReportSignature(signed);
  if (!check.ok) throw new Error(`${name}: ${check.detail}`);
  return { name, key: SIGNER[name], report: signed, statement: Buffer.from(check.bytes).toString('hex'), signature: signed.signature.value };
});

// Invalid statements: mutations of the first, each with the code and offset spec section 3 gives.
const first = Buffer.from(statements[0].statement, 'hex');
const length = first.length;
const mutate = (f) => { const b = Buffer.from(first); return f(b) ?? b; };
const INVALID = [
  ['bad-magic', mutate((b) => { b[0] ^= 1; }), 0],
  ['version-2', mutate((b) => { b.writeUInt16BE(2, 26); }), 26],
  ['event-id-too-long', mutate((b) => { b.writeUInt16BE(1025, 46); }), 46],
  ['ranges-over-limit', mutate((b) => { b.writeUInt32BE(4097, 59); }), 59],
  ['table-name-empty', mutate((b) => { b[71] = 0; }), 71],
  ['table-name-not-utf8', mutate((b) => { b[72] = 0xff; }), 72],
  ['truncated-public-key', first.subarray(0, length - 1), length - 32],
  ['trailing-byte', Buffer.concat([first, Buffer.from([0])]), length],
].map(([name, bytes, offset]) => ({ name, statement: Buffer.from(bytes).toString('hex'), code: 'BAD_STATEMENT', offset }));

// A certificate: node-a (key A, weight 2) and node-b (key B, weight 1) sign the first report's content.
const other = signReport({ ...REPORTS['two-tables-ranges'], node: node('node-b') }, keys.B);
const signedOf = (r, weight) => { const c = checkReportSignature(r); return { statement: c.statement, bytes: c.bytes, signature: r.signature.value, weight }; };
const certificate = buildCertificate([signedOf(statements[0].report, 2), signedOf(other, 1)], { kind: 'fraction', numerator: 1, denominator: 2, strict: true }, 3);
const trust = { trustVersion: 1, nodes: [{ name: 'node-a', publicKey: rawPublicKey(keys.A), weight: 2 }, { name: 'node-b', publicKey: rawPublicKey(keys.B), weight: 1 }] };

const manifest = {
  description: 'Signed statements, version 1 (spec/STATEMENT.md): statement bytes of fixed reports, Ed25519 signatures by fixed keys, invalid statements, one certificate.',
  statementVersion: STATEMENT_VERSION,
  keys: Object.fromEntries(Object.entries(SEEDS).map(([n, seed]) => [n, { seed, publicKey: rawPublicKey(keys[n]), privateKeyPem: keys[n].export({ type: 'pkcs8', format: 'pem' }) }])),
  statements,
  invalid: INVALID,
  certificates: [{ name: 'two-signers', file: 'certificate-two-signers.json', trust: 'trust.json', quorum: '>1/2', signers: ['node-a', 'node-b'], weight: 3 }],
};

const files = {
  'manifest.json': `${JSON.stringify(manifest, null, 2)}\n`,
  'certificate-two-signers.json': certificateText(certificate),
  'trust.json': `${JSON.stringify(trust, null, 2)}\n`,
};
// Consistency of the script itself: what it writes must re-encode to what it pins.
for (const s of statements) if (Buffer.from(encodeStatement(statementOf(s.report, s.report.signature.publicKey))).toString('hex') !== s.statement) throw new Error('re-encoding differs');

await mkdir(root, { recursive: true });
let problems = 0;
for (const [name, text] of Object.entries(files)) {
  const path = join(root, name);
  const existing = await readFile(path, 'utf8').catch(() => undefined);
  if (existing === text) continue;
  if (existing !== undefined) {
    console.error(`golden/statement-v${STATEMENT_VERSION}/${name}: this build writes different content. Statement bytes are pinned: bump STATEMENT_VERSION (spec/STATEMENT.md section 8) instead of changing them.`);
    problems++;
    continue;
  }
  if (checkOnly) {
    console.error(`golden/statement-v${STATEMENT_VERSION}/${name} is missing`);
    problems++;
    continue;
  }
  await writeFile(path, text, { flag: 'wx' });
  console.log(`wrote golden/statement-v${STATEMENT_VERSION}/${name}`);
}
process.exit(problems === 0 ? 0 : 1);
