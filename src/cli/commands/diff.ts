import type { Argv } from 'yargs';
import { toHex } from '../../format/bytes.js';
import { SnapshotError } from '../../format/errors.js';
import { byteRange, DEFAULT_DIFF_LIMIT, diffSources, prefixRange, type DiffResult, type KeyRange } from '../../report/diff.js';
import { tableNames } from '../../report/table-names.js';
import { readAnchorFile, refuseAnchorConflicts } from '../anchor-file.js';
import type { CliIo } from '../io.js';
import { refuseFileInsideCheckpoint } from '../checkpoint-path.js';
import { parseCount, parseHexKey, parsePrefixRange, parseTablesOption } from '../parse.js';
import { DECODE_MODES, loadDecoder, type DecodeMode, type Decoder } from '../render/decode.js';
import { openCheckpoint } from '../../sources/open.js';
import type { Source } from '../../sources/source.js';
import { defineCommand } from '../command.js';
import { reportError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { loadMergeOperators, mergeOperatorOption } from '../merge-operators.js';
import { renderDiff, type DiffInput, type DiffRenderOptions } from '../render/diff.js';
import { escapeText } from '../render/escape.js';

interface DiffArgs {
  a: string;
  b: string;
  tables?: string;
  limit: string;
  json: boolean;
  'merge-operator'?: string[];
  anchor?: string;
  range?: string;
  from?: string;
  to?: string;
  full: boolean;
  decode: DecodeMode;
}

/** Version of the `diff --json` document; bumped when a field is removed or changes meaning. */
export const DIFF_SCHEMA_VERSION = 2;

export const diffCommand = defineCommand<DiffArgs>({
  command: 'diff <a> <b>',
  describe: 'Key-level difference of two snapshots or checkpoints: the first differing table and key, then added/removed/changed keys',
  builder: (y: Argv) =>
    mergeOperatorOption(y)
      .positional('a', { type: 'string', demandOption: true, describe: 'a snapshot file (or chunk-file base path), a RocksDB checkpoint or a dump directory' })
      .positional('b', { type: 'string', demandOption: true, describe: 'the other one, same kinds' })
      .option('tables', { type: 'string', describe: "tables to compare, as digest takes them (a,b,c or 1=a,2=b; ids are ignored, tables match by name); default: the anchor's, or the tables a snapshot records" })
      .option('anchor', { type: 'string', describe: 'anchor file (docs/ANCHOR.md): compare its tables' })
      .option('range', { type: 'string', describe: 'compare only this key range, as compare prints it: "[30000000, 40000000)"' })
      .option('from', { type: 'string', describe: 'compare only keys ≥ this one (hex)' })
      .option('to', { type: 'string', describe: 'compare only keys < this one (hex)' })
      .option('full', { type: 'boolean', default: false, describe: 'show whole keys and values (default: values cut, changed ones around their first difference)' })
      .option('decode', { choices: DECODE_MODES, default: 'hex' as DecodeMode, describe: 'render keys and values as hex, utf8, json or msgpack; what does not decode is shown in hex' })
      .option('limit', { type: 'string', default: String(DEFAULT_DIFF_LIMIT), describe: 'differences listed (all are counted); 0 lists none' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document' })
      .epilogue(
        [
          'Listing: "-" key only in a (removed), "+" only in b (added), "~" in both, values differ',
          '(changed), with the offset of the first differing byte and the bytes around it; values',
          'over 64 bytes are cut with their length shown (--full: whole; --json: always whole).',
          'Every difference is counted to the end of both inputs (a snapshot is verified in full)',
          'or of the key range; --limit bounds the listing only. A table in one input only is',
          'reported with its entry count. Tables: --tables, the --anchor file\'s, or those a snapshot',
          'records; two checkpoints need one of the first two (their other tables may be node-local).',
          'Content is compared by table name; anchor differences (epoch, cursor, ids) are shown, not counted.',
          'Exit: 0 identical, 1 different, 2 an input or table missing, 3 corrupt input.',
          '',
        ].join('\n'),
      ) as unknown as Argv<DiffArgs>,
  async run(args, io) {
    let a: Source | undefined;
    let b: Source | undefined;
    try {
      const limit = parseCount(args.limit, '--limit', 0);
      await refuseFileInsideCheckpoint([args.a, args.b]);
      const keyRange = parseKeyRange(args);
      const anchorFile = args.anchor === undefined ? undefined : await readAnchorFile(args.anchor);
      if (anchorFile !== undefined) refuseAnchorConflicts(args.anchor!, [{ flag: '--tables', present: args.tables !== undefined, setByAnchor: true }]);
      const decode = await loadDecoder(args.decode);
      const mergeOperators = await loadMergeOperators(args['merge-operator']);
      a = await openCheckpoint([args.a], { mergeOperators });
      b = await openCheckpoint([args.b], { mergeOperators });
      const tables = anchorFile?.tables.map((t) => t.name) ?? (args.tables === undefined ? recordedTables(a, b) : parseTablesOption(args.tables).map((t) => t.name));
      if (tables === undefined) return await listTables(args, a, b, io);
      const result = await diffSources(a, b, { limit, tables, ...(keyRange !== undefined ? { keyRange } : {}) });
      const inputs = { a: describeInput(args.a, a), b: describeInput(args.b, b) };
      const render: DiffRenderOptions = { full: args.full, ...(args.decode !== 'hex' ? { decode } : {}) };
      io.stdout(args.json ? `${JSON.stringify(diffDocument(result, inputs, args.decode === 'hex' ? undefined : decode), null, 2)}\n` : renderDiff(result, inputs, render));
      return result.identical ? ExitCode.OK : ExitCode.DIVERGENCE;
    } catch (e) {
      return reportError(e, io, args.json);
    } finally {
      await a?.close().catch(() => undefined);
      await b?.close().catch(() => undefined);
    }
  },
});

/** --range, or --from/--to; never both kinds. */
function parseKeyRange(args: DiffArgs): KeyRange | undefined {
  if (args.range !== undefined && (args.from !== undefined || args.to !== undefined)) {
    throw new SnapshotError('INVALID_ARGUMENT', '--range conflicts with --from/--to: give a range as compare prints it, or hex bounds, not both');
  }
  if (args.range !== undefined) {
    const r = parsePrefixRange(args.range);
    return prefixRange(r.start, r.end);
  }
  if (args.from === undefined && args.to === undefined) return undefined;
  return byteRange(args.from === undefined ? undefined : parseHexKey(args.from, '--from'), args.to === undefined ? undefined : parseHexKey(args.to, '--to'));
}

/** The tables the snapshots among the inputs record (their union, in a's order); undefined when neither records any. */
function recordedTables(a: Source, b: Source): string[] | undefined {
  const ra = a.recorded?.tables?.map((t) => t.name);
  const rb = b.recorded?.tables?.map((t) => t.name);
  if (ra === undefined && rb === undefined) return undefined;
  return [...new Set([...(ra ?? []), ...(rb ?? [])])];
}

/** Two checkpoints and no --tables: list their tables instead of diffing node-local ones too (exit 64). */
async function listTables(args: DiffArgs, a: Source, b: Source, io: CliIo): Promise<number> {
  const na = await tableNames(a);
  const nb = await tableNames(b);
  io.stderr(
    [
      'snapshot-verify: diff of two checkpoints needs the tables to compare: --tables a,b,c or --anchor FILE',
      '(a checkpoint also holds node-local tables that differ between honest nodes).',
      `  ${escapeText(args.a)}: ${na.map(escapeText).join(', ') || 'no tables'}`,
      `  ${escapeText(args.b)}: ${nb.map(escapeText).join(', ') || 'no tables'}`,
      '',
    ].join('\n'),
  );
  return ExitCode.USAGE;
}

function describeInput(path: string, s: Source): DiffInput {
  const r = s.recorded;
  return {
    path,
    kind: s.kind,
    ...(r?.epoch !== undefined ? { epoch: String(r.epoch) } : {}),
    ...(r?.cursor !== undefined ? { cursor: r.cursor.eventId === undefined || r.cursor.eventId.length === 0 ? String(r.cursor.index) : `${r.cursor.index}:${toHex(r.cursor.eventId)}` } : {}),
    ...(r?.maxChunkBytes !== undefined ? { maxChunkBytes: String(r.maxChunkBytes) } : {}),
    ...(r?.tables !== undefined ? { tables: r.tables.map((t) => `${t.id}=${t.name}`).join(',') } : {}),
  };
}

/** The `diff --json` document. */
export function diffDocument(r: DiffResult, inputs: { a: DiffInput; b: DiffInput }, decode?: Decoder) {
  const text = (hex: string | undefined): string | null => (hex === undefined || decode === undefined ? null : (decode(Buffer.from(hex, 'hex')) ?? null));
  const withDecoded = (d: DiffResult['listed'][number]) => (decode === undefined ? d : { ...d, decoded: { key: text(d.key), a: text(d.a?.hex), b: text(d.b?.hex) } });
  return {
    schemaVersion: DIFF_SCHEMA_VERSION,
    identical: r.identical,
    exitCode: r.identical ? ExitCode.OK : ExitCode.DIVERGENCE,
    a: inputs.a,
    b: inputs.b,
    first: r.first === null ? null : withDecoded(r.first),
    keyRange: r.keyRange ?? null,
    totalDifferences: r.totalDifferences,
    limit: r.limit,
    tables: r.tables,
    differences: r.listed.map(withDecoded),
  };
}
