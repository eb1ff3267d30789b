import type { Argv } from 'yargs';
import { SnapshotError } from '../../format/errors.js';
import { formatDigest } from '../../format/digest.js';
import { verifySnapshot } from '../../format/reader.js';
import { snapshotFiles } from '../../sources/open.js';
import { defineCommand } from '../command.js';
import { fromSystemError } from '../errors.js';
import { exitCodeForError, ExitCode } from '../exit-codes.js';
import { escapeText } from '../render/escape.js';

interface VerifyArgs {
  snapshot: string[];
  chunks: boolean;
  'each-chunk': boolean;
  json: boolean;
}

interface VerifyResult {
  readonly input: string;
  readonly ok: boolean;
  readonly digest?: string;
  readonly entries?: string;
  readonly chunks?: number;
  readonly error?: { code: string; message: string; file: string | null; offset: number | null };
}

export const verifyCommand = defineCommand<VerifyArgs>({
  command: 'verify <snapshot..>',
  describe: 'Verify snapshots: structure, order, limits, table digests and every chunk trailer',
  builder: (y: Argv) =>
    y
      .positional('snapshot', { type: 'string', array: true, demandOption: true, describe: 'snapshot files, or chunk-set files written by --chunk-files (or base paths of chunk files <path>.000000, … of earlier versions); each is one snapshot' })
      .option('chunks', { type: 'boolean', default: false, describe: 'the arguments are the chunk files of ONE snapshot, in order' })
      .option('each-chunk', { type: 'boolean', default: false, describe: 'verify each file as a standalone chunk (no chaining): for chunks fetched one by one; entries counts each chunk\'s own' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document' }) as unknown as Argv<VerifyArgs>,
  async run(args, io) {
    const groups = args.chunks ? [args.snapshot] : args.snapshot.map((s) => [s]);
    const results: VerifyResult[] = [];
    let exit: number = ExitCode.OK;
    for (const group of groups) {
      const input = group.join(' ');
      try {
        const files = group.length === 1 ? await snapshotFiles(group[0]!) : group;
        if (args['each-chunk']) {
          for (const f of files) {
            const s = await verifySnapshot(f, { standaloneChunk: true });
            results.push({ input: f, ok: true, digest: formatDigest(s.digest), entries: String(s.entries), chunks: 1 });
          }
        } else {
          const s = await verifySnapshot(files);
          results.push({ input, ok: true, digest: formatDigest(s.digest), entries: String(s.entries), chunks: s.chunks.length });
        }
      } catch (error) {
        const e = fromSystemError(error);
        exit = Math.max(exit, exitCodeForError(e)); // the worst outcome of all inputs
        const err = e instanceof SnapshotError
          ? { code: e.code, message: e.message, file: e.file ?? null, offset: e.offset ?? null }
          : { code: 'INTERNAL', message: String(e), file: null, offset: null };
        results.push({ input, ok: false, error: err });
        if (!args.json) io.stderr(`snapshot-verify: ${escapeText(e instanceof SnapshotError ? e.describe() : String(e))}\n`);
      }
    }
    if (args.json) {
      io.stdout(`${JSON.stringify({ ok: results.every((r) => r.ok), results }, null, 2)}\n`);
    } else {
      for (const r of results) {
        io.stdout(r.ok ? `OK   ${escapeText(r.input)}  digest ${r.digest}  entries ${r.entries}  chunks ${r.chunks}\n` : `FAIL ${escapeText(r.input)}  ${r.error!.code}${r.error!.offset !== null ? ` at offset ${r.error!.offset}` : ''}${r.error!.file !== null ? ` in ${escapeText(r.error!.file)}` : ''}\n`);
      }
    }
    return exit;
  },
});
