/**
 * Opening input files without ever blocking on a special file. Opening a FIFO for reading
 * waits for a writer forever; a character device can stream without end; a socket cannot be
 * opened at all. Every input the tool reads (snapshot and chunk files, checkpoint files, dump
 * files) goes through here: stat first (cheap refusal with the kind named), then open with
 * O_NONBLOCK (which makes opening a FIFO return at once) and fstat the handle, which closes the
 * race of a file replaced between the stat and the open.
 */
import { closeSync, constants, fstatSync, openSync, statSync, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { SnapshotError } from './errors.js';

/** O_NONBLOCK has no effect on regular files; on a FIFO it keeps open(2) from waiting for a writer. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/** The kind of a non-regular file, for messages ("a FIFO", "a character device", …). */
export function fileKind(s: Stats): string {
  if (s.isFile()) return 'a regular file';
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/** True for what must never be opened for reading: FIFOs, sockets and devices. */
export function isSpecialFile(s: Stats): boolean {
  return s.isFIFO() || s.isSocket() || s.isCharacterDevice() || s.isBlockDevice();
}

/** The NOT_REGULAR_FILE error: `path` exists but is not a regular file. */
export function notRegularFile(path: string, s: Stats): SnapshotError {
  return new SnapshotError('NOT_REGULAR_FILE', `${path} is not a regular file (it is ${fileKind(s)}); refused without opening it`, { file: path });
}

/** Maps a Node file-system error on `path` to NOT_FOUND or IO_ERROR. */
export function fileSystemError(path: string, e: unknown): SnapshotError {
  if (e instanceof SnapshotError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new SnapshotError('NOT_FOUND', `${path} does not exist`, { file: path, cause: e });
  }
  return new SnapshotError('IO_ERROR', `cannot read ${path}: ${(e as Error)?.message ?? String(e)}`, { file: path, cause: e });
}

/** An open regular file and its size as fstat saw it. */
export interface RegularFile {
  readonly handle: FileHandle;
  readonly size: number;
}

/**
 * Opens `path` read-only if and only if it is a regular file (symbolic links are followed).
 * Throws NOT_REGULAR_FILE for FIFOs, sockets, devices and directories, never having opened a
 * FIFO or socket; NOT_FOUND when it is missing; IO_ERROR for other failures.
 */
export async function openRegularFile(path: string): Promise<RegularFile> {
  let before: Stats;
  try {
    before = await stat(path);
  } catch (e) {
    throw fileSystemError(path, e);
  }
  if (!before.isFile()) throw notRegularFile(path, before);
  let handle: FileHandle;
  try {
    handle = await open(path, READ_FLAGS);
  } catch (e) {
    throw fileSystemError(path, e);
  }
  try {
    const s = await handle.stat();
    if (!s.isFile()) throw notRegularFile(path, s);
    return { handle, size: s.size };
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw fileSystemError(path, e);
  }
}

/**
 * The same checks as openRegularFile with synchronous calls, returning a file descriptor: for
 * readers that open thousands of small files in a row (4 KiB chunk files), where an async
 * stat, open, fstat, read and close per file cost several times the decoding. `statted`: the
 * caller has just stat'ed `path` as a regular file (checkRegularFilesSync), so the stat before
 * the open is not repeated; the fstat after it still refuses a file replaced since.
 */
export function openRegularFileSync(path: string, statted = false): { readonly fd: number; readonly size: number } {
  if (!statted) {
    let before: Stats;
    try {
      before = statSync(path);
    } catch (e) {
      throw fileSystemError(path, e);
    }
    if (!before.isFile()) throw notRegularFile(path, before);
  }
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (e) {
    throw fileSystemError(path, e);
  }
  try {
    const s = fstatSync(fd);
    if (!s.isFile()) throw notRegularFile(path, s);
    return { fd, size: s.size };
  } catch (e) {
    closeSync(fd);
    throw fileSystemError(path, e);
  }
}

/**
 * Stats `path` (following symbolic links) and refuses anything but a regular file, without
 * opening it: for files that are listed or checked, not read. Returns undefined when missing.
 */
export async function statRegularFile(path: string): Promise<Stats | undefined> {
  return regularStat(path, await stat(path).catch((e: unknown) => statFailure(path, e)));
}

/** statRegularFile with a synchronous stat: for checking thousands of chunk files a set names. */
export function statRegularFileSync(path: string): Stats | undefined {
  let s: Stats | undefined;
  try {
    s = statSync(path);
  } catch (e) {
    s = statFailure(path, e);
  }
  return regularStat(path, s);
}

/** Lists returned by checkRegularFilesSync: each of their files was stat'ed before it is opened. */
const statted = new WeakSet<readonly string[]>();

/**
 * Stats every path and refuses (NOT_REGULAR_FILE) a FIFO, socket, device or directory among
 * them before any is opened: the chunk files a chunk-set file names. A missing file is left to
 * the reader (NOT_FOUND once the bytes before it verified). The list returned is marked as
 * stat'ed (`wasStatted`), so a reader opens each file with one open and one fstat, not a
 * second stat: at 4 KiB a chunk, a stat costs about a third of reading the file.
 */
export function checkRegularFilesSync(paths: readonly string[]): readonly string[] {
  for (const p of paths) statRegularFileSync(p);
  const list = [...paths];
  statted.add(list);
  return list;
}

/** True for a list checkRegularFilesSync returned. */
export function wasStatted(paths: readonly string[]): boolean {
  return statted.has(paths);
}

/** A missing file is undefined; any other failure is thrown as NOT_FOUND or IO_ERROR. */
function statFailure(path: string, e: unknown): undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
  throw fileSystemError(path, e);
}

function regularStat(path: string, s: Stats | undefined): Stats | undefined {
  if (s !== undefined && !s.isFile()) throw notRegularFile(path, s);
  return s;
}
