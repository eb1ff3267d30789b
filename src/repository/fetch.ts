import { lstat, mkdir, open, readFile, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { formatDigest, loadHasher } from '../format/digest.js';
import { SnapshotError } from '../format/errors.js';
import { chunkFileName, syncDirectory } from '../format/sinks.js';
import { attestedContentKey, statementOf, type Statement } from '../report/identity/statement.js';
import type { DigestReport } from '../report/schema.js';
import { ChunkFileWriter } from './chunk-file-writer.js';
import { ChunkCheck, chunkProblem, checkFileRange, expectedChunks, type ExpectedChunk } from './chunks.js';
import { anchorId, chunkKey, encodeNodeName, epochPrefix, parseKey, reportKey, REPORT_NAME } from './layout.js';
import { readStoredReport, scanRepository, type StoredReport } from './reports.js';
import { forEachLimited, type ObjectStore } from './store.js';
import { verifyChunkFiles } from './verify-in-order.js';

/** Chunks downloaded at once. Defaults to 4. */
export const FETCH_CONCURRENCY = 4;
/** Downloads of one chunk before it is named corrupt: the first and one re-fetch. */
export const FETCH_ATTEMPTS = 2;
/**
 * Chunk files fsynced at once. Each chunk is fsynced in the background as soon as it is placed, so
 * the disk writes it back while later chunks download, instead of all 200 MB at the end (0.5 s on
 * the bench machine); one at a time, which keeps up with the downloads and leaves the thread pool
 * to their writes.
 */
const SYNC_CONCURRENCY = 1;
/** The base name of the chunk files in the output directory: snapshot.000000, snapshot.000001, … */
export const SNAPSHOT_BASE = 'snapshot';

export type FetchOptions = Readonly<{
  epoch: string;
  /** Whose snapshot; with `certified`, the node tried first. */
  node?: string;
  /**
   * The content a checked quorum certificate certifies (CertificateCheck.statement): fetch from a
   * node whose report attests exactly this content, falling back to the next such node when one's
   * chunks are missing or stay corrupt; the result must have the certified digest.
   */
  certified?: Statement;
  /** Which anchor, when the node published several for the epoch. */
  anchorId?: string;
  /** The directory to create: report.json and the chunk files, placed atomically (renamed) when all verified. */
  out: string;
  concurrency?: number;
  attempts?: number;
  /** Called as each chunk is settled (tests and progress). */
  onChunk?: (index: number, outcome: 'reused' | 'downloaded') => void;
  /** Called when a certified node's snapshot could not be fetched and another certified node is tried next. */
  onFallback?: (node: string, error: SnapshotError) => void;
  /** Decode on a worker thread (when built). Defaults to true. */
  verifyInWorker?: boolean;
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
  /** With a certificate: the certified nodes tried before this one, and why each failed. */
  readonly fallbacks: readonly { readonly node: string; readonly code: string; readonly message: string }[];
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
  if (await lstat(options.out).then(() => true, () => false)) throw new SnapshotError('INVALID_ARGUMENT', `--out ${options.out} already exists (a symbolic link counts, dangling or not); fetch creates it`);
  if (options.certified === undefined) {
    if (options.node === undefined) throw new SnapshotError('INVALID_ARGUMENT', 'give --node NAME, or a certificate');
    return fetchReported(store, await findReport(store, options.epoch, options.node, options.anchorId), options, []);
  }
  const certified = options.certified;
  if (certified.epoch !== options.epoch) throw new SnapshotError('INVALID_ARGUMENT', `the certificate certifies epoch ${certified.epoch}, not ${options.epoch}`);
  const fallbacks: { node: string; code: string; message: string }[] = [];
  let last: SnapshotError | undefined;
  for await (const stored of certifiedReports(store, certified, options.node)) {
    // Said only once there is another node to try; the last failure is the error itself.
    if (last !== undefined) options.onFallback?.(fallbacks[fallbacks.length - 1]!.node, last);
    try {
      return await fetchReported(store, stored, options, fallbacks);
    } catch (e) {
      if (!(e instanceof SnapshotError) || !CHUNK_UNAVAILABLE.has(e)) throw e;
      last = e;
      fallbacks.push({ node: stored.report.node.name, code: e.code, message: e.message });
    }
  }
  if (last !== undefined) throw new SnapshotError(last.code, `no certified node's snapshot could be fetched (${fallbacks.length} tried); the last: ${last.message}`, { ...(last.file !== undefined ? { file: last.file } : {}), cause: last });
  throw new SnapshotError('NOT_FOUND', `no report in the repository attests the certified snapshot (epoch ${certified.epoch}, digest ${certified.digest}, anchor ${anchorId(certified)})`, { file: store.where(`${epochPrefix(certified.epoch)}${anchorId(certified)}/`) });
}

/**
 * The reports of the certificate's epoch and anchor that attest exactly the certified content
 * (digest, tables, chunks, ranges: the statement's attested bytes), read one at a time, `preferred`
 * first, then by key. Reports that are corrupt or attest something else are skipped.
 */
async function* certifiedReports(store: ObjectStore, certified: Statement, preferred: string | undefined): AsyncGenerator<StoredReport> {
  const anchor = anchorId(certified);
  const want = attestedContentKey(certified);
  const keys = (await scanRepository(store, `${epochPrefix(certified.epoch)}${anchor}/`)).epochs.get(certified.epoch)?.reports ?? [];
  keys.sort();
  if (preferred !== undefined) {
    const first = reportKey(certified.epoch, anchor, preferred);
    const at = keys.indexOf(first);
    if (at < 0) throw new SnapshotError('NOT_FOUND', `no report of node ${JSON.stringify(preferred)} for the certified anchor`, { file: store.where(first) });
    keys.unshift(...keys.splice(at, 1));
  }
  for (const key of keys) {
    const stored = await readStoredReport(store, key).catch(() => undefined);
    if (stored === undefined) continue;
    if (attestedContentKey(statementOf(stored.report, certified.publicKey)) !== want) {
      if (preferred !== undefined && key === keys[0]) throw new SnapshotError('NOT_CERTIFIED', `node ${JSON.stringify(preferred)} published another snapshot (digest ${stored.report.digest}) than the certified one (${certified.digest})`, { file: store.where(key) });
      continue;
    }
    yield stored;
  }
}

/** Errors that name a chunk a node's repository copy cannot deliver: another certified node may. */
const CHUNK_UNAVAILABLE = new WeakSet<SnapshotError>();

/** Fetches the snapshot of one report (see fetchSnapshot). */
async function fetchReported(store: ObjectStore, stored: StoredReport, options: FetchOptions, fallbacks: FetchResult['fallbacks']): Promise<FetchResult> {
  const { out } = options;
  const { report } = stored;
  const staging = join(dirname(out), `.${basename(out)}.fetching`);
  await prepareStaging(staging, stored.bytes, report);
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

  const syncs = new BackgroundSyncs(SYNC_CONCURRENCY);
  const downloads = forEachLimited(expected.keys(), options.concurrency ?? FETCH_CONCURRENCY, async (i) => {
    try {
      await getChunk(i);
      placed[i]!.resolve();
      // Durable before the rename; a chunk found after a crash is re-hashed anyway, never trusted.
      syncs.add(chunkFileName(base, i));
    } catch (e) {
      if (e instanceof SnapshotError && e !== STOPPED) CHUNK_UNAVAILABLE.add(e);
      placed[i]!.reject(e);
      throw e;
    }
  }).finally(() => {
    for (const p of placed) p.reject(STOPPED);
  });
  const inOrder = async function* (): AsyncGenerator<string> {
    for (let i = 0; i < expected.length; i++) {
      await placed[i]!.promise;
      yield chunkFileName(base, i);
    }
  };
  const verifying = verifyChunkFiles(inOrder(), { inWorker: options.verifyInWorker ?? true }).catch((e: unknown) => {
    stopped = true;
    throw e === STOPPED ? e : locateInChunks(e, expected, name, (i) => store.where(keyOf(i)));
  });
  // Whichever fails first is the error; the other is awaited so nothing runs on after return.
  const [d, v] = await Promise.allSettled([downloads, verifying]);
  const synced = await syncs.done().then(() => undefined, (e: unknown) => ({ error: e }));
  if (d.status === 'rejected' && d.reason !== STOPPED) throw d.reason;
  if (v.status === 'rejected') throw v.reason;
  if (d.status === 'rejected') throw d.reason;
  const summary = v.value;
  if (options.certified !== undefined && formatDigest(summary.digest) !== options.certified.digest) {
    throw new SnapshotError('NOT_CERTIFIED', `the fetched snapshot's digest ${formatDigest(summary.digest)} is not the certified ${options.certified.digest}`, { file: store.where(stored.key) });
  }
  if (formatDigest(summary.digest) !== report.digest) {
    throw new SnapshotError('CHECKSUM_MISMATCH', `the fetched snapshot's digest ${formatDigest(summary.digest)} is not the report's ${report.digest}`, { file: stored.key });
  }
  report.tables.forEach((t, i) => {
    const got = summary.tables[i];
    if (got === undefined || formatDigest(got.digest) !== t.digest || String(got.entries) !== t.entries) {
      throw new SnapshotError('CHECKSUM_MISMATCH', `table ${t.name}: the snapshot holds ${got === undefined ? 'no such table' : `${got.entries} entries, digest ${formatDigest(got.digest)}`}, the report says ${t.entries} entries, digest ${t.digest}`, { file: store.where(stored.key) });
    }
  });
  if (synced !== undefined) throw synced.error;
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
    fallbacks,
  };
}

/** The node's report for the epoch: under the given anchor id, or the only anchor holding one. */
async function findReport(store: ObjectStore, epoch: string, name: string, anchorId: string | undefined): Promise<StoredReport> {
  const node = encodeNodeName(name);
  const anchors: string[] = [];
  if (anchorId !== undefined) anchors.push(anchorId);
  else {
    const keys = (await scanRepository(store, epochPrefix(epoch))).epochs.get(epoch);
    for (const key of keys?.reports ?? []) {
      const parsed = parseKey(key);
      if (parsed?.kind === 'report' && parsed.node === node) anchors.push(parsed.anchorId);
    }
  }
  const found: StoredReport[] = [];
  for (const a of anchors) {
    const r = await readStoredReport(store, reportKey(epoch, a, name));
    if (r !== undefined) found.push(r);
  }
  if (found.length === 0) throw new SnapshotError('NOT_FOUND', `no report of node ${JSON.stringify(name)} for epoch ${epoch}${anchorId !== undefined ? ` and anchor ${anchorId}` : ''}`, { file: store.where(epochPrefix(epoch)) });
  if (found.length > 1) {
    throw new SnapshotError('INVALID_ARGUMENT', `node ${JSON.stringify(name)} published epoch ${epoch} under ${found.length} anchors; choose one with --anchor-id: ${found.map((r) => r.key.split('/')[3]).join(', ')}`);
  }
  const r = found[0]!;
  if (r.report.chunks.length > 0 && r.report.chunks.some((c) => !Number.isSafeInteger(c.bytes))) throw new SnapshotError('BAD_REPORT', 'chunk sizes beyond 2^53', { file: store.where(r.key) });
  return r;
}

/**
 * Creates the staging directory, or resumes it when it holds a report of the same snapshot (the
 * same chunks: the same report, or another certified node's after a fallback); a stale one is
 * emptied. Chunks kept are re-hashed before use, never trusted.
 */
async function prepareStaging(staging: string, reportBytes: Uint8Array, report: DigestReport): Promise<void> {
  const previous = await readFile(join(staging, REPORT_NAME)).catch(() => undefined);
  if (previous !== undefined && Buffer.from(reportBytes).equals(previous)) return;
  if (previous === undefined || !sameChunks(previous, report)) {
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
  }
  await writeFile(join(staging, REPORT_NAME), reportBytes).catch((e: unknown) => {
    throw writeError(join(staging, REPORT_NAME), e);
  });
}

function sameChunks(previousBytes: Uint8Array, report: DigestReport): boolean {
  try {
    const p = JSON.parse(new TextDecoder().decode(previousBytes)) as Partial<DigestReport>;
    return p.cursor?.eventIdHex === report.cursor.eventIdHex && JSON.stringify(p.chunks) === JSON.stringify(report.chunks);
  } catch {
    return false;
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
  let h: FileHandle | undefined = await open(part, 'w').catch((e: unknown) => {
    throw writeError(part, e);
  });
  // Each piece is hashed as it arrives and written behind it: the socket is read on while writes run.
  const writer = new ChunkFileWriter(h, (e) => writeError(part, e));
  try {
    for await (const piece of body) {
      check.update(piece);
      await writer.add(piece);
    }
    await writer.flush();
    const problem = chunkProblem(check, expected);
    if (problem !== undefined) return problem;
    await h.close();
    h = undefined;
    return writer.position;
  } finally {
    if (h !== undefined) {
      await writer.settle();
      await h.close();
    }
  }
}

/**
 * fsyncs of placed chunk files, run in the background at most `limit` at a time; `done` waits for
 * all of them and throws the first failure (naming its file).
 */
class BackgroundSyncs {
  readonly #limit: number;
  readonly #all: Promise<void>[] = [];
  readonly #waiting: (() => void)[] = [];
  #running = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  add(file: string): void {
    const p = (async () => {
      // A finished sync hands its slot to the next waiting one.
      if (this.#running >= this.#limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
      else this.#running++;
      try {
        await syncFile(file);
      } finally {
        const next = this.#waiting.shift();
        if (next !== undefined) next();
        else this.#running--;
      }
    })();
    p.catch(() => undefined); // observed by done()
    this.#all.push(p);
  }

  async done(): Promise<void> {
    const failed = (await Promise.allSettled(this.#all)).find((r) => r.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  }
}

async function syncFile(file: string): Promise<void> {
  const h = await open(file, 'r+').catch((e: unknown) => {
    throw writeError(file, e);
  });
  try {
    await h.sync().catch((e: unknown) => {
      throw writeError(file, e);
    });
  } finally {
    await h.close();
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
