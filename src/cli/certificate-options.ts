import type { Argv } from 'yargs';

/** `--certificate CERT --trust PATH --quorum Q`, as verify, restore, fetch and certify take them. */
export interface CertificateArgs {
  certificate?: string;
  trust?: string;
  quorum?: string;
}

const TRUST = 'the trust set: a directory of <node-name>.pub files (weight 1 each) or a JSON trust file with weights (spec/STATEMENT.md)';
const QUORUM = 'weight N, a fraction P/Q or more than a fraction >P/Q of the trust set\'s total weight (default: more than half)';

/**
 * The certificate options, shared so that every command reads a certificate, a trust set and a
 * quorum rule the same way. `certificate` describes what the command does with `--certificate`;
 * without it (certify, which makes one) only `--trust` and `--quorum` are added.
 */
export function certificateOptions<T>(y: Argv<T>, certificate?: string): Argv<T & CertificateArgs> {
  const withCertificate = certificate === undefined ? y : y.option('certificate', { type: 'string', describe: certificate });
  return withCertificate
    .option('trust', { type: 'string', describe: certificate === undefined ? TRUST : `with --certificate: ${TRUST}` })
    .option('quorum', { type: 'string', describe: certificate === undefined ? QUORUM : `with --certificate: ${QUORUM}` }) as unknown as Argv<T & CertificateArgs>;
}
