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
  /** Bad command-line usage. */
  USAGE: 64,
  /** Reading or writing failed (permissions, disk full, ...). */
  IO_ERROR: 74,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODES_HELP = [
  'Exit codes:',
  '  0   intact / all nodes agree / snapshots identical',
  '  1   divergence: nodes disagree (compare; even if another report is bad) or snapshots differ (diff);',
  '      publish: the node already published a different snapshot for this anchor (CONFLICT)',
  '  2   incomparable reports, too few reports, or a missing input / table',
  '  3   corrupt or invalid snapshot, checkpoint or report (error code and byte offset printed)',
  '  4   unsupported checkpoint feature (named in the message)',
  '  64  usage error',
  '  74  I/O error',
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
    case 'UNSUPPORTED_FEATURE':
      return ExitCode.UNSUPPORTED;
    case 'INVALID_ARGUMENT':
      return ExitCode.USAGE;
    case 'IO_ERROR':
      return ExitCode.IO_ERROR;
    default:
      return ExitCode.CORRUPT;
  }
}
