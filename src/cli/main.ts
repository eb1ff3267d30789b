import type { Command } from './command.js';
import { COMMANDS, type CommandEntry } from './commands/index.js';
import { EXIT_CODES_HELP, ExitCode } from './exit-codes.js';
import { fastParse } from './fast-parse.js';
import { processIo, type CliIo } from './io.js';
import { TOOL_VERSION } from './version.js';
import { escapeText } from './render/escape.js';

/** The command yargs chose and its validated arguments, thrown out of the handler. */
class Chosen {
  constructor(readonly command: Command, readonly args: Record<string, unknown>) {}
}

/**
 * Runs the CLI on `argv` (without node and script) and returns the exit code; never exits.
 * When the first argument names a command (the way every runbook invokes the tool), only that
 * command's module is loaded, and a valid invocation is parsed without yargs (fast-parse.ts);
 * help, version and every mistake go through yargs and its messages.
 */
export async function main(argv: readonly string[], io?: CliIo, entries: readonly CommandEntry[] = COMMANDS): Promise<number> {
  if (io !== undefined) return run(argv, io, entries);
  const own = processIo();
  const code = await run(argv, own, entries);
  if (!own.stdoutClosed()) return code;
  // The reader of stdout went away (`| head`): what it got is incomplete, so never exit 0.
  own.stderr('snapshot-verify: IO_ERROR in stdout: its reader closed it before the output was complete\n');
  return code === ExitCode.OK ? ExitCode.IO_ERROR : code;
}

async function run(argv: readonly string[], io: CliIo, entries: readonly CommandEntry[]): Promise<number> {
  // What yargs would print, without loading yargs and every command for it (packaging scripts ask).
  if (argv.length === 1 && argv[0] === '--version') {
    io.stdout(`${TOOL_VERSION}\n`);
    return ExitCode.OK;
  }
  const named = entries.find((e) => e.name === argv[0]);
  if (named !== undefined) {
    const command = await named.load();
    const args = fastParse(command, argv);
    if (args !== undefined) return command.run(args, io);
    return parseWithYargs(argv, io, [command]);
  }
  // `--help`, a typo, options first: yargs needs every command, for the list and suggestions.
  return parseWithYargs(argv, io, await Promise.all(entries.map((e) => e.load())));
}

/** yargs parses, validates, prints help and usage errors, then the chosen command runs (exported for tests). */
export async function parseWithYargs(argv: readonly string[], io: CliIo, commands: readonly Command[]): Promise<number> {
  const { default: yargs } = await import('yargs');
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
    // The handler only records the choice, by throwing: yargs renders and caches the whole help
    // text after a handler returns (~80 ms for digest), and a synchronous throw skips that. The
    // command runs below, after yargs has validated everything.
    parser.command(c.command, c.describe, (y) => c.builder(y).epilogue(EXIT_CODES_HELP), (args) => {
      throw new Chosen(c, args as Record<string, unknown>);
    });
  }
  let chosen: Chosen | undefined;
  try {
    await parser.parseAsync();
  } catch (e) {
    if (e instanceof Chosen) chosen = e;
    else usageError ??= e instanceof Error ? e.message : String(e);
  }
  if (usageError !== undefined) {
    const { explainUsageError } = await import('./suggest.js');
    io.stderr(`snapshot-verify: ${escapeText(explainUsageError(usageError, argv, commands))}\nRun 'snapshot-verify --help' for usage.\n`);
    return ExitCode.USAGE;
  }
  return chosen === undefined ? ExitCode.OK : chosen.command.run(chosen.args, io);
}
