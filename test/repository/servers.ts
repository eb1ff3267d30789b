import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error s3rver ships no type declarations
import S3rver from 's3rver';

/** A real S3-protocol server (s3rver) on an ephemeral loopback port, with one bucket. */
export interface LocalS3 {
  readonly endpoint: string;
  readonly bucket: string;
  /** Environment for the CLI: s3rver's fixed credentials, no profile lookups. */
  readonly env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function startS3(bucket = 'snapshots'): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const address = (await server.run()) as { address: string; port: number };
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    bucket,
    env: { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: endpoint, AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' },
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** One request a RecordingProxy forwarded (or holds). */
export interface ProxiedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Set when the server's answer has been passed back. */
  status?: number;
}

/**
 * A loopback HTTP proxy in front of a real server that records every request (method, URL,
 * headers) and can hold requests instead of forwarding them: what a client sends, observed on
 * the wire, and a client stopped at an exact point (e.g. to kill it there).
 */
export interface RecordingProxy {
  readonly endpoint: string;
  readonly requests: ProxiedRequest[];
  /** Requests matching this are held (never forwarded, never answered) from now on. */
  hold(matches: (r: ProxiedRequest) => boolean): void;
  /** Requests held so far. */
  readonly held: ProxiedRequest[];
  stop(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const { createServer, request } = await import('node:http');
  const to = new URL(target);
  const requests: ProxiedRequest[] = [];
  const held: ProxiedRequest[] = [];
  let holds: (r: ProxiedRequest) => boolean = () => false;
  const server = createServer((req, res) => {
    const seen: ProxiedRequest = { method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers } };
    requests.push(seen);
    if (holds(seen)) {
      held.push(seen);
      return; // neither forwarded nor answered: the client waits until it dies
    }
    // The Host header is forwarded as signed; s3rver checks the signature against it.
    const out = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      seen.status = answer.statusCode;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    held,
    hold(matches) {
      holds = matches;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
