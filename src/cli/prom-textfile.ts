import { SnapshotError } from '../format/errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { ExitCode } from './exit-codes.js';
import type { CliIo } from './io.js';
import { escapeText } from './render/escape.js';

/**
 * Writes `--prom-textfile` after the report was printed. If it cannot be written (a missing
 * collector directory, permissions, a full disk), the report is not lost: the documented
 * `CODE in FILE` line goes to stderr and the run
 * exits 74 (IO_ERROR), unless it had already failed with its own code, which wins.
 */
export async function writePromTextfile(path: string | undefined, text: string, io: CliIo, exitCode: number): Promise<number> {
  if (path === undefined) return exitCode;
  try {
    await writeFileAtomic(path, text);
    return exitCode;
  } catch (e) {
    const code = e instanceof SnapshotError ? e.code : 'IO_ERROR';
    const why = e instanceof Error ? e.message : String(e);
    io.stderr(`snapshot-verify: ${escapeText(`${code} in ${path}: --prom-textfile not written (${why}); the output above is complete`)}\n`);
    return exitCode === ExitCode.OK ? ExitCode.IO_ERROR : exitCode;
  }
}
