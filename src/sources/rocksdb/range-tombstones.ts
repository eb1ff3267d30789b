/**
 * Range deletions of one column family, from every table file and the memtable, flattened
 * into disjoint fragments that each carry the highest sequence number covering them.
 *
 * A point entry at sequence `s` is deleted by a range tombstone iff the tombstone covers its
 * user key and has a higher sequence number; sequence numbers are global across levels, so
 * which file a tombstone lives in does not matter. Only the highest covering sequence is
 * needed, hence the flattening. All tombstones are held in memory: there are few of them in
 * practice (each DeleteRange call writes one), unlike point entries.
 */
import { compareBytes } from '../../format/bytes.js';

/** A range deletion `[start, end)` at `sequence`. */
export interface Tombstone {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
  readonly sequence: number;
}

/** A piece of the key space `[start, end)` and the highest tombstone sequence covering it. */
export interface Fragment {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
  readonly maxSequence: number;
}

/** Answers "highest tombstone sequence covering this key" for keys visited in ascending order. */
export class RangeTombstoneCursor {
  private readonly fragments: Fragment[];
  private index = 0;

  constructor(tombstones: readonly Tombstone[]) {
    this.fragments = fragment(tombstones);
  }

  /** True when there are no tombstones at all, so callers can skip the check. */
  get empty(): boolean {
    return this.fragments.length === 0;
  }

  /**
   * The highest sequence of a tombstone covering `key`, or -1. Keys must be passed in
   * non-decreasing order: the cursor only moves forward.
   */
  coveringSequence(key: Uint8Array): number {
    const f = this.fragments;
    while (this.index < f.length && compareBytes(f[this.index]!.end, key) <= 0) this.index++;
    const cur = f[this.index];
    return cur !== undefined && compareBytes(cur.start, key) <= 0 ? cur.maxSequence : -1;
  }
}

/**
 * The tombstones flattened into sorted, disjoint fragments. Sweeps the sorted boundaries keeping
 * a max-heap (by sequence) of the tombstones open there.
 */
export function fragment(tombstones: readonly Tombstone[]): Fragment[] {
  const live = tombstones.filter((t) => compareBytes(t.start, t.end) < 0); // empty ranges delete nothing
  if (live.length === 0) return [];
  const byStart = [...live].sort((a, b) => compareBytes(a.start, b.start));
  const bounds: Uint8Array[] = [];
  for (const t of live) bounds.push(t.start, t.end);
  bounds.sort(compareBytes);
  const points = bounds.filter((b, i) => i === 0 || compareBytes(bounds[i - 1]!, b) !== 0);

  const heap: Tombstone[] = [];
  const out: Fragment[] = [];
  let next = 0;
  for (let i = 0; i + 1 < points.length; i++) {
    const lo = points[i]!;
    while (next < byStart.length && compareBytes(byStart[next]!.start, lo) <= 0) heapPush(heap, byStart[next++]!);
    // Tombstones that ended at or before `lo` are dropped lazily, only when they surface.
    while (heap.length > 0 && compareBytes(heap[0]!.end, lo) <= 0) heapPop(heap);
    const top = heap[0];
    if (top === undefined) continue;
    const hi = points[i + 1]!;
    const last = out[out.length - 1];
    if (last !== undefined && last.maxSequence === top.sequence && compareBytes(last.end, lo) === 0) {
      out[out.length - 1] = { start: last.start, end: hi, maxSequence: top.sequence };
    } else {
      out.push({ start: lo, end: hi, maxSequence: top.sequence });
    }
  }
  return out;
}

function heapPush(h: Tombstone[], t: Tombstone): void {
  h.push(t);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p]!.sequence >= h[i]!.sequence) break;
    [h[p], h[i]] = [h[i]!, h[p]!];
    i = p;
  }
}

function heapPop(h: Tombstone[]): void {
  const last = h.pop()!;
  if (h.length === 0) return;
  h[0] = last;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < h.length && h[l]!.sequence > h[m]!.sequence) m = l;
    if (r < h.length && h[r]!.sequence > h[m]!.sequence) m = r;
    if (m === i) return;
    [h[m], h[i]] = [h[i]!, h[m]!];
    i = m;
  }
}
