import { SnapshotError } from '../format/errors.js';

/**
 * Exit codes in the diff(1) tradition: 0 same/intact, 1 differences found, 2 cannot compare.
 * Documented in `--help` (EXIT_CODES_HELP) and the README; tests pin them.
 */
export const ExitCode = {
  /** Intact, or every node agrees. */
  OK: 0,
  /** compare: nodes diverge; diff: the snapshots differ. */
  DIVERGENCE: 1,
  /** compare: reports with different anchors, or too few; any command: an input does not exist. */
  INCOMPARABLE: 2,
  /** A snapshot, checkpoint or report is corrupt or invalid (the error code and offset say where). */
  CORRUPT: 3,
  /** The checkpoint uses a feature this tool does not read (named in the message). */
  UNSUPPORTED: 4,
  /** The source is a live database (another process holds its LOCK): digest a checkpoint, or --allow-live. */
  LIVE_DATABASE: 5,
  /** compare --trust: a trusted key signed two contradicting reports for one anchor. */
  EQUIVOCATION: 6,
  /** Bad command-line usage. */
  USAGE: 64,
  /** Reading or writing failed (permissions, disk full, ...). */
  IO_ERROR: 74,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODES_HELP = [
  'Exit codes:',
  '  0   intact / all nodes agree / snapshots identical',
  '  1   divergence: nodes disagree (compare; even if another report is bad), snapshots differ (diff),',
  '      a snapshot is not the certified one (verify --certificate: NOT_CERTIFIED), or',
  '      publish: the node already published a different snapshot for this anchor (CONFLICT),',
  '      certify: a different certificate for the anchor is already in the repository (CONFLICT)',
  '  2   incomparable reports, too few reports, or a missing input / table',
  '  3   corrupt or invalid snapshot, checkpoint or report, or a failed merge operator (error code and byte offset printed)',
  '  4   unsupported checkpoint feature (named in the message); restore: a table name RocksDB cannot take',
  '  5   the source is a live database (its LOCK is held): digest a checkpoint, or --allow-live',
  '  6   equivocation: a trusted key signed two different reports for one anchor (compare --trust)',
  '  64  usage error',
  '  74  I/O error (also: --prom-textfile not written, the report was still printed; OUTPUT_BUSY:',
  '      another write to the same --out is in progress;',
  '      restore: the output directory exists and is not empty)',
].join('\n');

/** Maps an error to its exit code; anything not a SnapshotError is an internal failure (I/O class). */
export function exitCodeForError(e: unknown): ExitCodeValue {
  if (!(e instanceof SnapshotError)) return ExitCode.IO_ERROR;
  switch (e.code) {
    case 'CONFLICT':
      return ExitCode.DIVERGENCE;
    case 'NOT_FOUND':
    case 'UNKNOWN_TABLE':
      return ExitCode.INCOMPARABLE;
    case 'NOT_CERTIFIED':
      return ExitCode.DIVERGENCE;
    case 'UNSUPPORTED_FEATURE':
    case 'BAD_TABLE_NAME':
      return ExitCode.UNSUPPORTED;
    case 'LIVE_DATABASE':
      return ExitCode.LIVE_DATABASE;
    case 'INVALID_ARGUMENT':
    case 'BAD_ANCHOR':
      return ExitCode.USAGE;
    case 'IO_ERROR':
    case 'OUTPUT_EXISTS':
    case 'OUTPUT_BUSY':
      return ExitCode.IO_ERROR;
    default:
      return ExitCode.CORRUPT;
  }
}
