import type { Argv } from 'yargs';
import { SnapshotError } from '../../format/errors.js';
import { fetchSnapshot } from '../../repository/fetch.js';
import type { ObjectStore } from '../../repository/store.js';
import { defineCommand } from '../command.js';
import { reportError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { parseU64 } from '../parse.js';
import { openRepository, repositoryOptions, type RepositoryArgs } from '../repository-options.js';
import { escapeText } from '../render/escape.js';

interface FetchArgs extends RepositoryArgs {
  url: string;
  epoch: string;
  node?: string;
  certificate?: string;
  'anchor-id'?: string;
  out: string;
  parallel: number;
  json: boolean;
}

export const fetchCommand = defineCommand<FetchArgs>({
  command: 'fetch <url>',
  describe: 'Download a node\'s snapshot from a repository, verifying every chunk on arrival; resumable, placed atomically',
  builder: (y: Argv) =>
    repositoryOptions(
      y
        .positional('url', { type: 'string', demandOption: true, describe: 'the repository: s3://BUCKET/PREFIX or file:///PATH' })
        .option('epoch', { type: 'string', demandOption: true, describe: 'the epoch' })
        .option('node', { type: 'string', describe: 'whose snapshot (the report\'s node name)' })
        .option('certificate', { type: 'string', describe: 'fetch the snapshot a certificate names (not available yet)' })
        .option('anchor-id', { type: 'string', describe: 'the anchor id, when the node published several anchors for the epoch' })
        .option('out', { type: 'string', demandOption: true, describe: 'directory to create: report.json and snapshot.000000, … (verify/digest read <out>/snapshot)' })
        .option('parallel', { type: 'number', default: 4, describe: 'chunks downloaded at once' })
        .option('json', { type: 'boolean', default: false, describe: 'print one JSON document' }),
    ).epilogue('Each chunk is checked on arrival against the report (size, trailer, digest, chain link) and downloaded once more if damaged; then named\n(node, chunk index, key). An interrupted fetch, run again with the same --out, keeps the chunks it verified.\n') as unknown as Argv<FetchArgs>,
  async run(args, io) {
    let store: ObjectStore | undefined;
    try {
      const epoch = String(parseU64(args.epoch, '--epoch'));
      // Hook for the trust work: a certificate names a digest a quorum signed; fetching by it means
      // choosing a node whose report carries that digest, then checking the result against it.
      if (args.certificate !== undefined) throw new SnapshotError('INVALID_ARGUMENT', '--certificate is not supported yet: give --node');
      if (args.node === undefined) throw new SnapshotError('INVALID_ARGUMENT', 'give --node NAME');
      if (!Number.isInteger(args.parallel) || args.parallel < 1 || args.parallel > 64) throw new SnapshotError('INVALID_ARGUMENT', '--parallel must be an integer from 1 to 64');
      if (args['anchor-id'] !== undefined && !/^[0-9a-f]{32}$/.test(args['anchor-id'])) throw new SnapshotError('INVALID_ARGUMENT', '--anchor-id must be 32 lowercase hex digits');
      store = await openRepository(args.url, args);
      const r = await fetchSnapshot(store, { epoch, node: args.node, out: args.out, concurrency: args.parallel, ...(args['anchor-id'] !== undefined ? { anchorId: args['anchor-id'] } : {}) });
      const summary = { out: r.out, report: r.reportUrl, digest: r.report.digest, chunks: r.files.length, downloaded: r.downloaded, reused: r.reused, refetched: r.refetched, bytesDownloaded: r.bytesDownloaded };
      io.stdout(args.json ? `${JSON.stringify({ fetched: summary }, null, 2)}\n` : `${r.report.digest}  ${escapeText(r.out)}  (node ${escapeText(r.report.node.name)}, epoch ${r.report.epoch}, ${r.files.length} chunk(s): ${r.downloaded} downloaded, ${r.reused} already verified, ${r.refetched} re-fetched)\n`);
      return ExitCode.OK;
    } catch (e) {
      return reportError(e, io, args.json);
    } finally {
      store?.close();
    }
  },
});
