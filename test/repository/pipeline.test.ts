import { open, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotError } from '../../src/format/errors.js';
import { verifySnapshot } from '../../src/format/reader.js';
import { fileSink } from '../../src/format/sinks.js';
import { writeSnapshot } from '../../src/format/writer.js';
import { validateReport } from '../../src/report/validate.js';
import { ChunkFileWriter, WRITE_BACKLOG_BYTES } from '../../src/repository/chunk-file-writer.js';
import { openFileStore } from '../../src/repository/file-store.js';
import { publishSnapshot } from '../../src/repository/publish.js';
import { decodeChunkFiles } from '../../src/repository/verify-in-order.js';
import { snapshotFiles } from '../../src/sources/open.js';
import { assertBuilt, runCli } from '../helpers/cli.js';

/**
 * The pieces of the repository's transfer pipeline (issue 11, item 8): the batched chunk-file
 * writer of fetch, the in-order decoding of chunk files as they arrive, and publish's single read
 * of each chunk. Each is checked against an independent path: the bytes given, the format's own
 * reader over the same files, the streaming publish.
 */

let work: string;
let base: string;
let files: string[];

async function* listed(paths: readonly string[]): AsyncGenerator<string> {
  yield* paths;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'repo-pipeline-'));
  base = join(work, 'snap');
  // Several chunks, records of assorted sizes that straddle the 128 KiB read pieces.
  const entries = Array.from({ length: 3000 }, (_, i) => ({ key: Buffer.from(`key-${String(i).padStart(6, '0')}`), value: Buffer.alloc(1 + ((i * 7919) % 900), i & 0xff) }));
  await writeSnapshot(fileSink(base, { chunkFiles: true }), { epoch: 7n, cursor: { index: 3n }, maxChunkBytes: 300_000n, tables: [{ id: 0, name: 't' }] }, [entries]);
  files = await snapshotFiles(base);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('ChunkFileWriter', () => {
  it('writes the pieces in order, whatever their sizes, pieces beyond the backlog included', async () => {
    const sizes = [0, 1, 65_536, 7, WRITE_BACKLOG_BYTES + 3, 1, 100_000, 0, 3];
    const pieces = sizes.map((n, i) => Buffer.alloc(n, i + 1));
    const path = join(work, 'written');
    const h = await open(path, 'w');
    const w = new ChunkFileWriter(h, (e) => e);
    for (const p of pieces) await w.add(p);
    await w.flush();
    await h.close();
    expect(w.position).toBe(sizes.reduce((a, b) => a + b, 0));
    expect(Buffer.compare(await readFile(path), Buffer.concat(pieces))).toBe(0);
  });

  it('completes short writes: the rest of a batch is written next, at the right position', async () => {
    const path = join(work, 'short');
    const real = await open(path, 'w');
    // A handle whose writev writes at most 5 bytes per call, as a write interrupted by a signal may.
    const short = { writev: (buffers: Uint8Array[], position: number) => real.writev([Buffer.concat(buffers).subarray(0, 5)], position) } as unknown as FileHandle;
    const pieces = [Buffer.from('abcdefgh'), Buffer.from('ij'), Buffer.from('klmnopqrstuvwxyz')];
    const w = new ChunkFileWriter(short, (e) => e);
    for (const p of pieces) await w.add(p);
    await w.flush();
    await real.close();
    expect(await readFile(path, 'utf8')).toBe('abcdefghijklmnopqrstuvwxyz');
  });

  it('a failed write is thrown as onError makes it, by add or flush; settle waits without throwing', async () => {
    const path = join(work, 'read-only');
    await writeFile(path, '');
    const h = await open(path, 'r'); // writes fail with EBADF
    const named = new SnapshotError('IO_ERROR', `cannot write ${path}`, { file: path });
    const w = new ChunkFileWriter(h, () => named);
    const failed = await (async () => {
      try {
        await w.add(Buffer.alloc(10));
        await w.flush();
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(failed).toBe(named);
    await expect(w.settle()).resolves.toBeUndefined();
    await h.close();
  });
});

describe('decodeChunkFiles', () => {
  it('gives the summary the format reader gives for the same chunk files', async () => {
    expect(files.length).toBeGreaterThan(3);
    const reader = await verifySnapshot(files);
    const got = await decodeChunkFiles(listed(files));
    expect(got.digest).toBe(reader.digest);
    expect(got.tables).toEqual(reader.tables);
    expect(got.chunks).toEqual(reader.chunks);
  });

  it('a damaged chunk fails with the reader\'s code, at the reader\'s offset counted from the start of the stream', async () => {
    const damaged = files.map((f, i) => (i === 2 ? join(work, 'damaged.000002') : f));
    const bytes = await readFile(files[2]!);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x40;
    await writeFile(damaged[2]!, bytes);
    const expected = (await verifySnapshot(damaged).catch((e: unknown) => e)) as SnapshotError;
    expect(expected).toBeInstanceOf(SnapshotError);
    expect(expected.file).toBe(damaged[2]);
    const before = (await stat(files[0]!)).size + (await stat(files[1]!)).size;
    const got = (await decodeChunkFiles(listed(damaged)).catch((e: unknown) => e)) as SnapshotError;
    expect(got).toBeInstanceOf(SnapshotError);
    expect([got.code, got.offset]).toEqual([expected.code, before + expected.offset!]);
  });
});

describe('publish reads each chunk once', () => {
  it('the objects are the same whether chunks are read into memory once or hashed and then streamed; a wrong chunk is refused either way', async () => {
    assertBuilt();
    const r = await runCli(['digest', base, '--json', '--node', 'n1']);
    expect(r.code, r.stderr).toBe(0);
    const report = validateReport(JSON.parse(r.stdout), 'digest');
    const reportBytes = new TextEncoder().encode(r.stdout);
    const objects = async (dir: string): Promise<Map<string, string>> => {
      const store = await openFileStore(pathToFileURL(dir).href);
      const out = new Map<string, string>();
      for await (const o of store.list('')) out.set(o.key, Buffer.from(await readFile(join(dir, ...o.key.split('/')))).toString('hex'));
      return out;
    };
    const published = new Map<number, Map<string, string>>();
    for (const inMemoryChunkBytes of [0, 1 << 20]) {
      const dir = join(work, `repo-${inMemoryChunkBytes}`);
      const store = await openFileStore(pathToFileURL(dir).href);
      const result = await publishSnapshot(store, { report, reportBytes, snapshotFiles: files, inMemoryChunkBytes });
      expect(result.chunksCreated).toBe(files.length);
      published.set(inMemoryChunkBytes, await objects(dir));

      // The same size, one byte changed: not this report's chunk; nothing under its key, no report.
      const wrong = join(work, `wrong-${inMemoryChunkBytes}`);
      const bytes = await readFile(files[1]!);
      bytes[100]! ^= 1;
      await writeFile(wrong, bytes);
      const other = join(work, `repo-wrong-${inMemoryChunkBytes}`);
      const refused = await publishSnapshot(await openFileStore(pathToFileURL(other).href), { report, reportBytes, snapshotFiles: files.map((f, i) => (i === 1 ? wrong : f)), concurrency: 1, inMemoryChunkBytes }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(SnapshotError);
      expect((refused as SnapshotError).code).toBe('CHECKSUM_MISMATCH');
      const left = [...(await objects(other)).keys()];
      expect(left.some((k) => k.includes('/chunks/000001-'))).toBe(false);
      expect(left.some((k) => k.endsWith('report.json'))).toBe(false);
    }
    expect(published.get(1 << 20)).toEqual(published.get(0));
    expect(published.get(0)!.size).toBe(files.length + 1);
  });
});
