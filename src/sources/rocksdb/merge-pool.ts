/**
 * Merging key ranges in worker threads (merge-worker.ts): a family's user-key space is cut
 * into ranges (rocksdb-source.ts chooses the cuts), each worker reads, verifies, decompresses,
 * decodes and merges whole ranges, and the batches come back in range order, packed, for the
 * main thread to hash and write. Every core works on the expensive part; the main thread's
 * share is one copy and the hashing.
 *
 * Memory stays bounded: a worker has at most RANGES_PER_WORKER ranges assigned, and a range's
 * batches wait in the main thread only until its turn comes, so what is buffered is at most
 * (workers × RANGES_PER_WORKER) ranges' output, whatever the table size.
 *
 * Used when the compiled worker module is next to this one; from TypeScript sources (under a
 * test runner) ranges are merged in-thread, by the same RangeMerger.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SnapshotError, type ErrorCode } from '../../format/errors.js';
import type { PackedEntries } from '../../format/packed.js';
import type { FamilyPlan } from './family-plan.js';
import type { MergeWorkerReply, MergeWorkerRequest, WorkerError } from './merge-worker.js';
import type { EntryCounts } from './range-merger.js';
import type { KeyRange } from './table/index.js';

/** Ranges assigned to one worker at a time: one being merged, one queued so it never idles. */
const RANGES_PER_WORKER = 2;

interface RangeState {
  readonly batches: PackedEntries[];
  done: boolean;
  error: SnapshotError | undefined;
  readonly worker: number;
  readonly counts: EntryCounts;
  /** The consumer has gone: batches are dropped, the state goes when the worker is done. */
  abandoned: boolean;
}

export class MergePool {
  private readonly workers: Worker[] = [];
  private readonly assigned: number[] = [];
  private readonly ranges = new Map<number, RangeState>();
  private nextPlan = 1;
  private nextRange = 1;
  /** Consumers waiting for a reply (one per family being read). */
  private readonly waiting = new Set<() => void>();
  private failure: SnapshotError | undefined;
  private closed = false;

  private constructor(url: URL, threads: number, execArgv: string[]) {
    for (let i = 0; i < threads; i++) {
      const w = new Worker(url, { execArgv });
      w.unref(); // referenced only while ranges are assigned
      w.on('message', (r: MergeWorkerReply) => this.onReply(r));
      w.on('error', (e) => this.fail(new SnapshotError('IO_ERROR', `merge worker failed: ${e.message}`, { cause: e })));
      w.on('exit', (code) => {
        if (!this.closed) this.fail(new SnapshotError('IO_ERROR', `merge worker exited with code ${code}`));
      });
      this.workers.push(w);
      this.assigned.push(0);
    }
  }

  /** A pool of `threads` workers, or undefined when threads < 1 or the compiled worker is absent. */
  static create(threads: number): MergePool | undefined {
    const url = new URL('./merge-worker.js', import.meta.url);
    if (threads < 1 || url.protocol !== 'file:' || !existsSync(fileURLToPath(url))) return undefined;
    return workerPool((execArgv) => new MergePool(url, threads, execArgv));
  }

  get threads(): number {
    return this.workers.length;
  }

  /**
   * The packed entries of `ranges` (ascending, disjoint) of the family `plan`, in order; adds
   * each file's entries read to `counts`. Abandoning the iteration drops the plan.
   */
  async *merge(plan: FamilyPlan, ranges: readonly KeyRange[], counts: EntryCounts): AsyncGenerator<PackedEntries> {
    this.throwIfFailed();
    const planId = this.nextPlan++;
    for (const w of this.workers) w.postMessage({ op: 'plan', planId, plan } satisfies MergeWorkerRequest);
    const ids: number[] = [];
    let dispatched = 0;
    const dispatch = () => {
      while (dispatched < ranges.length) {
        let w = 0;
        for (let i = 1; i < this.workers.length; i++) if (this.assigned[i]! < this.assigned[w]!) w = i;
        if (this.assigned[w]! >= RANGES_PER_WORKER) return;
        const rangeId = this.nextRange++;
        ids.push(rangeId);
        this.ranges.set(rangeId, { batches: [], done: false, error: undefined, worker: w, counts, abandoned: false });
        if (this.assigned[w]!++ === 0) this.workers[w]!.ref();
        this.workers[w]!.postMessage({ op: 'range', planId, rangeId, range: ranges[dispatched++]! } satisfies MergeWorkerRequest);
      }
    };
    try {
      dispatch();
      for (let i = 0; i < ranges.length; i++) {
        const state = this.ranges.get(ids[i]!)!;
        for (;;) {
          const batch = state.batches.shift();
          if (batch !== undefined) {
            yield batch;
            continue;
          }
          if (state.error !== undefined) throw state.error;
          this.throwIfFailed();
          if (state.done) break;
          await new Promise<void>((resolve) => this.waiting.add(resolve));
        }
        this.ranges.delete(ids[i]!);
        dispatch();
      }
    } finally {
      for (const id of ids) {
        const state = this.ranges.get(id);
        if (state === undefined) continue;
        if (state.done || state.error !== undefined) this.ranges.delete(id);
        else state.abandoned = true;
      }
      if (!this.closed) for (const w of this.workers) w.postMessage({ op: 'drop', planId } satisfies MergeWorkerRequest);
    }
  }

  private onReply(r: MergeWorkerReply): void {
    const state = this.ranges.get(r.rangeId);
    if (state === undefined) return;
    if (r.op === 'batch') {
      if (!state.abandoned) state.batches.push({ bytes: new Uint8Array(r.buffer, 0, r.length), count: r.count });
    } else {
      // The worker is done with the range (its last batch came before this).
      if (--this.assigned[state.worker]! === 0) this.workers[state.worker]!.unref();
      if (state.abandoned) this.ranges.delete(r.rangeId);
      if (r.op === 'end') {
        state.done = true;
        for (const [path, n] of r.counts) state.counts.set(path, (state.counts.get(path) ?? 0) + n);
      } else {
        state.error = deserializeError(r.error);
      }
    }
    this.notify();
  }

  private notify(): void {
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const wake of waiting) wake();
  }

  private fail(e: SnapshotError): void {
    this.failure ??= e;
    this.notify();
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new SnapshotError('IO_ERROR', 'the merge workers are closed');
  }

  /** Terminates the workers (their open files close with them). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.notify();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function deserializeError(e: WorkerError): SnapshotError {
  return new SnapshotError((e.code as ErrorCode | undefined) ?? 'CORRUPT_CHECKPOINT', e.message, {
    ...(e.file === undefined ? {} : { file: e.file }),
    ...(e.offset === undefined ? {} : { offset: e.offset }),
  });
}

/**
 * Creates a pool with the parent's Node flags minus those that break workers (`--input-type` of
 * `node -e`, `--cpu-prof`); if Node still refuses them (V8 flags such as `--expose-gc` throw
 * ERR_WORKER_INVALID_EXEC_ARGV), with no flags; if that fails too, undefined: merge in-thread.
 */
export function workerPool<T>(make: (execArgv: string[]) => T): T | undefined {
  const inherited = process.execArgv.filter((a) => !a.startsWith('--input-type') && !a.startsWith('--cpu-prof'));
  for (const execArgv of [inherited, []]) {
    try {
      return make(execArgv);
    } catch {
      // try the next set of flags
    }
  }
  return undefined;
}
