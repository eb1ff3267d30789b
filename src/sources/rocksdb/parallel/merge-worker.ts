/**
 * A merge worker (merge-pool.ts): merges the key ranges it is sent with its own RangeMerger
 * (its own table readers and kernel) and posts each packed batch as a transferred copy.
 * Ranges are merged one at a time, in the order they arrive.
 */
import { parentPort } from 'node:worker_threads';
import { SnapshotError } from '../../../format/errors.js';
import { RangeMerger, type EntryCounts } from '../range-merger.js';
import { REFUSED, toWorkerError, type FromWorker, type ToWorker } from './protocol.js';

const port = parentPort!;

interface Family {
  readonly merger: RangeMerger;
  ended: boolean;
}

const families = new Map<number, Family>();
const jobs: Extract<ToWorker, { type: 'range' }>[] = [];
let running = false;
/** The family whose range pump() is merging now, if any. */
let current: number | undefined;

const post = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

/**
 * Buffers the pool gave back. Reusing them spares a fresh 1 MiB allocation per batch (page
 * faults on this side, unmapping on the other): in measurements that was most of a worker's
 * copying cost.
 */
const free: ArrayBuffer[] = [];
const MAX_FREE = 8;

function copyOut(bytes: Uint8Array): Uint8Array {
  let buffer = free.pop();
  while (buffer !== undefined && buffer.byteLength < bytes.length) buffer = free.pop();
  const out = buffer === undefined ? new Uint8Array(Math.max(bytes.length, 1 << 20)) : new Uint8Array(buffer);
  out.set(bytes);
  return out.subarray(0, bytes.length);
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'family') {
    // No operator crosses threads (the pool only sends families without one): a visible operand
    // raises REFUSED, which the main thread turns into the plan's own refusal.
    const plan = { ...m.plan, merge: { operator: undefined, refuse: (file: string) => new SnapshotError('UNSUPPORTED_FEATURE', REFUSED, { file }) } };
    families.set(m.fam, { merger: new RangeMerger(plan), ended: false });
  } else if (m.type === 'recycle') {
    if (free.length < MAX_FREE) free.push(m.buffer);
  } else if (m.type === 'range') {
    jobs.push(m);
    void pump();
  } else {
    const f = families.get(m.fam);
    if (f === undefined) return;
    f.ended = true;
    families.delete(m.fam);
    // The family being merged closes when its range stops (pump); any other closes now.
    if (current !== m.fam) void f.merger.close();
  }
});

async function pump(): Promise<void> {
  if (running) return;
  running = true;
  try {
    for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) {
      const f = families.get(job.fam);
      if (f === undefined) continue; // its family ended: the pool no longer listens
      current = job.fam;
      const counts: EntryCounts = new Map();
      try {
        for await (const p of f.merger.merge({ lo: job.lo, hi: job.hi }, counts)) {
          if (f.ended) break;
          // The batch is a view into the kernel's memory: a copy of it crosses, transferred.
          const bytes = copyOut(p.bytes);
          post({ type: 'batch', seq: job.seq, bytes, count: p.count }, [bytes.buffer as ArrayBuffer]);
        }
        if (!f.ended) post({ type: 'done', seq: job.seq, counts: [...counts] });
      } catch (e) {
        if (!f.ended) post({ type: 'error', seq: job.seq, error: toWorkerError(e) });
      }
      current = undefined;
      if (f.ended) await f.merger.close();
    }
  } finally {
    running = false;
    current = undefined;
  }
}
