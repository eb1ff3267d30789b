import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { SnapshotError } from '../../format/errors.js';
import { compareReports, verdictOf, type CompareResult, type InputFailure, type LoadedReport, type Verdict } from '../../report/compare.js';
import { buildCertificate, certificateText } from '../../report/identity/certificate.js';
import { MAJORITY, parseQuorum, type QuorumRule } from '../../report/identity/quorum.js';
import type { TrustSet } from '../../report/identity/trust-set.js';
import { checkOutputs, writeFileAtomic } from '../atomic-write.js';
import { anchorFileNoteLine, anchorFileNotes, type AnchorFile } from '../../report/anchor.js';
import { catalogOf } from '../../report/compare.js';
import { renderComparePrometheus } from '../../report/prometheus.js';
import { toHex } from '../../format/bytes.js';
import { readAnchorFile } from '../anchor-file.js';
import { writePromTextfile } from '../prom-textfile.js';
import { describeUnknownOptions, optionNames } from '../suggest.js';
import { jsonDocuments, MAX_REPORT_BYTES, parseJsonDocument, validateReport, type ReportDocument } from '../../report/validate.js';
import { defineCommand } from '../command.js';
import { reportError } from '../errors.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { parseCount, parseU64 } from '../parse.js';
import { isRepositoryUrl } from '../../repository/open.js';
import { openRepository, repositoryOptions, type RepositoryArgs } from '../repository-options.js';
import { renderCompare, verdictLine } from '../render/compare.js';
import { escapeText } from '../render/escape.js';
import { loadTrust } from '../trust-input.js';

interface CompareArgs extends RepositoryArgs {
  report: string[];
  json: boolean;
  quorum?: string;
  epoch?: string;
  trust?: string;
  certificate?: string;
  'publish-certificate'?: boolean;
  anchor?: string;
  'prom-textfile'?: string;
}

/** Version of the `compare --json` document; bumped when a field is removed or changes meaning. */
export const COMPARE_SCHEMA_VERSION = 1;

/**
 * The exit code of a comparison (pure): 6 when a trusted key equivocated; 1 when a divergence is
 * proven, whatever else happened (a bad input never hides it); otherwise 74 for an unreadable
 * report, 3 for a corrupt, inconsistent, conflicting or rejected one, 2 for a missing one, a
 * report at another anchor, or too few comparable reports; 0 when every given report was
 * compared and all agree.
 */
export function compareExitCode(verdict: Verdict): ExitCodeValue {
  switch (verdict) {
    case 'AGREE':
      return ExitCode.OK;
    case 'EQUIVOCATION':
      return ExitCode.EQUIVOCATION;
    case 'DIVERGENCE':
      return ExitCode.DIVERGENCE;
    case 'UNREADABLE':
      return ExitCode.IO_ERROR;
    case 'INCONSISTENT':
    case 'CONFLICTING':
    case 'REJECTED':
    case 'CORRUPT_REPORT':
    case 'NEWER_REPORT':
      return ExitCode.CORRUPT;
    case 'MISSING_REPORT':
    case 'INCOMPARABLE':
    case 'TOO_FEW':
      return ExitCode.INCOMPARABLE;
  }
}

export const compareCommand = defineCommand<CompareArgs>({
  command: 'compare <report..>',
  describe: 'Compare digest --json reports of N nodes: group by digest, name the minority, the tables and key ranges that differ',
  builder: (y: Argv) =>
    repositoryOptions(y)
      // yargs drops a bare "-" from variadic positionals; keeping unknown options as arguments keeps
      // it, and run() turns any other dash argument back into a usage error.
      .parserConfiguration({ 'unknown-options-as-args': true })
      .positional('report', { type: 'string', array: true, demandOption: true, describe: 'report files, directories (every *.json in them), - for stdin (one report, concatenated reports, or a JSON array), or one repository URL (s3://BUCKET/PREFIX, file:///PATH)' })
      .option('quorum', { type: 'string', describe: 'what makes a group authoritative: a weight N (nodes, without --trust), a fraction of the total weight P/Q, or more than one >P/Q (default: more than half: of the trust set\'s weight with --trust, else of the compared nodes)' })
      .option('trust', { type: 'string', describe: 'count only signed reports (digest --sign-key) of these keys: a directory of <node-name>.pub files (weight 1 each) or a JSON trust file with weights (spec/STATEMENT.md)' })
      .option('certificate', { type: 'string', describe: 'with --trust: when a quorum agrees, write a quorum certificate to this file (atomically); never written otherwise' })
      .option('publish-certificate', { type: 'boolean', default: false, describe: 'with --trust and a repository URL: when a quorum agrees, write the certificate into the repository, write-once (what certify does)' })
      .option('epoch', { type: 'string', describe: 'compare the reports of this epoch (default: the largest group of reports with one anchor; ties to the higher epoch)' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document (verdict, groups, minority, divergent tables and ranges, incomparable and bad reports)' })
      .option('anchor', { type: 'string', describe: 'anchor file (docs/ANCHOR.md): compare the reports made with it; name nodes that used another anchor file' })
      .option('prom-textfile', { type: 'string', describe: "write the verdict as metrics for node_exporter's textfile collector to this path, atomically" })
      .epilogue(
        [
          'Reports are compared only when their anchors match (format version, epoch, cursor,',
          'tables, max chunk bytes); the others are named as incomparable, never as a mismatch.',
          'Key ranges are compared between reports made with the same digest --ranges K.',
          'Without --trust votes are unauthenticated: one vote per node name, identical copies',
          'counted once, different reports under one name not at all. With --trust: one vote per',
          'trusted key, weighted; unsigned, unknown-key, bad-signature and misnamed reports are',
          'rejected by name.',
          'Exit: 6 when a trusted key equivocated; 1 when nodes diverge, even if another report',
          'is bad; otherwise 74 unreadable > 3 inconsistent/conflicting/rejected/corrupt >',
          '2 missing/incomparable/too few (or --certificate not written); 0 only when every',
          'report given was compared and all agree.',
          '',
        ].join('\n'),
      ) as unknown as Argv<CompareArgs>,
  async run(args, io) {
    try {
      // An output never replaces a file this run reads (a report, the trust set, the anchor) or
      // another output; a refused output is never written, not even the failure metrics.
      await checkOutputs(
        [...args.report.filter((r) => r !== '-' && !isRepositoryUrl(r)), ...(args.trust !== undefined ? [args.trust] : []), ...(args.anchor !== undefined ? [args.anchor] : [])],
        [
          ...(args.certificate !== undefined ? [{ option: '--certificate', path: args.certificate }] : []),
          ...(args['prom-textfile'] !== undefined ? [{ option: '--prom-textfile', path: args['prom-textfile'] }] : []),
        ],
      );
    } catch (e) {
      return reportError(e, io, args.json);
    }
    try {
      const quorum = args.quorum === undefined ? undefined : parseQuorum(String(args.quorum));
      const publishCertificate = args['publish-certificate'] === true;
      if ((args.certificate !== undefined || publishCertificate) && args.trust === undefined) throw new SnapshotError('INVALID_ARGUMENT', `${publishCertificate ? 'certify' : '--certificate'} needs --trust: a certificate holds signed votes of trusted keys`);
      if (publishCertificate && args.certificate !== undefined) throw new SnapshotError('INVALID_ARGUMENT', 'give --certificate FILE or --publish-certificate, not both');
      if (publishCertificate && !(args.report.length === 1 && isRepositoryUrl(args.report[0]!))) throw new SnapshotError('INVALID_ARGUMENT', '--publish-certificate writes into the repository compared: give one repository URL');
      const anchorFile = args.anchor === undefined ? undefined : await readAnchorFile(args.anchor);
      if (anchorFile?.epoch !== undefined && args.epoch !== undefined) {
        throw new SnapshotError('INVALID_ARGUMENT', `--epoch conflicts with --anchor ${args.anchor}, which sets the epoch: drop one`);
      }
      const epoch = args.epoch === undefined ? undefined : String(parseU64(args.epoch, '--epoch'));
      const unknown = args.report.filter((r) => r.startsWith('-') && r !== '-');
      if (unknown.length > 0) {
        throw new SnapshotError('INVALID_ARGUMENT', `unknown option ${describeUnknownOptions(unknown, optionNames(compareCommand))} (a report file whose name starts with "-": write ./${unknown[0]})`);
      }
      if (args.report.filter((r) => r === '-').length > 1) throw new SnapshotError('INVALID_ARGUMENT', 'stdin (-) can be given only once');
      const trust = args.trust === undefined ? undefined : await loadTrust(args.trust);
      const repository = args.report.some(isRepositoryUrl) ? await loadFromRepository(args, epoch, quorum, io) : undefined;
      const { reports, failures } = repository ?? (await loadReports(args.report, io));
      for (const f of failures) {
        io.stderr(escapeText(`snapshot-verify: ${f.code} in ${f.file}${f.offset === null ? '' : ` at offset ${f.offset} (0x${f.offset.toString(16)})`}: ${f.message}`) + '\n');
      }
      const result = compareReports(reports, failures, {
        ...(quorum !== undefined ? { quorum } : {}),
        ...(epoch !== undefined ? { epoch } : {}),
        ...(trust !== undefined ? { trust } : {}),
        ...(anchorFile !== undefined ? { anchor: anchorFields(anchorFile) } : {}),
      });
      const verdict = verdictOf(result);
      let exitCode: number = compareExitCode(verdict);
      let certificate: CertificateOutcome | undefined;
      if (args.certificate !== undefined || publishCertificate) {
        certificate = await writeCertificate(result, trust!, quorum, publishCertificate ? { repository: args.report[0]!, args } : { file: args.certificate! });
        // A certificate was asked for and none exists: never exit 0.
        if (!certificate.written && exitCode === ExitCode.OK) exitCode = ExitCode.INCOMPARABLE;
      }
      const notes = anchorFileNotes(reports, anchorFile?.digest);
      const noteLines = notes.length === 0 ? '' : `anchor files:\n${notes.map((n) => `  ${escapeText(anchorFileNoteLine(n))}\n`).join('')}`;
      io.stdout(args.json ? `${JSON.stringify({ ...compareDocument(result, verdict, exitCode, certificate), anchorFileNotes: notes }, null, 2)}\n` : renderCompare(result, certificate) + noteLines);
      return await writePromTextfile(args['prom-textfile'], renderComparePrometheus(compareRun(result, verdict, exitCode)), io, exitCode);
    } catch (e) {
      const exitCode = reportError(e, io, args.json);
      const failed = { verdict: 'ERROR', exitCode, epoch: '', agree: 0, diverge: 0, incomparable: 0, bad: 0, minority: [], finishedAt: new Date() };
      return writePromTextfile(args['prom-textfile'], renderComparePrometheus(failed), io, exitCode);
    }
  },
});

/** What `--certificate` did: written to `path` with its signers, or not, and why. */
export interface CertificateOutcome {
  /** The file, or the object's URL in the repository. */
  readonly path: string;
  readonly written: boolean;
  /** The repository already held exactly this certificate (certify run again). */
  readonly existing?: boolean;
  readonly signers: readonly string[];
  readonly reason?: string;
}

/**
 * Writes the certificate when a quorum of trusted weight agrees on one content: to a file
 * (atomically), or into the repository compared (write-once under the anchor's certificate key,
 * spec/REPOSITORY.md 2a: identical bytes already there are fine, different ones CONFLICT).
 * Otherwise writes nothing (a file keeps what it held) and says why.
 */
async function writeCertificate(r: CompareResult, trust: TrustSet, quorum: ReturnType<typeof parseQuorum> | undefined, to: { file: string } | { repository: string; args: RepositoryArgs }): Promise<CertificateOutcome> {
  const weight = r.certifiable.reduce((w, s) => w + s.weight, 0);
  const where = 'file' in to ? to.file : to.repository;
  if (r.authoritativeDigest === null || r.certifiable.length === 0 || weight < r.rule.required) {
    const reason = r.authoritativeDigest === null ? `no group of trusted signers reaches the quorum (${r.rule.spec}: weight ${r.rule.required} of ${trust.totalWeight})` : `the agreeing signers attest different range digests (digest --ranges); those with one content weigh ${weight}, the quorum needs ${r.rule.required}`;
    return { path: where, written: false, signers: [], reason };
  }
  const certificate = buildCertificate(r.certifiable, quorum ?? MAJORITY, trust.totalWeight);
  const signers = certificate.signers.map((s) => s.node);
  if ('file' in to) {
    await writeFileAtomic(to.file, certificateText(certificate));
    return { path: to.file, written: true, signers };
  }
  const { publishCertificate } = await import('../../repository/certificates.js');
  const store = await openRepository(to.repository, to.args);
  try {
    const published = await publishCertificate(store, certificate, certificateText(certificate));
    return { path: published.url, written: true, signers, ...(published.outcome === 'exists' ? { existing: true } : {}) };
  } finally {
    store.close();
  }
}

/** The anchor fields an anchor file sets, as compareReports matches them (report/compare.ts anchorOf). */
function anchorFields(a: AnchorFile) {
  const cursor = a.cursor === undefined ? undefined : a.cursor.eventId === undefined || a.cursor.eventId.length === 0 ? String(a.cursor.index) : `${a.cursor.index}:${toHex(a.cursor.eventId)}`;
  return {
    tables: catalogOf(a.tables),
    maxChunkBytes: String(a.maxChunkBytes),
    ...(a.epoch !== undefined ? { epoch: String(a.epoch) } : {}),
    ...(cursor !== undefined ? { cursor } : {}),
  };
}

/** The counts `compare --prom-textfile` publishes. */
function compareRun(r: CompareResult, verdict: Verdict, exitCode: number) {
  const agree = r.authoritativeDigest !== null ? r.groups.find((g) => g.authoritative)!.nodes.length : r.outcome === 'agree' ? r.compared.length : 0;
  return {
    verdict,
    exitCode,
    epoch: r.anchor?.epoch ?? '',
    agree,
    diverge: r.compared.length - agree,
    incomparable: r.incomparable.length,
    bad: r.failures.length,
    minority: r.minority.map((m) => ({ node: m.node, digest: m.digest })),
    finishedAt: new Date(),
  };
}

/**
 * `compare URL`: the reports of one epoch of a repository (the given one, or the newest holding
 * enough reports), as the same inputs report files give. Garbage under the epoch is named on
 * stderr and otherwise ignored.
 */
async function loadFromRepository(args: CompareArgs, epoch: string | undefined, quorum: QuorumRule | undefined, io: CliIo): Promise<{ reports: LoadedReport[]; failures: InputFailure[] }> {
  if (args.report.length !== 1) throw new SnapshotError('INVALID_ARGUMENT', 'compare takes one repository URL, or report files; not both');
  const { loadRepositoryReports } = await import('../../repository/reports.js');
  const store = await openRepository(args.report[0]!, args);
  try {
    const minReports = quorum?.kind === 'count' ? quorum.count : 2;
    const r = await loadRepositoryReports(store, { ...(epoch !== undefined ? { epoch } : {}), minReports });
    if (r.garbage.length > 0) io.stderr(`snapshot-verify: ignored ${r.garbage.length} object(s) the repository layout does not define: ${r.garbage.slice(0, 5).map((k) => escapeText(store.where(k))).join(', ')}${r.garbage.length > 5 ? ', …' : ''}\n`);
    if (r.epoch === undefined) throw new SnapshotError('NOT_FOUND', `no epoch holds ${minReports} or more reports`, { file: store.url });
    if (epoch === undefined) io.stderr(`snapshot-verify: comparing epoch ${r.epoch} (${r.reports.length + r.failures.length} report(s) in ${escapeText(store.url)})\n`);
    return r;
  } finally {
    store.close();
  }
}

/** The `compare --json` document: the verdict first, then everything the human output says. */
export function compareDocument(r: CompareResult, verdict: Verdict, exitCode: number, certificate?: CertificateOutcome) {
  return {
    schemaVersion: COMPARE_SCHEMA_VERSION,
    verdict,
    exitCode,
    summary: verdictLine(r, verdict),
    outcome: r.outcome,
    anchor: r.anchor,
    rule: r.rule,
    authoritativeDigest: r.authoritativeDigest,
    groups: r.groups,
    minority: r.minority,
    tables: r.tables,
    compared: r.compared,
    incomparable: r.incomparable,
    anchorSplits: r.anchorSplits,
    errors: r.failures,
    authenticated: r.authenticated,
    totalWeight: r.totalWeight,
    rejected: r.rejected,
    equivocations: r.equivocations,
    conflicting: r.conflicting,
    duplicates: r.duplicates,
    inconsistent: r.inconsistent,
    warnings: r.warnings,
    ...(certificate !== undefined ? { certificate } : {}),
  };
}

/**
 * Reads every input: files, directories (their *.json files, by name) and stdin. Bad inputs become
 * failures (named, with code and offset) instead of stopping the comparison of the others.
 */
async function loadReports(inputs: readonly string[], io: CliIo): Promise<{ reports: LoadedReport[]; failures: InputFailure[] }> {
  const reports: LoadedReport[] = [];
  const failures: InputFailure[] = [];
  const seen = new Set<string>();
  const fail = (file: string, e: unknown): void => {
    if (!(e instanceof SnapshotError)) throw e;
    const kind = e.code === 'NOT_FOUND' ? 'missing' : e.code === 'IO_ERROR' ? 'unreadable' : e.code === 'NEWER_REPORT' ? 'newer' : 'corrupt';
    failures.push({ file: e.file ?? file, kind, code: e.code, message: e.message, offset: e.offset ?? null });
  };
  const take = (file: string, text: string): void => {
    const docs: ReportDocument[] = [];
    try {
      for (const d of jsonDocuments(text, file)) docs.push(d);
    } catch (e) {
      fail(file, e);
    }
    if (docs.length === 0 && !failures.some((f) => f.file === file)) {
      failures.push({ file, kind: 'corrupt', code: 'BAD_REPORT', message: 'no report in this input (it is empty)', offset: 0 });
      return;
    }
    const values: { value: unknown; where: string }[] = [];
    for (const d of docs) {
      try {
        values.push(...parseJsonDocument(d, file).map((value) => ({ value, where: file })));
      } catch (e) {
        fail(file, e);
      }
    }
    const numbered = values.length > 1 || docs.length > 1;
    values.forEach((v, i) => {
      const where = numbered ? `${file}#${i + 1}` : file;
      try {
        reports.push({ file: where, report: validateReport(v.value, where) });
      } catch (e) {
        fail(where, e);
      }
    });
  };

  for (const input of inputs) {
    if (input === '-') {
      try {
        take('-', await readStdin(io));
      } catch (e) {
        fail('-', e);
      }
      continue;
    }
    const s = await stat(input).catch((e: NodeJS.ErrnoException) => e);
    if (s instanceof Error) {
      fail(input, s.code === 'ENOENT' || s.code === 'ENOTDIR' ? new SnapshotError('NOT_FOUND', `${input} does not exist`, { file: input }) : ioError(input, s));
      continue;
    }
    let files = [input];
    if (s.isDirectory()) {
      const names = await readdir(input).catch((e: Error) => e);
      if (names instanceof Error) {
        fail(input, ioError(input, names));
        continue;
      }
      files = names.filter((n) => n.endsWith('.json')).sort().map((n) => join(input, n));
      if (files.length === 0) {
        fail(input, new SnapshotError('NOT_FOUND', `no *.json report in directory ${input}`, { file: input }));
        continue;
      }
    }
    for (const file of files) {
      const key = resolve(file);
      if (seen.has(key)) {
        io.stderr(`snapshot-verify: ${escapeText(file)} is given more than once; compared once\n`);
        continue;
      }
      seen.add(key);
      try {
        take(file, await readReportFile(file));
      } catch (e) {
        fail(file, e);
      }
    }
  }
  return { reports, failures };
}

async function readReportFile(file: string): Promise<string> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new SnapshotError('BAD_REPORT', `${file} is not a regular file`, { file });
    if (s.size > MAX_REPORT_BYTES) throw new SnapshotError('BAD_REPORT', `${s.size} bytes, more than a report can hold (${MAX_REPORT_BYTES})`, { file });
    return await readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    throw ioError(file, e as Error);
  }
}

async function readStdin(io: CliIo): Promise<string> {
  const pieces: Buffer[] = [];
  let size = 0;
  for await (const piece of io.stdin) {
    size += piece.length;
    if (size > MAX_REPORT_BYTES) throw new SnapshotError('BAD_REPORT', `more than ${MAX_REPORT_BYTES} bytes on stdin`, { file: '-' });
    pieces.push(Buffer.from(piece));
  }
  return Buffer.concat(pieces).toString('utf8');
}

function ioError(file: string, e: Error): SnapshotError {
  return new SnapshotError('IO_ERROR', `cannot read ${file}: ${e.message}`, { file, cause: e });
}
