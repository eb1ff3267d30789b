import { open } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { SnapshotSummary } from '../format/encoder.js';
import { SnapshotError } from '../format/errors.js';
import { verifySnapshot } from '../format/reader.js';

/** Bytes read from a chunk file at a time. */
const READ_BYTES = 1 << 20;

/** The bytes of chunk files, in the order the files are given, read 1 MiB at a time. */
export async function* chunkFilePieces(files: AsyncIterable<string>): AsyncGenerator<Uint8Array> {
  for await (const file of files) {
    const h = await open(file, 'r');
    try {
      for (;;) {
        // A fresh buffer per read: the decoder may keep a view of a piece across reads.
        const buffer = new Uint8Array(READ_BYTES);
        const { bytesRead } = await h.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) break;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      await h.close();
    }
  }
}

/** What the worker posts: the summary, or the decoder's error as plain fields. */
export type VerifyOutcome = { readonly summary: SnapshotSummary } | { readonly error: { code: SnapshotError['code']; message: string; offset: number | undefined; file: string | undefined } | { internal: string } };

/**
 * Verifies a snapshot whose chunk files arrive one by one, in order (the full decoder: structure,
 * key order, limits, table digests, trailers and the chain). With `inWorker` the decoding runs on
 * a worker thread, so that on a machine with a free core it overlaps the downloads and chunk checks
 * of the main thread instead of taking turns with them; memory stays one read buffer per side.
 * Without it (or where the compiled worker is not at hand, as when the sources run unbuilt under a
 * test runner) it runs here. Offsets in errors count from the start of the whole stream.
 */
export async function verifyChunkFiles(files: AsyncIterable<string>, options: { inWorker: boolean }): Promise<SnapshotSummary> {
  const workerUrl = new URL('./verify-worker.js', import.meta.url);
  if (!options.inWorker || !import.meta.url.endsWith('.js')) return verifySnapshot(chunkFilePieces(files));
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
