import { createServer } from 'node:net';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openS3Store } from '../../src/repository/s3-store.js';
import { getObject } from '../../src/repository/store.js';
import { runCli } from '../helpers/cli.js';
import { startS3, type LocalS3 } from './servers.js';

/** S3 faults and what the local server does not enforce, against s3rver on loopback. */
describe('s3:// faults and server guarantees', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startS3();
    Object.assign(process.env, s3.env); // for the store opened in this process
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('an unreachable endpoint (a closed loopback port) is IO_ERROR, exit 74, naming the endpoint after 3 attempts', async () => {
    const port = await closedPort();
    const started = Date.now();
    const r = await runCli(['compare', 's3://snapshots/x', '--endpoint', `http://127.0.0.1:${port}`], { env: s3.env });
    const seconds = (Date.now() - started) / 1000;
    expect(r.code).toBe(74);
    expect(r.stderr).toMatch(new RegExp(`IO_ERROR in s3://snapshots/x/v1/epochs/: cannot reach http://127\\.0\\.0\\.1:${port} to list bucket snapshots, key x/v1/epochs/ \\(3 attempts\\): .*ECONNREFUSED`));
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1); // one line, no stack trace
    expect(seconds).toBeLessThan(30); // bounded: 3 attempts with short backoff (seconds are mostly process start on shared cores)
  });

  it('access denied names the bucket and key; a missing bucket is NOT_FOUND (exit 2)', async () => {
    const denied = await runCli(['fetch', 's3://snapshots/team', '--epoch', '1', '--node', 'n', '--out', '/tmp/never-made'], { env: { ...s3.env, AWS_ACCESS_KEY_ID: 'SOMEONE-ELSE' } });
    expect(denied.code).toBe(74);
    expect(denied.stderr).toMatch(/IO_ERROR in s3:\/\/snapshots\/team\/v1\/epochs\/1\/: access denied to list bucket snapshots, key team\/v1\/epochs\/1\/ \(InvalidAccessKeyId\)/);
    const missing = await runCli(['compare', 's3://no-such-bucket/p'], { env: s3.env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('NOT_FOUND in s3://no-such-bucket/p/v1/epochs/: bucket no-such-bucket does not exist at http://127.0.0.1:');
  });

  it('s3rver ignores If-None-Match: * (it overwrites); the store still refuses to overwrite by checking first', async () => {
    const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'raw/k', Body: 'first' }));
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'raw/k', Body: 'second', IfNoneMatch: '*' })); // S3 would answer 412
    const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'raw/k' }));
    expect(await got.Body!.transformToString()).toBe('second');
    client.destroy();

    const store = await openS3Store(`s3://${s3.bucket}/raw2`, { endpoint: s3.endpoint });
    expect(await store.putIfAbsent('k', { bytes: new TextEncoder().encode('first') })).toBe('created');
    expect(await store.putIfAbsent('k', { bytes: new TextEncoder().encode('second') })).toBe('exists');
    expect(new TextDecoder().decode(await getObject(store, 'k', 100))).toBe('first');
    // A streamed file body is stored as its bytes (no aws-chunked framing: checksums only when required).
    const file = `/proc/self/exe`;
    expect(await store.putIfAbsent('streamed', { file, start: 0, length: 100_000 })).toBe('created');
    const streamed = await getObject(store, 'streamed', 200_000);
    const { readFile } = await import('node:fs/promises');
    expect(Buffer.from(streamed!).equals((await readFile(file)).subarray(0, 100_000))).toBe(true);
    store.close();
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
