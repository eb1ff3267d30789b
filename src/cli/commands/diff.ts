import type { Argv } from 'yargs';
import { toHex } from '../../format/bytes.js';
import { SnapshotError } from '../../format/errors.js';
import { parseTableSelection } from '../../report/digest-source.js';
import { DEFAULT_DIFF_LIMIT, diffSources, type DiffResult } from '../../report/diff.js';
import { openCheckpoint } from '../../sources/open.js';
import type { Source } from '../../sources/source.js';
import { defineCommand } from '../command.js';
import { reportError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { loadMergeOperators, mergeOperatorOption } from '../merge-operators.js';
import { renderDiff, type DiffInput } from '../render/diff.js';

interface DiffArgs {
  a: string;
  b: string;
  tables?: string;
  limit: number;
  json: boolean;
  'merge-operator'?: string[];
}

/** Version of the `diff --json` document; bumped when a field is removed or changes meaning. */
export const DIFF_SCHEMA_VERSION = 1;

export const diffCommand = defineCommand<DiffArgs>({
  command: 'diff <a> <b>',
  describe: 'Key-level difference of two snapshots or checkpoints: the first differing table and key, then added/removed/changed keys',
  builder: (y: Argv) =>
    mergeOperatorOption(y)
      .positional('a', { type: 'string', demandOption: true, describe: 'a snapshot file (or chunk-file base path), a RocksDB checkpoint or a dump directory' })
      .positional('b', { type: 'string', demandOption: true, describe: 'the other one, same kinds' })
      .option('tables', { type: 'string', describe: 'tables to compare, as digest takes them (a,b,c or 1=a,2=b; ids are ignored, tables match by name); default every table of either side' })
      .option('limit', { type: 'number', default: DEFAULT_DIFF_LIMIT, describe: 'differences listed (all are counted); 0 lists none' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document' })
      .epilogue(
        [
          'Listing: "-" key only in a (removed), "+" only in b (added), "~" in both, values differ',
          '(changed); hex, values over 64 bytes cut with their length shown. Every difference is',
          'counted to the end of both inputs (a snapshot is verified in full); --limit bounds the',
          'listing only. A table in one input only is reported with its entry count. Content is',
          'compared by table name; anchor differences (epoch, cursor, ids) are shown, not counted.',
          'Exit: 0 identical, 1 different, 2 an input or table missing, 3 corrupt input.',
          '',
        ].join('\n'),
      ) as unknown as Argv<DiffArgs>,
  async run(args, io) {
    let a: Source | undefined;
    let b: Source | undefined;
    try {
      if (!Number.isInteger(args.limit) || args.limit < 0) throw new SnapshotError('INVALID_ARGUMENT', `--limit must be a non-negative integer, got ${String(args.limit)}`);
      const tables = args.tables === undefined ? undefined : parseTableSelection(args.tables).map((t) => t.name);
      const mergeOperators = await loadMergeOperators(args['merge-operator']);
      a = await openCheckpoint([args.a], { mergeOperators });
      b = await openCheckpoint([args.b], { mergeOperators });
      const result = await diffSources(a, b, { limit: args.limit, ...(tables !== undefined ? { tables } : {}) });
      const inputs = { a: describeInput(args.a, a), b: describeInput(args.b, b) };
      io.stdout(args.json ? `${JSON.stringify(diffDocument(result, inputs), null, 2)}\n` : renderDiff(result, inputs));
      return result.identical ? ExitCode.OK : ExitCode.DIVERGENCE;
    } catch (e) {
      return reportError(e, io, args.json);
    } finally {
      await a?.close().catch(() => undefined);
      await b?.close().catch(() => undefined);
    }
  },
});

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
export function diffDocument(r: DiffResult, inputs: { a: DiffInput; b: DiffInput }) {
  return {
    schemaVersion: DIFF_SCHEMA_VERSION,
    identical: r.identical,
    exitCode: r.identical ? ExitCode.OK : ExitCode.DIVERGENCE,
    a: inputs.a,
    b: inputs.b,
    first: r.first,
    totalDifferences: r.totalDifferences,
    limit: r.limit,
    tables: r.tables,
    differences: r.listed,
  };
}
