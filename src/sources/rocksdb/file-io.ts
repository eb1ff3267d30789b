/**
 * The only file access the RocksDB source performs: open read-only (regular files only, never
 * blocking on a FIFO: format/regular-file.ts), positional reads, close. Nothing here can
 * create, write, rename or lock a file, which is what makes the source read-only by construction.
 */
import type { FileHandle } from 'node:fs/promises';
import { SnapshotError } from '../../format/errors.js';
import { fileSystemError, openRegularFile } from '../../format/regular-file.js';

/** Maps a Node file-system error to the source's error codes (NOT_FOUND, IO_ERROR). */
export function ioError(file: string, e: unknown): SnapshotError {
  return fileSystemError(file, e);
}

/**
 * A special file (FIFO, socket, device) where a checkpoint has a file is a damaged checkpoint:
 * CORRUPT_CHECKPOINT, still saying "not a regular file". Other errors pass unchanged.
 */
export function specialFileIsCorrupt(e: unknown): unknown {
  if (e instanceof SnapshotError && e.code === 'NOT_REGULAR_FILE') {
    return new SnapshotError('CORRUPT_CHECKPOINT', e.message, { file: e.file!, offset: 0 });
  }
  return e;
}

/** A read-only handle with its size taken once at open time. */
export class ReadOnlyFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  static async open(path: string): Promise<ReadOnlyFile> {
    try {
      const { handle, size } = await openRegularFile(path);
      return new ReadOnlyFile(path, handle, size);
    } catch (e) {
      throw specialFileIsCorrupt(e);
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
