import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain JavaScript shared with scripts/fuzz.mjs (no declarations)
import { CLASSES, removeScratch, runTrial, tinyDisk } from './harness.mjs';

/**
 * Fixed seeds, bounded counts: every class of hostile input of issue 8 ends in a documented
 * outcome (rejected with a documented code, or accepted with the right content), never a crash,
 * hang, over-memory or wrong answer. `npm run fuzz -- --minutes N` runs the same classes longer.
 */
const TRIALS: Record<string, number> = {
  'snapshot-bitflip': 150,
  'small-chunks': 60,
  'control-chars': 400,
  'wal-bitflip': 60,
  'unselected-damage': 60,
  reports: 60,
  // Spawning classes (their subject is the process): a few trials each (test/cli/outputs.test.ts
  // and test/sources/special-files.test.ts pin these cases one by one).
  'output-special': 3,
  kills: 2,
  enospc: 3,
  'special-inputs': 3,
};

/** Classes `npm run fuzz` runs that `npm test` does not (none: every class runs here). */
export const AWAITING_OTHER_BRANCHES: string[] = [];

describe('fuzz: fixed seeds, bounded counts', () => {
  let disk: { dir: string; unmount(): void } | undefined;
  beforeAll(() => {
    disk = tinyDisk();
  });
  afterAll(() => {
    disk?.unmount();
    removeScratch(); // a test worker may end without an exit event
  });

  it('every class of the harness is either run here or awaiting another branch', () => {
    expect(Object.keys(CLASSES).sort()).toEqual([...Object.keys(TRIALS), ...AWAITING_OTHER_BRANCHES].sort());
  });

  for (const [name, trials] of Object.entries(TRIALS)) {
    it(`${name}: ${trials} trials end rejected (documented code) or accepted (right content)`, async () => {
      const bad: string[] = [];
      const seen = new Set<string>();
      for (let seed = 1; seed <= trials; seed++) {
        const r = (await runTrial(name, seed, { tinyDisk: disk!.dir })) as { outcome: string; detail?: string };
        seen.add(r.outcome);
        if (!['rejected', 'accepted', 'reported'].includes(r.outcome)) bad.push(`seed ${seed}: ${r.outcome} ${r.detail ?? ''}`);
        // A rejection names its code (error code or verdict); '?' means output nobody can classify.
        if (r.outcome === 'rejected' && / \?$/.test(r.detail ?? '')) bad.push(`seed ${seed}: rejected without a code: ${r.detail}`);
      }
      expect(bad).toEqual([]);
      expect(seen.size).toBeGreaterThan(0);
    }, 600_000);
  }
});
