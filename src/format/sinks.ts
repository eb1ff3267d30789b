import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { lstat, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { chunkSetFileName, chunkSetFilePattern, encodeChunkSet, escapeRegExp, readChunkSet } from './chunk-set.js';
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
/** Chunk files synced and closed in the background at once; more make the writer wait. */
const MAX_SETTLING = 16;

/**
 * The name of chunk `index` in the layout of earlier versions, `<path>.000007`: still read
 * (sources/open.ts), no longer written (see chunk-set.ts for the layout written now).
 */
export function chunkFileName(path: string, index: number): string {
  return `${path}.${String(index).padStart(6, '0')}`;
}

/**
 * Names of the temporary files of a file sink writing `<dir>/<base>`:
 * `.<base>.tmp-<pid>-<12 hex digits>` (chunk files add `.<chunk index>`). A run killed before
 * its rename leaves them; the next sink writing to the same destination removes those whose
 * process is gone.
 */
export function tempFilePattern(base: string): RegExp {
  return new RegExp(`^\\.${escapeRegExp(base)}\\.tmp-(\\d+)-[0-9a-f]{12}(\\.\\d{6,})?$`);
}

/**
 * Refuses to replace what is not a snapshot output: an existing destination must be a regular
 * file. A symbolic link is refused too (rather than followed): an output is written beside the
 * name given, never through a link to somewhere else. Never opens the destination.
 */
export async function checkDestination(path: string): Promise<void> {
  const s = await lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw ioError(`cannot examine ${path}`, path, e);
  });
  if (s === undefined || s.isFile()) return;
  const what = s.isSymbolicLink() ? 'a symbolic link' : s.isDirectory() ? 'a directory' : s.isFIFO() ? 'a FIFO' : s.isSocket() ? 'a socket' : s.isCharacterDevice() ? 'a character device' : s.isBlockDevice() ? 'a block device' : 'not a regular file';
  throw new SnapshotError('INVALID_ARGUMENT', `output ${path} is ${what}: refusing to replace it (outputs replace only regular files; give the real path)`, { file: path });
}

/**
 * Writes atomically to `path`: into a temporary file beside it (`tempFilePattern`), fsynced,
 * then renamed, so a crash never leaves a partial file under the final name. With
 * `chunkFiles`, each chunk goes to its own file and the set is committed by writing `path`
 * last, as a chunk-set file naming them (chunk-set.ts): after a kill at any moment, `path`
 * names the complete previous set or the complete new one. Refuses a destination that exists
 * and is not a regular file (`checkDestination`). Once committed, chunk-set files of `path`
 * that the new content does not name are removed, as are temporary files of dead runs.
 */
export function fileSink(path: string, options: { chunkFiles?: boolean } = {}): SnapshotSink {
  const chunkFiles = options.chunkFiles ?? false;
  const dir = dirname(path);
  const base = basename(path);
  const token = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const tempName = (suffix: string): string => join(dir, `.${base}.tmp-${token}${suffix}`);
  const temps: string[] = []; // every temporary file created (chunk i is temps[i] with chunkFiles)
  const renamed: string[] = []; // chunk files under their final names, not yet committed
  const settling: Promise<void>[] = []; // chunk files being synced and closed in the background
  let prepared: Promise<void> | undefined;
  let handle: FileHandle | undefined;
  let position = 0;
  let lastChunk: ChunkSummary | undefined;

  const openNext = async (): Promise<FileHandle> => {
    await (prepared ??= (async () => {
      await checkDestination(path);
      await removeOrphans(dir, base);
    })());
    const temp = tempName(chunkFiles ? `.${String(temps.length).padStart(6, '0')}` : '');
    try {
      handle = await open(temp, 'wx');
    } catch (e) {
      throw ioError(`cannot create ${temp}`, path, e);
    }
    temps.push(temp);
    position = 0;
    return handle;
  };
  // Data is flushed to disk in the background every SYNC_EVERY bytes, so that the final fsync
  // (which must finish before the rename) has little left to do: disk flush overlaps encoding.
  let unsynced = 0;
  let syncing: Promise<void> | undefined;
  const settle = async (h: FileHandle, pending: Promise<void> | undefined): Promise<void> => {
    try {
      await pending;
      await h.sync();
    } finally {
      await h.close();
    }
  };
  const closeCurrent = async (background: boolean): Promise<void> => {
    if (handle === undefined) return;
    const done = settle(handle, syncing);
    handle = undefined;
    syncing = undefined;
    unsynced = 0;
    if (!background) return done;
    // Small chunks: one fsync per file, awaited in turn, was most of the time (3 ms each here).
    done.catch(() => undefined); // surfaced by close()
    settling.push(done);
    if (settling.length >= MAX_SETTLING) await settling.shift();
  };
  const writeTemp = async (text: string): Promise<string> => {
    const temp = tempName('');
    temps.push(temp);
    const h = await open(temp, 'wx');
    try {
      await h.writeFile(text);
      await h.sync();
    } finally {
      await h.close();
    }
    return temp;
  };
  const commit = async (temp: string): Promise<void> => {
    await checkDestination(path); // again: it may have been replaced while we wrote
    await rename(temp, path);
    await syncDirectory(dir);
    temps.length = 0;
    renamed.length = 0;
  };

  return {
    doneWithBytesOnWrite: true,
    async write(bytes) {
      try {
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
          syncing.catch(() => undefined); // surfaced by the await in settle
        }
      } catch (e) {
        throw ioError(`cannot write ${path}`, path, e);
      }
    },
    async endChunk(chunk) {
      lastChunk = chunk;
      try {
        if (chunkFiles) await closeCurrent(true);
      } catch (e) {
        throw ioError(`cannot write ${path}`, path, e);
      }
    },
    async close() {
      try {
        await closeCurrent(false);
        for (const s of settling.splice(0)) await s;
        if (!chunkFiles || lastChunk === undefined) {
          await commit(temps[0]!);
        } else {
          const digest = lastChunk.digest;
          const names: string[] = [];
          for (const [i, temp] of temps.entries()) {
            const final = chunkSetFileName(path, digest, i);
            await checkDestination(final);
            await rename(temp, final);
            renamed.push(final);
            names.push(final);
          }
          temps.length = 0;
          await syncDirectory(dir); // the chunks are durable under their names before the set names them
          await commit(await writeTemp(encodeChunkSet(digest, names)));
        }
      } catch (e) {
        await this.abort();
        throw ioError(`cannot complete ${path}`, path, e);
      }
      await removeUnnamedSetFiles(path).catch(() => undefined); // committed: leftovers are only clutter
    },
    async abort() {
      await handle?.close().catch(() => undefined);
      handle = undefined;
      await Promise.allSettled(settling.splice(0));
      for (const temp of temps.splice(0)) await unlink(temp).catch(() => undefined);
      if (renamed.length > 0) await removeUnnamedSetFiles(path, renamed.splice(0)).catch(() => undefined);
    },
  };
}

/**
 * Removes chunk-set files of `path` (chunkSetFilePattern) that `path` does not name now, among
 * `candidates` or, without them, in the whole directory. Does nothing when `path` exists but
 * cannot be read as a snapshot or chunk-set file: what it names is then unknown.
 */
async function removeUnnamedSetFiles(path: string, candidates?: readonly string[]): Promise<void> {
  const dir = dirname(path);
  let named: ReadonlySet<string>;
  try {
    const set = await readChunkSet(path);
    named = new Set(set?.files.map((f) => basename(f)) ?? []);
  } catch (e) {
    if (!(e instanceof SnapshotError && e.cause !== undefined && (e.cause as NodeJS.ErrnoException).code === 'ENOENT')) return;
    named = new Set();
  }
  const pattern = chunkSetFilePattern(basename(path));
  const names = candidates?.map((c) => basename(c)) ?? (await readdir(dir));
  for (const name of names) {
    if (!pattern.test(name) || named.has(name)) continue;
    const file = join(dir, name);
    if ((await lstat(file).catch(() => undefined))?.isFile() === true) await unlink(file).catch(() => undefined);
  }
}

/** Removes temporary files of `base` left by runs whose process is gone (never another's live run). */
async function removeOrphans(dir: string, base: string): Promise<void> {
  const pattern = tempFilePattern(base);
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = Number(pattern.exec(name)?.[1] ?? 0);
    if (pid === 0 || pid === process.pid || isAlive(pid)) continue;
    const file = join(dir, name);
    if ((await lstat(file).catch(() => undefined))?.isFile() === true) await unlink(file).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

async function syncDirectory(dir: string): Promise<void> {
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
