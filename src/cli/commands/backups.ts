import type { Argv } from 'yargs';
import { SnapshotError } from '../../format/errors.js';
import { defineCommand } from '../command.js';
import { reportError } from '../errors.js';
import { ExitCode, exitCodeForError } from '../exit-codes.js';
import { count } from '../render/digest.js';
import { escapeText } from '../render/escape.js';

interface BackupsArgs {
  dir: string;
  json: boolean;
}

/**
 * `backups DIR`: the backups of a BackupEngine directory, for choosing `digest --backup-id`.
 * A command of its own rather than a digest flag: its output is a listing, not a report, and
 * `digest --json` keeps printing one kind of document.
 */
export const backupsCommand = defineCommand<BackupsArgs>({
  command: 'backups <dir>',
  describe: 'List the backups of a RocksDB BackupEngine directory (id, time, sequence number, files, bytes) for digest --backup-id',
  builder: (y: Argv) =>
    y
      .positional('dir', { type: 'string', demandOption: true, describe: 'BackupEngine directory (meta/, private/, shared/, shared_checksum/)' })
      .option('json', { type: 'boolean', default: false, describe: 'print [{id, timestamp, sequence, files, bytes, error?}] as JSON' })
      .epilogue(
        [
          'Each backup\'s meta file is parsed and its files are stat\'ed (present, regular, of the',
          'recorded size); checksums are verified only by digest, which reads the files. A backup',
          'that cannot be read is listed with its error code, and the exit status is then 3.',
          'digest DIR without --backup-id digests the newest (highest id).',
          '',
        ].join('\n'),
      ) as unknown as Argv<BackupsArgs>,
  async run(args, io) {
    try {
      const { listBackups } = await import('../../sources/rocksdb-backup/index.js');
      const backups = await listBackups(args.dir);
      if (backups.length === 0) throw new SnapshotError('NOT_FOUND', `${args.dir} holds no backup (meta/ has no <id> file)`, { file: args.dir });
      const bad = backups.find((b) => b.problem !== undefined)?.problem;
      if (args.json) {
        const rows = backups.map((b) =>
          b.problem === undefined
            ? { id: b.id, timestamp: new Date(Number(b.timestamp) * 1000).toISOString(), sequence: b.sequence.toString(), files: b.files, bytes: b.bytes }
            : { id: b.id, error: { code: b.problem.code, message: b.problem.message, file: b.problem.file, offset: b.problem.offset } },
        );
        io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      } else {
        const lines = [`${escapeText(args.dir)}: ${backups.length} backup(s), newest last (digest takes the newest unless --backup-id N)`];
        lines.push(`  ${'id'.padStart(10)}  ${'time (UTC)'.padEnd(20)}  ${'sequence'.padStart(12)}  ${'files'.padStart(6)}  ${'bytes'.padStart(14)}`);
        for (const b of backups) {
          lines.push(
            b.problem === undefined
              ? `  ${String(b.id).padStart(10)}  ${new Date(Number(b.timestamp) * 1000).toISOString().replace(/\.000Z$/, 'Z').padEnd(20)}  ${b.sequence.toString().padStart(12)}  ${String(b.files).padStart(6)}  ${count(String(b.bytes)).padStart(14)}`
              : `  ${String(b.id).padStart(10)}  unreadable: ${b.problem.code} ${escapeText(b.problem.message)}`,
          );
        }
        io.stdout(`${lines.join('\n')}\n`);
      }
      return bad === undefined ? ExitCode.OK : exitCodeForError(bad);
    } catch (e) {
      return reportError(e, io, args.json);
    }
  },
});
