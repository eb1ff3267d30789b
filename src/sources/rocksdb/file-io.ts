/**
 * The only file access the RocksDB source performs: open with flag 'r', positional reads,
 * close. Nothing here can create, write, rename or lock a file, which is what makes the source
 * read-only by construction.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { SnapshotError } from '../../format/errors.js';

/** Maps a Node file-system error to the source's error codes. */
export function ioError(file: string, e: unknown): SnapshotError {
  if (e instanceof SnapshotError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new SnapshotError('NOT_FOUND', `${file} does not exist`, { file, cause: e });
  }
  return new SnapshotError('IO_ERROR', `cannot read ${file}: ${(e as Error)?.message ?? String(e)}`, {
    file,
    cause: e,
  });
}

/** A read-only handle with its size taken once at open time. */
export class ReadOnlyFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  static async open(path: string): Promise<ReadOnlyFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      throw ioError(path, e);
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new SnapshotError('IO_ERROR', `${path} is not a regular file`, { file: path });
      return new ReadOnlyFile(path, handle, st.size);
    } catch (e) {
      await handle.close().catch(() => undefined);
      throw ioError(path, e);
    }
  }

  /**
   * Reads exactly `length` bytes at `position` into a fresh buffer (never reused, so callers
   * may keep views into it). The caller bounds `length`; a short read means the file shrank.
   */
  async read(position: number, length: number): Promise<Uint8Array> {
    const buf = new Uint8Array(length);
    let done = 0;
    try {
      while (done < length) {
        const { bytesRead } = await this.handle.read(buf, done, length - done, position + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } catch (e) {
      throw ioError(this.path, e);
    }
    if (done < length) {
      throw new SnapshotError('IO_ERROR', `${this.path} shrank while being read`, {
        file: this.path,
        offset: position + done,
      });
    }
    return buf;
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

/** Reads a whole small file, refusing files larger than `maxBytes` before allocating. */
export async function readSmallFile(path: string, maxBytes: number, tooLarge: (size: number) => Error): Promise<Uint8Array> {
  const f = await ReadOnlyFile.open(path);
  try {
    if (f.size > maxBytes) throw tooLarge(f.size);
    return await f.read(0, f.size);
  } finally {
    await f.close();
  }
}
