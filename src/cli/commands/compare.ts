import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { SnapshotError } from '../../format/errors.js';
import { compareReports, verdictOf, type CompareResult, type InputFailure, type LoadedReport, type Verdict } from '../../report/compare.js';
import { jsonDocuments, MAX_REPORT_BYTES, parseJsonDocument, validateReport, type ReportDocument } from '../../report/validate.js';
import { defineCommand } from '../command.js';
import { reportError } from '../errors.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { parseU64 } from '../parse.js';
import { isRepositoryUrl } from '../../repository/open.js';
import { openRepository, repositoryOptions, type RepositoryArgs } from '../repository-options.js';
import { renderCompare, verdictLine } from '../render/compare.js';

interface CompareArgs extends RepositoryArgs {
  report: string[];
  json: boolean;
  quorum?: number;
  epoch?: string;
}

/** Version of the `compare --json` document; bumped when a field is removed or changes meaning. */
export const COMPARE_SCHEMA_VERSION = 1;

/**
 * The exit code of a comparison (pure): 1 when a divergence is proven, whatever else happened
 * (a bad input never hides it); otherwise 74 for an unreadable report, 3 for a corrupt one, 2 for
 * a missing one, a report at another anchor, or fewer than 2 comparable reports; 0 when every
 * given report was compared and all agree.
 */
export function compareExitCode(verdict: Verdict): ExitCodeValue {
  switch (verdict) {
    case 'AGREE':
      return ExitCode.OK;
    case 'DIVERGENCE':
      return ExitCode.DIVERGENCE;
    case 'UNREADABLE':
      return ExitCode.IO_ERROR;
    case 'CORRUPT_REPORT':
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
      .option('quorum', { type: 'number', describe: 'nodes that make a group authoritative (default: a strict majority of the compared nodes)' })
      .option('epoch', { type: 'string', describe: 'compare the reports of this epoch (default: the largest group of reports with one anchor; ties to the higher epoch)' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document (verdict, groups, minority, divergent tables and ranges, incomparable and bad reports)' })
      .epilogue(
        [
          'Reports are compared only when their anchors match (format version, epoch, cursor,',
          'tables, max chunk bytes); the others are named as incomparable, never as a mismatch.',
          'Key ranges are compared between reports made with the same digest --ranges K.',
          'Exit: 1 when nodes diverge, even if another report is corrupt or incomparable;',
          'otherwise 74 unreadable > 3 corrupt > 2 missing/incomparable/too few; 0 only when',
          'every report given was compared and all agree.',
          '',
        ].join('\n'),
      ) as unknown as Argv<CompareArgs>,
  async run(args, io) {
    try {
      if (args.quorum !== undefined && (!Number.isInteger(args.quorum) || args.quorum < 1)) {
        throw new SnapshotError('INVALID_ARGUMENT', `--quorum must be a positive integer, got ${String(args.quorum)}`);
      }
      const epoch = args.epoch === undefined ? undefined : String(parseU64(args.epoch, '--epoch'));
      const unknown = args.report.filter((r) => r.startsWith('-') && r !== '-');
      if (unknown.length > 0) throw new SnapshotError('INVALID_ARGUMENT', `unknown option ${unknown.join(', ')} (a report file whose name starts with "-": write ./${unknown[0]})`);
      if (args.report.filter((r) => r === '-').length > 1) throw new SnapshotError('INVALID_ARGUMENT', 'stdin (-) can be given only once');
      const repository = args.report.some(isRepositoryUrl) ? await loadFromRepository(args, epoch, io) : undefined;
      const { reports, failures } = repository ?? (await loadReports(args.report, io));
      for (const f of failures) {
        io.stderr(`snapshot-verify: ${f.code} in ${f.file}${f.offset === null ? '' : ` at offset ${f.offset} (0x${f.offset.toString(16)})`}: ${f.message}\n`);
      }
      const result = compareReports(reports, failures, { ...(args.quorum !== undefined ? { quorum: args.quorum } : {}), ...(epoch !== undefined ? { epoch } : {}) });
      const verdict = verdictOf(result);
      const exitCode = compareExitCode(verdict);
      io.stdout(args.json ? `${JSON.stringify(compareDocument(result, verdict, exitCode), null, 2)}\n` : renderCompare(result));
      return exitCode;
    } catch (e) {
      return reportError(e, io, args.json);
    }
  },
});

/**
 * `compare URL`: the reports of one epoch of a repository (the given one, or the newest holding
 * enough reports), as the same inputs report files give. Garbage under the epoch is named on
 * stderr and otherwise ignored.
 */
async function loadFromRepository(args: CompareArgs, epoch: string | undefined, io: CliIo): Promise<{ reports: LoadedReport[]; failures: InputFailure[] }> {
  if (args.report.length !== 1) throw new SnapshotError('INVALID_ARGUMENT', 'compare takes one repository URL, or report files; not both');
  const { loadRepositoryReports } = await import('../../repository/reports.js');
  const store = await openRepository(args.report[0]!, args);
  try {
    const r = await loadRepositoryReports(store, { ...(epoch !== undefined ? { epoch } : {}), minReports: args.quorum ?? 2 });
    if (r.garbage.length > 0) io.stderr(`snapshot-verify: ignored ${r.garbage.length} object(s) the repository layout does not define: ${r.garbage.slice(0, 5).map((k) => store.where(k)).join(', ')}${r.garbage.length > 5 ? ', …' : ''}\n`);
    if (r.epoch === undefined) throw new SnapshotError('NOT_FOUND', `no epoch holds ${args.quorum ?? 2} or more reports`, { file: store.url });
    if (epoch === undefined) io.stderr(`snapshot-verify: comparing epoch ${r.epoch} (${r.reports.length + r.failures.length} report(s) in ${store.url})\n`);
    return r;
  } finally {
    store.close();
  }
}

/** The `compare --json` document: the verdict first, then everything the human output says. */
export function compareDocument(r: CompareResult, verdict: Verdict, exitCode: number) {
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
    const kind = e.code === 'NOT_FOUND' ? 'missing' : e.code === 'IO_ERROR' ? 'unreadable' : 'corrupt';
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
        io.stderr(`snapshot-verify: ${file} is given more than once; compared once\n`);
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
