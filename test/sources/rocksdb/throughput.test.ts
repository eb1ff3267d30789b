/**
 * Opt-in throughput and memory check at mainnet scale: 1.7 M entries, 32-byte keys, 100-byte
 * values (~210 MB), generated with make-fixture, read end to end through the compiled source
 * (dist/, from `npm run build`) in a child process so that RSS is the reader's alone.
 *
 *   SV_ROCKSDB_BENCH=1 npx vitest run test/sources/rocksdb/throughput.test.ts
 *
 * Targets: > 1 M entries/s, peak RSS < 300 MB. Off by default: generating the database takes
 * ~20 s and timing on shared CI machines is noise.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { cleanup, FIXTURES, makeFixture, makeFixtureBinary, tempDir } from './helpers.js';

const DIST = join(FIXTURES, '..', '..', '..', 'dist', 'sources', 'rocksdb', 'index.js');
const enabled = process.env['SV_ROCKSDB_BENCH'] === '1' && existsSync(DIST) && makeFixtureBinary() !== null;

const READER = `
const { openRocksDbCheckpoint } = await import(process.argv[2]);
const [dir, threads] = [process.argv[3], Number(process.argv[4])];
let peak = 0;
const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 10);
const t0 = performance.now();
const source = await openRocksDbCheckpoint(dir, { fetchThreads: threads });
let entries = 0;
for await (const batch of source.entries('default')) entries += batch.length;
await source.close();
const seconds = (performance.now() - t0) / 1000;
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().rss);
console.log(JSON.stringify({ threads, entries, seconds, entriesPerSecond: Math.round(entries / seconds), peakRssMB: Math.round(peak / 1048576) }));
`;

describe.skipIf(!enabled)('throughput at mainnet scale', () => {
  let root: string | undefined;
  afterAll(() => {
    if (root !== undefined) cleanup(root);
  });

  test('1.7 M entries: entries/s and peak RSS', { timeout: 300_000 }, () => {
    root = tempDir();
    const db = join(root, 'db');
    const reader = join(root, 'reader.mjs');
    writeFileSync(reader, READER);
    makeFixture(['--db', db, '--keys', '1700000', '--key-size', '32', '--value-size', '100']);
    const results = [0, 1].map((threads) =>
      JSON.parse(
        execFileSync(process.execPath, [reader, DIST, db, String(threads)], {
          encoding: 'utf8',
        }),
      ) as { entries: number; entriesPerSecond: number; peakRssMB: number },
    );
    console.log(results);
    for (const r of results) {
      expect(r.entries).toBe(1_700_000);
      expect(r.peakRssMB).toBeLessThan(400);
    }
  });
});
