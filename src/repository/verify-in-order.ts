import { closeSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { SnapshotDecoder } from '../format/decoder.js';
import { loadHasher } from '../format/digest.js';
import type { SnapshotSummary } from '../format/encoder.js';
import { SnapshotError } from '../format/errors.js';
import { openRegularFileSync } from '../format/regular-file.js';

/**
 * Bytes read from a chunk file at a time: small enough that the piece is still in the L2 cache
 * while the decoder scans and hashes it (the reader's READ_BYTES, for the same reason).
 */
const READ_BYTES = 128 << 10;
/** Read buffers kept for reuse once the decoder has consumed them. */
const POOLED_BUFFERS = 4;

/**
 * Decodes chunk files as one snapshot, in the order they are given, as each arrives (the full
 * decoder: structure, key order, limits, table digests, trailers and the chain). The files are read
 * with synchronous calls into a few reused buffers (they were just written, so the page cache
 * serves them in microseconds, where an asynchronous read costs a thread-pool round trip, and a
 * fresh buffer per read costs its allocation and the collector's time). Offsets in errors count
 * from the start of the whole stream.
 */
export async function decodeChunkFiles(files: AsyncIterable<string>): Promise<SnapshotSummary> {
  await loadHasher();
  const free: ArrayBuffer[] = [];
  const owned = new WeakSet<ArrayBufferLike>();
  const release = (piece: Uint8Array): void => {
    if (owned.has(piece.buffer) && free.length < POOLED_BUFFERS && !free.includes(piece.buffer as ArrayBuffer)) free.push(piece.buffer as ArrayBuffer);
  };
  const decoder = new SnapshotDecoder({}, { transientEntries: true, onPieceConsumed: release });
  for await (const file of files) {
    const { fd } = openRegularFileSync(file);
    try {
      for (;;) {
        let buffer = free.pop();
        if (buffer === undefined) {
          buffer = new ArrayBuffer(READ_BYTES);
          owned.add(buffer);
        }
        const piece = new Uint8Array(buffer);
        let bytesRead: number;
        try {
          bytesRead = readSync(fd, piece, 0, piece.length, null);
        } catch (e) {
          throw new SnapshotError('IO_ERROR', `cannot read ${file}: ${(e as Error).message}`, { file, cause: e });
        }
        if (bytesRead === 0) {
          free.push(buffer);
          break;
        }
        decoder.push(piece.subarray(0, bytesRead));
      }
    } finally {
      closeSync(fd);
    }
  }
  return decoder.end();
}

/** What the worker posts: the summary, or the decoder's error as plain fields. */
export type VerifyOutcome = { readonly summary: SnapshotSummary } | { readonly error: { code: SnapshotError['code']; message: string; offset: number | undefined; file: string | undefined } | { internal: string } };

/**
 * Verifies a snapshot whose chunk files arrive one by one, in order (the full decoder: structure,
 * key order, limits, table digests, trailers and the chain). With `inWorker` the decoding runs on
 * a worker thread, so that on a machine with a free core it overlaps the downloads and chunk checks
 * of the main thread instead of taking turns with them; memory stays a few read buffers per side.
 * Without it (or where the compiled worker is not at hand, as when the sources run unbuilt under a
 * test runner) it runs here. Offsets in errors count from the start of the whole stream.
 */
export async function verifyChunkFiles(files: AsyncIterable<string>, options: { inWorker: boolean }): Promise<SnapshotSummary> {
  const workerUrl = new URL('./verify-worker.js', import.meta.url);
  if (!options.inWorker || !import.meta.url.endsWith('.js')) return decodeChunkFiles(files);
  const worker = new Worker(workerUrl);
  try {
    const outcome = new Promise<VerifyOutcome>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new SnapshotError('IO_ERROR', `the verifying worker exited (${code}) before it answered`)));
    });
    // Feed the files as they are placed. A file that never comes (its download failed) ends the
    // wait with that failure; the worker's answer (an error found early) ends it without the rest.
    const feeding = (async () => {
      for await (const file of files) worker.postMessage({ file });
      worker.postMessage({ end: true });
    })();
    feeding.catch(() => undefined);
    const r = await Promise.race([outcome, feeding.then(() => outcome)]);
    if ('summary' in r) return r.summary;
    if ('internal' in r.error) throw new Error(r.error.internal);
    const e = r.error;
    throw new SnapshotError(e.code, e.message, { ...(e.offset !== undefined ? { offset: e.offset } : {}), ...(e.file !== undefined ? { file: e.file } : {}) });
  } finally {
    await worker.terminate();
  }
}
