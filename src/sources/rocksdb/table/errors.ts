/** Shorthands for the two SnapshotError codes the table reader raises. */
import { SnapshotError } from '../../../format/errors.js';

/** A CORRUPT_CHECKPOINT error at `offset` of `file`. */
export function corrupt(file: string, offset: number, message: string, cause?: unknown): SnapshotError {
  return new SnapshotError('CORRUPT_CHECKPOINT', message, cause === undefined ? { file, offset } : { file, offset, cause });
}

/** An UNSUPPORTED_FEATURE error: the file is valid RocksDB but uses something we refuse to approximate. */
export function unsupported(file: string, offset: number, message: string): SnapshotError {
  return new SnapshotError('UNSUPPORTED_FEATURE', message, { file, offset });
}
