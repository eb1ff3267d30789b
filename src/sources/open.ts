import { readdir, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { readChunkSet } from '../format/chunk-set.js';
import { chunkFileName } from '../format/sinks.js';
import { SnapshotError } from '../format/errors.js';
import { isDumpDirectory, openDumpDirectory } from './dump/index.js';
import { openSnapshotFiles } from './snapshot/index.js';
import type { MergeOperator } from './merge-operator.js';
import type { Source } from './source.js';

/**
 * The chunk files of a snapshot written with `--chunk-files`: `<path>.000000`, `<path>.000001`, …
 * Returns [] when `<path>.000000` does not exist.
 */
export async function findChunkFiles(path: string): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; ; i++) {
    const f = chunkFileName(path, i);
    if (!(await isFile(f))) return files;
    files.push(f);
  }
}

/**
 * Files of a snapshot given as one path: the file itself, the chunk files a chunk-set file
 * names (format/chunk-set.ts), or chunk files of the earlier layout (`findChunkFiles`).
 */
export async function snapshotFiles(path: string): Promise<string[]> {
  if (await isFile(path)) return [...((await readChunkSet(path))?.files ?? [path])];
  const chunks = await findChunkFiles(path);
  if (chunks.length > 0) return chunks;
  throw new SnapshotError('NOT_FOUND', `${path} does not exist (nor ${basename(chunkFileName(path, 0))})`, { file: path });
}

/** Options of {@link openCheckpoint}, passed to the source that opens the checkpoint. */
export type OpenOptions = Readonly<
  Partial<{
    /**
     * Merge operators beyond RocksDB's built-ins (plugins, presets), looked up by the name the
     * checkpoint records for a column family. Defaults to none.
     */
    mergeOperators: readonly MergeOperator[];
  }>
>;

/**
 * Opens what `digest`/`diff` are given, by what it is: a snapshot file (or chunk files), a
 * RocksDB checkpoint directory (CURRENT present) or a dump directory (`*.hex` files).
 */
export async function openCheckpoint(paths: readonly string[], options: OpenOptions = {}): Promise<Source> {
  const first = paths[0];
  if (first === undefined) throw new SnapshotError('INVALID_ARGUMENT', 'no checkpoint given');
  if (paths.length > 1) return openSnapshotFiles(paths);
  const s = await stat(first).catch(() => undefined);
  if (s === undefined || s.isFile()) return openSnapshotFiles(await snapshotFiles(first));
  if (!s.isDirectory()) throw new SnapshotError('NOT_FOUND', `${first} is neither a file nor a directory`, { file: first });
  if (await isFile(`${first}/CURRENT`)) {
    const rocksdb = await import('./rocksdb/index.js');
    return rocksdb.openRocksDbCheckpoint(first, options);
  }
  if (await isDumpDirectory(first)) return openDumpDirectory(first);
  const listing = await readdir(first).catch(() => [] as string[]);
  throw new SnapshotError(
    'NOT_FOUND',
    `${first} is neither a RocksDB checkpoint (no CURRENT file) nor a dump directory (no *.hex files)${listing.length === 0 ? '; it is empty' : ''}`,
    { file: first },
  );
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() === true;
}
