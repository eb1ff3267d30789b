import { once } from 'node:events';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import type { ChunkSummary } from './encoder.js';
import { SnapshotError } from './errors.js';

/** Where a writer puts its chunks. Calls come in order; a returned promise is awaited (backpressure). */
export interface SnapshotSink {
  /**
   * True when the sink has finished with the bytes once `write` has settled, so the writer may
   * reuse their buffer. Defaults to false (a stream may still queue them).
   */
  readonly doneWithBytesOnWrite?: boolean;
  write(bytes: Uint8Array): void | Promise<void>;
  endChunk?(chunk: ChunkSummary, last: boolean): void | Promise<void>;
  /** Makes the output final (e.g. fsync and rename); called once, after the last chunk. */
  close(): Promise<void>;
  /** Discards the output: nothing partial may remain under a final name. */
  abort(): Promise<void>;
}

/** A sink that keeps nothing: for computing digests only. */
export function nullSink(): SnapshotSink {
  return { doneWithBytesOnWrite: true, write() {}, async close() {}, async abort() {} };
}

/** Writes to any Node writable, honouring its backpressure. The caller owns ending the stream. */
export function streamSink(stream: Writable): SnapshotSink {
  return {
    write(bytes) {
      if (!stream.write(bytes)) return once(stream, 'drain').then(() => undefined);
    },
    async close() {},
    async abort() {},
  };
}

/** Bytes written between background data syncs of a file sink. */
const SYNC_EVERY = 32 << 20;

/** The name of chunk `index` when chunks go to separate files: `<path>.000007`. */
export function chunkFileName(path: string, index: number): string {
  return `${path}.${String(index).padStart(6, '0')}`;
}

/**
 * Writes atomically to `path`: into a temporary file beside it, fsynced, then renamed, so a
 * crash never leaves a partial file under the final name. With `chunkFiles`, each chunk goes to
 * its own file (`chunkFileName`), all renamed into place only after the last chunk is complete.
 */
export function fileSink(path: string, options: { chunkFiles?: boolean } = {}): SnapshotSink {
  const chunkFiles = options.chunkFiles ?? false;
  const temps: { temp: string; final: string }[] = [];
  let handle: FileHandle | undefined;
  let position = 0;

  const openNext = async (): Promise<FileHandle> => {
    const final = chunkFiles ? chunkFileName(path, temps.length) : path;
    const temp = join(dirname(final), `.${basename(final)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
    temps.push({ temp, final });
    try {
      handle = await open(temp, 'wx');
    } catch (e) {
      throw ioError(`cannot create ${temp}`, temp, e);
    }
    position = 0;
    return handle;
  };
  // Data is flushed to disk in the background every SYNC_EVERY bytes, so that the final fsync
  // (which must finish before the rename) has little left to do: disk flush overlaps encoding.
  let unsynced = 0;
  let syncing: Promise<void> | undefined;
  const closeCurrent = async (): Promise<void> => {
    if (handle === undefined) return;
    const h = handle;
    handle = undefined;
    await syncing;
    syncing = undefined;
    unsynced = 0;
    await h.sync();
    await h.close();
  };

  return {
    doneWithBytesOnWrite: true,
    async write(bytes) {
      const h = handle ?? (await openNext());
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await h.write(bytes, done, bytes.length - done, position);
        done += bytesWritten;
        position += bytesWritten;
      }
      unsynced += bytes.length;
      if (unsynced >= SYNC_EVERY) {
        unsynced = 0;
        const previous = syncing;
        syncing = (async () => {
          await previous;
          await h.datasync();
        })();
        syncing.catch(() => undefined); // surfaced by the await in closeCurrent
      }
    },
    async endChunk() {
      if (chunkFiles) await closeCurrent();
    },
    async close() {
      try {
        await closeCurrent();
        for (const { temp, final } of temps) await rename(temp, final);
        await syncDirectory(dirname(path));
      } catch (e) {
        await this.abort();
        throw ioError(`cannot complete ${path}`, path, e);
      }
    },
    async abort() {
      await handle?.close().catch(() => undefined);
      handle = undefined;
      for (const { temp } of temps) await unlink(temp).catch(() => undefined);
    },
  };
}

/** fsyncs a directory, making renames and links in it durable (best effort). */
export async function syncDirectory(dir: string): Promise<void> {
  // Makes the renames durable; some file systems refuse fsync on directories, which is harmless.
  const h = await open(dir, 'r').catch(() => undefined);
  if (h === undefined) return;
  await h.sync().catch(() => undefined);
  await h.close();
}

function ioError(message: string, file: string, cause: unknown): SnapshotError {
  if (cause instanceof SnapshotError) return cause;
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new SnapshotError('IO_ERROR', `${message}${detail}`, { file, cause });
}
