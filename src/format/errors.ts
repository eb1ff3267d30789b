/**
 * The one error class for bad input: a bad snapshot, a bad checkpoint, a bad report.
 * `code` is stable and documented (spec/FORMAT.md, README); tests assert on it, never on text.
 */

/** Codes a snapshot reader or writer raises (spec/FORMAT.md, "Reader obligations"). */
export type FormatErrorCode =
  | 'BAD_MAGIC'
  | 'UNSUPPORTED_VERSION'
  | 'TRUNCATED'
  | 'CHECKSUM_MISMATCH'
  | 'UNSORTED_KEYS'
  | 'LIMIT_EXCEEDED'
  | 'NON_CANONICAL'
  | 'TRAILING_BYTES'
  | 'CHUNK_SEQUENCE'
  | 'BAD_RECORD'
  | 'TABLE_MISMATCH'
  | 'INVALID_ARGUMENT'
  /** A chunk-set file (chunk-set.ts) that is not well formed. */
  | 'BAD_CHUNK_SET'
  /** Another write to the same output is in progress (output-lock.ts). */
  | 'OUTPUT_BUSY';

/** Codes sources raise while turning a checkpoint into tables. */
export type SourceErrorCode =
  | 'NOT_FOUND'
  | 'UNKNOWN_TABLE'
  | 'CORRUPT_CHECKPOINT'
  | 'UNSUPPORTED_FEATURE'
  | 'MERGE_FAILED'
  | 'BAD_DUMP'
  | 'LIVE_DATABASE'
  | 'NOT_REGULAR_FILE'
  | 'IO_ERROR';

/** Codes for reports that compare consumes, and for the anchor file (docs/ANCHOR.md) digest, diff and compare take. */
export type ReportErrorCode = 'BAD_REPORT' | 'NEWER_REPORT' | 'BAD_ANCHOR';

/** Codes for keys, signed statements, trust sets and quorum certificates (spec/STATEMENT.md). */
export type TrustErrorCode = 'BAD_KEY' | 'BAD_STATEMENT' | 'BAD_SIGNATURE' | 'BAD_TRUST' | 'BAD_CERTIFICATE' | 'NO_QUORUM' | 'NOT_CERTIFIED';

/** Codes restore raises: the output exists, or a table cannot become a RocksDB column family. */
export type RestoreErrorCode = 'OUTPUT_EXISTS' | 'BAD_TABLE_NAME';

/** Codes of the snapshot repository (spec/REPOSITORY.md): a node published two snapshots for one anchor. */
export type RepositoryErrorCode = 'CONFLICT';

export type ErrorCode = FormatErrorCode | SourceErrorCode | ReportErrorCode | TrustErrorCode | RestoreErrorCode | RepositoryErrorCode;

export interface SnapshotErrorOptions {
  /** Byte offset in the input where the problem was detected. */
  readonly offset?: number;
  /** The file the offset refers to, where there is one. */
  readonly file?: string;
  readonly cause?: unknown;
}

export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
  readonly code: ErrorCode;
  readonly offset: number | undefined;
  readonly file: string | undefined;

  constructor(code: ErrorCode, message: string, options: SnapshotErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.offset = options.offset;
    this.file = options.file;
  }

  /** "CODE in f.snap at offset 31 (0x1f): message" — the one-line form the CLI prints. */
  describe(): string {
    const where: string[] = [];
    if (this.file !== undefined) where.push(` in ${this.file}`);
    if (this.offset !== undefined) where.push(` at offset ${this.offset} (0x${this.offset.toString(16)})`);
    return `${this.code}${where.join('')}: ${this.message}`;
  }
}

export function isSnapshotError(e: unknown): e is SnapshotError {
  return e instanceof SnapshotError;
}
