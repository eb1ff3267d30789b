import { SnapshotError } from '../format/errors.js';
import type { CliIo } from './io.js';
import { exitCodeForError } from './exit-codes.js';
import { escapeText } from './render/escape.js';

/** What to do next, for errors whose message alone does not say it. */
const HINTS: Partial<Record<string, string>> = {
  UNSUPPORTED_FEATURE:
    'what to do: dump the tables with `ldb scan --hex` on a copy of the checkpoint and digest the dump directory (docs/RUNBOOK.md, section 1, "Fallback: digest an ldb dump")',
};

/** Prints an error as one line on stderr (never a stack trace) and returns its exit code. */
export function reportError(error: unknown, io: CliIo, json = false): number {
  const e = fromSystemError(error);
  const code = exitCodeForError(e);
  if (e instanceof SnapshotError) {
    if (json) {
      io.stdout(`${JSON.stringify({ error: { code: e.code, message: e.message, file: e.file ?? null, offset: e.offset ?? null } })}\n`);
    }
    io.stderr(`snapshot-verify: ${escapeText(e.describe())}\n`);
    const hint = HINTS[e.code];
    if (hint !== undefined) io.stderr(`snapshot-verify: ${hint}\n`);
  } else {
    const message = e instanceof Error ? e.message : String(e);
    if (json) io.stdout(`${JSON.stringify({ error: { code: 'INTERNAL', message, file: null, offset: null } })}\n`);
    io.stderr(`snapshot-verify: internal error: ${escapeText(message)}\n`);
  }
  return code;
}

/**
 * A system call's error that escaped as it is (ENOSPC, EIO, EACCES …) is an I/O error of its
 * file, never an "internal error": the documented `IO_ERROR in FILE` line and exit 74.
 */
export function fromSystemError(e: unknown): unknown {
  if (e instanceof SnapshotError || !(e instanceof Error)) return e;
  const errno = e as NodeJS.ErrnoException;
  if (typeof errno.code !== 'string' || !/^E[A-Z0-9]+$/.test(errno.code) || errno.syscall === undefined) return e;
  return new SnapshotError('IO_ERROR', e.message, { ...(errno.path !== undefined ? { file: errno.path } : {}), cause: e });
}
