/**
 * The merge kernel (src/sources/rocksdb/kernel): checked against a plain model of what a merge
 * means (for each user key in the range, the newest version; shown if it is a value not deleted
 * by a newer range tombstone), on random streams laid out as real data blocks (prefix-compressed
 * keys, restart points, runs of several blocks). Whatever it cannot handle must end in
 * KernelFallback, never in a wrong result. The committed WebAssembly must be a compile of the
 * committed AssemblyScript.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { unpackEntries } from '../../../src/format/packed.js';
import { compareBytes } from '../../../src/format/bytes.js';
import { KernelFallback, MergeKernel, memtableRun, type KernelRun } from '../../../src/sources/rocksdb/kernel/kernel-merger.js';
import type { Tombstone } from '../../../src/sources/rocksdb/range-tombstones.js';
import { ValueType } from '../../../src/sources/rocksdb/wal.js';
import { mergeLiveEntries, StreamCursor, type SourceBatch } from '../../../src/sources/rocksdb/merge.js';
import { RangeTombstoneCursor } from '../../../src/sources/rocksdb/range-tombstones.js';
import { decodeDataBlockColumns } from '../../../src/sources/rocksdb/table/data-block.js';
import { EntryColumns } from '../../../src/sources/rocksdb/table/types.js';
import { dataBlock, runsOf, type Version } from './blocks.js';

const KERNEL_DIR = join(import.meta.dirname, '..', '..', '..', 'src', 'sources', 'rocksdb', 'kernel');

async function* iterate<T>(xs: readonly T[]): AsyncGenerator<T> {
  yield* xs;
}

const internalOrder = (a: Version, b: Version) => compareBytes(a.key, b.key) || b.seq - a.seq;
const inRange = (k: Uint8Array, lo?: Uint8Array, hi?: Uint8Array) =>
  (lo === undefined || compareBytes(k, lo) >= 0) && (hi === undefined || compareBytes(k, hi) < 0);

/** The model: newest version per key in range (ties: lower stream first); shown if a value not deleted by a newer tombstone. */
function model(streams: Version[][], tombstones: Tombstone[], lo?: Uint8Array, hi?: Uint8Array): string[] | 'fallback' {
  const all = streams.flatMap((s, rank) => s.map((v) => ({ ...v, rank }))).filter((v) => inRange(v.key, lo, hi));
  all.sort((a, b) => internalOrder(a, b) || a.rank - b.rank);
  const out: string[] = [];
  for (let i = 0; i < all.length; i++) {
    const v = all[i]!;
    if (i > 0 && compareBytes(all[i - 1]!.key, v.key) === 0) continue;
    const deleted = tombstones.some((t) => compareBytes(t.start, v.key) <= 0 && compareBytes(v.key, t.end) < 0 && v.seq < t.sequence);
    if (v.type === ValueType.Value || v.type === ValueType.ValuePreferredSeqno) {
      const value = v.type === ValueType.Value ? v.value : v.value.subarray(0, v.value.length - 8);
      if (!deleted) out.push(`${Buffer.from(v.key).toString('hex')}=${Buffer.from(value).toString('hex')}`);
    } else if (v.type !== ValueType.Deletion && v.type !== ValueType.SingleDeletion && !deleted) {
      return 'fallback'; // a visible merge operand: only the JavaScript merger may report it
    }
  }
  return out;
}

async function runKernel(
  streams: { runs: KernelRun[] }[],
  tombstones: Tombstone[],
  lo: Uint8Array | undefined,
  hi: Uint8Array | undefined,
  batchSize = 1 << 30,
): Promise<{ rows: string[]; counts: Map<string, number> } | 'fallback'> {
  const kernel = new MergeKernel();
  const counts = new Map<string, number>();
  const rows: string[] = [];
  try {
    const input = streams.map((s, rank) => ({ rank, runs: iterate(s.runs) }));
    for await (const p of kernel.merge(input, lo, hi, tombstones, batchSize, (f, n) => counts.set(f, (counts.get(f) ?? 0) + n))) {
      expect(p.count).toBeLessThanOrEqual(batchSize);
      for (const e of unpackEntries({ bytes: p.bytes.slice(), count: p.count })) {
        rows.push(`${Buffer.from(e.key).toString('hex')}=${Buffer.from(e.value).toString('hex')}`);
      }
    }
  } catch (e) {
    if (e instanceof KernelFallback) return 'fallback';
    throw e;
  }
  return { rows, counts };
}

const keyArb = fc.uint8Array({ minLength: 0, maxLength: 5, max: 3 }); // few distinct bytes: many equal keys and shared prefixes
const typeArb = fc.constantFrom(
  ValueType.Value, ValueType.Value, ValueType.Value, ValueType.Deletion, ValueType.SingleDeletion,
  ValueType.ValuePreferredSeqno, ValueType.Merge,
);
const versionArb = fc.record({ key: keyArb, type: typeArb, value: fc.uint8Array({ maxLength: 20 }) });

describe('merge kernel', () => {
  test('agrees with the model of a merge, or falls back, on random streams, blocks, tombstones and ranges', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(versionArb, { maxLength: 25 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.record({ start: keyArb, end: keyArb, sequence: fc.nat(200) }), { maxLength: 3 }),
        fc.option(keyArb, { nil: undefined }),
        fc.option(keyArb, { nil: undefined }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        async (raw, tombstones, lo, hi, perBlock, perRun, interval, batchSize, disorder) => {
          // Unique sequence numbers across streams (as in a database), each stream in internal-key order.
          let seq = 1;
          const streams = raw.map((s) =>
            s
              .map((v) => ({ ...v, seq: seq++, value: v.type === ValueType.ValuePreferredSeqno ? Uint8Array.from([...v.value, 1, 2, 3, 4, 5, 6, 7, 8]) : v.value }))
              .sort(internalOrder),
          );
          // A stream out of internal-key order: the kernel falls back, or, where it stopped at hi
          // before the misplaced entries, counts fewer entries than the file holds in the range
          // (which the source's count check reports); it never silently gives another result.
          if (disorder) streams[0]!.reverse();
          const expected = model(streams, tombstones, lo, hi);
          const got = await runKernel(
            streams.map((s, i) => ({ runs: runsOf(`f${i}`, s, perBlock, perRun, interval) })),
            tombstones,
            lo,
            hi,
            batchSize,
          );
          const inRangeCount = (i: number) => streams[i]!.filter((v) => inRange(v.key, lo, hi)).length;
          if (disorder) {
            if (got !== 'fallback' && (got.counts.get('f0') ?? 0) === inRangeCount(0)) expect(got.rows).toEqual(expected);
            return;
          }
          if (expected === 'fallback') {
            expect(got).toBe('fallback');
            return;
          }
          expect(got).not.toBe('fallback');
          if (got === 'fallback') return;
          expect(got.rows).toEqual(expected);
          // Every version within the range is counted once, against its file.
          streams.forEach((_, i) => expect(got.counts.get(`f${i}`) ?? 0).toBe(inRangeCount(i)));
        },
      ),
      { numRuns: 400 },
    );
  });

  test('damaged blocks (valid checksums, bad contents): the kernel falls back, or agrees with the JavaScript decoder and merger', async () => {
    let seq = 1;
    const versionsArb = fc.array(versionArb, { minLength: 1, maxLength: 12 }).map((vs) =>
      vs.map((v) => ({ ...v, seq: seq++, type: v.type === ValueType.ValuePreferredSeqno ? ValueType.Value : v.type })).sort(internalOrder),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(versionsArb, { minLength: 1, maxLength: 3 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 3 }),
        async (streams, damage, interval) => {
          const blocks = streams.map((s) => dataBlock(s, interval));
          const victim = blocks[0]!;
          for (const [at, byte] of damage) victim[at % victim.length] = byte;
          // The reference: the JavaScript decoder and merger, as the source runs them on a fallback.
          let reference: string[] | 'error';
          try {
            const cursors = blocks.map((b, rank) => {
              const cols = new EntryColumns(16);
              decodeDataBlockColumns(`f${rank}`, 0, b, cols, undefined, true);
              async function* one(): AsyncGenerator<SourceBatch> {
                if (cols.length > 0) yield { file: `f${rank}`, columns: cols };
              }
              return new StreamCursor(rank, one());
            });
            reference = [];
            for await (const p of mergeLiveEntries(cursors, new RangeTombstoneCursor([]), { table: 't', batchSize: 1 << 30 })) {
              for (const e of unpackEntries(p)) reference.push(`${Buffer.from(e.key).toString('hex')}=${Buffer.from(e.value).toString('hex')}`);
            }
          } catch {
            reference = 'error';
          }
          let got: Awaited<ReturnType<typeof runKernel>> | 'error';
          try {
            got = await runKernel(blocks.map((b, i) => ({ runs: [{ file: `f${i}`, blocks: [b], offsets: [0], bytes: 0, globalSequence: undefined }] })), [], undefined, undefined);
          } catch {
            got = 'error'; // blockLayout refusing the block, as the table reader does before decoding
          }
          if (got === 'fallback') return;
          if (got === 'error') {
            expect(reference).toBe('error');
            return;
          }
          expect(reference).not.toBe('error');
          expect(got.rows).toEqual(reference);
        },
      ),
      { numRuns: 1500 },
    );
  });

  test('the memtable as a block: values, deletions and ValuePreferredSeqno (already stripped) read as the memtable holds them', async () => {
    const mem = [
      { userKey: Uint8Array.of(1), sequence: 2 ** 40 + 5, type: ValueType.Value, value: Uint8Array.of(9) },
      { userKey: Uint8Array.of(2), sequence: 7, type: ValueType.Deletion, value: new Uint8Array(0) },
      { userKey: Uint8Array.of(3), sequence: 8, type: ValueType.ValuePreferredSeqno, value: Uint8Array.of(4, 4) },
    ];
    const got = await runKernel([{ runs: [memtableRun(mem, '(WAL)')!] }], [], undefined, undefined);
    expect(got !== 'fallback' && got.rows).toEqual(['01=09', '03=0404']);
    expect(memtableRun([], '(WAL)')).toBeUndefined();
  });

  test('falls back on what it must not decide: entries out of order, a malformed entry, a key over 8 KiB', async () => {
    const v = (key: number[], seq: number): Version => ({ key: Uint8Array.from(key), seq, type: ValueType.Value, value: Uint8Array.of(1) });
    const unordered = [v([2], 5), v([1], 4)];
    expect(await runKernel([{ runs: runsOf('f', unordered, 4, 1, 1) }], [], undefined, undefined)).toBe('fallback');
    const sameKeyOlderFirst = [v([1], 4), v([1], 5)];
    expect(await runKernel([{ runs: runsOf('f', sameKeyOlderFirst, 4, 1, 1) }], [], undefined, undefined)).toBe('fallback');
    const block = dataBlock([v([1], 4)], 1);
    block[1] = 200; // the key runs past the block
    expect(await runKernel([{ runs: [{ file: 'f', blocks: [block], offsets: [0], bytes: 0, globalSequence: undefined }] }], [], undefined, undefined)).toBe('fallback');
    const long = [{ key: new Uint8Array(9000), seq: 1, type: ValueType.Value, value: Uint8Array.of(1) }];
    expect(await runKernel([{ runs: runsOf('f', long, 1, 1, 1) }], [], undefined, undefined)).toBe('fallback');
  });

  test('a value larger than the output buffer (3 MB) goes out whole, between smaller ones', async () => {
    const big = new Uint8Array(3_000_000).map((_, i) => i % 251);
    const versions = [
      { key: Uint8Array.of(1), seq: 3, type: ValueType.Value, value: Uint8Array.of(1) },
      { key: Uint8Array.of(2), seq: 2, type: ValueType.Value, value: big },
      { key: Uint8Array.of(3), seq: 1, type: ValueType.Value, value: Uint8Array.of(3) },
    ];
    const got = await runKernel([{ runs: runsOf('f', versions, 1, 2, 1) }], [], undefined, undefined);
    expect(got !== 'fallback' && got.rows).toEqual(['01=01', `02=${Buffer.from(big).toString('hex')}`, '03=03']);
  });

  test('an ingested file takes its global sequence number', async () => {
    const older = runsOf('old', [{ key: Uint8Array.of(1), seq: 0, type: ValueType.Value, value: Uint8Array.of(1) }], 1, 1, 1);
    const newer = runsOf('new', [{ key: Uint8Array.of(1), seq: 3, type: ValueType.Value, value: Uint8Array.of(2) }], 1, 1, 1);
    // Stream 0 ranks first, but its global sequence 2 is older than stream 1's 3.
    const got = await runKernel([{ runs: older.map((r) => ({ ...r, globalSequence: 2 })) }, { runs: newer }], [], undefined, undefined);
    expect(got !== 'fallback' && got.rows).toEqual(['01=02']);
  });

  test('the committed WebAssembly is a compile of assembly/merge.ts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kernel-'));
    try {
      execFileSync('sh', [join(KERNEL_DIR, 'build.sh'), join(dir, 'out.ts')]);
      expect(readFileSync(join(dir, 'out.ts'), 'utf8')).toBe(readFileSync(join(KERNEL_DIR, 'merge-kernel-wasm.ts'), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
