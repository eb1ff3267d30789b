import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { SnapshotError } from '../format/errors.js';
import { tooLarge, type ListedObject, type ObjectStore, type PutBody } from './store.js';
import { dynamicImport } from '../format/dynamic-import.js';

/** How an S3 repository is reached, beyond what its URL says. */
export type S3Options = Readonly<
  Partial<{
    /** Custom endpoint (S3-compatible stores). Defaults to AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then AWS. */
    endpoint: string;
    /** Defaults to the SDK's (AWS_REGION, profile), or us-east-1 with a custom endpoint. */
    region: string;
    /** Virtual-hosted-style addressing even with a custom endpoint. Defaults to false. */
    virtualHostedStyle: boolean;
    /** Attempts per request, the first included (the SDK's standard retry mode, exponential backoff). Defaults to 3. */
    maxAttempts: number;
  }>
>;

/**
 * A repository in an S3 bucket (`s3://bucket/prefix`), through the AWS SDK v3 client: the standard
 * credential chain, SigV4 signing, retries with backoff. The SDK (~0.4 s to load) is imported here
 * only, and this module only when an s3:// URL is used.
 */
export async function openS3Store(url: string, options: S3Options = {}): Promise<ObjectStore> {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (m === null) throw new SnapshotError('INVALID_ARGUMENT', `not an s3://BUCKET/PREFIX URL: ${url}`);
  const bucket = m[1]!;
  const prefix = m[2]!.replace(/\/+$/, '');
  const base = prefix === '' ? '' : `${prefix}/`;
  // The SDK warns on Node 20 that its releases after January 2027 need Node 22; package.json pins
  // a release that supports Node 20, so the warning would only be noise on every command.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const s3 = await dynamicImport<typeof import('@aws-sdk/client-s3')>('@aws-sdk/client-s3');
  const endpoint = options.endpoint ?? process.env['AWS_ENDPOINT_URL_S3'] ?? process.env['AWS_ENDPOINT_URL'];
  const region = options.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? (endpoint !== undefined ? 'us-east-1' : undefined);
  const client: S3Client = new s3.S3Client({
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(region !== undefined ? { region } : {}),
    // S3-compatible servers expect path-style requests (bucket in the path, not the host name).
    forcePathStyle: endpoint !== undefined && !(options.virtualHostedStyle ?? false),
    // The SDK's default CRC32 checksums (since 3.729) are refused by several S3-compatible
    // stores; integrity rests on the format's trailers and the report anyway.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: options.maxAttempts ?? 3,
    retryMode: 'standard',
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 120_000 },
  });
  const endpointName = endpoint ?? `AWS S3${region !== undefined ? ` (${region})` : ''}`;
  const where = (key: string): string => `s3://${bucket}/${base}${key}`;
  // Stores that answer 501 to If-None-Match get check-then-put only (spec/REPOSITORY.md section 5).
  let conditionalWrites = true;

  const fail = (e: unknown, what: string, key?: string): SnapshotError => mapError(e, { what, bucket, key: key === undefined ? undefined : `${base}${key}`, endpoint: endpointName, where: key === undefined ? `s3://${bucket}/${base}` : where(key) });

  const exists = async (key: string): Promise<boolean> => {
    try {
      await client.send(new s3.HeadObjectCommand({ Bucket: bucket, Key: base + key }));
      return true;
    } catch (e) {
      if (status(e) === 404) return false;
      throw fail(e, 'check', key);
    }
  };

  return {
    url,
    where,

    async read(key, maxBytes) {
      let out;
      try {
        out = await client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: base + key }));
      } catch (e) {
        if (status(e) === 404 && errorName(e) !== 'NoSuchBucket') return undefined;
        throw fail(e, 'read', key);
      }
      const body = out.Body as Readable | undefined;
      if (body === undefined) return (async function* () {})();
      if (out.ContentLength !== undefined && out.ContentLength > maxBytes) {
        body.destroy();
        throw tooLarge(where(key), maxBytes);
      }
      return limited(body, maxBytes, where(key), (e) => fail(e, 'read', key));
    },

    async putIfAbsent(key, body, putOptions = {}) {
      // Stores that ignore If-None-Match would overwrite: check first, unless the caller just listed.
      if (!(putOptions.listedAbsent ?? false) && (await exists(key))) return 'exists';
      const send = async (conditional: boolean): Promise<'created' | 'exists'> => {
        const stream = 'bytes' in body || body.length === 0 ? undefined : createReadStream(body.file, { start: body.start, end: body.start + body.length - 1, highWaterMark: 1 << 20 });
        const Body = stream ?? ('bytes' in body ? body.bytes : new Uint8Array(0));
        const ContentLength = 'bytes' in body ? body.bytes.length : body.length;
        try {
          const put = new s3.PutObjectCommand({ Bucket: bucket, Key: base + key, Body, ContentLength, ...(conditional ? { IfNoneMatch: '*' } : {}) });
          if (ContentLength >= UNSIGNED_PAYLOAD_BYTES) put.middlewareStack.add(unsignedPayload, UNSIGNED_PAYLOAD_STEP);
          await client.send(put);
          return 'created';
        } catch (e) {
          if (status(e) === 412) return 'exists';
          throw e;
        } finally {
          stream?.destroy();
        }
      };
      for (let attempt = 1; ; attempt++) {
        try {
          return await send(conditionalWrites);
        } catch (e) {
          if (conditionalWrites && status(e) === 501) {
            conditionalWrites = false;
            continue;
          }
          // 409: a concurrent conditional write on the key; the next try sees who won.
          if (status(e) === 409 && attempt < 3) {
            if (await exists(key)) return 'exists';
            continue;
          }
          throw fail(e, 'write', key);
        }
      }
    },

    async *list(prefix) {
      let token: string | undefined;
      do {
        let page;
        try {
          page = await client.send(new s3.ListObjectsV2Command({ Bucket: bucket, Prefix: base + prefix, ContinuationToken: token }));
        } catch (e) {
          throw fail(e, 'list', prefix);
        }
        for (const o of page.Contents ?? []) if (o.Key !== undefined) yield { key: o.Key.slice(base.length), size: o.Size ?? 0, kind: 'object' } satisfies ListedObject;
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    },

    async delete(key) {
      try {
        await client.send(new s3.DeleteObjectCommand({ Bucket: bucket, Key: base + key }));
      } catch (e) {
        if (status(e) !== 404) throw fail(e, 'delete', key);
      }
    },

    close() {
      client.destroy();
    },
  };
}

/**
 * Bodies in memory of at least this size are signed as UNSIGNED-PAYLOAD, as the SDK signs every
 * streamed body: otherwise it hashes them with SHA-256 first (~0.2 CPU-s per 200 MB, on the
 * event loop, before the first byte is sent). Their integrity rests on the format's trailers and
 * the report, which every reader checks; small objects (reports, certificates) keep the hash.
 */
const UNSIGNED_PAYLOAD_BYTES = 64 << 10;
const UNSIGNED_PAYLOAD_STEP = { step: 'build', name: 'snapshotVerifyUnsignedPayload' } as const;

/** Sets the payload hash header the SigV4 signer then takes as given instead of hashing the body. */
const unsignedPayload =
  <I, O>(next: (args: I) => Promise<O>) =>
  (args: I): Promise<O> => {
    const request = (args as { request?: { headers?: Record<string, string> } }).request;
    if (request?.headers !== undefined) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    return next(args);
  };

async function* limited(body: Readable, maxBytes: number, where: string, fail: (e: unknown) => SnapshotError): AsyncGenerator<Uint8Array> {
  let total = 0;
  try {
    for await (const piece of body as AsyncIterable<Buffer>) {
      total += piece.length;
      if (total > maxBytes) throw tooLarge(where, maxBytes);
      yield piece;
    }
  } catch (e) {
    throw e instanceof SnapshotError ? e : fail(e);
  } finally {
    body.destroy();
  }
}

function status(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function errorName(e: unknown): string {
  return (e as { name?: string }).name ?? '';
}

/** SDK errors as SnapshotErrors that name what failed: the endpoint, the bucket, the key. */
function mapError(e: unknown, c: { what: string; bucket: string; key: string | undefined; endpoint: string; where: string }): SnapshotError {
  if (e instanceof SnapshotError) return e;
  const name = errorName(e);
  const code = status(e);
  const message = e instanceof Error ? e.message : String(e);
  const target = c.key === undefined ? `bucket ${c.bucket}` : `bucket ${c.bucket}, key ${c.key}`;
  if (name === 'NoSuchBucket') return new SnapshotError('NOT_FOUND', `bucket ${c.bucket} does not exist at ${c.endpoint}`, { file: c.where, cause: e });
  if (code === 403 || name === 'AccessDenied' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch') {
    return new SnapshotError('IO_ERROR', `access denied to ${c.what} ${target} (${name || code}): ${message}`, { file: c.where, cause: e });
  }
  if (name === 'CredentialsProviderError') {
    return new SnapshotError('IO_ERROR', `no AWS credentials to ${c.what} ${target} (the SDK's chain: environment, shared config and credentials files, container and instance metadata): ${message}`, { file: c.where, cause: e });
  }
  if (code === undefined) {
    // No HTTP answer at all: the endpoint cannot be reached (after the SDK's retries).
    const attempts = (e as { $metadata?: { attempts?: number } }).$metadata?.attempts;
    return new SnapshotError('IO_ERROR', `cannot reach ${c.endpoint} to ${c.what} ${target}${attempts === undefined ? '' : ` (${attempts} attempts)`}: ${message}`, { file: c.where, cause: e });
  }
  return new SnapshotError('IO_ERROR', `cannot ${c.what} ${target} at ${c.endpoint}: HTTP ${code} ${name}: ${message}`, { file: c.where, cause: e });
}
