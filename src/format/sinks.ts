import { once } from 'node:events';
import { crypto } from './crypto.js';
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { lstat, open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { chunkIndexDigits, chunkSetFileName, chunkSetFilePattern, encodeChunkSet, escapeRegExp, readChunkSet } from './chunk-set.js';
import type { ChunkSummary } from './encoder.js';
import { SnapshotError } from './errors.js';
import { dynamicImport } from './dynamic-import.js';
import { isProcessAlive, lockOutput, type OutputLock } from './output-lock.js';

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
/** A file sink gathers writes of at most GATHER_LIMIT bytes into one of GATHER_BYTES. */
const GATHER_BYTES = 1 << 20;
const GATHER_LIMIT = 64 << 10;

/**
 * The name of chunk `index` in the layout of earlier versions, `<path>.000007`: still read
 * (sources/open.ts), no longer written (see chunk-set.ts for the layout written now).
 */
export function chunkFileName(path: string, index: number): string {
  return `${path}.${chunkIndexDigits(index)}`;
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

function unlinkIfAny(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already, or not ours to remove
  }
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
 * `chunkFiles`, each chunk goes to its own file (`chunkFileWriter`) and the set is committed by
 * writing `path` last, as a chunk-set file naming them (chunk-set.ts): after a kill at any
 * moment, `path` names the complete previous set or the complete new one. Refuses a destination
 * that exists and is not a regular file (`checkDestination`). Once committed, chunk-set files
 * of `path` that the new content does not name are removed, as are temporary files of dead runs.
 */
export function fileSink(path: string, options: { chunkFiles?: boolean; /** @internal For tests: SMALL_CHUNK_BYTES. */ smallChunkBytes?: number } = {}): SnapshotSink {
  const chunkFiles = options.chunkFiles ?? false;
  const dir = dirname(path);
  const base = basename(path);
  const token = `${process.pid}-${crypto().randomBytes(6).toString('hex')}`;
  const tempName = (suffix: string): string => join(dir, `.${base}.tmp-${token}${suffix}`);
  const temps: string[] = []; // temporary files that exist now
  let prepared: Promise<void> | undefined;
  let handle: FileHandle | undefined; // the one file (without chunkFiles)
  let position = 0;

  let lock: OutputLock | undefined;
  const release = (): void => {
    lock?.release();
    lock = undefined;
  };
  const prepare = (): Promise<void> =>
    (prepared ??= (async () => {
      await checkDestination(path);
      lock = lockOutput(path, tempName('')); // the temporary file's name is free until the first write
      await removeOrphans(dir, base);
    })());
  const chunks = chunkFiles ? chunkFileWriter(path, tempName, options.smallChunkBytes ?? SMALL_CHUNK_BYTES) : undefined;
  // Data is flushed to disk in the background every SYNC_EVERY bytes, so that the final fsync
  // (which must finish before the rename) has little left to do: disk flush overlaps encoding.
  let unsynced = 0;
  let syncing: Promise<void> | undefined;
  const writeOut = async (bytes: Uint8Array): Promise<void> => {
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
  // Small writes (a 4 KiB chunk is one) are gathered and written GATHER_BYTES at a time: a
  // thread-pool round trip per chunk cost more than encoding it. Larger ones go out as they are.
  let gathered: Uint8Array | undefined;
  let gatheredLength = 0;
  const flushGathered = async (): Promise<void> => {
    if (gatheredLength === 0) return;
    const length = gatheredLength;
    gatheredLength = 0;
    await writeOut(gathered!.subarray(0, length));
  };
  const writeOne = async (bytes: Uint8Array): Promise<void> => {
    await prepare();
    const large = bytes.length > GATHER_LIMIT;
    if (large || gatheredLength + bytes.length > GATHER_BYTES) await flushGathered(); // in order
    if (large) return writeOut(bytes);
    (gathered ??= new Uint8Array(GATHER_BYTES)).set(bytes, gatheredLength);
    gatheredLength += bytes.length;
  };
  const closeOne = async (): Promise<void> => {
    await flushGathered();
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
    chunks?.committed();
  };

  return {
    doneWithBytesOnWrite: true,
    async write(bytes) {
      try {
        if (chunks === undefined) await writeOne(bytes);
        else {
          await prepare();
          chunks.write(bytes);
        }
      } catch (e) {
        throw ioError(`cannot write ${path}`, path, e);
      }
    },
    endChunk(chunk) {
      try {
        chunks?.end(chunk);
      } catch (e) {
        throw ioError(`cannot write ${path}`, path, e);
      }
    },
    async close() {
      try {
        if (chunks === undefined) {
          await closeOne();
          await commit(temps[0]!);
        } else {
          const { digest, names } = chunks.finish();
          // Durable before the set names them: the files' bytes, then their directory entries.
          await syncChunkFiles(dir, names);
          await syncDirectory(dir);
          await commit(await writeTemp(encodeChunkSet(digest, names)));
        }
      } catch (e) {
        await this.abort();
        throw ioError(`cannot complete ${path}`, path, e);
      }
      await removeUnnamedSetFiles(path).catch(() => undefined); // committed: leftovers are only clutter
      release();
    },
    async abort() {
      await handle?.close().catch(() => undefined);
      handle = undefined;
      for (const temp of temps.splice(0)) await unlink(temp).catch(() => undefined);
      const made = chunks?.abort() ?? [];
      if (made.length > 0) await removeUnnamedSetFiles(path, made).catch(() => undefined);
      release();
    },
  };
}

/**
 * Chunks at most this large are kept in memory until they end and then written straight under
 * their final name (no temporary file, no rename); larger ones stream into a temporary file
 * renamed when they end. 1 MiB: the encoder's output buffer, so at most 2 MiB more memory (the
 * chunk and, to compare an existing file, its copy); a rename (~50 us) is under 5% of writing a
 * MiB, and a set of larger chunks has few files (a 213 MiB snapshot: 213 at most).
 */
const SMALL_CHUNK_BYTES = 1 << 20;

/**
 * Writes the chunk files of `--chunk-files`, each named by its own chunk digest
 * (`chunkSetFileName`), which is known when the chunk ends: the name is a function of the
 * chunk's bytes and all before it, so the same chunk of an identical rewrite has the same name.
 * A small chunk (SMALL_CHUNK_BYTES) is created with O_EXCL under its final name; a file already
 * there is kept if it is a regular file with exactly the chunk's bytes (an identical rewrite
 * writes, deletes and allocates no inode: on ext4, re-creating tens of thousands of files just
 * freed cost ~0.5 ms each), else replaced by a temporary file renamed over it (a partial file
 * of a killed run). So a file a committed set names is never opened for writing, and a file
 * that is not a regular one is refused, never followed or opened. Files created here that no
 * committed set names (a run killed or failed before its commit) are removed by the next
 * commit, or by `abort`, which returns them.
 */
function chunkFileWriter(path: string, tempName: (suffix: string) => string, small: number) {
  let buffer = Buffer.allocUnsafe(0); // the current chunk's bytes, while it is small
  let length = 0;
  let compare = Buffer.allocUnsafe(0); // an existing file's bytes, to compare with the chunk
  let big: number | undefined; // the descriptor of `temp` while a large chunk streams into it
  let temp: string | undefined; // the temporary file that exists now, if any
  let digests = new BigUint64Array(1024); // chunk i's digest: its file's name
  let made = new Uint8Array(1024); // 1 where chunk i's file was created (or replaced) by this run
  let count = 0;

  const writeAll = (fd: number, bytes: Uint8Array): void => {
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
  };
  /** Writes `bytes` to a new temporary file and renames it to `final` (a regular file or nothing). */
  const replace = (final: string, bytes: Uint8Array, index: number): void => {
    const fd = createTemp(index);
    try {
      writeAll(fd, bytes);
    } finally {
      closeSync(fd);
    }
    placeTemp(final);
  };
  const createTemp = (index: number): number => {
    const name = tempName(`.${chunkIndexDigits(index)}`);
    const fd = openSync(name, 'wx');
    temp = name;
    return fd;
  };
  /** Renames the temporary file to `final`, checked (synchronously: nothing runs in between) to be a regular file or nothing. */
  const placeTemp = (final: string): void => {
    refuseUnlessRegular(final, lstatIfAny(final));
    renameSync(temp!, final);
    temp = undefined;
  };
  /** True when `final` holds exactly `bytes`; refuses anything but a regular file, unopened. */
  const holds = (final: string, bytes: Uint8Array): boolean => {
    const s = lstatIfAny(final);
    refuseUnlessRegular(final, s);
    if (s === undefined || s.size !== bytes.length) return false;
    let fd: number;
    try {
      // O_NOFOLLOW and O_NONBLOCK: whatever was swapped in since the lstat is neither followed nor waited on.
      fd = openSync(final, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ELOOP') refuseUnlessRegular(final, lstatIfAny(final));
      return false; // unreadable or gone: replaced
    }
    try {
      const f = fstatSync(fd);
      refuseUnlessRegular(final, f);
      if (f.size !== bytes.length) return false;
      if (compare.length < bytes.length) compare = Buffer.allocUnsafe(Math.max(bytes.length, buffer.length));
      let got = 0;
      while (got < bytes.length) {
        const n = readSync(fd, compare, got, bytes.length - got, got);
        if (n === 0) return false;
        got += n;
      }
      return compare.subarray(0, got).equals(bytes);
    } finally {
      closeSync(fd);
    }
  };
  /** Places a small chunk's bytes under `final`: created, kept as it is, or replaced. */
  const place = (final: string, bytes: Uint8Array, index: number): boolean => {
    let fd: number;
    try {
      fd = openSync(final, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o666);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (holds(final, bytes)) return false;
      replace(final, bytes, index);
      return true;
    }
    try {
      writeAll(fd, bytes);
    } catch (e) {
      closeSync(fd);
      unlinkIfAny(final); // ours (O_EXCL) and partial
      throw e;
    }
    closeSync(fd);
    return true;
  };

  return {
    write(bytes: Uint8Array): void {
      if (big === undefined && length + bytes.length <= small) {
        if (length + bytes.length > buffer.length) {
          const grown = Buffer.allocUnsafe(Math.min(small, Math.max(2 * buffer.length, length + bytes.length, 64 << 10)));
          buffer.copy(grown, 0, 0, length);
          buffer = grown;
        }
        buffer.set(bytes, length);
        length += bytes.length;
        return;
      }
      if (big === undefined) {
        big = createTemp(count);
        writeAll(big, buffer.subarray(0, length));
        length = 0;
      }
      writeAll(big, bytes);
    },
    end(chunk: ChunkSummary): void {
      const final = chunkSetFileName(path, chunk.digest, count);
      let created: boolean;
      if (big !== undefined) {
        closeSync(big);
        big = undefined;
        placeTemp(final);
        created = true;
      } else {
        created = place(final, buffer.subarray(0, length), count);
        length = 0;
      }
      if (count === digests.length) {
        const d = new BigUint64Array(2 * count);
        d.set(digests);
        digests = d;
        const m = new Uint8Array(2 * count);
        m.set(made);
        made = m;
      }
      digests[count] = chunk.digest;
      made[count] = created ? 1 : 0;
      count++;
    },
    /** The snapshot digest (the last chunk's) and the final paths of the chunks, in order. */
    finish(): { digest: bigint; names: string[] } {
      if (count === 0) throw new Error('no chunk was written');
      return { digest: digests[count - 1]!, names: Array.from({ length: count }, (_, i) => chunkSetFileName(path, digests[i]!, i)) };
    },
    /** After the commit: the files belong to the committed set, nothing to undo. */
    committed(): void {
      made.fill(0);
    },
    /** Removes what is temporary; returns the files created under final names (not yet committed). */
    abort(): string[] {
      if (big !== undefined) closeSync(big);
      big = undefined;
      if (temp !== undefined) unlinkIfAny(temp);
      temp = undefined;
      const out: string[] = [];
      for (let i = 0; i < count; i++) if (made[i] === 1) out.push(chunkSetFileName(path, digests[i]!, i));
      made.fill(0);
      return out;
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
    if ((await lstat(file).catch(() => undefined))?.isFile() === true) await unlink(file).catch(() => undefined);
  }
}

/** Removes temporary files of `base` left by runs whose process is gone (never another's live run). */
async function removeOrphans(dir: string, base: string): Promise<void> {
  const pattern = tempFilePattern(base);
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = Number(pattern.exec(name)?.[1] ?? 0);
    if (pid === 0 || pid === process.pid || isProcessAlive(pid)) continue;
    const file = join(dir, name);
    if ((await lstat(file).catch(() => undefined))?.isFile() === true) await unlink(file).catch(() => undefined);
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
