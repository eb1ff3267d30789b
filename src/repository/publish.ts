import { open, stat } from 'node:fs/promises';
import { loadHasher } from '../format/digest.js';
import { SnapshotError } from '../format/errors.js';
import type { DigestReport } from '../report/schema.js';
import { ChunkCheck, chunkProblem, checkFileRange, expectedChunks, type ExpectedChunk } from './chunks.js';
import { anchorId, chunkKey, nodePrefix, reportKeyOf } from './layout.js';
import { readStoredReport } from './reports.js';
import { forEachLimited, type ObjectStore, type PutBody } from './store.js';

/** Chunks uploaded at once. Defaults to 4. */
export const PUBLISH_CONCURRENCY = 4;
/**
 * Chunks of at most this size are read once into memory, checked there and uploaded from the same
 * bytes (at most PUBLISH_CONCURRENCY of them at a time: 64 MiB); larger ones are hashed from the
 * file, then streamed from it again. Defaults to 16 MiB.
 */
export const IN_MEMORY_CHUNK_BYTES = 16 << 20;

export type PublishOptions = Readonly<{
  /** The report and its exact bytes (what `digest --json` printed). */
  report: DigestReport;
  reportBytes: Uint8Array;
  /** The snapshot: one file per chunk, or one file holding the whole stream. Absent: the report only. */
  snapshotFiles?: readonly string[];
  concurrency?: number;
  /** Largest chunk read into memory once (see IN_MEMORY_CHUNK_BYTES). Defaults to IN_MEMORY_CHUNK_BYTES. */
  inMemoryChunkBytes?: number;
}>;

export interface PublishResult {
  readonly reportKey: string;
  readonly reportUrl: string;
  /** 'created', or 'already-published' when the repository held the same snapshot's report (kept). */
  readonly report: 'created' | 'already-published';
  readonly chunksCreated: number;
  readonly chunksExisting: number;
  readonly bytesUploaded: number;
}

/**
 * Publishes a node's report and, optionally, its snapshot's chunks (spec/REPOSITORY.md 4 and 5):
 * every chunk is checked against the report before its upload (a wrong file is never published),
 * uploaded write-once under a key naming its digest, and the report goes last as the commit
 * marker. A report already there for the same snapshot is kept; a different one is CONFLICT.
 */
export async function publishSnapshot(store: ObjectStore, options: PublishOptions): Promise<PublishResult> {
  const { report } = options;
  const key = reportKeyOf(report);
  const anchor = anchorId(report);
  let chunksCreated = 0;
  let chunksExisting = 0;
  let bytesUploaded = 0;
  if (options.snapshotFiles !== undefined) {
    await loadHasher();
    const ranges = await chunkRanges(options.snapshotFiles, report);
    const expected = expectedChunks(report);
    const eventIdBytes = report.cursor.eventIdHex.length / 2;
    // What the node already has under its prefix, from one listing instead of a check per chunk
    // (spec/REPOSITORY.md 5): chunks listed are kept, and a different report already there is
    // refused before any chunk is uploaded. Listed while the first chunks are read and checked.
    const listed = (async () => {
      const present = new Set<string>();
      for await (const o of store.list(nodePrefix(report.epoch, anchor, report.node.name))) present.add(o.key);
      if (present.has(key)) await refuseDifferentReport(store, key, report);
      return present;
    })();
    listed.catch(() => undefined); // its failure is thrown where it is awaited, not as unhandled
    const inMemory = options.inMemoryChunkBytes ?? IN_MEMORY_CHUNK_BYTES;
    const buffers = new BufferPool(ranges.reduce((n, r) => (r.length <= inMemory ? Math.max(n, r.length) : n), 0));
    // Each chunk is checked just before its upload, from the bytes it sends (pipelined, so hashing
    // overlaps other uploads):
    // an object is never written under a digest its bytes do not have. A wrong file stops the
    // publish before the report, leaving at most some valid chunks without a report (orphans,
    // invisible to readers, removed with their epoch by prune).
    await forEachLimited(ranges.keys(), options.concurrency ?? PUBLISH_CONCURRENCY, async (i) => {
      const r = ranges[i]!;
      const buffer = r.length <= inMemory ? buffers.take() : undefined;
      try {
        const checked = await checkedBody(r, expected[i]!, eventIdBytes, buffer);
        if (typeof checked === 'string') throw new SnapshotError('CHECKSUM_MISMATCH', `chunk ${i} is not the report's: ${checked}; the report was not published`, { file: r.file, offset: r.start });
        const chunk = chunkKey(report.epoch, anchor, report.node.name, i, expected[i]!.digest);
        // A chunk's key names its digest: a listed one is this chunk (or damaged, which fetch names).
        const outcome = (await listed).has(chunk) ? 'exists' : await store.putIfAbsent(chunk, checked, { listedAbsent: true });
        if (outcome === 'created') {
          chunksCreated++;
          bytesUploaded += r.length;
        } else {
          chunksExisting++;
        }
      } finally {
        if (buffer !== undefined) buffers.give(buffer);
      }
    });
    await listed; // a snapshot of no chunks still needs the listing's verdict
  }
  // Checked again just before the put (not from the listing): the report is the commit marker.
  const outcome = await store.putIfAbsent(key, { bytes: options.reportBytes });
  if (outcome === 'exists') await refuseDifferentReport(store, key, report);
  return { reportKey: key, reportUrl: store.where(key), report: outcome === 'created' ? 'created' : 'already-published', chunksCreated, chunksExisting, bytesUploaded };
}

/** The report at `key` (said to exist) must describe the same snapshot, else CONFLICT. */
async function refuseDifferentReport(store: ObjectStore, key: string, report: DigestReport): Promise<void> {
  const existing = await readStoredReport(store, key);
  if (existing === undefined) throw new SnapshotError('IO_ERROR', 'the store said the report exists, then could not find it', { file: store.where(key) });
  const difference = snapshotDifference(existing.report, report);
  if (difference !== undefined) {
    throw new SnapshotError('CONFLICT', `node ${JSON.stringify(report.node.name)} already published a different snapshot for this anchor (${difference}): refused, reports are write-once; two snapshots for one anchor are equivocation`, { file: store.where(key) });
  }
}

/**
 * Buffers of one size for in-memory chunks, reused: at most one per upload in flight, so a
 * publish allocates (and page-faults in) `concurrency` buffers, not one per chunk.
 */
class BufferPool {
  readonly #free: Buffer[] = [];
  constructor(readonly size: number) {}
  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }
  give(buffer: Buffer): void {
    this.#free.push(buffer);
  }
}

/**
 * The chunk's bytes as they will be uploaded, checked against the report, or why they are not the
 * chunk. With a `buffer` (a chunk up to the in-memory size), the chunk is read once, in one read,
 * into it: the bytes hashed are the bytes sent, which also closes the window in which the file
 * could change between the check and the upload. Without, the file range is hashed, then streamed.
 */
async function checkedBody(r: { file: string; start: number; length: number }, expected: ExpectedChunk, eventIdBytes: number, buffer: Buffer | undefined): Promise<PutBody | string> {
  if (buffer === undefined) return (await checkFileRange(r.file, r.start, r.length, expected, eventIdBytes)) ?? r;
  const h = await open(r.file, 'r').catch((e: Error) => {
    throw new SnapshotError('NOT_FOUND', `cannot read ${r.file}: ${e.message}`, { file: r.file });
  });
  let filled = 0;
  try {
    // One read for the whole chunk; the loop only continues after a short read.
    while (filled < r.length) {
      const { bytesRead } = await h.read(buffer, filled, r.length - filled, r.start + filled).catch((e: Error) => {
        throw new SnapshotError('IO_ERROR', `cannot read ${r.file}: ${e.message}`, { file: r.file, cause: e });
      });
      if (bytesRead === 0) break; // the file shrank since it was measured: the size check below says so
      filled += bytesRead;
    }
  } finally {
    await h.close();
  }
  const bytes = buffer.subarray(0, filled);
  const check = new ChunkCheck(eventIdBytes);
  check.update(bytes);
  return chunkProblem(check, expected) ?? { bytes };
}

/** Where each chunk's bytes are: chunk files one by one, or consecutive ranges of one file. */
async function chunkRanges(files: readonly string[], report: DigestReport): Promise<{ file: string; start: number; length: number }[]> {
  const sizes: number[] = [];
  for (const f of files) {
    const s = await stat(f).catch((e: Error) => {
      throw new SnapshotError('NOT_FOUND', `cannot read ${f}: ${e.message}`, { file: f });
    });
    if (!s.isFile()) throw new SnapshotError('NOT_FOUND', `${f} is not a regular file`, { file: f });
    sizes.push(s.size);
  }
  const total = report.chunks.reduce((n, c) => n + c.bytes, 0);
  if (files.length === report.chunks.length) {
    return report.chunks.map((c, i) => {
      if (sizes[i] !== c.bytes) throw new SnapshotError('CHECKSUM_MISMATCH', `${sizes[i]} bytes, the report's chunk ${i} has ${c.bytes}: not this report's snapshot`, { file: files[i]! });
      return { file: files[i]!, start: 0, length: c.bytes };
    });
  }
  if (files.length === 1 && sizes[0] === total) {
    let start = 0;
    return report.chunks.map((c) => {
      const r = { file: files[0]!, start, length: c.bytes };
      start += c.bytes;
      return r;
    });
  }
  throw new SnapshotError('CHECKSUM_MISMATCH', `${files.length} file(s) of ${sizes.reduce((a, b) => a + b, 0)} bytes, the report's snapshot has ${report.chunks.length} chunk(s) of ${total} bytes: not this report's snapshot`, { file: files[0]! });
}

/** What makes two reports describe different snapshots (ignoring node-local facts and ranges), or undefined. */
export function snapshotDifference(a: DigestReport, b: DigestReport): string | undefined {
  if (a.digest !== b.digest) return `snapshot digest ${a.digest} there, ${b.digest} here`;
  const chunks = (r: DigestReport): string => r.chunks.map((c) => `${c.index}:${c.bytes}:${c.digest}`).join(',');
  if (chunks(a) !== chunks(b)) return 'the same digest but different chunks';
  const tables = (r: DigestReport): string => r.tables.map((t) => `${t.id}:${t.name}:${t.entries}:${t.bytes}:${t.digest}`).join(',');
  if (tables(a) !== tables(b)) return 'the same digest but different tables';
  return undefined;
}
