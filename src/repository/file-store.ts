import { constants, createReadStream } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SnapshotError } from '../format/errors.js';
import { syncDirectory } from '../format/sinks.js';
import { tooLarge, type ListedObject, type ObjectStore, type PutBody } from './store.js';

/**
 * A repository in a directory (`file:///path`): a key's parts are path components. Writes are
 * atomic and write-once (temporary file, fsync, link(2), which fails if the name exists); reads
 * never follow a symbolic link at the object itself and refuse anything but a regular file.
 */
export function openFileStore(url: string): ObjectStore {
  let root: string;
  try {
    root = fileURLToPath(url);
  } catch (e) {
    throw new SnapshotError('INVALID_ARGUMENT', `not a file:// URL of an absolute path: ${url} (${(e as Error).message})`);
  }
  root = root.replace(/\/+$/, '') || '/';
  const pathOf = (key: string): string => {
    const parts = key.split('/');
    if (parts.some((p) => p === '' || p === '.' || p === '..')) throw new SnapshotError('INVALID_ARGUMENT', `invalid object key ${JSON.stringify(key)}`);
    return join(root, ...parts);
  };
  const io = (what: string, path: string, e: unknown): SnapshotError =>
    e instanceof SnapshotError ? e : new SnapshotError('IO_ERROR', `cannot ${what} ${path}: ${(e as Error).message}`, { file: path, cause: e });

  return {
    url,
    where: (key) => pathOf(key),

    async read(key, maxBytes) {
      const path = pathOf(key);
      let handle: FileHandle;
      try {
        handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        if (code === 'ELOOP') throw new SnapshotError('IO_ERROR', `${path} is a symbolic link, not an object`, { file: path });
        throw io('read', path, e);
      }
      const s = await handle.stat();
      if (!s.isFile()) {
        await handle.close();
        throw new SnapshotError('IO_ERROR', `${path} is not a regular file`, { file: path });
      }
      if (s.size > maxBytes) {
        await handle.close();
        throw tooLarge(pathOf(key), maxBytes);
      }
      return readHandle(handle, path, maxBytes);
    },

    async putIfAbsent(key, body) {
      const path = pathOf(key);
      const dir = dirname(path);
      const temp = join(dir, `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
      try {
        await mkdir(dir, { recursive: true });
        const h = await open(temp, 'wx');
        try {
          if ('bytes' in body) await h.writeFile(body.bytes);
          else await copyRange(body, h);
          await h.sync();
        } finally {
          await h.close();
        }
        try {
          await link(temp, path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
          throw e;
        }
        await syncDirectory(dir);
        return 'created';
      } catch (e) {
        throw io('write', path, e);
      } finally {
        await unlink(temp).catch(() => undefined);
      }
    },

    async *list(prefix) {
      // The directory holding the prefix's last complete part; names are filtered by the rest.
      const cut = prefix.lastIndexOf('/') + 1;
      const base = prefix.slice(0, cut);
      const stack: string[] = [base];
      while (stack.length > 0) {
        const dirKey = stack.pop()!;
        const dir = dirKey === '' ? root : join(root, ...dirKey.slice(0, -1).split('/'));
        let names: string[];
        try {
          names = (await readdir(dir)).sort();
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || code === 'ENOTDIR') continue;
          throw io('list', dir, e);
        }
        const subdirs: string[] = [];
        for (const name of names) {
          const key = dirKey + name;
          if (!key.startsWith(prefix) && !prefix.startsWith(`${key}/`)) continue;
          const s = await lstat(join(dir, name)).catch(() => undefined);
          if (s === undefined) continue; // deleted meanwhile
          if (s.isDirectory()) subdirs.push(`${key}/`);
          else if (key.startsWith(prefix)) {
            yield { key, size: s.isFile() ? s.size : -1, kind: s.isFile() ? 'object' : 'special' } satisfies ListedObject;
          }
        }
        // Depth first, in key order: push in reverse so the smallest name is listed first.
        for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
      }
    },

    async delete(key) {
      const path = pathOf(key);
      try {
        await unlink(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw io('delete', path, e);
      }
      // Empty folders left behind are removed, as an object store has none (best effort).
      let dir = dirname(path);
      while (dir.length > root.length && dir.startsWith(root)) {
        if (!(await rmdir(dir).then(() => true, () => false))) break;
        dir = dirname(dir);
      }
    },

    close() {},
  };
}

async function* readHandle(handle: FileHandle, path: string, maxBytes: number): AsyncGenerator<Uint8Array> {
  let total = 0;
  try {
    for (;;) {
      const buffer = new Uint8Array(1 << 20);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buffer, 0, buffer.length, null));
      } catch (e) {
        throw new SnapshotError('IO_ERROR', `cannot read ${path}: ${(e as Error).message}`, { file: path, cause: e });
      }
      if (bytesRead === 0) return;
      total += bytesRead;
      if (total > maxBytes) throw tooLarge(path, maxBytes);
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

async function copyRange(body: { file: string; start: number; length: number }, to: FileHandle): Promise<void> {
  if (body.length === 0) return;
  let position = 0;
  for await (const piece of createReadStream(body.file, { start: body.start, end: body.start + body.length - 1, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let done = 0;
    while (done < piece.length) {
      const { bytesWritten } = await to.write(piece, done, piece.length - done, position);
      done += bytesWritten;
      position += bytesWritten;
    }
  }
  if (position !== body.length) throw new Error(`${body.file} ended after ${position} of ${body.length} bytes`);
}
