import type { CliIo } from './io.js';
import { count } from './render/digest.js';
import { escapeText } from './render/escape.js';

/** A progress indicator: fed the entries done so far and the table being read. */
export interface Progress {
  update(entries: bigint, table: string): void;
  done(): void;
}

/** "0:07", "12:05", "1:02:03": an ETA people read at a glance. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * The progress line: with an estimated total, the percentage, done/total and the time left;
 * without, the entries done. Counts with thousands separators, as every other count the CLI
 * prints. Pure, for tests.
 */
export function progressLine(entries: bigint, table: string, elapsedSeconds: number, estimatedTotal: number | undefined): string {
  const done = Number(entries);
  const rate = done / Math.max(0.001, elapsedSeconds);
  const parts: string[] = [];
  if (estimatedTotal !== undefined && estimatedTotal > 0) {
    // The total is an estimate (RocksDB's table properties): never show more than 99% before the end.
    const pct = Math.min(99, Math.floor((100 * done) / estimatedTotal));
    const left = Math.max(0, estimatedTotal - done) / Math.max(1, rate);
    parts.push(`${String(pct).padStart(2)}%`, `${count(String(done))} of ~${count(String(estimatedTotal))} entries`, `${count(String(Math.round(rate)))}/s`, `ETA ${formatDuration(left)}`);
  } else {
    parts.push(`${count(String(done))} entries`, `${count(String(Math.round(rate)))}/s`);
  }
  parts.push(escapeText(table)); // a table name must not move the cursor or forge a line
  return parts.join(' · ');
}

/**
 * A one-line progress indicator on a terminal's stderr for long runs: silent for the first
 * second (short runs never flicker), then redrawn at most 5 times a second. It writes to stderr
 * only, so it is on with `--json` too: stdout stays the report.
 * `estimatedTotal`: the selected tables' estimated entry count, when the source can tell.
 */
export function progressReporter(io: CliIo, enabled: boolean, estimatedTotal?: number): Progress {
  if (!enabled || !io.stderrIsTTY) return { update() {}, done() {} };
  const start = Date.now();
  const delay = io.progressDelayMs ?? 1000;
  let last = 0;
  let shown = false;
  return {
    update(entries, table) {
      const now = Date.now();
      if (now - start < delay || now - last < 200) return;
      last = now;
      io.stderr(`\r\x1b[K${progressLine(entries, table, (now - start) / 1000, estimatedTotal)}`);
      shown = true;
    },
    done() {
      if (shown) io.stderr('\r\x1b[K');
    },
  };
}
