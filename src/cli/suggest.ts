import yargs from 'yargs';
import { nearestName } from '../report/table-names.js';
import type { Command } from './command.js';

/** The long options a command takes (from its yargs builder), without the leading dashes. */
export function optionNames(command: Command): string[] {
  const options = (command.builder(yargs([])) as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions();
  return Object.keys(options.key);
}

/** "--tabels (did you mean --tables?)" for each unknown option that is close to a known one. */
export function describeUnknownOptions(unknown: readonly string[], known: readonly string[]): string {
  return unknown
    .map((u) => {
      const name = u.replace(/^-+/, '').replace(/=.*$/, '');
      const near = nearestName(name, known);
      return `${u.startsWith('-') ? u : `--${u}`}${near === undefined ? '' : ` (did you mean --${near}?)`}`;
    })
    .join(', ');
}

/**
 * A clearer yargs failure: unknown options with the nearest known one, an unknown command with
 * yargs' own suggestion ("Did you mean digest?") kept.
 */
export function explainUsageError(message: string, argv: readonly string[], commands: readonly Command[]): string {
  const unknownArgs = /^Unknown arguments?: (.+)$/.exec(message);
  const name = argv.find((a) => !a.startsWith('-'));
  const command = commands.find((c) => c.command.split(' ')[0] === name);
  if (unknownArgs !== null && command !== undefined) {
    const unknown = unknownArgs[1]!.split(', ');
    return `unknown option ${describeUnknownOptions(unknown, optionNames(command))} for ${name}; see snapshot-verify ${name} --help`;
  }
  if (/^Did you mean /.test(message) || (unknownArgs !== null && command === undefined)) {
    const names = commands.map((c) => c.command.split(' ')[0]!);
    const near = name === undefined ? undefined : nearestName(name, names);
    return `unknown command ${JSON.stringify(name ?? '')}${near === undefined ? '' : ` (did you mean ${near}?)`}; commands: ${names.join(', ')}`;
  }
  return message;
}
