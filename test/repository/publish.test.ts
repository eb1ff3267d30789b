import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotError } from '../../src/format/errors.js';
import { fileSink } from '../../src/format/sinks.js';
import { writeSnapshot } from '../../src/format/writer.js';
import type { DigestReport } from '../../src/report/schema.js';
import { validateReport } from '../../src/report/validate.js';
import { anchorId, chunkKey, nodePrefix, reportKeyOf } from '../../src/repository/layout.js';
import { openRepositoryStore } from '../../src/repository/open.js';
import { publishSnapshot } from '../../src/repository/publish.js';
import { snapshotFiles } from '../../src/sources/open.js';
import { assertBuilt, BIN, runCli } from '../helpers/cli.js';
import { fileBackend, s3Backend, type Backend } from './backends.js';
import { startRecordingProxy, type RecordingProxy } from './servers.js';

/**
 * Publish's write-once rule with presence taken from one listing of the node's prefix
 * (spec/REPOSITORY.md 5), on s3rver (which ignores If-None-Match) and file://, and what publish
 * sends on the wire.
 */

interface Published {
  readonly report: DigestReport;
  readonly reportBytes: Uint8Array;
  readonly files: string[];
}

let work: string;
/** Two snapshots of one anchor (epoch, cursor, chunk size, tables) with different content. */
let first: Published;
let second: Published;

/** A chunked snapshot (~1.3 MB in chunks of 300 kB) and its digest --json report. */
async function snapshot(name: string, valueByte: number): Promise<Published> {
  const base = join(work, name);
  const entries = Array.from({ length: 3000 }, (_, i) => ({ key: Buffer.from(`key-${String(i).padStart(6, '0')}`), value: Buffer.alloc(1 + ((i * 7919) % 900), (i + valueByte) & 0xff) }));
  await writeSnapshot(fileSink(base, { chunkFiles: true }), { epoch: 9n, cursor: { index: 4n }, maxChunkBytes: 300_000n, tables: [{ id: 0, name: 't' }] }, [entries]);
  const r = await runCli(['digest', base, '--json', '--node', 'n1']);
  expect(r.code, r.stderr).toBe(0);
  return { report: validateReport(JSON.parse(r.stdout), name), reportBytes: new TextEncoder().encode(r.stdout), files: await snapshotFiles(base) };
}

function chunkKeys(p: Published): string[] {
  return p.report.chunks.map((c) => chunkKey(p.report.epoch, anchorId(p.report), p.report.node.name, c.index, c.digest));
}

beforeAll(async () => {
  assertBuilt();
  work = await mkdtemp(join(tmpdir(), 'repo-publish-'));
  first = await snapshot('first', 0);
  second = await snapshot('second', 1);
  expect(anchorId(second.report)).toBe(anchorId(first.report));
  expect(second.report.digest).not.toBe(first.report.digest);
  expect(first.report.chunks.length).toBeGreaterThanOrEqual(4);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe.each(['file', 's3'] as const)('publish on %s', (kind) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = kind === 'file' ? await fileBackend() : await s3Backend();
    Object.assign(process.env, backend.env); // for the store opened in this process
  });
  afterAll(async () => {
    await backend?.stop();
  });

  it('re-publishing keeps the chunks the listing shows and uploads only the missing one, which comes back with its bytes', async () => {
    const store = await openRepositoryStore(backend.url);
    const created = await publishSnapshot(store, { ...first, snapshotFiles: first.files });
    expect(created).toMatchObject({ report: 'created', chunksCreated: first.files.length, chunksExisting: 0 });
    const keys = chunkKeys(first);
    await backend.removeRaw(keys[2]!); // as a partial prune or a lost object would leave it
    const again = await publishSnapshot(store, { ...first, snapshotFiles: first.files });
    expect(again).toMatchObject({ report: 'already-published', chunksCreated: 1, chunksExisting: first.files.length - 1, bytesUploaded: first.report.chunks[2]!.bytes });
    expect(Buffer.from(await backend.getRaw(keys[2]!)).equals(await readFile(first.files[2]!))).toBe(true);
    store.close();
  });

  it('a different snapshot for the same node and anchor is refused (CONFLICT) before any of its chunks is uploaded', async () => {
    const store = await openRepositoryStore(backend.url);
    const before = await backend.keys();
    expect(before).toContain(reportKeyOf(first.report));
    const refused = await publishSnapshot(store, { ...second, snapshotFiles: second.files }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SnapshotError);
    expect((refused as SnapshotError).code).toBe('CONFLICT');
    expect((refused as SnapshotError).message).toContain(`snapshot digest ${first.report.digest} there, ${second.report.digest} here`);
    expect(await backend.keys()).toEqual(before); // no orphan chunk of the refused snapshot
    expect(Buffer.from(await backend.getRaw(reportKeyOf(first.report))).equals(first.reportBytes)).toBe(true);
    store.close();
  });
});

describe('publish on s3, as seen on the wire (a recording proxy in front of s3rver)', () => {
  let backend: Backend;
  let proxy: RecordingProxy;
  beforeAll(async () => {
    backend = await s3Backend();
    Object.assign(process.env, backend.env);
    proxy = await startRecordingProxy(backend.env['AWS_ENDPOINT_URL_S3']!);
  });
  afterAll(async () => {
    await proxy?.stop();
    await backend?.stop();
  });

  it('one listing of the node\'s prefix, then one conditional PUT per chunk (no HEAD each), sent UNSIGNED-PAYLOAD; the report last, checked just before and signed with its SHA-256', async () => {
    const url = `${backend.url}/wire`;
    const store = await openRepositoryStore(url, { endpoint: proxy.endpoint });
    const result = await publishSnapshot(store, { ...first, snapshotFiles: first.files });
    store.close();
    expect(result.chunksCreated).toBe(first.files.length);
    const seen = proxy.requests.map((r) => ({ method: r.method, path: decodeURIComponent(new URL(r.url, 'http://x').pathname), query: new URL(r.url, 'http://x').searchParams, headers: r.headers }));
    const root = `/snapshots/team/snapshots/wire/`;
    // 1: the listing of the node's prefix.
    expect(seen[0]!.method).toBe('GET');
    expect(seen[0]!.query.get('list-type')).toBe('2');
    expect(seen[0]!.query.get('prefix')).toBe(`team/snapshots/wire/${nodePrefix(first.report.epoch, anchorId(first.report), 'n1')}`);
    // 2..n+1: the chunks, each PUT with If-None-Match: *, no HEAD among them.
    const chunks = seen.slice(1, 1 + first.files.length);
    expect(chunks.map((r) => r.method)).toEqual(first.files.map(() => 'PUT'));
    expect(chunks.map((r) => r.path).sort()).toEqual(chunkKeys(first).map((k) => root + k).sort());
    for (const r of chunks) {
      expect(r.headers['if-none-match']).toBe('*');
      expect(r.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    }
    // Last: HEAD then PUT of the report, whose signature covers its SHA-256.
    expect(seen.slice(1 + first.files.length).map((r) => `${r.method} ${r.path}`)).toEqual([`HEAD ${root}${reportKeyOf(first.report)}`, `PUT ${root}${reportKeyOf(first.report)}`]);
    expect(seen.at(-1)!.headers['x-amz-content-sha256']).toBe(createHash('sha256').update(first.reportBytes).digest('hex'));
    // s3rver stored the bytes sent.
    for (const [i, k] of chunkKeys(first).entries()) expect(Buffer.from(await backend.getRaw(`wire/${k}`)).equals(await readFile(first.files[i]!))).toBe(true);
  });

  it('a publish killed (kill -9) while chunks are in flight leaves no report; run again, it uploads only the chunks not there and the snapshot fetches and verifies', async () => {
    const url = `${backend.url}/killed`;
    const reportFile = join(work, 'first.json');
    await writeFile(reportFile, first.reportBytes);
    proxy.requests.length = 0;
    // The first two chunk PUTs go through; every later one is held, so the process is killed
    // with exactly two chunks stored and the others in flight.
    let puts = 0;
    proxy.hold((r) => r.method === 'PUT' && ++puts > 2);
    const child = spawn(process.execPath, [BIN, 'publish', url, '--report', reportFile, '--snapshot', ...first.files, '--endpoint', proxy.endpoint], { env: { ...process.env, ...backend.env }, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    while (!(proxy.held.length >= 1 && proxy.requests.filter((r) => r.method === 'PUT' && r.status !== undefined).length === 2)) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    await exited;
    proxy.hold(() => false);
    const stored = (await backend.keys()).filter((k) => k.startsWith('killed/'));
    expect(stored).toHaveLength(2);
    expect(stored.some((k) => k.endsWith('report.json'))).toBe(false);
    const out = join(work, 'fetched');
    const invisible = await runCli(['fetch', url, '--epoch', first.report.epoch, '--node', 'n1', '--out', out], { env: backend.env });
    expect(invisible.code).toBe(2); // no report: nothing to fetch
    const again = await runCli(['publish', url, '--report', reportFile, '--snapshot', ...first.files], { env: backend.env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`report written; ${first.files.length - 2} chunk(s) uploaded`);
    expect(again.stderr).toContain(', 2 already there');
    const fetched = await runCli(['fetch', url, '--epoch', first.report.epoch, '--node', 'n1', '--out', out, '--json'], { env: backend.env });
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(JSON.parse(fetched.stdout).fetched.digest).toBe(first.report.digest);
  });
});
