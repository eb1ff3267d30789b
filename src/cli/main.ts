import yargs from 'yargs';
import type { Command } from './command.js';
import { COMMANDS } from './commands/index.js';
import { EXIT_CODES_HELP, ExitCode } from './exit-codes.js';
import { processIo, type CliIo } from './io.js';
import { explainUsageError } from './suggest.js';
import { TOOL_VERSION } from './version.js';
import { escapeText } from './render/escape.js';

/** Runs the CLI on `argv` (without node and script) and returns the exit code; never exits. */
export async function main(argv: readonly string[], io: CliIo = processIo(), commands: readonly Command[] = COMMANDS): Promise<number> {
  let chosen: { command: Command; args: Record<string, unknown> } | undefined;
  let usageError: string | undefined;
  const parser = yargs([...argv])
    .scriptName('snapshot-verify')
    .usage('$0 <command> [options]\n\nProve that replicated nodes hold identical state at an epoch boundary.')
    .strict()
    .recommendCommands()
    .exitProcess(false)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .demandCommand(1, 'name a command')
    .epilogue(EXIT_CODES_HELP)
    .version(TOOL_VERSION)
    .help()
    .fail((message, error) => {
      usageError = message ?? error?.message ?? 'invalid arguments';
    });
  for (const c of commands) {
    // The handler only records the choice: the command runs after yargs has validated everything.
    parser.command(c.command, c.describe, (y) => c.builder(y).epilogue(EXIT_CODES_HELP), (args) => {
      chosen = { command: c, args: args as Record<string, unknown> };
    });
  }
  try {
    await parser.parseAsync();
  } catch (e) {
    usageError ??= e instanceof Error ? e.message : String(e);
  }
  if (usageError !== undefined) {
    io.stderr(`snapshot-verify: ${escapeText(explainUsageError(usageError, argv, commands))}\nRun 'snapshot-verify --help' for usage.\n`);
    return ExitCode.USAGE;
  }
  return chosen === undefined ? ExitCode.OK : chosen.command.run(chosen.args, io);
}
