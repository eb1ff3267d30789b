/**
 * The output directory of a restore, made atomically: files are written into a hidden sibling
 * directory, synced, and the directory is renamed onto the target at the end. A failure (or a
 * crash) leaves at most that hidden directory, which has no CURRENT file until the snapshot has
 * verified, so nothing RocksDB could open as a database (killed between CURRENT and the rename,
 * a complete one under the hidden name, which the next restore to the same target removes).
 */
import { crypto } from '../format/crypto.js';
import { isProcessAlive } from '../format/output-lock.js';
import { closeSync, fdatasync as fdatasyncCb, fsync as fsyncCb, openSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { SnapshotError } from '../format/errors.js';

/** fsync(2) on the thread pool: it waits for the disk. */
export const fsync = promisify(fsyncCb);
/** fdatasync(2) on the thread pool (table files written while they are built). */
export const fdatasync = promisify(fdatasyncCb);

/** Maps a file-system failure to IO_ERROR with the file named. */
export function ioError(e: unknown, file: string, doing: string): SnapshotError {
  if (e instanceof SnapshotError) return e;
  return new SnapshotError('IO_ERROR', `cannot ${doing} ${file}: ${(e as Error).message}`, { file, cause: e });
}

/** Refuses a target that exists and is not an empty directory (OUTPUT_EXISTS). */
export async function checkTarget(to: string): Promise<void> {
  let s;
  try {
    s = await stat(to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw ioError(e, to, 'inspect');
  }
  if (!s.isDirectory()) throw new SnapshotError('OUTPUT_EXISTS', `${to} exists and is not a directory`, { file: to });
  const entries = await readdir(to).catch((e: unknown) => {
    throw ioError(e, to, 'list');
  });
  if (entries.length > 0) throw new SnapshotError('OUTPUT_EXISTS', `${to} exists and is not empty (${entries.length} entries)`, { file: to });
}

const tempPrefix = (to: string): string => `.${basename(to)}.restore-`;

/** A hidden temporary directory beside `to`, on the same file system so the final rename is atomic. */
export async function makeTempDir(to: string): Promise<string> {
  const tmp = join(dirname(to), `${tempPrefix(to)}${process.pid}-${crypto().randomBytes(4).toString('hex')}`);
  try {
    await mkdir(tmp);
  } catch (e) {
    throw ioError(e, tmp, 'create');
  }
  return tmp;
}

/**
 * Writes all of `bytes` at `position`: write(2) may write less (a file system that fills up
 * takes what fits and answers ENOSPC only to the next call), so it is called until done.
 * Synchronous: on cached pages a write costs microseconds, an async one a thread-pool round trip.
 */
export function writeAllSync(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.length; ) {
    const n = writeSync(fd, bytes, done, bytes.length - done, position + done);
    if (n <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    done += n;
  }
}

/** Writes a whole small file (exclusive create, fsync). */
export async function writeNewFile(path: string, bytes: Uint8Array): Promise<void> {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'wx');
    writeAllSync(fd, bytes, 0);
    await fsync(fd);
  } catch (e) {
    throw ioError(e, path, 'write');
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/**
 * Makes `tmp` appear as `to`: syncs it, renames it (rename(2) replaces an empty directory and
 * fails on a non-empty one: OUTPUT_EXISTS if the target filled up meanwhile), syncs the parent.
 */
export async function commitDir(tmp: string, to: string): Promise<void> {
  try {
    await syncDir(tmp);
    await rename(tmp, to);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') {
      throw new SnapshotError('OUTPUT_EXISTS', `${to} appeared while restoring; nothing was written there`, { file: to, cause: e });
    }
    throw ioError(e, to, 'rename into');
  }
  await syncDir(dirname(to)).catch(() => undefined); // best effort: some file systems refuse directory fsync
}

/**
 * Removes what killed restores to `to` left: temporary directories (our naming only) whose
 * process is gone. A running restore's, this process's included, is left alone.
 */
export async function removeStaleTempDirs(to: string): Promise<void> {
  const prefix = tempPrefix(to);
  const names = await readdir(dirname(to)).catch(() => [] as string[]);
  for (const name of names) {
    const m = name.startsWith(prefix) ? /^(\d+)-[0-9a-f]{8}$/.exec(name.slice(prefix.length)) : null;
    if (m !== null && !isProcessAlive(Number(m[1]))) await discardDir(join(dirname(to), name));
  }
}

/** Removes the temporary directory after a failure. */
export async function discardDir(tmp: string): Promise<void> {
  await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
}
