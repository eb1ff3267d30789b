import { SnapshotError } from '../../format/errors.js';
import type { SnapshotAnchor } from '../../format/header.js';
import { buildReport, digestSource } from '../../report/digest-source.js';
import { MAX_CERTIFICATE_BYTES, verifyCertificate, type CertificateCheck } from '../../report/identity/certificate.js';
import { fingerprint } from '../../report/identity/keys.js';
import { MAJORITY, parseQuorum } from '../../report/identity/quorum.js';
import { attestedContentKey, statementOf } from '../../report/identity/statement.js';
import { openCheckpoint, snapshotFiles } from '../../sources/open.js';
import type { Source } from '../../sources/source.js';
import { reportError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { escapeText } from '../render/escape.js';
import { loadTrust, readSmallFile } from '../trust-input.js';

export interface VerifyCertificateArgs {
  readonly snapshot: readonly string[];
  readonly chunks: boolean;
  readonly certificate: string;
  readonly trust?: string;
  readonly quorum?: string;
  readonly json: boolean;
}

/**
 * `verify SNAPSHOT --certificate CERT --trust PATH`: exit 0 only when the certificate holds a
 * quorum of valid signatures from the trust set AND the snapshot (verified as it is read) has
 * exactly the certified anchor and content. A sound certificate for other content: NOT_CERTIFIED,
 * exit 1; a damaged or altered certificate: BAD_CERTIFICATE, exit 3; too little trusted weight:
 * NO_QUORUM, exit 3.
 */
export async function verifyWithCertificate(args: VerifyCertificateArgs, io: CliIo): Promise<number> {
  try {
    const check = await checkSnapshotCertificate(args);
    io.stdout(args.json ? `${JSON.stringify(document(args, check), null, 2)}\n` : render(args, check));
    return ExitCode.OK;
  } catch (e) {
    return reportError(e, io, args.json);
  }
}

/**
 * The certificate alone, before any snapshot is read (shared by verify, restore and fetch): its
 * signatures against the trust set at `trust`, and the quorum rule (default: more than half of the
 * trust set's weight). `text` is the certificate's content when it was not read from the file
 * `certificate` (one read from a repository; `certificate` then names it in errors).
 */
export async function checkCertificate(args: { readonly certificate: string; readonly text?: string; readonly trust: string; readonly quorum?: string }): Promise<CertificateCheck> {
  const rule = args.quorum === undefined ? MAJORITY : parseQuorum(args.quorum);
  const trust = await loadTrust(args.trust);
  const text = args.text ?? (await readSmallFile(args.certificate, 'BAD_CERTIFICATE', MAX_CERTIFICATE_BYTES));
  return verifyCertificate(text, trust, rule, args.certificate);
}

/**
 * The check itself, shared by `verify --certificate` and `restore --certificate`: returns the
 * certificate's verdict when the snapshot (read and verified whole) is exactly the certified one;
 * throws NOT_CERTIFIED, BAD_CERTIFICATE, NO_QUORUM or the snapshot's own error otherwise.
 */
export async function checkSnapshotCertificate(args: Omit<VerifyCertificateArgs, 'json'>): Promise<CertificateCheck> {
  let source: Source | undefined;
  try {
    if (args.trust === undefined) throw new SnapshotError('INVALID_ARGUMENT', '--certificate needs --trust PATH: a certificate is only as good as the keys it is checked against');
    if (!args.chunks && args.snapshot.length !== 1) throw new SnapshotError('INVALID_ARGUMENT', '--certificate checks one snapshot (its chunk files with --chunks)');
    const check = await checkCertificate({ certificate: args.certificate, trust: args.trust, ...(args.quorum !== undefined ? { quorum: args.quorum } : {}) });

    const files = args.chunks ? [...args.snapshot] : await snapshotFiles(args.snapshot[0]!);
    source = await openCheckpoint(files);
    const recorded = source.recorded;
    if (source.kind !== 'snapshot' || recorded?.epoch === undefined || recorded.tables === undefined) {
      throw new SnapshotError('INVALID_ARGUMENT', `${args.snapshot[0]!} is not a snapshot file: --certificate checks snapshots (digest --out writes them)`);
    }
    const anchor: SnapshotAnchor = { epoch: recorded.epoch, cursor: recorded.cursor ?? { index: 0n }, maxChunkBytes: recorded.maxChunkBytes ?? 0n, tables: recorded.tables };
    const { summary, ranges } = await digestSource(source, { anchor, ranges: check.content.rangesPerTable });
    const own = statementOf(buildReport(summary, ranges, check.content.rangesPerTable, { name: '-', source: '', sourceKind: '', startedAt: '', durationMs: 0, toolVersion: '' }), check.statement.publicKey);
    if (attestedContentKey(own) !== attestedContentKey(check.statement)) {
      const c = check.content;
      const differs: string[] = [];
      if (own.epoch !== c.epoch) differs.push(`epoch ${own.epoch} (certified ${c.epoch})`);
      if (JSON.stringify(own.cursor) !== JSON.stringify(c.cursor)) differs.push('cursor');
      if (own.maxChunkBytes !== c.maxChunkBytes) differs.push(`max chunk bytes ${own.maxChunkBytes} (certified ${c.maxChunkBytes})`);
      if (own.tables.map((t) => `${t.id}=${t.name}`).join() !== c.tables.map((t) => `${t.id}=${t.name}`).join()) differs.push('tables');
      else own.tables.forEach((t, i) => t.digest !== c.tables[i]!.digest && differs.push(`table ${t.name} digest ${t.digest} (certified ${c.tables[i]!.digest})`));
      if (own.digest !== c.digest) differs.push(`snapshot digest ${own.digest} (certified ${c.digest})`);
      if (differs.length === 0) differs.push('chunks or range digests');
      throw new SnapshotError('NOT_CERTIFIED', `the snapshot is not the certified one: ${differs.join(', ')}`, { file: args.snapshot[0]! });
    }
    return check;
  } finally {
    await source?.close().catch(() => undefined);
  }
}

function document(args: VerifyCertificateArgs, c: CertificateCheck) {
  return { ok: true, snapshot: args.snapshot.join(' '), certificate: args.certificate, epoch: c.content.epoch, digest: c.content.digest, weight: c.weight, required: c.required, totalWeight: c.totalWeight, signers: c.signers };
}

function render(args: VerifyCertificateArgs, c: CertificateCheck): string {
  const counted = c.signers.filter((s) => s.counted);
  const lines = [
    `CERTIFIED ${args.snapshot.join(' ')}  epoch ${c.content.epoch}  digest ${c.content.digest}  signed by weight ${c.weight} of ${c.totalWeight} (quorum needs ${c.required}): ${counted.map((s) => s.node).join(', ')}`,
  ];
  for (const s of c.signers.filter((x) => !x.counted)) lines.push(`  not counted: ${s.node} (${fingerprint(s.publicKey)}): ${s.reason ?? ''}`);
  return `${lines.map(escapeText).join('\n')}\n`;
}
