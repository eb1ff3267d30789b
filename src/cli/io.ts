/** The process I/O a command may use; commands never touch `process` directly, so tests can drive them. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True when stderr is a terminal: progress indicators only then. */
  readonly stderrIsTTY: boolean;
  readonly stdin: AsyncIterable<Uint8Array>;
}

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stderrIsTTY: process.stderr.isTTY === true,
    stdin: process.stdin,
  };
}
