import { readFile, stat } from 'node:fs/promises';
import { SnapshotError } from '../format/errors.js';
import { MAX_ANCHOR_BYTES, parseAnchor, type AnchorFile } from '../report/anchor.js';

/** Reads and checks `--anchor FILE` (docs/ANCHOR.md): missing → NOT_FOUND, unreadable → IO_ERROR, bad → BAD_ANCHOR. */
export async function readAnchorFile(path: string): Promise<AnchorFile> {
  const s = await stat(path).catch((e: NodeJS.ErrnoException) => e);
  if (s instanceof Error) {
    if (s.code === 'ENOENT' || s.code === 'ENOTDIR') throw new SnapshotError('NOT_FOUND', `anchor file ${path} does not exist`, { file: path });
    throw new SnapshotError('IO_ERROR', `cannot read anchor file ${path}: ${s.message}`, { file: path, cause: s });
  }
  if (!s.isFile()) throw new SnapshotError('BAD_ANCHOR', `${path} is not a file; --anchor takes a JSON anchor file (docs/ANCHOR.md)`, { file: path });
  if (s.size > MAX_ANCHOR_BYTES) throw new SnapshotError('BAD_ANCHOR', `${s.size} bytes, more than an anchor file may hold (${MAX_ANCHOR_BYTES})`, { file: path });
  const text = await readFile(path, 'utf8').catch((e: Error) => {
    throw new SnapshotError('IO_ERROR', `cannot read anchor file ${path}: ${e.message}`, { file: path, cause: e });
  });
  return parseAnchor(text, path);
}

/**
 * Refuses flags that an anchor file already sets: the anchor is shared by every node, a flag would
 * silently make this node's digest incomparable. `given` maps each flag to whether it was given
 * and whether the anchor sets the same parameter.
 */
export function refuseAnchorConflicts(path: string, given: readonly { flag: string; present: boolean; setByAnchor: boolean }[]): void {
  const conflicts = given.filter((g) => g.present && g.setByAnchor).map((g) => g.flag);
  if (conflicts.length > 0) {
    throw new SnapshotError('INVALID_ARGUMENT', `${conflicts.join(', ')} conflict${conflicts.length === 1 ? 's' : ''} with --anchor ${path}, which sets ${conflicts.length === 1 ? 'it' : 'them'}: drop the flag (or edit the anchor file every node uses)`);
  }
}
