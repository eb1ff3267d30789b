import { readFile, stat } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { SnapshotError } from '../../format/errors.js';
import { validateReport, reportValues, MAX_REPORT_BYTES } from '../../report/validate.js';
import type { DigestReport } from '../../report/schema.js';
import { publishSnapshot, type PublishResult } from '../../repository/publish.js';
import { snapshotFiles } from '../../sources/open.js';
import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { openRepository, repositoryCommandOptions, withRepository, type RepositoryArgs, type RepositoryCommandArgs } from '../repository-options.js';
import { escapeText } from '../render/escape.js';

interface PublishArgs extends RepositoryCommandArgs {
  report: string;
  snapshot?: string[];
}

export const publishCommand = defineCommand<PublishArgs>({
  command: 'publish <url>',
  describe: 'Publish a node\'s digest --json report (and its snapshot\'s chunks) to a repository: s3://BUCKET/PREFIX or file:///PATH',
  builder: (y: Argv) =>
    repositoryCommandOptions(y)
      .option('report', { type: 'string', demandOption: true, describe: 'the report file (digest --json output)' })
      .option('snapshot', { type: 'string', array: true, describe: 'also publish the snapshot: its file, its chunk files in order, or their base path (<path>.000000, …)' })
      .epilogue('The chunks are checked against the report and uploaded first, write-once; the report goes last (the commit marker).\nA report already published for the same snapshot is kept (exit 0); a different one for the same node and anchor is refused (CONFLICT, exit 1).\nLayout: spec/REPOSITORY.md.\n') as unknown as Argv<PublishArgs>,
  run: (args, io) =>
    withRepository(
      args,
      io,
      async () => ({ ...(await readReportFile(args.report)), files: args.snapshot === undefined ? undefined : args.snapshot.length === 1 ? await snapshotFiles(args.snapshot[0]!) : args.snapshot }),
      async (store, { report, bytes, files }) => {
        printPublished(await publishSnapshot(store, { report, reportBytes: bytes, ...(files !== undefined ? { snapshotFiles: files } : {}) }), args.json, io);
        return ExitCode.OK;
      },
    ),
});

/**
 * `digest --publish URL`: publishes the report just made (its bytes as `--json` prints them) and,
 * with `snapshotFiles`, the snapshot just written. The summary line goes to stderr, so stdout
 * stays what digest prints.
 */
export async function publishDigestReport(url: string, args: RepositoryArgs, report: DigestReport, snapshotFiles: readonly string[] | undefined, io: CliIo): Promise<void> {
  const store = await openRepository(url, args);
  try {
    const bytes = new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`);
    printPublished(await publishSnapshot(store, { report, reportBytes: bytes, ...(snapshotFiles !== undefined ? { snapshotFiles } : {}) }), false, io);
  } finally {
    store.close();
  }
}

/** One line (or a JSON document) saying what a publish did. */
export function printPublished(r: PublishResult, json: boolean, io: CliIo): void {
  if (json) {
    io.stdout(`${JSON.stringify({ published: r }, null, 2)}\n`);
    return;
  }
  const chunks = r.chunksCreated + r.chunksExisting === 0 ? 'no chunks' : `${r.chunksCreated} chunk(s) uploaded (${r.bytesUploaded} bytes), ${r.chunksExisting} already there`;
  io.stderr(`published ${escapeText(r.reportUrl)}: report ${r.report === 'created' ? 'written' : 'already published for this snapshot (kept)'}; ${chunks}\n`);
}

async function readReportFile(file: string): Promise<{ report: DigestReport; bytes: Uint8Array }> {
  const s = await stat(file).catch(() => undefined);
  if (s === undefined || !s.isFile()) throw new SnapshotError('NOT_FOUND', `${file} is not a report file`, { file });
  if (s.size > MAX_REPORT_BYTES) throw new SnapshotError('BAD_REPORT', `${s.size} bytes, more than a report can hold`, { file });
  const bytes = new Uint8Array(await readFile(file));
  const values = reportValues(new TextDecoder().decode(bytes), file);
  if (values.length !== 1) throw new SnapshotError('BAD_REPORT', `publish takes one report per file, this one holds ${values.length}`, { file });
  return { report: validateReport(values[0], file), bytes };
}
