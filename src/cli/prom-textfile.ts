import { writeFileAtomic } from './atomic-write.js';
import { ExitCode } from './exit-codes.js';
import type { CliIo } from './io.js';

/**
 * Writes `--prom-textfile` after the report was printed. If it cannot be written (a missing
 * collector directory, permissions), the report is not lost: a warning goes to stderr and the run
 * exits 74 (IO_ERROR), unless it had already failed with its own code, which wins.
 */
export async function writePromTextfile(path: string | undefined, text: string, io: CliIo, exitCode: number): Promise<number> {
  if (path === undefined) return exitCode;
  try {
    await writeFileAtomic(path, text);
    return exitCode;
  } catch (e) {
    io.stderr(`snapshot-verify: warning: --prom-textfile ${path} not written (${e instanceof Error ? e.message : String(e)}); the output above is complete\n`);
    return exitCode === ExitCode.OK ? ExitCode.IO_ERROR : exitCode;
  }
}
