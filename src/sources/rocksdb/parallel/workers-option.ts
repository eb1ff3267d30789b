/**
 * The merge workers option (merge-pool.ts), apart from the pool so that a source without workers
 * never loads the pool.
 */
import { SnapshotError } from '../../../format/errors.js';

/**
 * Workers a source uses by default: SNAPSHOT_VERIFY_MERGE_WORKERS if set, else none. Measured
 * on the shared 2-core machine (bench/README.md): 2 workers cost ~28% more CPU and ~85 MB more
 * RSS than one thread; whether they pay in wall-clock time takes a quiet machine to tell
 * (bench/rocksdb.mjs measures both), so they stay opt-in until then.
 */
export function defaultMergeWorkers(): number {
  const env = process.env['SNAPSHOT_VERIFY_MERGE_WORKERS'];
  return env !== undefined && env !== '' ? checkWorkers(Number(env)) : 0;
}

/** Throws when `n` is not a worker count. */
export function checkWorkers(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new SnapshotError('INVALID_ARGUMENT', `workers must be a non-negative integer, got ${n}`);
  return n;
}
