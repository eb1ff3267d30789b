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

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stderrIsTTY: process.stderr.isTTY === true,
    // A getter: touching process.stdin builds its stream (~20 ms at start-up); few commands read it.
    get stdin() {
      return process.stdin;
    },
    // For tests on a pseudo-terminal, where a run is shorter than the default second.
    ...(process.env['SNAPSHOT_VERIFY_PROGRESS_DELAY_MS'] !== undefined ? { progressDelayMs: Number(process.env['SNAPSHOT_VERIFY_PROGRESS_DELAY_MS']) } : {}),
  };
}
