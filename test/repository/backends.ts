import { mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startS3 } from './servers.js';

/**
 * A repository the tests publish to, and raw access to its objects behind the tool's back
 * (damage, strays, deletions), as an operator or a failing disk would cause them.
 */
export interface Backend {
  readonly name: 'file' | 's3';
  readonly url: string;
  /** Environment for the CLI (credentials and endpoint for s3). */
  readonly env: NodeJS.ProcessEnv;
  /** Writes or overwrites an object, bypassing the tool's write-once rule. */
  putRaw(key: string, bytes: Uint8Array): Promise<void>;
  removeRaw(key: string): Promise<void>;
  /** An object's bytes, read behind the tool's back. */
  getRaw(key: string): Promise<Uint8Array>;
  keys(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function fileBackend(): Promise<Backend> {
  const root = await mkdtemp(join(tmpdir(), 'repo-file-'));
  const walk = async (dir: string): Promise<string[]> => {
    const out: string[] = [];
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = join(dir, e.name);
      if (e.isDirectory()) out.push(...(await walk(p)));
      else out.push(relative(root, p).split('/').join('/'));
    }
    return out;
  };
  return {
    name: 'file',
    url: pathToFileURL(root).href,
    env: {},
    async putRaw(key, bytes) {
      await mkdir(dirname(join(root, key)), { recursive: true });
      await writeFile(join(root, key), bytes);
    },
    removeRaw: (key) => unlink(join(root, key)),
    getRaw: async (key) => new Uint8Array(await readFile(join(root, key))),
    keys: async () => (await walk(root)).sort(),
    stop: () => rm(root, { recursive: true, force: true }),
  };
}

export async function s3Backend(): Promise<Backend> {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true'; // as the tool does
  const server = await startS3();
  const prefix = 'team/snapshots';
  const client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  return {
    name: 's3',
    url: `s3://${server.bucket}/${prefix}`,
    env: server.env,
    async putRaw(key, bytes) {
      await client.send(new PutObjectCommand({ Bucket: server.bucket, Key: `${prefix}/${key}`, Body: bytes }));
    },
    async removeRaw(key) {
      await client.send(new DeleteObjectCommand({ Bucket: server.bucket, Key: `${prefix}/${key}` }));
    },
    async getRaw(key) {
      const o = await client.send(new GetObjectCommand({ Bucket: server.bucket, Key: `${prefix}/${key}` }));
      return o.Body!.transformToByteArray();
    },
    async keys() {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: `${prefix}/`, ContinuationToken: token }));
        for (const o of page.Contents ?? []) out.push(o.Key!.slice(prefix.length + 1));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
      return out.sort();
    },
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}
