import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeSnapshot, unpackEntries, type Entry } from '../../../src/format/index.js';
import { scanKernel } from '../../../src/format/wasm/decode-kernel.js';
import { openSnapshotFiles } from '../../../src/sources/snapshot/index.js';
import { digestSource } from '../../../src/report/digest-source.js';

const dir = mkdtempSync(join(tmpdir(), 'snapshot-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Two tables of ascending keys (some values spanning 128 KiB reads), written as one file and as chunk files. */
async function fixture(maxChunkBytes: bigint) {
  const tables: Entry[][] = [0, 1].map((t) =>
    Array.from({ length: 3000 + t * 500 }, (_, i) => ({
      key: Buffer.from(`k${t}-${String(i).padStart(6, '0')}`),
      value: Buffer.alloc(i % 97 === 0 ? 70_000 : (i * 7) % 120, i & 0xff),
    })),
  );
  const anchor = { epoch: 5n, cursor: { index: 2n }, maxChunkBytes, tables: [{ id: 0, name: 'a' }, { id: 1, name: 'b' }] };
  const enc = await encodeSnapshot(anchor, tables);
  const one = join(dir, `one-${maxChunkBytes}.snap`);
  writeFileSync(one, enc.bytes);
  const files = enc.chunks.map((c, i) => {
    const f = join(dir, `c-${maxChunkBytes}.${i}`);
    writeFileSync(f, c);
    return f;
  });
  return { tables, anchor, enc, one, files };
}

const keysOf = (entries: readonly Entry[]): string[] => entries.map((e) => `${Buffer.from(e.key).toString('hex')}=${Buffer.from(e.value).toString('hex')}`);

describe('a snapshot as a source: packed runs and entries give the same content', () => {
  for (const maxChunkBytes of [0n, 200_000n]) {
    it(`max chunk ${maxChunkBytes}: entries(), packedEntries() and digestSource reproduce the content and the digest, from one file and from chunk files`, async () => {
      const f = await fixture(maxChunkBytes);
      for (const files of [[f.one], f.files]) {
        const runs = scanKernel.runs;
        const packedSource = await openSnapshotFiles(files);
        const { summary } = await digestSource(packedSource, { anchor: f.anchor });
        await packedSource.close();
        expect(summary.digest).toBe(f.enc.summary.digest);
        expect(summary.chunks).toEqual(f.enc.summary.chunks);
        expect(scanKernel.runs).toBeGreaterThan(runs); // the packed runs were used

        // Tables out of order (a fresh pass), entries and packed batches alike.
        const source = await openSnapshotFiles(files);
        const b: Entry[] = [];
        for await (const batch of source.entries('b')) b.push(...batch);
        const a: Entry[] = [];
        // A packed batch is valid until the next is asked for (Source.packedEntries): copied here.
        for await (const packed of source.packedEntries!('a')) a.push(...unpackEntries({ bytes: packed.bytes.slice(), count: packed.count }));
        await source.complete?.();
        await source.close();
        expect(keysOf(a)).toEqual(keysOf(f.tables[0]!));
        expect(keysOf(b)).toEqual(keysOf(f.tables[1]!));
      }
    });
  }
});
