/**
 * Worker-thread side of merge-pool.ts: merges the key ranges it is given (range-merger.ts),
 * one at a time in the order received, and posts each packed batch by transferring its buffer
 * (no copy). Files are opened read-only and only ever pread, as by the table reader itself.
 */
import { parentPort } from 'node:worker_threads';
import { SnapshotError } from '../../format/errors.js';
import type { FamilyPlan } from './family-plan.js';
import { RangeMerger, type EntryCounts } from './range-merger.js';
import type { KeyRange } from './table/index.js';

/** A request from the main thread. */
export type MergeWorkerRequest =
  | { readonly op: 'plan'; readonly planId: number; readonly plan: FamilyPlan }
  | { readonly op: 'range'; readonly planId: number; readonly rangeId: number; readonly range: KeyRange }
  | { readonly op: 'drop'; readonly planId: number };

/** A serialized SnapshotError (or another error's message). */
export interface WorkerError {
  readonly code?: string;
  readonly message: string;
  readonly file?: string;
  readonly offset?: number;
}

/** What a worker posts for a range: its batches, then its end (with the entries read per file) or an error. */
export type MergeWorkerReply =
  | { readonly op: 'batch'; readonly rangeId: number; readonly buffer: ArrayBuffer; readonly length: number; readonly count: number }
  | { readonly op: 'end'; readonly rangeId: number; readonly counts: [string, number][] }
  | { readonly op: 'error'; readonly rangeId: number; readonly error: WorkerError };

const port = parentPort;
const mergers = new Map<number, RangeMerger>();

if (port !== null) {
  let chain = Promise.resolve();
  port.on('message', (req: MergeWorkerRequest) => {
    chain = chain.then(() => handle(req));
  });
}

async function handle(req: MergeWorkerRequest): Promise<void> {
  switch (req.op) {
    case 'plan':
      mergers.set(req.planId, new RangeMerger(req.plan));
      return;
    case 'drop': {
      const m = mergers.get(req.planId);
      mergers.delete(req.planId);
      await m?.close();
      return;
    }
    case 'range': {
      const merger = mergers.get(req.planId);
      if (merger === undefined) return; // dropped: the consumer has gone
      const counts: EntryCounts = new Map();
      try {
        for await (const p of merger.merge(req.range, counts)) {
          const buffer = p.bytes.slice().buffer; // the batch is a view into reused memory: a copy goes
          port!.postMessage({ op: 'batch', rangeId: req.rangeId, buffer, length: p.bytes.length, count: p.count } satisfies MergeWorkerReply, [buffer]);
        }
        port!.postMessage({ op: 'end', rangeId: req.rangeId, counts: [...counts] } satisfies MergeWorkerReply);
      } catch (e) {
        port!.postMessage({ op: 'error', rangeId: req.rangeId, error: serializeError(e) } satisfies MergeWorkerReply);
      }
    }
  }
}

function serializeError(e: unknown): WorkerError {
  if (e instanceof SnapshotError) {
    return { code: e.code, message: e.message, ...(e.file === undefined ? {} : { file: e.file }), ...(e.offset === undefined ? {} : { offset: e.offset }) };
  }
  return { message: e instanceof Error ? e.message : String(e) };
}
