import { SnapshotError } from '../../format/errors.js';
import { verifyBytes } from './keys.js';
import { formatQuorum, requiredWeight, type QuorumRule } from './quorum.js';
import type { TableReport } from '../schema.js';
import { parseJsonObject } from './json.js';
import { attestedContentKey, decodeStatement, type AttestedFields, type Statement } from './statement.js';
import { MAX_TRUST_MEMBERS, type TrustSet } from './trust-set.js';

/**
 * Quorum certificates (spec/STATEMENT.md section 6): the certified content in readable JSON, and
 * the signed statements of the agreeing nodes, each checkable offline. The readable fields are a
 * convenience; a verifier derives everything from the signed statements and refuses a certificate
 * whose readable fields say anything else. Pure (no I/O).
 */

export const CERTIFICATE_KIND = 'snapshot-verify quorum certificate';
export const CERTIFICATE_VERSION = 1;
/** Largest certificate text a verifier reads. Defaults to 64 MiB. */
export const MAX_CERTIFICATE_BYTES = 64 * 1024 * 1024;

/** One signer as a certificate lists it. */
export interface CertificateSigner {
  readonly node: string;
  readonly publicKey: string;
  /** The signer's weight in the trust set that made the certificate (informational). */
  readonly weight: number;
  /** The statement bytes, hex. */
  readonly statement: string;
  /** Ed25519 signature of the statement bytes, hex. */
  readonly signature: string;
}

/** The certified content in readable form: a statement's attested fields without chunks and ranges, and without who signed it. */
export interface CertifiedContent extends Omit<AttestedFields, 'tables' | 'chunks'> {
  readonly tables: readonly Omit<TableReport, 'ranges'>[];
}

export interface Certificate extends CertifiedContent {
  readonly certificate: typeof CERTIFICATE_KIND;
  readonly certificateVersion: number;
  /** The rule the certificate was made under (informational: a verifier applies its own). */
  readonly quorum: { readonly rule: string; readonly required: number; readonly weight: number; readonly totalWeight: number };
  readonly signers: readonly CertificateSigner[];
}

/** A signed statement, as compare collects them. */
export interface SignedStatement {
  readonly statement: Statement;
  readonly bytes: Uint8Array;
  readonly signature: string;
  readonly weight: number;
}

/** The readable content of a statement (field order as in a report, which the certificate text keeps). */
export function certifiedContent(s: Statement): CertifiedContent {
  const { tables, chunks: _chunks, node: _node, publicKey: _key, ...anchorAndTotals } = s;
  return { ...anchorAndTotals, tables: tables.map(({ ranges: _ranges, ...t }) => t) };
}

/**
 * A certificate over signed statements that all attest the same content (the caller has checked
 * the quorum; this checks the rest). Signers in bytewise node-name order.
 */
export function buildCertificate(signed: readonly SignedStatement[], rule: QuorumRule, totalWeight: number): Certificate {
  if (signed.length === 0) throw new SnapshotError('NO_QUORUM', 'no signed statement to certify');
  const key = attestedContentKey(signed[0]!.statement);
  if (signed.some((s) => attestedContentKey(s.statement) !== key)) throw new SnapshotError('BAD_CERTIFICATE', 'the statements do not attest the same content');
  const weight = signed.reduce((w, s) => w + s.weight, 0);
  const sorted = [...signed].sort((a, b) => Buffer.compare(Buffer.from(a.statement.node), Buffer.from(b.statement.node)));
  return {
    certificate: CERTIFICATE_KIND,
    certificateVersion: CERTIFICATE_VERSION,
    ...certifiedContent(signed[0]!.statement),
    quorum: { rule: formatQuorum(rule), required: requiredWeight(rule, totalWeight), weight, totalWeight },
    signers: sorted.map((s) => ({ node: s.statement.node, publicKey: s.statement.publicKey, weight: s.weight, statement: Buffer.from(s.bytes).toString('hex'), signature: s.signature })),
  };
}

/** The certificate file's text: JSON, two-space indented, one trailing newline. */
export function certificateText(c: Certificate): string {
  return `${JSON.stringify(c, null, 2)}\n`;
}

/** A signer as a verifier judged it. */
export interface CheckedSigner {
  readonly node: string;
  readonly publicKey: string;
  /** The weight counted (from the verifier's trust set); 0 when not counted. */
  readonly weight: number;
  readonly counted: boolean;
  /** Why a valid signer is not counted (not in the trust set, or trusted under another name). */
  readonly reason?: string;
}

export interface CertificateCheck {
  readonly content: CertifiedContent;
  /** The certified statement body, as the first signer's statement (node and key aside, all are equal). */
  readonly statement: Statement;
  readonly signers: readonly CheckedSigner[];
  readonly weight: number;
  readonly required: number;
  readonly totalWeight: number;
}

/**
 * Checks a certificate against a trust set and a quorum rule: every statement decodes and is
 * signed by the key it names; all attest the same content, which the readable fields repeat
 * exactly; no key or node signs twice; the signers the trust set holds under the names they
 * signed with weigh at least the rule's required weight. Throws BAD_CERTIFICATE for a damaged,
 * altered or malformed certificate, NO_QUORUM when it is sound but not enough trusted weight
 * signed it. `file` names it in errors.
 */
export function verifyCertificate(text: string, trust: TrustSet, rule: QuorumRule, file: string): CertificateCheck {
  const bad = (message: string): never => {
    throw new SnapshotError('BAD_CERTIFICATE', message, { file });
  };
  const c = parseJsonObject(text, 'BAD_CERTIFICATE', file, 'a JSON certificate (truncated or damaged?)');
  if (c['certificate'] !== CERTIFICATE_KIND) bad(`not a certificate: "certificate" must be ${JSON.stringify(CERTIFICATE_KIND)}`);
  if (c['certificateVersion'] !== CERTIFICATE_VERSION) bad(`certificateVersion: this tool reads version ${CERTIFICATE_VERSION}, got ${JSON.stringify(c['certificateVersion'])}`);
  const signers = c['signers'];
  if (!Array.isArray(signers) || signers.length === 0) return bad('signers: expected a non-empty array');
  if (signers.length > MAX_TRUST_MEMBERS) bad(`${signers.length} signers, more than ${MAX_TRUST_MEMBERS}`);

  let first: Statement | undefined;
  let firstKey = '';
  const seenKeys = new Set<string>();
  const seenNodes = new Set<string>();
  const checked: CheckedSigner[] = [];
  signers.forEach((sv: unknown, i) => {
    const p = `signers[${i}]`;
    if (typeof sv !== 'object' || sv === null || Array.isArray(sv)) return bad(`${p}: expected an object`);
    const s = sv as Record<string, unknown>;
    if (typeof s['statement'] !== 'string' || !/^(?:[0-9a-f]{2})+$/.test(s['statement'])) return bad(`${p}.statement: expected lowercase hex`);
    if (typeof s['signature'] !== 'string') return bad(`${p}.signature: expected 128 hex digits`);
    const bytes = Uint8Array.from(Buffer.from(s['statement'], 'hex'));
    let statement: Statement;
    try {
      statement = decodeStatement(bytes);
    } catch (e) {
      const se = e as SnapshotError;
      return bad(`${p}.statement: ${se.message}${se.offset !== undefined ? ` at byte ${se.offset}` : ''}`);
    }
    if (s['node'] !== statement.node) bad(`${p}.node ${JSON.stringify(s['node'])} is not the node name signed in its statement (${JSON.stringify(statement.node)})`);
    if (s['publicKey'] !== statement.publicKey) bad(`${p}.publicKey is not the key signed in its statement`);
    if (!verifyBytes(bytes, s['signature'], statement.publicKey)) bad(`${p}: the signature of ${JSON.stringify(statement.node)} does not verify over its statement`);
    if (seenKeys.has(statement.publicKey)) bad(`${p}: key ${statement.publicKey} signs twice`);
    if (seenNodes.has(statement.node)) bad(`${p}: node ${JSON.stringify(statement.node)} signs twice`);
    seenKeys.add(statement.publicKey);
    seenNodes.add(statement.node);
    if (first === undefined) {
      first = statement;
      firstKey = attestedContentKey(statement);
    } else if (attestedContentKey(statement) !== firstKey) {
      bad(`${p}: the statement of ${JSON.stringify(statement.node)} attests other content than the first signer's`);
    }
    const member = trust.members.find((m) => m.publicKey === statement.publicKey);
    if (member === undefined) checked.push({ node: statement.node, publicKey: statement.publicKey, weight: 0, counted: false, reason: 'key not in the trust set' });
    else if (member.name !== statement.node) checked.push({ node: statement.node, publicKey: statement.publicKey, weight: 0, counted: false, reason: `key trusted for ${JSON.stringify(member.name)}, used under another name` });
    else checked.push({ node: statement.node, publicKey: statement.publicKey, weight: member.weight, counted: true });
  });
  const statement = first!;
  const content = certifiedContent(statement);
  const stated: Record<string, unknown> = {};
  for (const k of Object.keys(content)) stated[k] = c[k];
  if (JSON.stringify(stated) !== JSON.stringify(content)) {
    const fields = Object.keys(content).filter((k) => JSON.stringify(c[k]) !== JSON.stringify((content as unknown as Record<string, unknown>)[k]));
    bad(`the readable fields (${fields.join(', ')}) do not say what the signed statements attest`);
  }
  const weight = checked.reduce((w, s) => w + s.weight, 0);
  const required = requiredWeight(rule, trust.totalWeight);
  if (weight < required) {
    throw new SnapshotError('NO_QUORUM', `trusted signers weigh ${weight} of ${trust.totalWeight}; the quorum ${formatQuorum(rule)} needs ${required} (${checked.filter((s) => s.counted).map((s) => s.node).join(', ') || 'none counted'})`, { file });
  }
  return { content, statement, signers: checked, weight, required, totalWeight: trust.totalWeight };
}
