import type { KeyObject } from 'node:crypto';
import type { DigestReport, ReportSignature } from '../schema.js';
import { rawPublicKey, signBytes, verifyBytes } from './keys.js';
import { encodeStatement, statementOf, STATEMENT_VERSION, type Statement } from './statement.js';

/** Signed reports: pure functions (no I/O) for nodes that sign in-process and for `compare`. */

/** The report with a `signature` over its statement by `privateKey` (Ed25519). */
export function signReport(report: DigestReport, privateKey: KeyObject): DigestReport {
  const publicKey = rawPublicKey(privateKey);
  const { signature: _old, ...unsigned } = report;
  const bytes = encodeStatement(statementOf(unsigned, publicKey));
  const signature: ReportSignature = { scheme: 'ed25519', statementVersion: STATEMENT_VERSION, publicKey, value: signBytes(bytes, privateKey) };
  return { ...unsigned, signature };
}

/** Why a signed report's signature does not hold. */
export type SignatureProblem = 'unsigned' | 'unsupported-statement' | 'bad-signature';

/** The outcome of checking a report's own signature (not yet whether its key is trusted). */
export type SignatureCheck =
  | { readonly ok: true; readonly statement: Statement; readonly bytes: Uint8Array; readonly publicKey: string }
  | { readonly ok: false; readonly problem: SignatureProblem; readonly detail: string };

/** Checks that a report's signature is valid for its own statement and key. */
export function checkReportSignature(report: DigestReport): SignatureCheck {
  const sig = report.signature;
  if (sig === undefined) return { ok: false, problem: 'unsigned', detail: 'the report is not signed' };
  if (sig.scheme !== 'ed25519' || sig.statementVersion !== STATEMENT_VERSION) {
    return { ok: false, problem: 'unsupported-statement', detail: `signature scheme ${sig.scheme} with statement version ${sig.statementVersion}; this tool checks ed25519 statements of version ${STATEMENT_VERSION}` };
  }
  const statement = statementOf(report, sig.publicKey);
  const bytes = encodeStatement(statement);
  if (!verifyBytes(bytes, sig.value, sig.publicKey)) {
    return { ok: false, problem: 'bad-signature', detail: 'the signature does not match the report\'s content, node name and key' };
  }
  return { ok: true, statement, bytes, publicKey: sig.publicKey };
}
