/**
 * The data-block kernel (src/sources/rocksdb/table/builder/kernel) against the reference
 * BlockBuilder: for random keys (prefixes running into the previous key's trailer, long keys,
 * multi-byte varints), block sizes and restart intervals, the SST's data section is exactly the
 * reference's blocks, each with type 0 and the CRC-32C the reader computes; records fed in any
 * split (one by one, all at once, cut mid-run by a target size) give the same bytes. And the
 * committed WebAssembly is a fresh compile of its source.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareBytes } from '../../src/format/bytes.js';
import { BLOCK_TRAILER_SIZE } from '../../src/sources/rocksdb/table/block-handle.js';
import { BlockBuilder } from '../../src/sources/rocksdb/table/builder/block-builder.js';
import { TableBuilder, type TableBuilderOptions } from '../../src/sources/rocksdb/table/builder/table-builder.js';
import { ChecksumType, computeChecksum } from '../../src/sources/rocksdb/table/checksum.js';
import { cleanup, tempDir } from './helpers.js';

const KERNEL_DIR = join(import.meta.dirname, '..', '..', 'src', 'sources', 'rocksdb', 'table', 'builder', 'kernel');
const TRAILER = Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0);

let work: string;
beforeAll(() => {
  work = tempDir('sv-block-kernel-');
});
afterAll(() => cleanup(work));

type Entry = { key: Uint8Array; value: Uint8Array };

/** The reference: BlockBuilder with the table builder's flush-by-size rule. */
function referenceBlocks(entries: readonly Entry[], blockSize: number, interval: number): Uint8Array[] {
  const b = new BlockBuilder(interval);
  const blocks: Uint8Array[] = [];
  for (const e of entries) {
    if (!b.empty) {
      const size = b.estimatedSize;
      if (size >= blockSize || (size + e.key.length + 8 + e.value.length + 12 > blockSize && size * 10 >= blockSize * 9)) {
        blocks.push(b.finish().slice());
        b.reset();
      }
    }
    b.add(e.key, e.value, TRAILER);
  }
  if (!b.empty) blocks.push(b.finish().slice());
  return blocks;
}

function records(entries: readonly Entry[]): Uint8Array {
  const out = Buffer.alloc(entries.reduce((s, e) => s + 9 + e.key.length + e.value.length, 0));
  let p = 0;
  for (const e of entries) {
    out[p] = 1;
    out.writeUInt32LE(e.key.length, p + 1);
    out.writeUInt32LE(e.value.length, p + 5);
    out.set(e.key, p + 9);
    out.set(e.value, p + 9 + e.key.length);
    p += 9 + e.key.length + e.value.length;
  }
  return out;
}

const options = (blockSize: number, restartInterval: number, targetFileSize?: number): TableBuilderOptions => ({
  columnFamilyId: 1, columnFamilyName: 'cf', fileNumber: 7, dbId: 'db', dbSessionId: 'S', external: false, blockSize, restartInterval, ...(targetFileSize !== undefined ? { targetFileSize } : {}),
});

function output(b: TableBuilder): Buffer {
  b.finish();
  return Buffer.concat(b.takeOutput());
}

const keyArb = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 12 }) },
  // A key that is a previous-looking key plus trailer bytes: shared prefixes run into the trailer.
  { weight: 2, arbitrary: fc.tuple(fc.uint8Array({ maxLength: 3 }), fc.integer({ min: 0, max: 9 })).map(([k, n]) => Uint8Array.from([...k, ...TRAILER.subarray(0, Math.min(n, 8)), ...(n > 8 ? [1] : [])])) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 300 }).map((n) => new Uint8Array(n).fill(0x61)) },
);
const contentArb = fc.tuple(
  fc.uniqueArray(keyArb, { minLength: 1, maxLength: 120, selector: (k) => Buffer.from(k).toString('hex') }),
  fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 5 }),
).map(([keys, lengths]) => [...keys].sort(compareBytes).map((key, i) => ({ key, value: new Uint8Array(lengths[i % lengths.length]!).fill(i & 0xff) })));

describe('data-block kernel', () => {
  it('the data section is the reference blocks, each with type 0 and the reader\'s CRC-32C', () => {
    fc.assert(
      fc.property(contentArb, fc.constantFrom(1, 64, 200, 4096), fc.constantFrom(1, 2, 16), (entries, blockSize, interval) => {
        const b = new TableBuilder(options(blockSize, interval));
        for (const e of entries) b.add(e.key, e.value);
        const file = output(b);
        let at = 0;
        for (const block of referenceBlocks(entries, blockSize, interval)) {
          expect(Buffer.from(file.subarray(at, at + block.length)).equals(Buffer.from(block))).toBe(true);
          expect(file[at + block.length]).toBe(0);
          expect(file.readUInt32LE(at + block.length + 1)).toBe(computeChecksum(ChecksumType.CRC32c, file, at, at + block.length + 1));
          at += block.length + BLOCK_TRAILER_SIZE;
        }
      }),
      { numRuns: 300, seed: 5 },
    );
  });

  it('records fed one by one, all at once, or in random runs give the same file; a target size cuts where the size rule says', () => {
    fc.assert(
      fc.property(contentArb, fc.array(fc.nat(), { maxLength: 10 }), fc.constantFrom(64, 4096), (entries, cuts, blockSize) => {
        const one = new TableBuilder(options(blockSize, 16));
        for (const e of entries) one.add(e.key, e.value);
        const all = new TableBuilder(options(blockSize, 16));
        const bytes = records(entries);
        expect(all.addRecords(bytes, 0, bytes.length)).toBe(bytes.length);
        const runs = new TableBuilder(options(blockSize, 16));
        const bounds = [0];
        for (let i = 0, p = 0; i < entries.length; i++) {
          p += 9 + entries[i]!.key.length + entries[i]!.value.length;
          if (cuts.includes(i)) bounds.push(p);
        }
        bounds.push(bytes.length);
        for (let i = 1; i < bounds.length; i++) runs.addRecords(bytes, bounds[i - 1]!, bounds[i]!);
        const expected = output(one);
        expect(output(all).equals(expected)).toBe(true);
        expect(output(runs).equals(expected)).toBe(true);
        // Cut: the file ends after the entry that brought the finished blocks to the target.
        const target = 150;
        const cut = new TableBuilder(options(blockSize, 16, target));
        const stop = cut.addRecords(bytes, 0, bytes.length);
        const reference = new TableBuilder(options(blockSize, 16));
        let n = 0;
        for (const e of entries) {
          reference.add(e.key, e.value);
          n++;
          if (reference.fileSize >= target) break;
        }
        expect(cut.full).toBe(reference.fileSize >= target);
        expect(cut.entries).toBe(n);
        expect(stop).toBe(records(entries.slice(0, n)).length);
      }),
      { numRuns: 200, seed: 6 },
    );
  });

  it('a record larger than the kernel\'s input and block buffers (a 3 MiB value) grows them', () => {
    const entries = [
      { key: Buffer.from('a'), value: Buffer.alloc(10, 1) },
      { key: Buffer.from('b'), value: Buffer.alloc(3 << 20, 2) },
      { key: Buffer.from('c'), value: Buffer.alloc(10, 3) },
    ];
    const b = new TableBuilder(options(4096, 16));
    const bytes = records(entries);
    b.addRecords(bytes, 0, bytes.length);
    const file = output(b);
    const blocks = referenceBlocks(entries, 4096, 16);
    let at = 0;
    for (const block of blocks) {
      expect(Buffer.from(file.subarray(at, at + block.length)).equals(Buffer.from(block))).toBe(true);
      at += block.length + BLOCK_TRAILER_SIZE;
    }
  });

  it('the committed WebAssembly is a fresh compile of assembly/blocks.ts (run build.sh after editing it)', () => {
    const fresh = join(work, 'fresh.ts');
    execFileSync('sh', [join(KERNEL_DIR, 'build.sh'), fresh]);
    expect(readFileSync(fresh, 'utf8')).toBe(readFileSync(join(KERNEL_DIR, 'block-kernel-wasm.ts'), 'utf8'));
  }, 120_000);
});
