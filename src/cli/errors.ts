import { SnapshotError } from '../format/errors.js';
import type { CliIo } from './io.js';
import { exitCodeForError } from './exit-codes.js';

/** What to do next, for errors whose message alone does not say it. */
const HINTS: Partial<Record<string, string>> = {
  UNSUPPORTED_FEATURE:
    'what to do: dump the tables with `ldb scan --hex` on a copy of the checkpoint and digest the dump directory (docs/RUNBOOK.md, section 1, "Fallback: digest an ldb dump")',
};

/** Prints an error as one line on stderr (never a stack trace) and returns its exit code. */
export function reportError(e: unknown, io: CliIo, json = false): number {
  const code = exitCodeForError(e);
  if (e instanceof SnapshotError) {
    if (json) {
      io.stdout(`${JSON.stringify({ error: { code: e.code, message: e.message, file: e.file ?? null, offset: e.offset ?? null } })}\n`);
    }
    io.stderr(`snapshot-verify: ${e.describe()}\n`);
    const hint = HINTS[e.code];
    if (hint !== undefined) io.stderr(`snapshot-verify: ${hint}\n`);
  } else {
    const message = e instanceof Error ? e.message : String(e);
    if (json) io.stdout(`${JSON.stringify({ error: { code: 'INTERNAL', message, file: null, offset: null } })}\n`);
    io.stderr(`snapshot-verify: internal error: ${message}\n`);
  }
  return code;
}
