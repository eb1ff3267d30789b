/**
 * Opening input files without ever blocking on a special file. Opening a FIFO for reading
 * waits for a writer forever; a character device can stream without end; a socket cannot be
 * opened at all. Every input the tool reads (snapshot and chunk files, checkpoint files, dump
 * files) goes through here: stat first (cheap refusal with the kind named), then open with
 * O_NONBLOCK (which makes opening a FIFO return at once) and fstat the handle, which closes the
 * race of a file replaced between the stat and the open. The chunk files of a set are checked
 * together by their directory's listing instead (checkRegularFilesSync); the reader then fstats
 * one only if a read fills its buffer, so a device put in its place since is refused before it
 * is read on, and a FIFO, opened non-blocking, reads as empty or fails: nothing waits.
 */
import { closeSync, constants, fstatSync, opendirSync, openSync, statSync, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { SnapshotError } from './errors.js';
import type { FileList } from './file-list.js';

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
 * stat, open, fstat, read and close per file cost several times the decoding.
 */
export function openRegularFileSync(path: string): { readonly fd: number; readonly size: number } {
  let before: Stats;
  try {
    before = statSync(path);
  } catch (e) {
    throw fileSystemError(path, e);
  }
  if (!before.isFile()) throw notRegularFile(path, before);
  const fd = openCheckedFileSync(path);
  try {
    return { fd, size: regularFileSize(path, fd) };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/**
 * Opens `path`, which the caller found to be a regular file just before (checkRegularFilesSync),
 * non-blocking: a FIFO put in its place since opens at once and reads as empty or EAGAIN, never
 * waits. The caller reads it with `regularFileSize` or until a read returns less than asked.
 */
export function openCheckedFileSync(path: string): number {
  try {
    return openSync(path, READ_FLAGS);
  } catch (e) {
    throw fileSystemError(path, e);
  }
}

/** The size of the open file `fd` (fstat), refusing anything but a regular file (NOT_REGULAR_FILE). */
export function regularFileSize(path: string, fd: number): number {
  let s: Stats;
  try {
    s = fstatSync(fd);
  } catch (e) {
    throw fileSystemError(path, e);
  }
  if (!s.isFile()) throw notRegularFile(path, s);
  return s.size;
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

/** Lists returned by checkRegularFilesSync: each of their files was checked before it is opened. */
const checkedLists = new WeakSet<FileList>();

/**
 * Refuses (NOT_REGULAR_FILE) a FIFO, socket, device or directory among `paths` before any is
 * opened: the chunk files a chunk-set file names. A missing file is left to the reader
 * (NOT_FOUND once the bytes before it verified). Files of one directory are checked by the
 * types its listing gives (d_type, no stat: a Stats object per 4 KiB chunk file was the bulk of
 * the memory a chunk set cost); a symbolic link, an entry of unknown type or a special file is
 * stat'ed, for its target or for the kind the message names. The list returned is marked
 * (`wasChecked`), so a reader opens and reads each file without a stat (reader.ts, readFiles):
 * an array is copied first (its caller could change it after the check), a FileList that is not
 * an array (a chunk set's, which cannot change) is marked as it is.
 */
export function checkRegularFilesSync(paths: FileList): FileList {
  const listed = listedRegularFiles(paths);
  for (let i = 0; i < paths.length; i++) {
    const found = listed?.types[i];
    if (found === REGULAR) continue;
    const path = paths.at(i)!;
    // Unlisted in a whole listing: missing, if the listing could have matched it (its name ends in its index).
    if (found === UNLISTED && listed?.complete === true && trailingNumber(path) === i) continue;
    statRegularFileSync(path);
  }
  const list = Array.isArray(paths) ? [...(paths as readonly string[])] : paths;
  checkedLists.add(list);
  return list;
}

/** True for a list checkRegularFilesSync returned. */
export function wasChecked(paths: FileList): boolean {
  return checkedLists.has(paths);
}

const UNLISTED = 0;
const REGULAR = 1;
const OTHER = 2;

/**
 * For paths that all lie in one directory and end in their index (`….000123`, as chunk files
 * do): each one's type as the directory lists it (REGULAR: a regular file, not a link), and
 * whether the whole directory was read. Reading stops after a few entries more than asked for
 * (a directory holding many other files costs no more than stats would); undefined for paths in
 * several directories. Entries are matched by the index their name ends in, so nothing is kept
 * per entry but a byte.
 */
function listedRegularFiles(paths: FileList): { types: Uint8Array; complete: boolean } | undefined {
  if (paths.length < 16) return undefined; // a few stats cost less than a listing
  const dir = paths.directory ?? commonDirectory(paths);
  if (dir === undefined) return undefined;
  const types = new Uint8Array(paths.length);
  let complete = false;
  let handle;
  try {
    handle = opendirSync(dir === '' ? '.' : dir, { bufferSize: 1024 });
  } catch {
    return undefined; // the stats say why
  }
  try {
    for (let budget = 2 * paths.length + 1024; budget > 0; budget--) {
      const entry = handle.readSync();
      if (entry === null) {
        complete = true;
        break;
      }
      const name = entry.name;
      const index = trailingNumber(name);
      if (index < 0 || index >= paths.length) continue;
      const path = paths.isName === undefined ? paths.at(index)! : undefined;
      if (path === undefined ? paths.isName!(index, name) : path.length === dir.length + name.length && path.endsWith(name)) types[index] = entry.isFile() ? REGULAR : OTHER;
    }
  } catch {
    return undefined;
  } finally {
    handle.closeSync();
  }
  return { types, complete };
}

/** The directory all `paths` lie in ('' or ending with '/'), or undefined when they lie in several. */
function commonDirectory(paths: FileList): string | undefined {
  const first = paths.at(0)!;
  const cut = first.lastIndexOf('/');
  const dir = cut < 0 ? '' : first.slice(0, cut + 1);
  for (const p of paths) if (p.lastIndexOf('/') !== cut || !p.startsWith(dir)) return undefined;
  return dir;
}

/** The decimal number a name ends in after a dot (`….000123` is 123), or -1. */
function trailingNumber(name: string): number {
  let value = 0;
  let scale = 1;
  let i = name.length - 1;
  for (; i >= 0; i--) {
    const c = name.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    value += c * scale;
    scale *= 10;
    if (scale > 1e15) return -1;
  }
  return i < name.length - 1 && i >= 0 && name.charCodeAt(i) === 46 ? value : -1;
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
