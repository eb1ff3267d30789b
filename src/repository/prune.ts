import { SnapshotError } from '../format/errors.js';
import { listEpochs, scanEpoch } from './reports.js';
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
 * ever finds a report whose chunks are gone. Newer epochs without reports (a publish in progress)
 * and kept epochs are never touched.
 */
export async function pruneRepository(store: ObjectStore, options: PruneOptions): Promise<PruneResult> {
  if (!Number.isInteger(options.keepEpochs) || options.keepEpochs < 1) throw new SnapshotError('INVALID_ARGUMENT', `--keep-epochs must be a positive integer, got ${String(options.keepEpochs)}`);
  const { epochs, garbage } = await listEpochs(store);
  const scans = new Map<bigint, Awaited<ReturnType<typeof scanEpoch>>>();
  const kept: bigint[] = [];
  for (const e of [...epochs].reverse()) {
    if (kept.length === options.keepEpochs) break;
    const s = await scanEpoch(store, String(e));
    scans.set(e, s);
    if (s.reports.length > 0) kept.push(e);
  }
  const oldestKept = kept[kept.length - 1];
  const doomed = kept.length < options.keepEpochs || oldestKept === undefined ? [] : epochs.filter((e) => e < oldestKept);
  const pruned: PrunedEpoch[] = [];
  let deletedObjects = 0;
  for (const e of doomed) {
    const s = scans.get(e) ?? (await scanEpoch(store, String(e)));
    const others = [...s.chunks, ...s.garbage];
    pruned.push({ epoch: String(e), reports: s.reports.length, others: others.length });
    if (!options.delete) continue;
    // Reports first: once they are gone no reader starts on this epoch's chunks.
    await forEachLimited(s.reports, DELETE_CONCURRENCY, async (key) => {
      await store.delete(key);
      deletedObjects++;
    });
    await forEachLimited(others, DELETE_CONCURRENCY, async (key) => {
      await store.delete(key);
      deletedObjects++;
    });
    // Anything written meanwhile (a late publish) goes too, reports first again.
    const late = await scanEpoch(store, String(e));
    for (const key of [...late.reports, ...late.chunks, ...late.garbage]) {
      await store.delete(key);
      deletedObjects++;
    }
  }
  return { dryRun: !options.delete, kept: kept.map(String), pruned, garbage, deletedObjects };
}

