import type { CliIo } from './io.js';

/**
 * A one-line progress indicator on a terminal's stderr for long runs: silent for the first
 * second (short runs never flicker), then redrawn at most 5 times a second.
 */
export function progressReporter(io: CliIo, enabled: boolean): { update(entries: bigint, table: string): void; done(): void } {
  if (!enabled || !io.stderrIsTTY) return { update() {}, done() {} };
  const start = Date.now();
  let last = 0;
  let shown = false;
  return {
    update(entries, table) {
      const now = Date.now();
      if (now - start < 1000 || now - last < 200) return;
      last = now;
      const rate = Number(entries) / Math.max(0.001, (now - start) / 1000);
      io.stderr(`\r\x1b[K${entries} entries (${Math.round(rate).toLocaleString('en-US')}/s) · ${table}`);
      shown = true;
    },
    done() {
      if (shown) io.stderr('\r\x1b[K');
    },
  };
}
