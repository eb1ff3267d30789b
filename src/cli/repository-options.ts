import type { Argv } from 'yargs';
import type { ObjectStore } from '../repository/store.js';
import { reportError } from './errors.js';
import type { CliIo } from './io.js';

/** The options every command that talks to a repository takes (S3 settings; file:// ignores them). */
export interface RepositoryArgs {
  endpoint?: string;
  region?: string;
  'virtual-hosted-style': boolean;
}

export function repositoryOptions<T>(y: Argv<T>): Argv<T & RepositoryArgs> {
  return y
    .option('endpoint', { type: 'string', describe: 's3://: a custom endpoint URL (S3-compatible stores); default AWS_ENDPOINT_URL_S3 or AWS. Path-style addressing then' })
    .option('region', { type: 'string', describe: 's3://: the region; default AWS_REGION or the profile (us-east-1 with a custom endpoint)' })
    .option('virtual-hosted-style', { type: 'boolean', default: false, describe: 's3://: virtual-hosted-style requests even with a custom endpoint' }) as unknown as Argv<T & RepositoryArgs>;
}

/** What a command whose first argument is a repository URL takes: `<url>`, the S3 settings and `--json`. */
export interface RepositoryCommandArgs extends RepositoryArgs {
  url: string;
  json: boolean;
}

/** `<url>`, the S3 settings and `--json`: the yargs wiring shared by publish, fetch, prune and certify. */
export function repositoryCommandOptions<T>(y: Argv<T>): Argv<T & RepositoryCommandArgs> {
  return repositoryOptions(
    y
      .positional('url', { type: 'string', demandOption: true, describe: 'the repository: s3://BUCKET/PREFIX or file:///PATH' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document' }),
  ) as unknown as Argv<T & RepositoryCommandArgs>;
}

/**
 * Runs a repository command: `before` (argument checks, local files) first, so that a usage error
 * never opens a connection; then `work` with the store open, closed afterwards; any error is
 * reported as every command reports it (one line, or JSON with --json) and becomes the exit code.
 */
export async function withRepository<P>(args: RepositoryCommandArgs, io: CliIo, before: () => Promise<P> | P, work: (store: ObjectStore, prepared: P) => Promise<number>): Promise<number> {
  let store: ObjectStore | undefined;
  try {
    const prepared = await before();
    store = await openRepository(args.url, args);
    return await work(store, prepared);
  } catch (e) {
    return reportError(e, io, args.json);
  } finally {
    store?.close();
  }
}

/** Opens the repository at `url` with the S3 settings given on the command line. */
export async function openRepository(url: string, args: RepositoryArgs): Promise<ObjectStore> {
  // Loaded only when a repository is used: the commands that merely accept these options start faster.
  const { openRepositoryStore } = await import('../repository/open.js');
  return openRepositoryStore(url, {
    ...(args.endpoint !== undefined ? { endpoint: args.endpoint } : {}),
    ...(args.region !== undefined ? { region: args.region } : {}),
    virtualHostedStyle: args['virtual-hosted-style'],
  });
}
