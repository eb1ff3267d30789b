import { once } from 'node:events';
import { crypto } from './crypto.js';
import { closeSync, lstatSync, openSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { lstat, open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { chunkSetFileName, chunkSetFilePattern, encodeChunkSet, escapeRegExp, readChunkSet } from './chunk-set.js';
import type { ChunkSummary } from './encoder.js';
import { SnapshotError } from './errors.js';
import { dynamicImport } from './dynamic-import.js';

/** Where a writer puts its chunks. Calls come in order; a returned promise is awaited (backpressure). */
export interface SnapshotSink {
  /**
   * True when the sink has finished with the bytes once `write` has settled, so the writer may
   * reuse their buffer. Defaults to false (a stream may still queue them).
   */
  readonly doneWithBytesOnWrite?: boolean;
  /**
   * True when the sink ignores the bytes (digests only): the writer may then leave entry bytes
   * out of what it writes, hashing them where they are. Defaults to false.
   */
  readonly ignoresBytes?: boolean;
  write(bytes: Uint8Array): void | Promise<void>;
  endChunk?(chunk: ChunkSummary, last: boolean): void | Promise<void>;
  /** Makes the output final (e.g. fsync and rename); called once, after the last chunk. */
  close(): Promise<void>;
  /** Discards the output: nothing partial may remain under a final name. */
  abort(): Promise<void>;
}

/** A sink that keeps nothing: for computing digests only. */
export function nullSink(): SnapshotSink {
  return { doneWithBytesOnWrite: true, ignoresBytes: true, write() {}, async close() {}, async abort() {} };
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
  refuseUnlessRegular(path, s);
}

function lstatIfAny(path: string): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}

function refuseUnlessRegular(path: string, s: Stats | undefined): void {
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
  const token = `${process.pid}-${crypto().randomBytes(6).toString('hex')}`;
  // Chunk files renamed after this moment may be another writer's, named by its commit to come
  // (removeUnnamedSetFiles); the margin covers the file system's coarser clock.
  const started = Date.now() - 50;
  const tempName = (suffix: string): string => join(dir, `.${base}.tmp-${token}${suffix}`);
  const temps: string[] = []; // every temporary file created (chunk i is temps[i] with chunkFiles)
  const renamed: string[] = []; // chunk files under their final names, not yet committed
  let prepared: Promise<void> | undefined;
  let handle: FileHandle | undefined; // the one file (without chunkFiles)
  let fd: number | undefined; // the current chunk file
  let position = 0;
  let lastChunk: ChunkSummary | undefined;

  const prepare = (): Promise<void> =>
    (prepared ??= (async () => {
      await checkDestination(path);
      await removeOrphans(dir, base);
    })());
  // Data is flushed to disk in the background every SYNC_EVERY bytes, so that the final fsync
  // (which must finish before the rename) has little left to do: disk flush overlaps encoding.
  let unsynced = 0;
  let syncing: Promise<void> | undefined;
  const writeOne = async (bytes: Uint8Array): Promise<void> => {
    await prepare();
    if (handle === undefined) {
      const temp = tempName('');
      handle = await open(temp, 'wx').catch((e: unknown) => {
        throw ioError(`cannot create ${temp}`, path, e);
      });
      temps.push(temp);
    }
    const h = handle;
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
      syncing.catch(() => undefined); // surfaced by the await in closeOne
    }
  };
  const closeOne = async (): Promise<void> => {
    if (handle === undefined) return;
    const h = handle;
    handle = undefined;
    try {
      await syncing;
      await h.sync();
    } finally {
      await h.close();
    }
  };
  // Chunk files use synchronous calls: with 4 KiB chunks, a thread-pool round trip for each
  // open, write, close and rename was most of the time. A call blocks for one buffer at most.
  const writeChunk = async (bytes: Uint8Array): Promise<void> => {
    if (fd === undefined) {
      await prepare();
      const temp = tempName(`.${String(temps.length).padStart(6, '0')}`);
      try {
        fd = openSync(temp, 'wx');
      } catch (e) {
        throw ioError(`cannot create ${temp}`, path, e);
      }
      temps.push(temp);
    }
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
  };
  const closeChunk = (): void => {
    if (fd === undefined) return;
    const f = fd;
    fd = undefined;
    closeSync(f);
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
    // Checked again: it may have been replaced while we wrote. Synchronous, so that nothing runs
    // between the check and the rename, and every rename of a sink happens on the main thread.
    refuseUnlessRegular(path, lstatIfAny(path));
    renameSync(temp, path);
    await syncDirectory(dir);
    temps.length = 0;
    renamed.length = 0;
  };

  return {
    doneWithBytesOnWrite: true,
    async write(bytes) {
      try {
        await (chunkFiles ? writeChunk(bytes) : writeOne(bytes));
      } catch (e) {
        throw ioError(`cannot write ${path}`, path, e);
      }
    },
    endChunk(chunk) {
      lastChunk = chunk;
      try {
        if (chunkFiles) closeChunk();
      } catch (e) {
        throw ioError(`cannot write ${path}`, path, e);
      }
    },
    async close() {
      try {
        if (!chunkFiles || lastChunk === undefined) {
          await closeOne();
          await commit(temps[0]!);
        } else {
          closeChunk();
          // Durable before their renames; the renames are durable (directory fsync) before the set names them.
          await syncChunkFiles(dir, temps);
          const digest = lastChunk.digest;
          const names = temps.map((_, i) => chunkSetFileName(path, digest, i));
          for (const [i, final] of names.entries()) {
            refuseUnlessRegular(final, lstatIfAny(final));
            renameSync(temps[i]!, final);
            renamed.push(final);
          }
          temps.length = 0;
          await syncDirectory(dir);
          await commit(await writeTemp(encodeChunkSet(digest, names)));
        }
      } catch (e) {
        await this.abort();
        throw ioError(`cannot complete ${path}`, path, e);
      }
      // Committed: leftovers are only clutter. Our temporary names are free now, one serves as the aside.
      await removeUnnamedSetFiles(path, undefined, { changedBefore: started, aside: tempName('.000000') }).catch(() => undefined);
    },
    async abort() {
      await handle?.close().catch(() => undefined);
      handle = undefined;
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      for (const temp of temps.splice(0)) await unlink(temp).catch(() => undefined);
      if (renamed.length > 0) await removeUnnamedSetFiles(path, renamed.splice(0)).catch(() => undefined);
    },
  };
}

/**
 * Removes chunk-set files of `path` (chunkSetFilePattern) that `path` does not name now, among
 * `candidates` or, without them, in the whole directory. Does nothing when `path` exists but
 * cannot be read as a snapshot or chunk-set file: what it names is then unknown. With
 * `concurrent` (after a commit), chunk files another writer of `path` may be about to name are
 * kept: those renamed since `changedBefore`, and one renamed in place while it is examined
 * (removing them left that writer's committed set naming missing files).
 */
async function removeUnnamedSetFiles(path: string, candidates?: readonly string[], concurrent?: { changedBefore: number; aside: string }): Promise<void> {
  const dir = dirname(path);
  let named: ReadonlySet<string>;
  try {
    const set = await readChunkSet(path);
    named = new Set(set === undefined ? [] : Array.from({ length: set.files.length }, (_, i) => set.files.name(i)));
  } catch (e) {
    if (!(e instanceof SnapshotError && e.cause !== undefined && (e.cause as NodeJS.ErrnoException).code === 'ENOENT')) return;
    named = new Set();
  }
  const pattern = chunkSetFilePattern(basename(path));
  const names = candidates?.map((c) => basename(c)) ?? (await readdir(dir));
  for (const name of names) {
    if (!pattern.test(name) || named.has(name)) continue;
    const file = join(dir, name);
    if (concurrent === undefined) {
      if ((await lstat(file).catch(() => undefined))?.isFile() === true) await unlink(file).catch(() => undefined);
      continue;
    }
    // A rename sets ctime: a file renamed since this write began is left for a later write.
    const s = lstatIfAny(file);
    if (s?.isFile() !== true || s.ctimeMs >= concurrent.changedBefore) continue;
    // Moved aside, then removed only if it is still the file examined: another writer may have
    // renamed its chunk (of the same digest, so of the same name) here in between.
    renameSync(file, concurrent.aside);
    if (lstatIfAny(concurrent.aside)?.ino === s.ino) unlinkSync(concurrent.aside);
    else renameSync(concurrent.aside, file);
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

/** Chunk files at most this many are fsynced one by one; more, by one sync of their file system. */
const SYNC_EACH_MAX = 16;

/**
 * Makes the chunk files durable. Many small files are synced by syncfs(2) (through coreutils'
 * `sync --file-system`, which Node does not expose): one call instead of thousands of fsyncs
 * (10,000 files: 0.15 s instead of 2.4 s measured here). Falls back to fsync per file.
 */
async function syncChunkFiles(dir: string, files: readonly string[]): Promise<void> {
  if (files.length > SYNC_EACH_MAX) {
    const { execFile } = await dynamicImport<typeof import('node:child_process')>('node:child_process');
    const synced = await new Promise<boolean>((resolve) => execFile('sync', ['--file-system', dir], (e) => resolve(e === null)));
    if (synced) return;
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const h = await open(files[next++]!, 'r');
      try {
        await h.sync();
      } finally {
        await h.close();
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
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
