import { hostname } from 'node:os';
import type { Argv } from 'yargs';
import { SnapshotError } from '../../format/errors.js';
import type { SnapshotAnchor, TableRef } from '../../format/header.js';
import { fileSink } from '../../format/sinks.js';
import { openCheckpoint } from '../../sources/open.js';
import type { Source } from '../../sources/source.js';
import { buildReport, digestSource, parseTableSelection } from '../../report/digest-source.js';
import { renderPrometheus } from '../../report/prometheus.js';
import { checkOutputs, writeFileAtomic } from '../atomic-write.js';
import { defineCommand } from '../command.js';
import { reportError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { epochFromPath, parseByteSize, parseCursor, parseU64 } from '../parse.js';
import { progressReporter } from '../progress.js';
import { renderDigest, count } from '../render/digest.js';
import { TOOL_VERSION } from '../version.js';
import { escapeText } from '../render/escape.js';

interface DigestArgs {
  checkpoint: string[];
  tables?: string;
  epoch?: string;
  cursor?: string;
  'max-chunk-bytes'?: string;
  out?: string;
  'chunk-files': boolean;
  ranges?: number;
  json: boolean;
  node?: string;
  'prom-textfile'?: string;
  progress: boolean;
}

export const digestCommand = defineCommand<DigestArgs>({
  command: 'digest <checkpoint..>',
  describe: 'Digest the selected tables of a checkpoint (RocksDB checkpoint, dump directory, or snapshot file/chunk files)',
  builder: (y: Argv) =>
    y
      .positional('checkpoint', { type: 'string', array: true, demandOption: true, describe: 'checkpoint directory, or a snapshot file (or its chunk files in order)' })
      .option('tables', { type: 'string', describe: 'tables to include: a,b,c (ids by bytewise name order) or 1=a,2=b (explicit ids); without it, the tables found are listed' })
      .option('epoch', { type: 'string', describe: 'epoch (u64); default: from a checkpoint_epoch_<N> directory name, or the snapshot header' })
      .option('cursor', { type: 'string', describe: 'event cursor INDEX or INDEX:EVENT_ID_HEX; default 0 (or the snapshot header)' })
      .option('max-chunk-bytes', { type: 'string', describe: 'cut the snapshot into chunks of at most this size (e.g. 64MiB); default 0, unchunked' })
      .option('out', { type: 'string', describe: 'also write the snapshot to this file, atomically (temporary file, then rename); refuses a path that exists and is not a regular file, symbolic links included' })
      .option('chunk-files', { type: 'boolean', default: false, describe: 'with --out: one file per chunk, <out>.<digest>.000000, …, then <out> naming them (written last: the set is replaced atomically)' })
      .option('ranges', { type: 'number', describe: 'also digest K key ranges per table (fixed boundaries), to localize a divergence' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON report (schemaVersion 1) for compare' })
      .option('node', { type: 'string', describe: 'node name recorded in the report; default the host name' })
      .option('prom-textfile', { type: 'string', describe: 'write metrics for node_exporter\'s textfile collector to this path, atomically; refuses a path that exists and is not a regular file, symbolic links included' })
      .option('progress', { type: 'boolean', default: true, describe: 'progress on stderr when it is a terminal (never with --json)' }) as unknown as Argv<DigestArgs>,
  async run(args, io) {
    const started = new Date();
    let source: Source | undefined;
    try {
      source = await openCheckpoint(args.checkpoint);
      const path = args.checkpoint[0]!;
      const tables = await selectTables(args.tables, source);
      if (tables === undefined) return await listTables(source, path, io);
      const anchor = resolveAnchor(args, source, path, tables);
      await checkOutputs(args.checkpoint, [
        ...(args.out !== undefined ? [{ option: '--out', path: args.out }] : []),
        ...(args['prom-textfile'] !== undefined ? [{ option: '--prom-textfile', path: args['prom-textfile'] }] : []),
      ]);
      const ranges = args.ranges ?? 0;
      const progress = progressReporter(io, args.progress && !args.json);
      const sink = args.out === undefined ? undefined : fileSink(args.out, { chunkFiles: args['chunk-files'] });
      const { summary, ranges: rangeDigests } = await digestSource(source, {
        anchor,
        ranges,
        ...(sink !== undefined ? { sink } : {}),
        onProgress: (n, t) => progress.update(n, t),
      });
      progress.done();
      const report = buildReport(summary, rangeDigests, ranges, {
        name: args.node ?? hostname(),
        source: path,
        sourceKind: source.kind,
        startedAt: started.toISOString(),
        durationMs: Date.now() - started.getTime(),
        toolVersion: TOOL_VERSION,
      });
      if (args['prom-textfile'] !== undefined) await writeFileAtomic(args['prom-textfile'], renderPrometheus(report));
      io.stdout(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderDigest(report));
      return ExitCode.OK;
    } catch (e) {
      return reportError(e, io, args.json);
    } finally {
      await source?.close().catch(() => undefined);
    }
  },
});

async function selectTables(spec: string | undefined, source: Source): Promise<TableRef[] | undefined> {
  if (spec !== undefined) return parseTableSelection(spec);
  // A snapshot names its own catalog; other checkpoints make the user choose (node-local tables must stay out).
  return source.recorded?.tables?.map((t) => ({ id: t.id, name: t.name }));
}

async function listTables(source: Source, path: string, io: CliIo): Promise<number> {
  const tables = await source.listTables();
  const names = tables.map((t) => escapeText(t.name));
  const width = Math.max(5, ...names.map((n) => n.length));
  const lines = [`${escapeText(path)} holds ${tables.length} table(s); choose with --tables a,b,c:`];
  for (const [i, t] of tables.entries()) lines.push(`  ${names[i]!.padEnd(width)}  ~${t.estimatedEntries === undefined ? '?' : count(String(t.estimatedEntries))} entries`);
  io.stderr(`${lines.join('\n')}\n`);
  return ExitCode.USAGE;
}

function resolveAnchor(args: DigestArgs, source: Source, path: string, tables: TableRef[]): SnapshotAnchor {
  const recorded = source.recorded;
  const epoch = args.epoch !== undefined ? parseU64(args.epoch, '--epoch') : (epochFromPath(path) ?? recorded?.epoch);
  if (epoch === undefined) {
    throw new SnapshotError('INVALID_ARGUMENT', `no epoch: give --epoch N, or name the checkpoint directory checkpoint_epoch_<N>`);
  }
  const cursor = args.cursor !== undefined ? parseCursor(args.cursor) : (recorded?.cursor ?? { index: 0n });
  const maxChunkBytes = args['max-chunk-bytes'] !== undefined ? parseByteSize(args['max-chunk-bytes'], '--max-chunk-bytes') : (recorded?.maxChunkBytes ?? 0n);
  if (args.ranges !== undefined && (!Number.isInteger(args.ranges) || args.ranges < 1)) {
    throw new SnapshotError('INVALID_ARGUMENT', '--ranges must be a positive integer');
  }
  if (args['chunk-files'] && args.out === undefined) throw new SnapshotError('INVALID_ARGUMENT', '--chunk-files needs --out');
  return { epoch, cursor, maxChunkBytes, tables };
}
