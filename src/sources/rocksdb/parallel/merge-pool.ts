/**
 * Merging a family's key ranges on worker threads (merge-worker.ts), so that on a machine with
 * several cores reading, decompressing and merging run beside each other and beside the writer
 * on the main thread. Ranges partition the key space, so each worker merges whole ranges with
 * its own RangeMerger; the pool hands out range r to worker r mod n, and yields the batches
 * range by range, in key order: the same batches, counts and errors as merging them here.
 *
 * Memory stays bounded: at most LOOKAHEAD ranges per worker are requested beyond the range
 * being consumed. Idle workers are unref'd, so a source that is never closed does not keep the
 * process alive.
 */
import { Worker } from 'node:worker_threads';
import type { PackedEntries } from '../../../format/packed.js';
import type { FamilyPlan } from '../family-plan.js';
import type { EntryCounts } from '../range-merger.js';
import type { KeyRange } from '../table/index.js';
import { fromWorkerError, type FromWorker, type PortablePlan, type ToWorker } from './protocol.js';

/** Ranges requested per worker ahead of the one being consumed (each ~4 MiB of table data). */
const LOOKAHEAD = 2;

type Answer = Exclude<FromWorker, { type: 'batch' }> | Extract<FromWorker, { type: 'batch' }>;

/** One range's answers as they arrive. */
class Inbox {
  private readonly items: Answer[] = [];
  private wake: (() => void) | undefined;

  push(m: Answer): void {
    this.items.push(m);
    this.wake?.();
    this.wake = undefined;
  }

  async next(): Promise<Answer> {
    while (this.items.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    return this.items.shift()!;
  }
}

class PoolWorker {
  private readonly worker: Worker;
  private readonly inboxes = new Map<number, Inbox>();
  private failure: Error | undefined;

  constructor(url: URL) {
    this.worker = new Worker(url);
    this.worker.unref();
    this.worker.on('message', (m: FromWorker) => {
      const inbox = this.inboxes.get(m.seq);
      if (inbox === undefined) return; // a range of an abandoned family
      if (m.type !== 'batch') this.settle(m.seq);
      inbox.push(m);
    });
    const fail = (e: Error) => {
      this.failure = e;
      for (const [seq, inbox] of this.inboxes) {
        this.settle(seq);
        inbox.push({ type: 'error', seq, error: { internal: e.message } });
      }
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the merge worker exited (${code})`)));
  }

  post(m: ToWorker, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(m, transfer);
  }

  /** Asks for a range; its answers arrive in the returned inbox. */
  request(fam: number, seq: number, range: KeyRange): Inbox {
    const inbox = new Inbox();
    if (this.failure !== undefined) {
      inbox.push({ type: 'error', seq, error: { internal: this.failure.message } });
      return inbox;
    }
    if (this.inboxes.size === 0) this.worker.ref(); // an answer is awaited: keep the process alive
    this.inboxes.set(seq, inbox);
    this.post({ type: 'range', fam, seq, lo: range.lo, hi: range.hi });
    return inbox;
  }

  /** Stops listening for a range (answered, or abandoned). */
  settle(seq: number): void {
    if (this.inboxes.delete(seq) && this.inboxes.size === 0) this.worker.unref();
  }

  async terminate(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

export class MergePool {
  /** Ranges handed to workers by every pool of the process (tests check the workers did the work). */
  static rangesSent = 0;
  private nextFamily = 0;
  private nextSeq = 0;

  private constructor(private readonly workers: readonly PoolWorker[]) {}

  /**
   * A pool of `n` workers, or undefined when there is no point or no way: fewer than one worker,
   * or the sources running unbuilt (as under a test runner: the worker must be compiled).
   */
  static create(n: number): MergePool | undefined {
    const url = new URL('./merge-worker.js', import.meta.url);
    if (n < 1 || !import.meta.url.endsWith('.js')) return undefined;
    try {
      return new MergePool(Array.from({ length: n }, () => new PoolWorker(url)));
    } catch {
      return undefined;
    }
  }

  /**
   * The live entries of `ranges` (consecutive, in key order), merged by the workers; adds each
   * file's entries read to `counts`. A batch is valid until the next one is requested.
   */
  async *merge(plan: FamilyPlan, ranges: readonly KeyRange[], counts: EntryCounts): AsyncGenerator<PackedEntries> {
    const fam = this.nextFamily++;
    const { merge: _merge, ...portable } = plan;
    const portablePlan: PortablePlan = portable;
    for (const w of this.workers) w.post({ type: 'family', fam, plan: portablePlan });
    const n = this.workers.length;
    const inboxes: (Inbox | undefined)[] = [];
    const seqs: number[] = [];
    let requested = 0;
    const requestUpTo = (end: number) => {
      for (; requested < Math.min(end, ranges.length); requested++) {
        seqs[requested] = this.nextSeq++;
        MergePool.rangesSent++;
        inboxes[requested] = this.workers[requested % n]!.request(fam, seqs[requested]!, ranges[requested]!);
      }
    };
    try {
      for (let r = 0; r < ranges.length; r++) {
        requestUpTo(r + 1 + LOOKAHEAD * n);
        const inbox = inboxes[r]!;
        inboxes[r] = undefined;
        for (;;) {
          const m = await inbox.next();
          if (m.type === 'batch') {
            yield { bytes: m.bytes, count: m.count };
            // Consumed (a batch is valid until the next is requested): back to its worker.
            const buffer = m.bytes.buffer as ArrayBuffer;
            this.workers[r % n]!.post({ type: 'recycle', buffer }, [buffer]);
          } else if (m.type === 'done') {
            for (const [file, k] of m.counts) counts.set(file, (counts.get(file) ?? 0) + k);
            break;
          } else {
            throw fromWorkerError(m.error, plan);
          }
        }
      }
    } finally {
      // Abandoned or failed: stop listening to the family's other ranges, and let the workers drop them.
      for (let r = 0; r < requested; r++) this.workers[r % n]!.settle(seqs[r]!);
      for (const w of this.workers) w.post({ type: 'end', fam });
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate().catch(() => undefined)));
  }
}
