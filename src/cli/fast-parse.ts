import type { Argv } from 'yargs';
import parser from 'yargs-parser';
import type { Command } from './command.js';

/**
 * The fast path of argument parsing: a valid invocation of a command is parsed with
 * yargs-parser, the tokenizer yargs itself runs, configured from the command's own builder,
 * without loading yargs. Loading yargs costs more than any other part of a small digest's
 * start-up (its 30 modules, and cliui's `Intl.Segmenter`, which loads ICU data).
 *
 * It answers only when yargs could not answer otherwise: any doubt (help or version asked for,
 * an option it does not know by its exact `--name`, a missing or surplus positional, a value
 * outside `choices`, a missing required option, a builder method it does not model) returns
 * undefined, and main() runs yargs, which prints its usual messages. The arguments it returns
 * are the ones yargs would pass to the handler (test/cli/fast-parse.test.ts compares both).
 */

/** What a builder declares, recorded by calling it on a stand-in for yargs' Argv. */
interface Declared {
  /** Long option names as written (`max-chunk-bytes`), positionals included, with their settings. */
  readonly options: Map<string, OptionSpec>;
  readonly positionals: Set<string>;
  readonly configuration: Record<string, unknown>;
}

interface OptionSpec {
  type?: 'string' | 'boolean' | 'number';
  array?: boolean;
  default?: unknown;
  choices?: readonly unknown[];
  demandOption?: boolean | string;
  describe?: string;
}

/** The option settings this parser models; a builder using any other falls back to yargs. */
const MODELLED = new Set(['type', 'array', 'default', 'choices', 'demandOption', 'describe']);

/** Thrown by the stand-in when a builder uses what the fast path does not model. */
class NotModelled extends Error {}

/** Calls the command's builder on a recorder with the part of yargs' Argv the builders use. */
function declared(command: Command): Declared {
  const options = new Map<string, OptionSpec>();
  const positionals = new Set<string>();
  const configuration: Record<string, unknown> = {};
  const define = (name: string, spec: OptionSpec): void => {
    if (Object.keys(spec).some((k) => !MODELLED.has(k)) || options.has(name)) throw new NotModelled();
    options.set(name, spec);
  };
  const methods: Record<string, (...a: never[]) => unknown> = {
    option: (name: string, spec: OptionSpec) => define(name, spec),
    positional: (name: string, spec: OptionSpec) => {
      define(name, spec);
      positionals.add(name);
    },
    // `.demandOption(name)` after the option (certify's --trust): the same as declaring it demanded.
    demandOption: (name: unknown) => {
      const spec = typeof name === 'string' ? options.get(name) : undefined;
      if (spec === undefined) throw new NotModelled();
      options.set(name as string, { ...spec, demandOption: true });
    },
    parserConfiguration: (c: Record<string, unknown>) => Object.assign(configuration, c),
    epilogue: () => undefined,
  };
  const recorder: object = new Proxy(
    {},
    {
      get: (_t, key) => {
        const m = typeof key === 'string' ? methods[key] : undefined;
        if (m === undefined) throw new NotModelled();
        return (...a: never[]) => {
          m(...a);
          return recorder;
        };
      },
    },
  );
  command.builder(recorder as Argv);
  return { options, positionals, configuration };
}

/** A command string's positionals: `digest <checkpoint..>`, `diff <a> <b>`, `x [y]`. */
function commandPositionals(commandString: string): { name: string; required: boolean; variadic: boolean }[] {
  return commandString
    .split(/\s+/)
    .slice(1)
    .map((p) => {
      const m = /^([<[])([^\]>.]+)(\.\.)?[\]>]$/.exec(p);
      if (m === null) throw new NotModelled();
      return { name: m[2]!, required: m[1] === '<', variadic: m[3] !== undefined };
    });
}

/**
 * The handler arguments yargs would produce for `argv` (whose first element names `command`),
 * or undefined when yargs must be asked (see the module comment).
 */
export function fastParse(command: Command, argv: readonly string[]): Record<string, unknown> | undefined {
  try {
    return parse(command, argv);
  } catch (e) {
    if (e instanceof NotModelled) return undefined;
    throw e;
  }
}

function parse(command: Command, argv: readonly string[]): Record<string, unknown> | undefined {
  const name = command.command.split(' ')[0]!;
  if (argv[0] !== name) return undefined;
  const { options, positionals, configuration } = declared(command);
  const slots = commandPositionals(command.command);
  if (slots.some((s) => !positionals.has(s.name) || options.get(s.name)!.type !== 'string')) return undefined;
  // Every option token must be a declared option by its exact name (not a positional's):
  // short flags, camelCase spellings, `--`, help and version are left to yargs.
  for (const token of argv.slice(1)) {
    if (!token.startsWith('-') || token === '-') continue;
    const option = /^--([a-z0-9][a-z0-9-]*)(?:=.*)?$/s.exec(token)?.[1];
    if (option === undefined) return undefined;
    if (options.has(option) && !positionals.has(option)) continue;
    // `--no-json` negates a boolean; yargs-parser would negate any option, yargs decides the rest.
    if (!(option.startsWith('no-') && options.get(option.slice(3))?.type === 'boolean')) return undefined;
  }
  // yargs' own parser options: each declared option by type, plus its help and version flags.
  const byType = (t: OptionSpec['type']): string[] => [...options].filter(([, s]) => s.type === t).map(([k]) => k);
  const opts = {
    array: [...options].filter(([, s]) => s.array === true).map(([k]) => k),
    boolean: [...byType('boolean'), 'help', 'version'],
    string: byType('string'),
    number: byType('number'),
    default: Object.fromEntries([...options].filter(([, s]) => s.default !== undefined).map(([k, s]) => [k, s.default])),
    key: Object.fromEntries([...options.keys(), 'help', 'version'].map((k) => [k, true])),
  };
  const parsed = parser.detailed([...argv], { ...opts, configuration: { 'parse-positional-numbers': false, ...configuration, 'populate--': true } });
  if (parsed.error !== null) return undefined;
  const args = parsed.argv as Record<string, unknown>;
  if (args['--'] !== undefined || args['help'] === true || args['version'] === true) return undefined;
  // Positionals, as yargs fills them: in order, a variadic one takes the rest; none left over.
  const rest = (args['_'] as unknown[]).slice(1).map(String);
  const given: [string, string][] = [];
  for (const slot of slots) {
    if (slot.required && rest.length === 0) return undefined;
    if (slot.variadic) given.push(...rest.splice(0).map((v): [string, string] => [slot.name, v]));
    else if (rest.length > 0) given.push([slot.name, rest.shift()!]);
  }
  if (rest.length > 0) return undefined;
  // yargs parses the positionals' values once more as `--name value` with the same options.
  if (given.length > 0) {
    const again = parser.detailed(given.flatMap(([k, v]) => [`--${k}`, v]), {
      ...opts,
      default: { ...Object.fromEntries(slots.filter((s) => s.variadic).map((s) => [s.name, []])), ...opts.default },
      configuration: { 'parse-positional-numbers': false, ...configuration, 'populate--': false },
    });
    if (again.error !== null) return undefined;
    for (const slot of slots) if (slot.name in again.argv) args[slot.name] = (again.argv as Record<string, unknown>)[slot.name];
  }
  args['_'] = [name];
  args['$0'] = 'snapshot-verify';
  // yargs' validation: required options present, values among the choices.
  for (const [key, spec] of options) {
    if (spec.demandOption !== undefined && spec.demandOption !== false && args[key] === undefined) return undefined;
    if (spec.choices !== undefined && args[key] !== undefined && ([] as unknown[]).concat(args[key]).some((v) => !spec.choices!.includes(v))) return undefined;
    if (spec.type === 'number' && ([] as unknown[]).concat(args[key] ?? []).some((v) => typeof v !== 'number' || Number.isNaN(v))) return undefined;
  }
  return args;
}
