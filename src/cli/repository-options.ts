import type { Argv } from 'yargs';
import type { ObjectStore } from '../repository/store.js';

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
