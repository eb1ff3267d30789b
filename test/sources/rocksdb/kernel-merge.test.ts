/**
 * Merge operands in both mergers: the kernel's merge groups (resolved by resolveMergeGroups) and
 * the JavaScript merger must both give what RocksDB's read path gives (DBIter::
 * MergeValuesNewToOld, modelled plainly below), on random streams laid out as real data blocks,
 * with range tombstones, ranges and batch sizes, and with groups larger than the kernel's output
 * buffer. The operator records what it was given, so the order of operands and the base (or its
 * absence) are checked, not only a sum.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { compareBytes } from '../../../src/format/bytes.js';
import { unpackEntries } from '../../../src/format/packed.js';
import type { MergeOperator } from '../../../src/sources/merge-operator.js';
import { resolveMergeGroups } from '../../../src/sources/rocksdb/family-merge.js';
import { KernelFallback, MergeKernel } from '../../../src/sources/rocksdb/kernel/kernel-merger.js';
import { mergeLiveEntries, StreamCursor, type SourceBatch } from '../../../src/sources/rocksdb/merge.js';
import { RangeTombstoneCursor, type Tombstone } from '../../../src/sources/rocksdb/range-tombstones.js';
import { decodeDataBlockColumns } from '../../../src/sources/rocksdb/table/data-block.js';
import { EntryColumns } from '../../../src/sources/rocksdb/table/types.js';
import { ValueType } from '../../../src/sources/rocksdb/wal.js';
import { snapshotErrorOf } from './helpers.js';
import { dataBlock, runsOf, type Version } from './blocks.js';

/** "B<base>" or "N", then "|<operand>" per operand oldest first: what the operator was given. */
const tracer: MergeOperator = {
  name: 'trace',
  fullMerge(_key, existing, operands) {
    const parts = [existing === undefined ? 'N' : `B${Buffer.from(existing).toString('hex')}`, ...operands.map((o) => `|${Buffer.from(o).toString('hex')}`)];
    return new TextEncoder().encode(parts.join(''));
  },
};

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const inRange = (k: Uint8Array, lo?: Uint8Array, hi?: Uint8Array) =>
  (lo === undefined || compareBytes(k, lo) >= 0) && (hi === undefined || compareBytes(k, hi) < 0);

/** RocksDB's read of each key in [lo, hi): the newest version, and for a merge operand the older versions down to a base or a deletion. */
function model(streams: Version[][], tombstones: Tombstone[], lo?: Uint8Array, hi?: Uint8Array): string[] {
  const all = streams.flatMap((s, rank) => s.map((v) => ({ ...v, rank }))).filter((v) => inRange(v.key, lo, hi));
  all.sort((a, b) => compareBytes(a.key, b.key) || b.seq - a.seq || a.rank - b.rank);
  const out: string[] = [];
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && compareBytes(all[j]!.key, all[i]!.key) === 0) j++;
    const versions = all.slice(i, j);
    i = j;
    const key = versions[0]!.key;
    const cover = Math.max(-1, ...tombstones.filter((t) => compareBytes(t.start, key) <= 0 && compareBytes(key, t.end) < 0).map((t) => t.sequence));
    const valueOf = (v: Version) => (v.type === ValueType.ValuePreferredSeqno ? v.value.subarray(0, v.value.length - 8) : v.value);
    const first = versions[0]!;
    if (first.seq < cover || first.type === ValueType.Deletion || first.type === ValueType.SingleDeletion) continue;
    if (first.type !== ValueType.Merge) {
      out.push(`${hex(key)}=${hex(valueOf(first))}`);
      continue;
    }
    const operands: Uint8Array[] = [];
    let base: Uint8Array | undefined;
    for (const v of versions) {
      if (v.seq < cover || v.type === ValueType.Deletion || v.type === ValueType.SingleDeletion) break;
      if (v.type !== ValueType.Merge) {
        base = valueOf(v);
        break;
      }
      operands.push(v.value);
    }
    out.push(`${hex(key)}=${hex(tracer.fullMerge(key, base, operands.reverse()))}`);
  }
  return out;
}

async function* iterate<T>(xs: readonly T[]): AsyncGenerator<T> {
  yield* xs;
}

async function kernelRows(streams: Version[][], tombstones: Tombstone[], lo: Uint8Array | undefined, hi: Uint8Array | undefined, perBlock: number, perRun: number, interval: number, batchSize: number): Promise<string[]> {
  const kernel = new MergeKernel();
  const rows: string[] = [];
  const input = streams.map((s, rank) => ({ rank, runs: iterate(runsOf(`f${rank}`, s, perBlock, perRun, interval)) }));
  for await (const k of kernel.merge(input, lo, hi, tombstones, batchSize, () => undefined, true)) {
    const p = k.mergeGroups > 0 ? resolveMergeGroups(k, tracer, 't') : k;
    const entries = unpackEntries({ bytes: p.bytes.slice(), count: p.count });
    if (entries.length > 0) expect(p.lastRecord).toBe(p.bytes.length - 9 - entries.at(-1)!.key.length - entries.at(-1)!.value.length);
    for (const e of entries) rows.push(`${hex(e.key)}=${hex(e.value)}`);
  }
  return rows;
}

async function jsRows(streams: Version[][], tombstones: Tombstone[], lo: Uint8Array | undefined, hi: Uint8Array | undefined, perBlock: number, operator: MergeOperator = tracer): Promise<string[]> {
  const cursors = streams.map((s, rank) => {
    const versions = s.filter((v) => inRange(v.key, lo, hi));
    async function* batches(): AsyncGenerator<SourceBatch> {
      for (let i = 0; i < versions.length; i += perBlock) {
        const cols = new EntryColumns(16);
        decodeDataBlockColumns(`f${rank}`, 0, dataBlock(versions.slice(i, i + perBlock), 1), cols, undefined, true);
        yield { file: `f${rank}`, columns: cols };
      }
    }
    return new StreamCursor(rank, batches());
  });
  const rows: string[] = [];
  for await (const p of mergeLiveEntries(cursors, new RangeTombstoneCursor(tombstones), { table: 't', batchSize: 3, merge: { operator } })) {
    for (const e of unpackEntries(p)) rows.push(`${hex(e.key)}=${hex(e.value)}`);
  }
  return rows;
}

const keyArb = fc.uint8Array({ minLength: 0, maxLength: 3, max: 2 }); // few keys: long version chains
const typeArb = fc.constantFrom(
  ValueType.Merge, ValueType.Merge, ValueType.Merge, ValueType.Value, ValueType.Deletion, ValueType.SingleDeletion, ValueType.ValuePreferredSeqno,
);
const versionArb = fc.record({ key: keyArb, type: typeArb, value: fc.uint8Array({ maxLength: 6 }) });

describe('merge operands in the kernel and the JavaScript merger', () => {
  test('both read what RocksDB reads: operands newest to oldest down to a put, a deletion, a covering tombstone or the last version', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(versionArb, { maxLength: 30 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.record({ start: keyArb, end: keyArb, sequence: fc.nat(150) }), { maxLength: 3 }),
        fc.option(keyArb, { nil: undefined }),
        fc.option(keyArb, { nil: undefined }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        async (raw, tombstones, lo, hi, perBlock, perRun, interval, batchSize) => {
          let seq = 1;
          const streams = raw.map((s) =>
            s
              .map((v) => ({ ...v, seq: seq++, value: v.type === ValueType.ValuePreferredSeqno ? Uint8Array.from([...v.value, 1, 2, 3, 4, 5, 6, 7, 8]) : v.value }))
              .sort((a, b) => compareBytes(a.key, b.key) || b.seq - a.seq),
          );
          const expected = model(streams, tombstones, lo, hi);
          expect(await kernelRows(streams, tombstones, lo, hi, perBlock, perRun, interval, batchSize)).toEqual(expected);
          expect(await jsRows(streams, tombstones, lo, hi, perBlock)).toEqual(expected);
        },
      ),
      { numRuns: 400 },
    );
  });

  test('a merge group larger than the kernel output (4 × 600 KB operands over a base, after small entries) comes out whole', async () => {
    const big = (n: number) => new Uint8Array(600_000).fill(n);
    const m = (key: number, seq: number, value: Uint8Array, type: number = ValueType.Merge): Version => ({ key: Uint8Array.of(key), seq, type, value });
    const newer = [m(1, 20, Uint8Array.of(7), ValueType.Value), m(2, 19, big(1)), m(2, 17, big(3)), m(3, 16, Uint8Array.of(8))];
    const older = [m(2, 18, big(2)), m(2, 15, big(4)), m(2, 14, Uint8Array.of(5), ValueType.Value), m(2, 13, Uint8Array.of(6), ValueType.Value)];
    const streams = [newer, older];
    const expected = model(streams, [], undefined, undefined);
    expect(expected).toHaveLength(3);
    expect(await kernelRows(streams, [], undefined, undefined, 1, 1, 1, 1 << 30)).toEqual(expected);
    expect(await jsRows(streams, [], undefined, undefined, 1)).toEqual(expected);
  });

  test('without merging on, the kernel falls back on a visible operand, and on none that is hidden', async () => {
    const kernel = new MergeKernel();
    const run = async (versions: Version[]) => {
      try {
        for await (const _ of kernel.merge([{ rank: 0, runs: iterate(runsOf('f', versions, 4, 1, 1)) }], undefined, undefined, [], 100, () => undefined)) {
          // drain
        }
        return 'done';
      } catch (e) {
        if (e instanceof KernelFallback) return 'fallback';
        throw e;
      }
    };
    const v = (seq: number, type: number): Version => ({ key: Uint8Array.of(1), seq, type, value: Uint8Array.of(seq) });
    expect(await run([v(5, ValueType.Merge)])).toBe('fallback');
    expect(await run([v(6, ValueType.Value), v(5, ValueType.Merge)])).toBe('done');
  });

  test('an operator that throws or returns no bytes is MERGE_FAILED naming the key and the file of the newest operand', async () => {
    const streams: Version[][] = [[{ key: Uint8Array.of(0xab, 0xcd), seq: 2, type: ValueType.Merge, value: Uint8Array.of(1) }]];
    const throwing: MergeOperator = { name: 'boom', fullMerge: () => { throw new Error('bad operand'); } };
    const e = await snapshotErrorOf(() => jsRows(streams, [], undefined, undefined, 1, throwing));
    expect(e.code).toBe('MERGE_FAILED');
    expect(e.file).toBe('f0');
    expect(e.message).toContain('0xabcd');
    expect(e.message).toContain('"boom"');
    const wrongType = { name: 'str', fullMerge: () => 'text' } as unknown as MergeOperator;
    expect((await snapshotErrorOf(() => jsRows(streams, [], undefined, undefined, 1, wrongType))).code).toBe('MERGE_FAILED');
  });
});
