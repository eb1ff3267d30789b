import { fstatSync, writeSync } from 'node:fs';
import { SnapshotError } from '../format/errors.js';

/** The process I/O a command may use; commands never touch `process` directly, so tests can drive them. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True when stderr is a terminal: progress indicators only then. */
  readonly stderrIsTTY: boolean;
  readonly stdin: AsyncIterable<Uint8Array>;
  /** Silence before a progress line appears, in ms. Defaults to 1000 (short runs never flicker). */
  readonly progressDelayMs?: number;
}

/** The process's own I/O, and whether the reader of stdout went away before everything was written. */
export interface ProcessIo extends CliIo {
  readonly stdoutClosed: () => boolean;
}

export function processIo(): ProcessIo {
  const stdout = fdWriter(1, () => process.stdout);
  const stderr = fdWriter(2, () => process.stderr);
  return {
    stdout: stdout.write,
    stderr: stderr.write,
    stdoutClosed: stdout.closed,
    // Getters: touching process.stdin, stdout or stderr builds its stream (~20 ms at start-up for
    // a pipe or a terminal); few commands read stdin, and a progress line is decided late.
    get stderrIsTTY() {
      // A terminal is a character device: a pipe or a file is answered without building the stream.
      return isCharacterDevice(2) && process.stderr.isTTY === true;
    },
    get stdin() {
      return process.stdin;
    },
    // For tests on a pseudo-terminal, where a run is shorter than the default second.
    ...(process.env['SNAPSHOT_VERIFY_PROGRESS_DELAY_MS'] !== undefined ? { progressDelayMs: Number(process.env['SNAPSHOT_VERIFY_PROGRESS_DELAY_MS']) } : {}),
  };
}

/**
 * Writes to fd 1 or 2 with write(2), without the stream Node builds for process.stdout/stderr
 * (10–40 ms for a pipe, more than a small digest's work). A non-blocking pipe or terminal that is
 * full (EAGAIN) hands the rest, and every later write, to the stream, which waits for it. A reader
 * that went away (EPIPE) is remembered and nothing more is written there: never a stack trace;
 * another failure is IO_ERROR in stdout, and ends writes to stderr.
 */
function fdWriter(fd: 1 | 2, stream: () => NodeJS.WriteStream): { write: (text: string) => void; closed: () => boolean } {
  let viaStream = false;
  let closed = false;
  const toStream = (bytes: Uint8Array): void => {
    if (!viaStream) stream().on('error', () => (closed = true));
    viaStream = true;
    stream().write(bytes);
  };
  const write = (text: string): void => {
    if (closed) return;
    const bytes = Buffer.from(text, 'utf8');
    if (viaStream) return toStream(bytes);
    for (let at = 0; at < bytes.length; ) {
      try {
        at += writeSync(fd, bytes, at);
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if (code === 'EAGAIN') return toStream(bytes.subarray(at));
        // A reader gone, or stderr unwritable (a full disk): nothing can report it; the exit code
        // still does (an error thrown here was an uncaught exception: exit 1, "divergence").
        if (code === 'EPIPE' || fd === 2) {
          closed = true;
          return;
        }
        throw new SnapshotError('IO_ERROR', `cannot write stdout: ${(e as Error).message}`, { file: 'stdout', cause: e });
      }
    }
  };
  return { write, closed: () => closed };
}

function isCharacterDevice(fd: number): boolean {
  try {
    return fstatSync(fd).isCharacterDevice();
  } catch {
    return false;
  }
}
