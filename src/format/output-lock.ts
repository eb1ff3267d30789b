import { closeSync, linkSync, lstatSync, openSync, readSync, renameSync, unlinkSync, writeSync, constants } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SnapshotError } from './errors.js';

/**
 * One writer per output at a time. A write removes, after its commit, the chunk files of its
 * destination that the new content does not name (sinks.ts); a second writer of the same
 * destination may by then have written, or chosen to keep, chunk files that its own commit is
 * about to name, and two overlapping runs (a cron job that outlived its period) left the
 * destination naming removed files. So a write holds the lock file `.<name>.lock` beside its
 * destination from before its first byte until its cleanup is done. The lock is created with
 * O_EXCL and holds the writer's process id: a second writer refuses (OUTPUT_BUSY, exit 74)
 * while that process lives, and takes over the lock of a process that is gone (killed with -9).
 */
export interface OutputLock {
  /** Removes the lock file, if it is still this lock's. */
  release(): void;
}

export function lockName(path: string): string {
  return join(dirname(path), `.${basename(path)}.lock`);
}

/**
 * Takes the lock of output `path`. `aside` is a free name beside it (a temporary file name of
 * the writer's, removed as an orphan if this process dies), where a stale lock is moved before
 * it is removed: only if it is still the file found stale, never a live writer's new lock.
 */
export function lockOutput(path: string, aside: string): OutputLock {
  const lock = lockName(path);
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt === 2) throw lockError(path, lock, e);
      takeOverIfStale(path, lock, aside);
      continue;
    }
    let ino: number;
    try {
      writeSync(fd, `${process.pid}\n`);
      ino = lstatSync(lock).ino;
    } finally {
      closeSync(fd);
    }
    return {
      release() {
        if (lstatSync(lock, { throwIfNoEntry: false })?.ino === ino) unlinkSync(lock);
      },
    };
  }
}

/** Removes the lock file of a writer whose process is gone; refuses (OUTPUT_BUSY) while it lives. */
function takeOverIfStale(path: string, lock: string, aside: string): void {
  const found = lstatSync(lock, { throwIfNoEntry: false });
  if (found === undefined) return; // released meanwhile: try again
  if (!found.isFile()) {
    throw new SnapshotError('INVALID_ARGUMENT', `the lock file of output ${path}, ${lock}, is not a regular file: remove it`, { file: lock });
  }
  const pid = holderOf(lock);
  // A lock without a process id is a writer's between creating and filling it, or one killed
  // there: stale only once it is older than that moment could last.
  if (pid === undefined ? found.mtimeMs > Date.now() - 10_000 : isProcessAlive(pid)) {
    const who = pid === undefined ? 'a process' : pid === process.pid ? 'this process' : `process ${pid}`;
    throw new SnapshotError('OUTPUT_BUSY', `another write to ${path} is in progress (${who} holds ${lock}); run one write to a destination at a time`, { file: path });
  }
  // Stale. Moved aside first, then removed only if it is the file found: another writer may
  // have taken it over and made a new lock in between, which is then put back.
  renameSync(lock, aside);
  if (lstatSync(aside, { throwIfNoEntry: false })?.ino === found.ino) {
    unlinkSync(aside);
    return;
  }
  try {
    linkSync(aside, lock);
  } finally {
    unlinkSync(aside);
  }
  throw new SnapshotError('OUTPUT_BUSY', `another write to ${path} took over its stale lock ${lock} at the same moment`, { file: path });
}

/** The process id a lock file holds, or undefined when it holds none (a write killed before it finished the lock). */
function holderOf(lock: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(lock, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const bytes = Buffer.alloc(32);
    const n = readSync(fd, bytes, 0, bytes.length, 0);
    const m = /^(\d{1,10})\n$/.exec(bytes.toString('latin1', 0, n));
    return m === null ? undefined : Number(m[1]);
  } finally {
    closeSync(fd);
  }
}

function lockError(path: string, lock: string, e: unknown): SnapshotError {
  if (e instanceof SnapshotError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return new SnapshotError('INVALID_ARGUMENT', `the lock file of output ${path}, ${lock}, is a symbolic link: remove it`, { file: lock });
  return new SnapshotError('IO_ERROR', `cannot create the lock file ${lock}: ${(e as Error).message}`, { file: lock, cause: e });
}

/** True while process `pid` exists (ours or another user's). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}
