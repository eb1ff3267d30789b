import { describe, expect, it, vi } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { progressReporter } from '../../src/cli/progress.js';

function io(isTTY: boolean): CliIo & { err: string[] } {
  const err: string[] = [];
  return { err, stdout: () => undefined, stderr: (t) => err.push(t), stderrIsTTY: isTTY, stdin: (async function* () {})() };
}

describe('progress indicator', () => {
  it('draws on a terminal after the first second, at most 5 times a second, and clears its line at the end', () => {
    vi.useFakeTimers();
    const t = io(true);
    const p = progressReporter(t, true);
    const drawsBy: number[] = [];
    for (let i = 1; i <= 30; i++) {
      vi.advanceTimersByTime(100);
      p.update(BigInt(i * 1000), 'blobs');
      drawsBy.push(t.err.length);
    }
    p.done();
    vi.useRealTimers();
    expect(drawsBy[8]).toBe(0); // nothing within the first 900 ms
    const draws = t.err.filter((s) => s.includes('entries'));
    expect(draws.length).toBeGreaterThanOrEqual(5);
    expect(draws.length).toBeLessThanOrEqual(11); // 2 s at most 5 per second, plus the first
    expect(draws.at(-1)).toMatch(/^\r\x1b\[K\d+ entries \([\d,]+\/s\) · blobs$/);
    expect(t.err.at(-1)).toBe('\r\x1b[K');
  });

  it('prints nothing when stderr is not a terminal, or when disabled (--json, --no-progress)', () => {
    for (const [tty, enabled] of [[false, true], [true, false]] as const) {
      const t = io(tty);
      const p = progressReporter(t, enabled);
      p.update(5n, 'x');
      p.done();
      expect(t.err).toEqual([]);
    }
  });
});
