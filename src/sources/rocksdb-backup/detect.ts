/** Telling a BackupEngine directory apart without loading its reader (open.ts). */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';

/** True when `dir` looks like a BackupEngine directory: it has a `meta/` directory. */
export async function isBackupDirectory(dir: string): Promise<boolean> {
  return (await stat(join(dir, 'meta')).catch(() => undefined))?.isDirectory() === true;
}
