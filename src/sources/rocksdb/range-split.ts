/**
 * Choosing key ranges: a family's user-key space is cut where its largest sorted run (one L0
 * file or one level) has file boundaries and, inside big files, index separators, so that
 * ranges hold about equal amounts of table data whatever the key distribution.
 */
import { compareBytes } from '../../format/bytes.js';
import type { KeyRange } from './table/index.js';

/** The sorted run (a list of files) with the most bytes, or undefined when all are empty. */
export function largestRun<F extends { readonly fileSize: number }>(runs: readonly (readonly F[])[]): readonly F[] | undefined {
  let best: readonly F[] | undefined;
  let bestBytes = 0;
  for (const run of runs) {
    const bytes = run.reduce((n, f) => n + f.fileSize, 0);
    if (bytes > bestBytes) {
      best = run;
      bestBytes = bytes;
    }
  }
  return best;
}

/** Cuts to make inside a file of `fileSize` bytes for ranges of about `rangeBytes`. */
export function cutsInside(fileSize: number, rangeBytes: number): number {
  return Math.max(0, Math.round(fileSize / rangeBytes) - 1);
}

/** Consecutive ranges between the split keys (sorted here, duplicates dropped), covering all keys. */
export function toRanges(splits: readonly Uint8Array[]): KeyRange[] {
  const sorted = [...splits].sort(compareBytes);
  const ranges: KeyRange[] = [];
  let lo: Uint8Array | undefined;
  for (const hi of sorted) {
    if (lo !== undefined && compareBytes(lo, hi) === 0) continue;
    ranges.push({ lo, hi });
    lo = hi;
  }
  ranges.push({ lo });
  return ranges;
}
