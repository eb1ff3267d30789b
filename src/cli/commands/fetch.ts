import type { Argv } from 'yargs';
import { SnapshotError } from '../../format/errors.js';
import type { CertificateCheck } from '../../report/identity/certificate.js';
import { fetchSnapshot } from '../../repository/fetch.js';
import type { ObjectStore } from '../../repository/store.js';
import { certificateOptions, type CertificateArgs } from '../certificate-options.js';
import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { outputPath, parseU64 } from '../parse.js';
import { escapeText } from '../render/escape.js';
import { repositoryCommandOptions, withRepository, type RepositoryCommandArgs } from '../repository-options.js';

interface FetchArgs extends RepositoryCommandArgs, CertificateArgs {
  epoch: string;
  node?: string;
  'certificate-from-repo': boolean;
  'anchor-id'?: string;
  out: string;
  parallel: number;
}

export const fetchCommand = defineCommand<FetchArgs>({
  command: 'fetch <url>',
  describe: 'Download a node\'s snapshot, or a quorum-certified one, from a repository, verifying every chunk on arrival; resumable, placed atomically',
  builder: (y: Argv) =>
    certificateOptions(
      repositoryCommandOptions(y)
        .option('epoch', { type: 'string', demandOption: true, describe: 'the epoch' })
        .option('node', { type: 'string', describe: 'whose snapshot (the report\'s node name); with a certificate, the certified node tried first' })
        .option('certificate-from-repo', { type: 'boolean', default: false, describe: 'fetch the snapshot the repository\'s certificate for the epoch certifies (certify writes it), checked with --trust' })
        .option('anchor-id', { type: 'string', describe: 'the anchor id, when the node (or the certificates) cover several anchors for the epoch' })
        .option('out', { type: 'string', demandOption: true, describe: 'directory to create: report.json and snapshot.000000, … (verify/digest read <out>/snapshot)' })
        .option('parallel', { type: 'number', default: 4, describe: 'chunks downloaded at once' }),
      'fetch the snapshot this quorum certificate certifies (compare --certificate), checked with --trust first: from any node whose report attests exactly the certified content, the next one if its chunks are missing or stay corrupt',
    ).epilogue(
      'Each chunk is checked on arrival against the report (size, trailer, digest, chain link) and downloaded once more if damaged; then named (node, chunk index, key). An interrupted fetch, run again with the same --out, keeps the chunks it verified. With a certificate the result must have the certified digest (NOT_CERTIFIED, exit 1); a certificate without a trusted quorum is NO_QUORUM or BAD_CERTIFICATE (exit 3).\n',
    ) as unknown as Argv<FetchArgs>,
  run: (args, io) =>
    withRepository(
      args,
      io,
      async () => {
        const epoch = String(parseU64(args.epoch, '--epoch'));
        const certified = args.certificate !== undefined || args['certificate-from-repo'];
        if (args.certificate !== undefined && args['certificate-from-repo']) throw new SnapshotError('INVALID_ARGUMENT', 'give --certificate FILE or --certificate-from-repo, not both');
        if (!certified && args.node === undefined) throw new SnapshotError('INVALID_ARGUMENT', 'give --node NAME, or --certificate FILE / --certificate-from-repo with --trust');
        if (certified && args.trust === undefined) throw new SnapshotError('INVALID_ARGUMENT', 'a certificate needs --trust PATH: it is only as good as the keys it is checked against');
        if (!certified && (args.trust !== undefined || args.quorum !== undefined)) throw new SnapshotError('INVALID_ARGUMENT', '--trust and --quorum check a certificate: give --certificate FILE or --certificate-from-repo');
        if (!Number.isInteger(args.parallel) || args.parallel < 1 || args.parallel > 64) throw new SnapshotError('INVALID_ARGUMENT', '--parallel must be an integer from 1 to 64');
        if (args['anchor-id'] !== undefined && !/^[0-9a-f]{32}$/.test(args['anchor-id'])) throw new SnapshotError('INVALID_ARGUMENT', '--anchor-id must be 32 lowercase hex digits');
        const { checkCertificate } = await import('./verify-certificate.js');
        // A certificate file is checked before anything is downloaded; one in the repository as soon as it is read.
        const check = args.certificate === undefined ? undefined : await checkCertificate({ certificate: args.certificate, trust: args.trust!, ...(args.quorum !== undefined ? { quorum: args.quorum } : {}) });
        if (check !== undefined && args['anchor-id'] !== undefined) {
          const { anchorId } = await import('../../repository/layout.js');
          const certifiedAnchor = anchorId(check.statement);
          if (certifiedAnchor !== args['anchor-id']) throw new SnapshotError('INVALID_ARGUMENT', `--anchor-id ${args['anchor-id']} is not the certificate's anchor (${certifiedAnchor})`);
        }
        return { epoch, fromRepo: args['certificate-from-repo'], check };
      },
      async (store, { epoch, fromRepo, check: fileCheck }) => {
        const check = fromRepo ? await repositoryCertificate(store, epoch, args) : fileCheck;
        const r = await fetchSnapshot(store, {
          epoch,
          out: outputPath(args.out, '--out'),
          concurrency: args.parallel,
          ...(args.node !== undefined ? { node: args.node } : {}),
          ...(check !== undefined ? { certified: check.statement } : {}),
          ...(args['anchor-id'] !== undefined && check === undefined ? { anchorId: args['anchor-id'] } : {}), // a certificate names its anchor
          onFallback: (_node, e) => io.stderr(`snapshot-verify: ${escapeText(e.describe())}; trying another certified node\n`),
        });
        const summary = {
          out: r.out,
          report: r.reportUrl,
          node: r.report.node.name,
          digest: r.report.digest,
          certified: check !== undefined,
          chunks: r.files.length,
          downloaded: r.downloaded,
          reused: r.reused,
          refetched: r.refetched,
          bytesDownloaded: r.bytesDownloaded,
          fallbacks: r.fallbacks,
        };
        const how = check === undefined ? '' : `, certified by weight ${check.weight} of ${check.totalWeight}${r.fallbacks.length > 0 ? ` after ${r.fallbacks.length} node(s) failed` : ''}`;
        io.stdout(args.json ? `${JSON.stringify({ fetched: summary }, null, 2)}\n` : `${r.report.digest}  ${escapeText(r.out)}  (node ${escapeText(r.report.node.name)}, epoch ${r.report.epoch}, ${r.files.length} chunk(s): ${r.downloaded} downloaded, ${r.reused} already verified, ${r.refetched} re-fetched${how})\n`);
        return ExitCode.OK;
      },
    ),
});

/** The repository's certificate for the epoch, checked against --trust/--quorum and against the key it was found at. */
async function repositoryCertificate(store: ObjectStore, epoch: string, args: FetchArgs): Promise<CertificateCheck> {
  const { readRepositoryCertificate, certificateKeyOf } = await import('../../repository/certificates.js');
  const { checkCertificate } = await import('./verify-certificate.js');
  const stored = await readRepositoryCertificate(store, epoch, args['anchor-id']);
  const check = await checkCertificate({ certificate: stored.url, text: stored.text, trust: args.trust!, ...(args.quorum !== undefined ? { quorum: args.quorum } : {}) });
  if (certificateKeyOf(check.content) !== stored.key) throw new SnapshotError('BAD_CERTIFICATE', `this certificate (epoch ${check.content.epoch}) belongs at ${store.where(certificateKeyOf(check.content))}, not here`, { file: stored.url });
  return check;
}
