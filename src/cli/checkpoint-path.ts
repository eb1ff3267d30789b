import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SnapshotError } from '../format/errors.js';

/** Names of the files a RocksDB checkpoint is made of, and of a dump directory's tables. */
const ROCKSDB_FILE = /^(?:\d+\.(?:sst|log|blob)|CURRENT|MANIFEST-\d+|OPTIONS-\d+|IDENTITY|LOCK|LOG(?:\.old\..*)?)$/;

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

/**
 * A file inside a checkpoint given where the checkpoint is meant (`digest 000042.sst`) would be
 * read as a snapshot and fail with BAD_MAGIC; say what to pass instead (a usage error, exit 64).
 */
export async function refuseFileInsideCheckpoint(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const name = basename(path);
    const dir = dirname(path);
    const s = await stat(path).catch(() => undefined);
    if (s === undefined || !s.isFile()) continue;
    if (ROCKSDB_FILE.test(name) && (await exists(join(dir, 'CURRENT')))) {
      throw new SnapshotError('INVALID_ARGUMENT', `a file inside the RocksDB checkpoint ${dir}, not a checkpoint: pass the checkpoint directory ${dir}`, { file: path });
    }
    if (name.endsWith('.hex')) {
      throw new SnapshotError('INVALID_ARGUMENT', `one table of a dump directory, not a checkpoint: pass the directory ${dir} (and the table with --tables ${name.slice(0, -4)})`, { file: path });
    }
  }
}
