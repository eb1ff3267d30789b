import type { Argv } from 'yargs';
import { certificateOptions, type CertificateArgs } from '../certificate-options.js';
import { defineCommand } from '../command.js';
import { repositoryCommandOptions, type RepositoryCommandArgs } from '../repository-options.js';
import { compareCommand } from './compare.js';

/** certify makes the certificate, so it takes --trust and --quorum but not --certificate. */
interface CertifyArgs extends RepositoryCommandArgs, Omit<CertificateArgs, 'certificate'> {
  epoch?: string;
  'prom-textfile'?: string;
}

/**
 * `certify URL --trust T`: `compare URL --trust T --publish-certificate`, the comparison of one
 * epoch's signed reports with its certificate written into the repository. One code path with
 * compare, so the verdict, the certificate and the exit code cannot drift apart.
 */
export const certifyCommand = defineCommand<CertifyArgs>({
  command: 'certify <url>',
  describe: 'Compare the signed reports of one epoch in a repository and write their quorum certificate into it (write-once)',
  builder: (y: Argv) =>
    certificateOptions(
      repositoryCommandOptions(y)
        .option('epoch', { type: 'string', describe: 'the epoch (default: the newest holding enough reports)' })
        .option('prom-textfile', { type: 'string', describe: "write the verdict as metrics for node_exporter's textfile collector to this path, atomically" }),
    )
      .demandOption('trust')
      .epilogue(
        'The reports are read and compared as compare URL --trust reads them; when a quorum of trusted weight signed one content, its certificate (compare --certificate) is written to v1/epochs/<epoch>/certificates/<anchor-id>.json (spec/REPOSITORY.md). Written once: the identical certificate already there is fine (exit as compare), a different one is CONFLICT (exit 1). No quorum: nothing is written, exit 2 unless compare found worse. fetch --certificate-from-repo uses it.\n',
      ) as unknown as Argv<CertifyArgs>,
  run: (args, io) => compareCommand.run({ ...args, report: [args.url], 'publish-certificate': true }, io),
});
