/**
 * Two writes of chunk sets to one destination at once (two overlapping cron runs of
 * `digest --out P --chunk-files`): P names a complete set whichever commits last. Found from
 * outside (issue #8 campaign): both runs exited 0, but the cleanup after one commit removed the
 * chunk files the other had renamed into place and was about to name, so P then named missing
 * files (NOT_FOUND) and the previous set was gone too.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeSnapshot, type Entry, type SnapshotAnchor } from '../../src/format/index.js';
import { verifySnapshot } from '../../src/format/reader.js';
import { fileSink } from '../../src/format/sinks.js';
import { writeSnapshot } from '../../src/format/writer.js';
import { snapshotFiles } from '../../src/sources/open.js';

const root = mkdtempSync(join(tmpdir(), 'sv-concurrent-writers-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const anchor: SnapshotAnchor = { epoch: 1n, cursor: { index: 0n }, maxChunkBytes: 2048n, tables: [{ id: 0, name: 't' }] };
const content = (count: number, fill: number): Entry[] =>
  Array.from({ length: count }, (_, i) => ({ key: Buffer.from(`k${String(i).padStart(6, '0')}`), value: Buffer.alloc(160, (i + fill) & 0xff) }));

describe('concurrent writes of chunk sets to one destination', () => {
  it('P always names a complete set, one of the two written, whatever the interleaving of two writers', async () => {
    const a = content(300, 0);
    const b = content(120, 7);
    const expected = [(await encodeSnapshot(anchor, [a])).summary.digest, (await encodeSnapshot(anchor, [b])).summary.digest];
    const dir = join(root, 'd');
    const out = join(dir, 'p.snap');
    mkdirSync(dir);
    for (let round = 0; round < 12; round++) {
      // Started together: their chunk renames, commits and cleanups interleave on the event loop.
      const order = round % 2 === 0 ? [a, b] : [b, a];
      await Promise.all(order.map((entries) => writeSnapshot(fileSink(out, { chunkFiles: true }), anchor, [entries])));
      const summary = await verifySnapshot(await snapshotFiles(out)).catch((e: unknown) => e);
      expect(summary, `round ${round}: ${String(summary)}; files ${readdirSync(dir).length}`).toHaveProperty('digest');
      expect(expected).toContain((summary as { digest: bigint }).digest);
    }
  }, 60_000);
});
