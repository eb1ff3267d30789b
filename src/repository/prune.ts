import { SnapshotError } from '../format/errors.js';
import { epochPrefix } from './layout.js';
import { newestFirst, scanRepository } from './reports.js';
import { forEachLimited, type ObjectStore } from './store.js';

/** Deletions in flight at once. */
const DELETE_CONCURRENCY = 8;

export type PruneOptions = Readonly<{
  /** Epochs to keep: the K newest that hold at least one report. */
  keepEpochs: number;
  /** Delete for real; otherwise only say what would go. Defaults to false (dry run). */
  delete?: boolean;
}>;

export interface PrunedEpoch {
  readonly epoch: string;
  readonly reports: number;
  readonly certificates: number;
  /** Chunks, orphans, garbage and temporary files under the epoch. */
  readonly others: number;
}

export interface PruneResult {
  readonly dryRun: boolean;
  readonly kept: readonly string[];
  readonly pruned: readonly PrunedEpoch[];
  /** Keys under v1/epochs/ that are not epochs (never deleted). */
  readonly garbage: readonly string[];
  readonly deletedObjects: number;
}

/**
 * Retention (spec/REPOSITORY.md section 7): keeps the K newest epochs holding a report, and of
 * every older epoch deletes the reports first, then everything else under it, so that no reader
 * ever finds a report (or certificate) whose chunks are gone. Newer epochs without reports (a publish in progress)
 * and kept epochs are never touched.
 */
export async function pruneRepository(store: ObjectStore, options: PruneOptions): Promise<PruneResult> {
  if (!Number.isInteger(options.keepEpochs) || options.keepEpochs < 1) throw new SnapshotError('INVALID_ARGUMENT', `--keep-epochs must be a positive integer, got ${String(options.keepEpochs)}`);
  const scan = await scanRepository(store);
  const epochs = newestFirst(scan.epochs.keys());
  const kept = epochs.filter((e) => scan.epochs.get(e)!.reports.length > 0).slice(0, options.keepEpochs);
  const oldestKept = kept[kept.length - 1];
  // Fewer epochs with reports than K: nothing is old enough. Epochs newer than the oldest kept one
  // (a publish in progress, without its report yet) are never touched.
  const doomed = kept.length < options.keepEpochs || oldestKept === undefined ? [] : epochs.filter((e) => BigInt(e) < BigInt(oldestKept)).reverse();
  const pruned: PrunedEpoch[] = [];
  let deletedObjects = 0;
  const remove = async (keys: readonly string[]): Promise<void> =>
    forEachLimited(keys, DELETE_CONCURRENCY, async (key) => {
      await store.delete(key);
      deletedObjects++;
    });
  for (const e of doomed) {
    const s = scan.epochs.get(e)!;
    const others = [...s.chunks, ...s.garbage];
    pruned.push({ epoch: e, reports: s.reports.length, certificates: s.certificates.length, others: others.length });
    if (!options.delete) continue;
    // Reports and certificates first: once they are gone no reader starts on this epoch's chunks.
    await remove([...s.reports, ...s.certificates]);
    await remove(others);
    // Anything written meanwhile (a late publish) goes too, reports first again.
    const late = (await scanRepository(store, epochPrefix(e))).epochs.get(e);
    if (late !== undefined) {
      await remove([...late.reports, ...late.certificates]);
      await remove([...late.chunks, ...late.garbage]);
    }
  }
  const garbage = scan.garbage;
  return { dryRun: !options.delete, kept, pruned, garbage, deletedObjects };
}

