import type { Argv } from 'yargs';
import type { SnapshotSummary } from '../../format/encoder.js';
import { SnapshotError } from '../../format/errors.js';
import { snapshotFiles } from '../../sources/open.js';
import { certificateOptions, type CertificateArgs } from '../certificate-options.js';
import { defineCommand } from '../command.js';
import { reportError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { outputPath, parseByteSize } from '../parse.js';
import { renderRestore, restoreJson } from '../render/restore.js';
import { formatDigest } from '../../format/digest.js';

/** `--certificate`: the certified snapshot digest, once the snapshot was checked against it. */
async function certifiedSnapshotDigest(args: RestoreArgs, input: readonly string[]): Promise<string> {
  const { checkSnapshotCertificate } = await import('./verify-certificate.js');
  const check = await checkSnapshotCertificate({
    snapshot: input,
    chunks: input.length > 1,
    certificate: args.certificate!,
    ...(args.trust !== undefined ? { trust: args.trust } : {}),
    ...(args.quorum !== undefined ? { quorum: args.quorum } : {}),
  });
  return check.content.digest;
}

interface RestoreArgs extends CertificateArgs {
  snapshot: string[];
  to: string;
  'sst-only': boolean;
  tables?: string;
  compression: string;
  'max-sst-bytes'?: string;
  json: boolean;
}

export const restoreCommand = defineCommand<RestoreArgs>({
  command: 'restore <snapshot..>',
  describe: 'Verify a snapshot, then write it as a RocksDB database (or SST files to ingest), atomically',
  builder: (y: Argv) =>
    certificateOptions(
      y
        .positional('snapshot', { type: 'string', array: true, demandOption: true, describe: 'snapshot file (or base path of chunk files), or its chunk files in order' })
        .option('to', { type: 'string', demandOption: true, describe: 'directory to create (must not exist, or be empty)' })
        .option('sst-only', { type: 'boolean', default: false, describe: 'write only SST files (one or more per table) for IngestExternalFile / ldb ingest_extern_sst' })
        .option('tables', { type: 'string', describe: 'restore only these tables: a,b,c (default: all)' })
        .option('compression', { type: 'string', default: 'none', choices: ['none', 'zlib'], describe: 'data block compression' })
        .option('max-sst-bytes', { type: 'string', describe: 'cut SST files at this size (e.g. 256MiB); default 64MiB' })
        .option('json', { type: 'boolean', default: false, describe: 'print one JSON document' }),
      'restore only a snapshot this quorum certificate certifies (compare --certificate), checked with --trust; otherwise NOT_CERTIFIED and nothing is written',
    ) as unknown as Argv<RestoreArgs>,
  async run(args, io) {
    try {
      const { restoreSnapshot } = await import('../../restore/restore.js');
      const input = args.snapshot.length === 1 ? await snapshotFiles(args.snapshot[0]!) : args.snapshot;
      const maxSst = args['max-sst-bytes'] === undefined ? undefined : parseByteSize(args['max-sst-bytes'], '--max-sst-bytes');
      if (maxSst !== undefined && (maxSst < 1n || maxSst > BigInt(Number.MAX_SAFE_INTEGER))) {
        throw new SnapshotError('INVALID_ARGUMENT', '--max-sst-bytes must be at least 1 byte');
      }
      // With a certificate: the whole snapshot is checked against it first (content and range
      // digests); the restore's own pass must then see the same snapshot digest before it commits.
      const certifiedDigest = args.certificate === undefined ? undefined : await certifiedSnapshotDigest(args, input);
      let summary: SnapshotSummary | undefined;
      const report = await restoreSnapshot(input, {
        to: outputPath(args.to, '--to'),
        sstOnly: args['sst-only'],
        ...(args.tables !== undefined ? { tables: args.tables.split(',').filter((t) => t.length > 0) } : {}),
        compression: args.compression === 'zlib' ? 'zlib' : 'none',
        ...(maxSst !== undefined ? { maxSstBytes: Number(maxSst) } : {}),
        beforeCommit: (s) => {
          if (certifiedDigest !== undefined && formatDigest(s.digest) !== certifiedDigest) {
            throw new SnapshotError('NOT_CERTIFIED', `the snapshot changed while it was restored: digest ${formatDigest(s.digest)}, certified ${certifiedDigest}`, { file: input[0]! });
          }
          summary = s;
        },
      });
      io.stdout(args.json ? `${JSON.stringify(restoreJson(report, summary), (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n` : renderRestore(report, summary));
      return ExitCode.OK;
    } catch (e) {
      return reportError(e, io, args.json);
    }
  },
});
