import { mkdir, open, readFile, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { formatDigest, loadHasher } from '../format/digest.js';
import { SnapshotError } from '../format/errors.js';
import { verifySnapshot } from '../format/reader.js';
import { chunkFileName, syncDirectory } from '../format/sinks.js';
import type { DigestReport } from '../report/schema.js';
import { ChunkCheck, chunkProblem, checkFileRange, expectedChunks, type ExpectedChunk } from './chunks.js';
import { chunkKey, encodeNodeName, epochPrefix, parseKey, reportKey, REPORT_NAME } from './layout.js';
import { readStoredReport, scanRepository, type StoredReport } from './reports.js';
import { forEachLimited, type ObjectStore } from './store.js';

/** Chunks downloaded at once. Defaults to 4. */
export const FETCH_CONCURRENCY = 4;
/** Downloads of one chunk before it is named corrupt: the first and one re-fetch. */
export const FETCH_ATTEMPTS = 2;
/** The base name of the chunk files in the output directory: snapshot.000000, snapshot.000001, … */
export const SNAPSHOT_BASE = 'snapshot';

export type FetchOptions = Readonly<{
  epoch: string;
  node: string;
  /** Which anchor, when the node published several for the epoch. */
  anchorId?: string;
  /** The directory to create: report.json and the chunk files, placed atomically (renamed) when all verified. */
  out: string;
  concurrency?: number;
  attempts?: number;
  /** Called as each chunk is settled (tests and progress). */
  onChunk?: (index: number, outcome: 'reused' | 'downloaded') => void;
}>;

export interface FetchResult {
  readonly reportUrl: string;
  readonly report: DigestReport;
  readonly out: string;
  readonly files: readonly string[];
  /** Chunks already verified in an interrupted fetch's staging directory, not downloaded again. */
  readonly reused: number;
  readonly downloaded: number;
  /** Downloads repeated because a chunk arrived damaged or the transfer failed. */
  readonly refetched: number;
  readonly bytesDownloaded: number;
}

/**
 * Fetches one node's snapshot (spec/REPOSITORY.md section 4): its report, then its chunks with
 * bounded parallelism into a staging directory beside `out`. Each chunk is verified on arrival
 * (size, trailer, digest and chain link against the report) and re-fetched alone when damaged;
 * meanwhile the chunks are read in order by the full decoder (structure, key order, table
 * digests, the chain). Only a snapshot whose digest is the report's is renamed to `out`. An
 * interrupted fetch resumes from the staging directory: chunks found there are re-hashed, not
 * downloaded again.
 */
export async function fetchSnapshot(store: ObjectStore, options: FetchOptions): Promise<FetchResult> {
  await loadHasher();
  const { out } = options;
  if (await stat(out).then(() => true, () => false)) throw new SnapshotError('INVALID_ARGUMENT', `--out ${out} already exists; fetch creates it`);
  const stored = await findReport(store, options);
  const { report } = stored;
  const staging = join(dirname(out), `.${basename(out)}.fetching`);
  await prepareStaging(staging, stored.bytes);
  const base = join(staging, SNAPSHOT_BASE);
  const expected = expectedChunks(report);
  const eventIdBytes = report.cursor.eventIdHex.length / 2;
  const anchor = stored.key.split('/')[3]!;
  const keyOf = (i: number): string => chunkKey(report.epoch, anchor, report.node.name, i, expected[i]!.digest);
  const name = (i: number): string => `node ${JSON.stringify(report.node.name)} chunk ${i} (${store.where(keyOf(i))})`;

  // One settled flag per chunk, awaited in order by the sequential verifier.
  const placed = expected.map(() => deferred());
  let stopped = false;
  let reused = 0;
  let downloaded = 0;
  let refetched = 0;
  let bytesDownloaded = 0;

  const getChunk = async (i: number): Promise<void> => {
    if (stopped) throw STOPPED;
    const c = expected[i]!;
    const file = chunkFileName(base, i);
    const present = await stat(file).then((s) => s.isFile() && s.size === c.bytes, () => false);
    if (present && (await checkFileRange(file, 0, c.bytes, c, eventIdBytes)) === undefined) {
      reused++;
      options.onChunk?.(i, 'reused');
      return;
    }
    await unlink(file).catch(() => undefined);
    const attempts = options.attempts ?? FETCH_ATTEMPTS;
    let problem = '';
    let transfer: SnapshotError | undefined;
    for (let attempt = 1; attempt <= attempts && !stopped; attempt++) {
      if (attempt > 1) refetched++;
      transfer = undefined;
      const outcome = await downloadChunk(store, keyOf(i), `${file}.part`, c, eventIdBytes).catch(async (e: unknown) => {
        // A local write failed (a full disk): no retry helps; the partial file goes, the error names it.
        if (e instanceof SnapshotError && e.file === `${file}.part`) {
          await unlink(e.file).catch(() => undefined);
          throw e;
        }
        if (!(e instanceof SnapshotError) || e.code === 'NOT_FOUND') throw e;
        if (e.code !== 'LIMIT_EXCEEDED') transfer = e; // the transfer failed, not the bytes
        return e.message; // worth one more try either way
      });
      if (typeof outcome === 'number') {
        await rename(`${file}.part`, file);
        downloaded++;
        bytesDownloaded += outcome;
        options.onChunk?.(i, 'downloaded');
        return;
      }
      problem = outcome;
      await unlink(`${file}.part`).catch(() => undefined);
    }
    if (stopped) throw STOPPED;
    const t = transfer as SnapshotError | undefined;
    if (t !== undefined) throw new SnapshotError(t.code, `${name(i)}: ${t.message} (tried ${attempts} time(s))`, { file: store.where(keyOf(i)), cause: t });
    throw new SnapshotError('CHECKSUM_MISMATCH', `${name(i)} is corrupt: ${problem} (downloaded ${attempts} time(s))`, { file: store.where(keyOf(i)) });
  };

  const downloads = forEachLimited(expected.keys(), options.concurrency ?? FETCH_CONCURRENCY, async (i) => {
    try {
      await getChunk(i);
      placed[i]!.resolve();
    } catch (e) {
      placed[i]!.reject(e);
      throw e;
    }
  }).finally(() => {
    for (const p of placed) p.reject(STOPPED);
  });
  const inOrder = async function* (): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < expected.length; i++) {
      await placed[i]!.promise;
      const h = await open(chunkFileName(base, i), 'r');
      try {
        for (;;) {
          const buffer = new Uint8Array(1 << 20);
          const { bytesRead } = await h.read(buffer, 0, buffer.length, null);
          if (bytesRead === 0) break;
          yield buffer.subarray(0, bytesRead);
        }
      } finally {
        await h.close();
      }
    }
  };
  const verifying = verifySnapshot(inOrder()).catch((e: unknown) => {
    stopped = true;
    throw e === STOPPED ? e : locateInChunks(e, expected, name, (i) => store.where(keyOf(i)));
  });
  // Whichever fails first is the error; the other is awaited so nothing runs on after return.
  const [d, v] = await Promise.allSettled([downloads, verifying]);
  if (d.status === 'rejected' && d.reason !== STOPPED) throw d.reason;
  if (v.status === 'rejected') throw v.reason;
  if (d.status === 'rejected') throw d.reason;
  const summary = v.value;
  if (formatDigest(summary.digest) !== report.digest) {
    throw new SnapshotError('CHECKSUM_MISMATCH', `the fetched snapshot's digest ${formatDigest(summary.digest)} is not the report's ${report.digest}`, { file: stored.key });
  }
  report.tables.forEach((t, i) => {
    const got = summary.tables[i];
    if (got === undefined || formatDigest(got.digest) !== t.digest || String(got.entries) !== t.entries) {
      throw new SnapshotError('CHECKSUM_MISMATCH', `table ${t.name}: the snapshot holds ${got === undefined ? 'no such table' : `${got.entries} entries, digest ${formatDigest(got.digest)}`}, the report says ${t.entries} entries, digest ${t.digest}`, { file: store.where(stored.key) });
    }
  });
  await syncDirectory(staging);
  await rename(staging, out);
  await syncDirectory(dirname(out));
  return {
    reportUrl: store.where(stored.key),
    report,
    out,
    files: expected.map((_, i) => chunkFileName(join(out, SNAPSHOT_BASE), i)),
    reused,
    downloaded,
    refetched,
    bytesDownloaded,
  };
}

/** The node's report for the epoch: under the given anchor id, or the only anchor holding one. */
async function findReport(store: ObjectStore, options: FetchOptions): Promise<StoredReport> {
  const node = encodeNodeName(options.node);
  const anchors: string[] = [];
  if (options.anchorId !== undefined) anchors.push(options.anchorId);
  else {
    const keys = (await scanRepository(store, epochPrefix(options.epoch))).epochs.get(options.epoch);
    for (const key of keys?.reports ?? []) {
      const parsed = parseKey(key);
      if (parsed?.node === node) anchors.push(parsed.anchorId);
    }
  }
  const found: StoredReport[] = [];
  for (const a of anchors) {
    const r = await readStoredReport(store, reportKey(options.epoch, a, options.node));
    if (r !== undefined) found.push(r);
  }
  if (found.length === 0) throw new SnapshotError('NOT_FOUND', `no report of node ${JSON.stringify(options.node)} for epoch ${options.epoch}${options.anchorId !== undefined ? ` and anchor ${options.anchorId}` : ''}`, { file: store.where(epochPrefix(options.epoch)) });
  if (found.length > 1) {
    throw new SnapshotError('INVALID_ARGUMENT', `node ${JSON.stringify(options.node)} published epoch ${options.epoch} under ${found.length} anchors; choose one with --anchor-id: ${found.map((r) => r.key.split('/')[3]).join(', ')}`);
  }
  const r = found[0]!;
  if (r.report.chunks.length > 0 && r.report.chunks.some((c) => !Number.isSafeInteger(c.bytes))) throw new SnapshotError('BAD_REPORT', 'chunk sizes beyond 2^53', { file: store.where(r.key) });
  return r;
}

/** Creates the staging directory, or resumes it if it holds the same report; a stale one is emptied. */
async function prepareStaging(staging: string, reportBytes: Uint8Array): Promise<void> {
  const previous = await readFile(join(staging, REPORT_NAME)).catch(() => undefined);
  if (previous === undefined || !Buffer.from(reportBytes).equals(previous)) {
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    await writeFile(join(staging, REPORT_NAME), reportBytes).catch((e: unknown) => {
      throw writeError(join(staging, REPORT_NAME), e);
    });
  }
}

/**
 * A failed write names its file: a file handle's errors (ENOSPC, EIO) carry no path, and the
 * documented line is `IO_ERROR in FILE`.
 */
function writeError(file: string, e: unknown): unknown {
  const errno = e as NodeJS.ErrnoException;
  if (typeof errno?.code !== 'string' || !/^E[A-Z0-9]+$/.test(errno.code)) return e;
  return new SnapshotError('IO_ERROR', `cannot write ${file}: ${errno.message}`, { file, cause: e });
}

/** Streams one chunk object into `part`, checking it on the way: its size, or why it is not the chunk. */
async function downloadChunk(store: ObjectStore, key: string, part: string, expected: ExpectedChunk, eventIdBytes: number): Promise<number | string> {
  const body = await store.read(key, expected.bytes);
  if (body === undefined) throw new SnapshotError('NOT_FOUND', `chunk ${expected.index} is missing: ${store.where(key)} (its report lists it)`, { file: store.where(key) });
  const check = new ChunkCheck(eventIdBytes);
  let h: FileHandle | undefined = await open(part, 'w');
  try {
    let position = 0;
    for await (const piece of body) {
      check.update(piece);
      let done = 0;
      while (done < piece.length) {
        const { bytesWritten } = await h.write(piece, done, piece.length - done, position).catch((e: unknown) => {
          throw writeError(part, e);
        });
        done += bytesWritten;
        position += bytesWritten;
      }
    }
    const problem = chunkProblem(check, expected);
    if (problem !== undefined) return problem;
    await h.sync().catch((e: unknown) => {
      throw writeError(part, e);
    });
    await h.close();
    h = undefined;
    return position;
  } finally {
    await h?.close();
  }
}

/** The failure of one side of a fetch that stops the other (never shown when the cause is). */
const STOPPED = new SnapshotError('IO_ERROR', 'fetch stopped');

/** A decoder error at a stream offset, named by node, chunk index and object, at an offset in that chunk. */
function locateInChunks(e: unknown, chunks: readonly ExpectedChunk[], name: (i: number) => string, url: (i: number) => string): unknown {
  if (!(e instanceof SnapshotError) || e.offset === undefined) return e;
  let start = 0;
  let i = 0;
  while (i + 1 < chunks.length && start + chunks[i]!.bytes <= e.offset) start += chunks[i++]!.bytes;
  return new SnapshotError(e.code, `${name(i)}: ${e.message}`, { offset: e.offset - start, file: url(i), cause: e });
}

function deferred(): { promise: Promise<void>; resolve(): void; reject(e: unknown): void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((a, b) => {
    resolve = a;
    reject = b;
  });
  promise.catch(() => undefined); // rejections are observed by whoever awaits it, or not at all
  return { promise, resolve, reject };
}
