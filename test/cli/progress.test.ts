import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { formatDuration, progressLine, progressReporter } from '../../src/cli/progress.js';
import { assertBuilt, BIN, REPO } from '../helpers/cli.js';

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
    expect(draws.at(-1)).toMatch(/^\r\x1b\[K30,000 entries · [\d,]+\/s · blobs$/);
    expect(t.err.at(-1)).toBe('\r\x1b[K');
  });

  it('with an estimated total: percentage, done of total, rate and ETA, counts with thousands separators', () => {
    expect(progressLine(250_000n, 'blobs', 2, 1_000_000)).toBe('25% · 250,000 of ~1,000,000 entries · 125,000/s · ETA 0:06 · blobs');
    // an estimate that is too low never shows 100% (or more) before the end
    expect(progressLine(1_200_000n, 'blobs', 2, 1_000_000)).toBe('99% · 1,200,000 of ~1,000,000 entries · 600,000/s · ETA 0:00 · blobs');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(59.6)).toBe('1:00');
  });

  it('prints nothing when stderr is not a terminal, or when disabled (--no-progress)', () => {
    for (const [tty, enabled] of [[false, true], [true, false]] as const) {
      const t = io(tty);
      const p = progressReporter(t, enabled);
      p.update(5n, 'x');
      p.done();
      expect(t.err).toEqual([]);
    }
  });
});

describe('progress on a real terminal (a pseudo-terminal made by script(1))', () => {
  it('digest --json on a TTY: progress with percentage and ETA on stderr, the report alone on stdout', () => {
    assertBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'sv-tty-'));
    try {
      const out = join(dir, 'report.json');
      const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} digest examples/checkpoint_epoch_42 --tables per_object_blob_info,storage_pool_info --json > ${JSON.stringify(out)}`;
      // stdout goes to the file, stderr to the pseudo-terminal: what script(1) prints is stderr alone.
      const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: REPO, encoding: 'utf8', env: { ...process.env, SNAPSHOT_VERIFY_PROGRESS_DELAY_MS: '0' } });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/\r\x1b\[K\s?\d{1,2}% · [\d,]+ of ~1,999 entries · [\d,]+\/s · ETA \d+:\d\d · (per_object_blob_info|storage_pool_info)/);
      expect(r.stdout.endsWith('\r\x1b[K')).toBe(true); // the line is cleared at the end
      const report = JSON.parse(readFileSync(out, 'utf8'));
      expect(report.entries).toBe('1999');
      // Without a terminal (a pipe), nothing but the report.
      const piped = spawnSync(process.execPath, [BIN, 'digest', 'examples/checkpoint_epoch_42', '--tables', 'storage_pool_info', '--json'], { cwd: REPO, encoding: 'utf8', env: { ...process.env, SNAPSHOT_VERIFY_PROGRESS_DELAY_MS: '0' } });
      expect(piped.stderr).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
