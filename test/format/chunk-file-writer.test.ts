/**
 * The chunk-file writer's two paths (src/format/sinks.ts): a chunk within the in-memory bound is
 * created under its final name and kept by an identical rewrite; a larger one streams into a
 * temporary file renamed to its final name, so an identical rewrite replaces it (a new inode).
 * The bound is lowered for the test (smallChunkBytes) so that one snapshot has chunks of both.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeSnapshot, type SnapshotAnchor } from '../../src/format/index.js';
import { verifySnapshot } from '../../src/format/reader.js';
import { fileSink } from '../../src/format/sinks.js';
import { writeSnapshot } from '../../src/format/writer.js';
import { snapshotFiles } from '../../src/sources/open.js';

const root = mkdtempSync(join(tmpdir(), 'sv-chunk-writer-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('chunk files within the bound are written in place, larger ones through a temporary file', () => {
  it('both kinds in one set: names are the chunk digests, the set verifies, a rewrite keeps the small files and replaces the large ones, no temporary file is left', async () => {
    const anchor: SnapshotAnchor = { epoch: 1n, cursor: { index: 0n }, maxChunkBytes: 8192n, tables: [{ id: 0, name: 't' }] };
    // Values of 300 B and 3000 B in runs: chunks of ~8.1 KiB (26 entries) and ~6.1 KiB (2), on both sides of a 7000 B bound.
    const entries = Array.from({ length: 300 }, (_, i) => ({ key: Buffer.from(`k${String(i).padStart(6, '0')}`), value: Buffer.alloc(Math.floor(i / 20) % 2 === 0 ? 300 : 3000, i) }));
    const { summary } = await encodeSnapshot(anchor, [entries]);
    const base = join(root, 's.snap');
    const write = () => writeSnapshot(fileSink(base, { chunkFiles: true, smallChunkBytes: 7000 }), anchor, [entries]);
    expect((await write()).digest).toBe(summary.digest);
    const files = await snapshotFiles(base);
    expect(files.map((f) => basename(f))).toEqual(summary.chunks.map((c) => `s.snap.${c.digest.toString(16).padStart(16, '0')}.${String(c.index).padStart(6, '0')}`));
    expect((await verifySnapshot(files)).digest).toBe(summary.digest);
    const small = summary.chunks.filter((c) => c.bytes <= 7000).map((c) => c.index);
    const large = summary.chunks.filter((c) => c.bytes > 7000).map((c) => c.index);
    expect(small.length).toBeGreaterThan(2);
    expect(large.length).toBeGreaterThan(2);
    const before = files.map((f) => ({ ino: statSync(f).ino, bytes: readFileSync(f) }));
    expect((await write()).digest).toBe(summary.digest);
    const after = (await snapshotFiles(base)).map((f) => ({ ino: statSync(f).ino, bytes: readFileSync(f) }));
    for (const i of small) expect(after[i]!.ino, `chunk ${i}`).toBe(before[i]!.ino);
    for (const i of large) expect(after[i]!.ino, `chunk ${i}`).not.toBe(before[i]!.ino);
    for (const [i, a] of after.entries()) expect(a.bytes.equals(before[i]!.bytes)).toBe(true);
    expect(readdirSync(root).sort()).toEqual(['s.snap', ...files.map((f) => basename(f))].sort());
  });
});
