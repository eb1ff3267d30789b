/**
 * The merge kernel places runs of data blocks itself (kernel/assembly/place.ts: CRC-32C or XXH3,
 * Snappy, LZ4, block layout) and falls back to the JavaScript path (placeRaw: blockContents, blockLayout)
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
import { placeTraps } from '../../../src/sources/rocksdb/kernel/run-placer.js';
import { TableReader, type RawBlockRun } from '../../../src/sources/rocksdb/table/index.js';
import { ChecksumType, computeChecksum } from '../../../src/sources/rocksdb/table/checksum.js';
import { cleanup, makeDb, tempDir } from './table/oracle.js';
import { toFormatVersion6 } from './table/fv6.js';

afterAll(cleanup);

const kernel = new MergeKernel();

/**
 * The entries (up to the restart arrays) of a raw run's blocks as placed by the kernel itself
 * (undefined when it declines) or by the JavaScript path (which throws what is wrong with a block).
 */
function placedEntries(raw: RawBlockRun, reader: TableReader, byKernel: boolean): Uint8Array[] | undefined {
  kernel.reset();
  const region = { at: 0, cap: 0 };
  const n = byKernel ? kernel.placer.placeInKernel(region, raw, reader) : kernel.placer.placeRaw(region, reader.path, raw, reader);
  if (n === undefined) return undefined;
  const view = kernel.view();
  return Array.from({ length: n }, (_, k) =>
    new Uint8Array(kernel.buffer.slice(view.getInt32(region.at + 8 * k, true), view.getInt32(region.at + 8 * k + 4, true))),
  );
}

// A trap of the kernel is a bug of its own, never a decline: none may happen in these tests.
afterAll(() => expect(placeTraps()).toBe(0));

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
    return placedEntries(raw, reader, false)!;
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
  // kXXH3, RocksDB >= 8's default checksum (Walrus nodes run such RocksDB).
  ['snappy, XXH3 checksums', ['--compression', 'snappy', '--checksum', 'xxh3']],
  ['lz4, XXH3 checksums', ['--compression', 'lz4', '--checksum', 'xxh3']],
  ['none, XXH3 checksums, 1 KiB blocks', ['--compression', 'none', '--checksum', 'xxh3', '--block-size', '1024']],
];

describe('the kernel places runs of blocks as the JavaScript path does', () => {
  it.each(CASES)('%s: the same entries, every run placed by the kernel', async (_name, args) => {
    const { readers, runs } = await runsOf(args);
    try {
      expect(runs.length).toBeGreaterThan(5);
      for (const { raw, reader } of runs) {
        const mine = placedEntries(raw, reader, true);
        expect(mine).toBeDefined();
        expect(hexes(mine)).toEqual(hexes(byJs(raw, reader)));
      }
    } finally {
      await Promise.all(readers.map((r) => r.close()));
    }
  });

  it.each([['crc32c'], ['xxh3']])('format_version 6 (a context modifier in every checksum), %s: the same entries, every run placed by the kernel', async (checksum) => {
    const { ssts } = makeDb(['--keys', '3000', '--compression', 'snappy', '--checksum', checksum]);
    const dir = tempDir();
    for (const [i, f] of ssts.entries()) {
      const path = join(dir, `${i}.sst`);
      writeFileSync(path, await toFormatVersion6(readFileSync(f)));
      const reader = await TableReader.open(path, { readBatchBytes: 32 * 1024 });
      try {
        expect(reader.blockChecksum.baseContextChecksum).not.toBe(0);
        for await (const raw of reader.rangeRawRuns({})) {
          const mine = placedEntries(raw, reader, true);
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
          expect(placedEntries(raw, reader, true)).toBeUndefined();
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
          new DataView(buf.buffer).setUint32(at + h.size + 1, computeChecksum(reader.blockChecksum.checksumType, buf, at, at + h.size + 1), true);
          const damaged = { ...raw, buf };
          const js = byJs(damaged, reader);
          const mine = placedEntries(damaged, reader, true);
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

  it.each([['crc32c'], ['xxh3']])('a %s checksum mismatch is declined (the JavaScript path reports it)', async (checksum) => {
    const { readers, runs } = await runsOf(['--compression', 'snappy', '--checksum', checksum]);
    try {
      const { raw, reader } = runs[0]!;
      const buf = raw.buf.slice();
      buf[raw.handles[0]!.offset - raw.start + 3]! ^= 1;
      expect(byJs({ ...raw, buf }, reader)).toBe('error');
      expect(placedEntries({ ...raw, buf }, reader, true)).toBeUndefined();
    } finally {
      await Promise.all(readers.map((r) => r.close()));
    }
  });
});

describe("the kernel's XXH3 is RocksDB's block checksum at every length class", () => {
  // Stored blocks of each length (random bytes, then a restart array of one restart: a valid
  // layout whatever the bytes), each with the checksum the JavaScript path computes (its XXH3 is
  // checked against xxhsum in codecs.test.ts): the kernel places every one, and declines each with
  // its checksum off by one. Lengths cover XXH3's branches (4-8, 9-16, 17-128, 129-240, and long
  // inputs around its 64-byte stripes and 1024-byte blocks).
  const lengths = [4, ...Array.from({ length: 600 }, (_, i) => 8 + i), 1023, 1024, 1025, 1087, 1088, 1089, 2048, 4097, 70_001];
  const reader = { blockChecksum: { checksumType: ChecksumType.XXH3, baseContextChecksum: 0 } } as TableReader;

  function run(size: number, seed: number, off: number): RawBlockRun {
    const buf = new Uint8Array(size + 5);
    let x = seed;
    for (let i = 0; i < size - 8; i++) buf[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
    const view = new DataView(buf.buffer);
    if (size >= 8) view.setUint32(size - 4, 1, true); // one restart, at 0
    view.setUint32(size + 1, (computeChecksum(ChecksumType.XXH3, buf, 0, size + 1) + off) >>> 0, true);
    return { buf, start: 0, handles: [{ offset: 0, size }], bytes: size + 5 };
  }

  it('places each block with the right checksum and declines each with a wrong one', () => {
    for (const size of lengths) {
      const placed = placedEntries(run(size, size, 0), reader, true);
      expect(placed, `length ${size}`).toBeDefined();
      expect(placed![0]!.length).toBe(Math.max(0, size - 8));
      expect(placedEntries(run(size, size, 1), reader, true), `length ${size}, checksum off by one`).toBeUndefined();
    }
  });
});
