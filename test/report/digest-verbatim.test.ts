import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { encodeSnapshot, SnapshotWriter, type Entry, type SnapshotAnchor } from '../../src/format/index.js';
import { digestSource } from '../../src/report/digest-source.js';
import { openSnapshotFiles } from '../../src/sources/snapshot/index.js';
import type { Source } from '../../src/sources/source.js';

/**
 * `digest` of a snapshot file with the anchor it records: the file is only verified (the writer
 * would write it byte for byte), and the result must be exactly the writer path's.
 */

const dir = mkdtempSync(join(tmpdir(), 'digest-verbatim-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tables: Entry[][] = [0, 1, 2].map((t) =>
  Array.from({ length: 2000 + t * 700 }, (_, i) => ({
    key: Buffer.from(`k${t}-${String(i * 7919).padStart(9, '0')}`),
    value: Buffer.alloc(i % 211 === 0 ? 150_000 : (i * 13) % 140, (i * 31) & 0xff),
  })),
);

async function write(maxChunkBytes: bigint, name: string): Promise<{ anchor: SnapshotAnchor; file: string; bytes: Uint8Array }> {
  const anchor: SnapshotAnchor = { epoch: 9n, cursor: { index: 4n, eventId: Uint8Array.of(1, 2, 3) }, maxChunkBytes, tables: [{ id: 2, name: 'x' }, { id: 5, name: 'y' }, { id: 7, name: 'z' }] };
  const enc = await encodeSnapshot(anchor, tables);
  const file = join(dir, name);
  writeFileSync(file, enc.bytes);
  return { anchor, file, bytes: enc.bytes };
}

/** The writer path: the same source hidden behind a wrapper that does not offer the verified summary. */
function viaWriter(s: Source): Source {
  return { kind: s.kind, recorded: s.recorded!, listTables: () => s.listTables(), entries: (t) => s.entries(t), packedEntries: (t) => s.packedEntries!(t), complete: () => s.complete!(), close: () => s.close() };
}

async function digestBoth(file: string, anchor: SnapshotAnchor, ranges: number) {
  const create = vi.spyOn(SnapshotWriter, 'create');
  const fast = await openSnapshotFiles([file]);
  const whole = vi.spyOn(fast, 'verifyWhole');
  const progress: bigint[] = [];
  const a = await digestSource(fast, { anchor, ranges, onProgress: (n) => progress.push(n) });
  await fast.close();
  const writerCalls = create.mock.calls.length;
  create.mockRestore();
  // Without range digests no entry is needed: the file is only verified, no entry handed out.
  expect(whole).toHaveBeenCalledTimes(ranges === 0 ? 1 : 0);
  const slow = viaWriter(await openSnapshotFiles([file]));
  const b = await digestSource(slow, { anchor, ranges });
  await slow.close();
  return { fast: a, slow: b, writerCalls, progress };
}

describe('digest of a snapshot file with its own anchor: verified, not re-encoded', () => {
  for (const maxChunkBytes of [0n, 400_000n]) {
    for (const ranges of [0, 8]) {
      it(`max chunk ${maxChunkBytes}, ${ranges} ranges: the summary (digest, tables, chunks) and range digests equal the writer path's, and the writer is not used`, async () => {
        const { anchor, file } = await write(maxChunkBytes, `s-${maxChunkBytes}-${ranges}.snap`);
        const { fast, slow, writerCalls, progress } = await digestBoth(file, anchor, ranges);
        expect(writerCalls).toBe(0);
        expect(fast.summary).toEqual(slow.summary);
        expect(fast.ranges).toEqual(slow.ranges);
        expect(fast.ranges).toHaveLength(ranges === 0 ? 0 : 3);
        expect(progress.at(-1)).toBe(BigInt(tables.reduce((n, t) => n + t.length, 0)));
      });
    }
  }

  it('another anchor (epoch, or a subset of the tables) takes the writer path and gives its digest', async () => {
    const { anchor, file } = await write(400_000n, 'other.snap');
    for (const other of [{ ...anchor, epoch: 10n }, { ...anchor, tables: anchor.tables.slice(0, 2) }]) {
      const create = vi.spyOn(SnapshotWriter, 'create');
      const s = await openSnapshotFiles([file]);
      const r = await digestSource(s, { anchor: other });
      await s.close();
      expect(create).toHaveBeenCalledTimes(1);
      create.mockRestore();
      const expected = await encodeSnapshot(other, other.tables.map((t) => tables[anchor.tables.findIndex((u) => u.id === t.id)]!));
      expect(r.summary.digest).toBe(expected.summary.digest);
    }
  });

  it('a damaged byte anywhere (last table, trailer) fails with the reader error, never a digest', async () => {
    const { anchor, bytes } = await write(0n, 'ok.snap');
    for (const at of [bytes.length - 35, bytes.length - 3]) {
      // a value byte of the last entry (the last table's digest), a trailer byte
      const bad = Uint8Array.from(bytes);
      bad[at]! ^= 0x40;
      const file = join(dir, `bad-${at}.snap`);
      writeFileSync(file, bad);
      const s = await openSnapshotFiles([file]);
      await expect(digestSource(s, { anchor })).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
      await s.close();
    }
  });
});
