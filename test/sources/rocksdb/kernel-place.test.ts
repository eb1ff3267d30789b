/**
 * The merge kernel places runs of data blocks itself (kernel/assembly/place.ts: CRC-32C, Snappy,
 * LZ4, block layout) and falls back to the JavaScript path (placeRaw: blockContents, blockLayout)
 * for anything it declines. Both must place the same bytes, and the kernel must decline every
 * run the JavaScript path rejects (which then reports the error), on real tables written by
 * RocksDB and on those tables' blocks corrupted with a re-computed checksum, so that the
 * decoders, not only the checksum, see the damage.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MergeKernel } from '../../../src/sources/rocksdb/kernel/kernel-merger.js';
import { TableReader, type RawBlockRun } from '../../../src/sources/rocksdb/table/index.js';
import { crc32c, crc32cMask } from '../../../src/sources/rocksdb/util/crc32c.js';
import { cleanup, makeDb, tempDir } from './table/oracle.js';
import { toFormatVersion6 } from './table/fv6.js';

afterAll(cleanup);

const kernel = new MergeKernel();

/** Every raw run of every table of a database made with `args`, with its reader (closed by the caller). */
async function runsOf(args: string[]): Promise<{ readers: TableReader[]; runs: { raw: RawBlockRun; reader: TableReader }[] }> {
  const { ssts } = makeDb(['--keys', '3000', '--rounds', '2', '--compact-after', '0', ...args]);
  const readers: TableReader[] = [];
  const runs: { raw: RawBlockRun; reader: TableReader }[] = [];
  for (const path of ssts) {
    const reader = await TableReader.open(path, { readBatchBytes: 32 * 1024 });
    readers.push(reader);
    for await (const raw of reader.rangeRawRuns({})) runs.push({ raw, reader });
  }
  return { readers, runs };
}

/** placeRaw's entries, or 'error' when it throws. */
function byJs(raw: RawBlockRun, reader: TableReader): Uint8Array[] | 'error' {
  try {
    return kernel.placedEntries(raw, reader, false)!;
  } catch {
    return 'error';
  }
}

/** The blocks' entries as one hex string per block (vitest's toEqual on typed arrays is slow). */
function hexes(blocks: Uint8Array[] | undefined | 'error'): string[] | undefined | 'error' {
  return blocks === undefined || blocks === 'error' ? blocks : blocks.map((b) => Buffer.from(b).toString('hex'));
}

const CASES: [string, string[]][] = [
  ['snappy', ['--compression', 'snappy']],
  ['lz4', ['--compression', 'lz4']],
  ['lz4hc', ['--compression', 'lz4hc']],
  ['none, with a data block hash index', ['--compression', 'none', '--hash-index']],
];

describe('the kernel places runs of blocks as the JavaScript path does', () => {
  it.each(CASES)('%s: the same entries, every run placed by the kernel', async (_name, args) => {
    const { readers, runs } = await runsOf(args);
    try {
      expect(runs.length).toBeGreaterThan(5);
      for (const { raw, reader } of runs) {
        const mine = kernel.placedEntries(raw, reader, true);
        expect(mine).toBeDefined();
        expect(hexes(mine)).toEqual(hexes(byJs(raw, reader)));
      }
    } finally {
      await Promise.all(readers.map((r) => r.close()));
    }
  });

  it('format_version 6 (a context modifier in every checksum): the same entries, every run placed by the kernel', async () => {
    const { ssts } = makeDb(['--keys', '3000', '--compression', 'snappy']);
    const dir = tempDir();
    for (const [i, f] of ssts.entries()) {
      const path = join(dir, `${i}.sst`);
      writeFileSync(path, await toFormatVersion6(readFileSync(f)));
      const reader = await TableReader.open(path, { readBatchBytes: 32 * 1024 });
      try {
        expect(reader.blockChecksum.baseContextChecksum).not.toBe(0);
        for await (const raw of reader.rangeRawRuns({})) {
          const mine = kernel.placedEntries(raw, reader, true);
          expect(mine).toBeDefined();
          expect(hexes(mine)).toEqual(hexes(byJs(raw, reader)));
        }
      } finally {
        await reader.close();
      }
    }
  });

  it('declines what it does not take: zstd blocks and xxHash64 checksums', async () => {
    for (const args of [['--compression', 'zstd'], ['--compression', 'snappy', '--checksum', 'xxhash64']]) {
      const { readers, runs } = await runsOf(args);
      try {
        for (const { raw, reader } of runs) {
          expect(kernel.placedEntries(raw, reader, true)).toBeUndefined();
          expect(byJs(raw, reader)).not.toBe('error');
        }
      } finally {
        await Promise.all(readers.map((r) => r.close()));
      }
    }
  });

  it.each(CASES)('%s: one byte changed (checksum re-computed): the same entries, or the kernel declines and the JavaScript path throws', async (_name, args) => {
    const { readers, runs } = await runsOf(args);
    const outcomes = { same: 0, rejected: 0 };
    try {
      const change = fc.record({ run: fc.nat(), block: fc.nat(), tail: fc.boolean(), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) });
      fc.assert(
        fc.property(change, (c) => {
          const { raw, reader } = runs[c.run % runs.length]!;
          const buf = raw.buf.slice();
          const h = raw.handles[c.block % raw.handles.length]!;
          const at = h.offset - raw.start;
          // Any byte of the block or its compression type, or one among its last 12 (the
          // compression type, and a stored block's footer); then a valid checksum over the change.
          const span = c.tail ? Math.min(12, h.size + 1) : h.size + 1;
          const p = at + h.size + 1 - span + (c.at % span);
          buf[p] = buf[p]! ^ c.xor;
          new DataView(buf.buffer).setUint32(at + h.size + 1, crc32cMask(crc32c(buf, at, at + h.size + 1)), true);
          const damaged = { ...raw, buf };
          const js = byJs(damaged, reader);
          const mine = kernel.placedEntries(damaged, reader, true);
          if (js === 'error') {
            expect(mine).toBeUndefined();
            outcomes.rejected++;
          } else {
            expect(hexes(mine)).toEqual(hexes(js));
            outcomes.same++;
          }
        }),
        { seed: 0x5eed, numRuns: 400 },
      );
    } finally {
      await Promise.all(readers.map((r) => r.close()));
    }
    // Both kinds happen (a changed value byte of a stored block decodes; a changed Snappy tag does not).
    expect(outcomes.rejected).toBeGreaterThan(20);
    expect(outcomes.same).toBeGreaterThan(20);
  });

  it('a checksum mismatch is declined (the JavaScript path reports it)', async () => {
    const { readers, runs } = await runsOf(['--compression', 'snappy']);
    try {
      const { raw, reader } = runs[0]!;
      const buf = raw.buf.slice();
      buf[raw.handles[0]!.offset - raw.start + 3]! ^= 1;
      expect(byJs({ ...raw, buf }, reader)).toBe('error');
      expect(kernel.placedEntries({ ...raw, buf }, reader, true)).toBeUndefined();
    } finally {
      await Promise.all(readers.map((r) => r.close()));
    }
  });
});
