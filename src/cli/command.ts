import type { Argv } from 'yargs';
import type { CliIo } from './io.js';

/** One CLI command: yargs wiring plus a handler that returns the exit code (never calls exit). */
export interface Command<A = Record<string, unknown>> {
  readonly command: string;
  readonly describe: string;
  builder(yargs: Argv): Argv<A>;
  run(args: A, io: CliIo): Promise<number>;
}

/** Erases a command's argument type for the registry in main.ts. */
export function defineCommand<A>(c: Command<A>): Command<Record<string, unknown>> {
  return c as unknown as Command<Record<string, unknown>>;
}
