import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSnapshot, type Entry, type EncodedSnapshot, type SnapshotAnchor } from '../../../src/format/index.js';
import { diffSources } from '../../../src/report/diff.js';
import { openSnapshotFiles } from '../../../src/sources/snapshot/index.js';
import { sameSnapshotBytes } from '../../../src/sources/snapshot/same-bytes.js';

/**
 * diff of two snapshot files holding the same bytes reads one through the verifying reader and
 * the other as plain bytes; anything else (a difference, damage in either) is diffed or refused
 * exactly as when both are decoded.
 */

const dir = mkdtempSync(join(tmpdir(), 'same-bytes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const anchor: SnapshotAnchor = { epoch: 3n, cursor: { index: 1n }, maxChunkBytes: 300_000n, tables: [{ id: 0, name: 'p' }, { id: 1, name: 'q' }] };
const tables: Entry[][] = [0, 1].map((t) =>
  Array.from({ length: 4000 }, (_, i) => ({ key: Buffer.from(`${t}-${String(i).padStart(6, '0')}`), value: Buffer.alloc(i % 500 === 0 ? 90_000 : i % 77, i & 0xff) })),
);
let enc: EncodedSnapshot;
let a: string;

function write(name: string, bytes: Uint8Array): string {
  const f = join(dir, name);
  writeFileSync(f, bytes);
  return f;
}

beforeAll(async () => {
  enc = await encodeSnapshot(anchor, tables);
  a = write('a.snap', enc.bytes);
});

/** diff through snapshot sources; `plain`: b wrapped so that it is not known as a snapshot file (both decoded). */
async function diff(fa: readonly string[], fb: readonly string[], plain = false) {
  const sa = await openSnapshotFiles(fa);
  const sb = await openSnapshotFiles(fb);
  try {
    return await diffSources(sa, plain ? { ...sb } : sb, { limit: 5 });
  } finally {
    await sa.close();
    await sb.close();
  }
}

describe('diff of snapshot files with the same bytes', () => {
  it('the same bytes (one file, or the same bytes as chunk files): a verified summary, and the very result of decoding both', async () => {
    const chunks = enc.chunks.map((c, i) => write(`b.${i}`, c));
    expect(chunks.length).toBeGreaterThan(3);
    for (const b of [[write('b.snap', enc.bytes)], chunks]) {
      const summary = await sameSnapshotBytes([a], b);
      expect(summary?.digest).toBe(enc.summary.digest);
      expect(summary?.tables).toEqual(enc.summary.tables);
      const fast = await diff([a], b);
      expect(fast).toEqual(await diff([a], b, true));
      expect(fast.identical).toBe(true);
      expect(fast.tables.map((t) => t.entriesA)).toEqual(['4000', '4000']);
    }
  });

  it('one value byte changed in place: no summary, and b is refused (its digests no longer match)', async () => {
    const bytes = Uint8Array.from(enc.bytes);
    bytes[bytes.length - 60]! ^= 1; // a value byte of the last entry: the table digest and trailer differ too
    const b = write('changed.snap', bytes);
    expect(await sameSnapshotBytes([a], [b])).toBeUndefined();
    await expect(diff([a], [b])).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH', file: b });
  });

  it('a different size is not the same bytes', async () => {
    const b = write('longer.snap', Buffer.concat([enc.bytes, Buffer.of(0)]));
    expect(await sameSnapshotBytes([a], [b])).toBeUndefined();
    await expect(diff([a], [b])).rejects.toMatchObject({ code: 'TRAILING_BYTES', file: b });
  });

  it('b damaged (trailer), or both damaged alike: the reader error, never IDENTICAL', async () => {
    const bytes = Uint8Array.from(enc.bytes);
    bytes[bytes.length - 2]! ^= 0x80;
    const b = write('bad-trailer.snap', bytes);
    await expect(diff([a], [b])).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH', file: b });
    const a2 = write('bad-trailer-a.snap', bytes);
    expect(await sameSnapshotBytes([a2], [b])).toBeUndefined();
    await expect(diff([a2], [b])).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH', file: a2 });
  });

  it('a changed entry in the middle is diffed key by key', async () => {
    const other = tables.map((t) => t.map((e, i) => (i === 1234 ? { key: e.key, value: Buffer.from('other') } : e)));
    const b = write('middle.snap', (await encodeSnapshot(anchor, other)).bytes);
    expect(await sameSnapshotBytes([a], [b])).toBeUndefined();
    const r = await diff([a], [b]);
    expect(r.totalDifferences).toBe('2');
    expect(r.listed.map((d) => [d.table, d.kind, Buffer.from(d.key, 'hex').toString()])).toEqual([['p', 'changed', '0-001234'], ['q', 'changed', '1-001234']]);
    expect(r).toEqual(await diff([a], [b], true));
  });

  it('--tables of the first table only: the rest of each input is still verified (a damaged later table fails)', async () => {
    const bytes = Uint8Array.from(enc.bytes);
    bytes[bytes.length - 60]! ^= 1; // in table q
    const b = write('bad-q.snap', bytes);
    const sa = await openSnapshotFiles([a]);
    const sb = await openSnapshotFiles([b]);
    await expect(diffSources(sa, sb, { tables: ['p'] })).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH', file: b });
    await sa.close();
    await sb.close();
    const ok = await openSnapshotFiles([a]);
    const copy = await openSnapshotFiles([write('copy-p.snap', enc.bytes)]);
    expect((await diffSources(ok, { ...copy }, { tables: ['p'] })).identical).toBe(true);
    await ok.close();
    await copy.close();
  });
});
