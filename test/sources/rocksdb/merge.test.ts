import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { compareBytes } from '../../../src/format/bytes.js';
import { mergeLiveEntries, StreamCursor, type RawEntry, type SourceBatch } from '../../../src/sources/rocksdb/merge.js';
import { RangeTombstoneCursor, type Tombstone } from '../../../src/sources/rocksdb/range-tombstones.js';
import { ValueType } from '../../../src/sources/rocksdb/wal.js';
import { unpackEntries } from '../../../src/format/packed.js';
import { snapshotErrorOf } from './helpers.js';

const key = (k: number) => Uint8Array.of(k >> 8, k & 0xff);

async function* stream(entries: RawEntry[], batch: number): AsyncGenerator<SourceBatch> {
  for (let i = 0; i < entries.length; i += batch) yield { file: 'test', entries: entries.slice(i, i + batch) };
}

function sortInternal(a: RawEntry, b: RawEntry): number {
  return compareBytes(a.userKey, b.userKey) || Number(b.sequence) - Number(a.sequence);
}

async function merged(streams: RawEntry[][], tombstones: Tombstone[], batch = 3): Promise<[number, number][]> {
  const cursors = streams.map((s, i) => new StreamCursor(i, stream([...s].sort(sortInternal), batch)));
  const out: [number, number][] = [];
  for await (const b of mergeLiveEntries(cursors, new RangeTombstoneCursor(tombstones), { table: 't', batchSize: 4 })) {
    for (const e of unpackEntries(b)) out.push([(e.key[0]! << 8) | e.key[1]!, e.value[0]!]);
  }
  return out;
}

type Op = { kind: 'put' | 'del' | 'sdel'; key: number; value: number } | { kind: 'range'; key: number; end: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('put' as const, 'del' as const, 'sdel' as const), key: fc.nat(40), value: fc.nat(255) }),
  fc.record({ kind: fc.constant('range' as const), key: fc.nat(40), end: fc.nat(45) }),
);

describe('merging iterator', () => {
  test('the newest version of each key wins, deletions and covering range tombstones hide it, wherever versions live', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(opArb, fc.nat(4)), { maxLength: 120 }),
        fc.integer({ min: 1, max: 5 }),
        async (ops, batch) => {
          const streams: RawEntry[][] = [[], [], [], [], []];
          const tombstones: Tombstone[] = [];
          const model = new Map<number, { seq: number; value: number | undefined }>();
          const ranges: { start: number; end: number; seq: number }[] = [];
          ops.forEach(([op, where], i) => {
            const seq = i + 1;
            if (op.kind === 'range') {
              tombstones.push({ start: key(op.key), end: key(op.end), sequence: seq });
              ranges.push({ start: op.key, end: op.end, seq });
              return;
            }
            const type = op.kind === 'put' ? ValueType.Value : op.kind === 'del' ? ValueType.Deletion : ValueType.SingleDeletion;
            streams[where]!.push({ userKey: key(op.key), sequence: seq, type, value: Uint8Array.of(op.value) });
            model.set(op.key, { seq, value: op.kind === 'put' ? op.value : undefined });
          });
          const expected: [number, number][] = [...model.entries()]
            .filter(([k, v]) => v.value !== undefined && !ranges.some((r) => r.start <= k && k < r.end && r.seq > v.seq))
            .map(([k, v]): [number, number] => [k, v.value!])
            .sort((a, b) => a[0] - b[0]);
          expect(await merged(streams, tombstones, batch)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('equal (key, sequence) pairs resolve to the lower-ranked (newer) source', async () => {
    const a = [{ userKey: key(1), sequence: 0, type: ValueType.Value, value: Uint8Array.of(1) }];
    const b = [{ userKey: key(1), sequence: 0, type: ValueType.Value, value: Uint8Array.of(2) }];
    expect(await merged([a, b], [])).toEqual([[1, 1]]);
  });

  test('a visible merge operand is UNSUPPORTED_FEATURE; one hidden by a newer put or a tombstone is not', async () => {
    const mergeOp = { userKey: key(1), sequence: 5, type: ValueType.Merge, value: Uint8Array.of(1) };
    const put = { userKey: key(1), sequence: 6, type: ValueType.Value, value: Uint8Array.of(2) };
    expect((await snapshotErrorOf(() => merged([[mergeOp]], []))).code).toBe('UNSUPPORTED_FEATURE');
    expect(await merged([[put], [mergeOp]], [])).toEqual([[1, 2]]);
    expect(await merged([[mergeOp]], [{ start: key(0), end: key(2), sequence: 9 }])).toEqual([]);
  });

  test('blob references and wide-column entities are UNSUPPORTED_FEATURE; unknown types are CORRUPT_CHECKPOINT', async () => {
    for (const [type, code] of [
      [ValueType.BlobIndex, 'UNSUPPORTED_FEATURE'],
      [ValueType.WideColumnEntity, 'UNSUPPORTED_FEATURE'],
      [0x33, 'CORRUPT_CHECKPOINT'],
    ] as const) {
      const e = await snapshotErrorOf(() => merged([[{ userKey: key(1), sequence: 1, type, value: Uint8Array.of(0) }]], []));
      expect(e.code).toBe(code);
    }
  });

  test('a stream out of internal-key order is CORRUPT_CHECKPOINT', async () => {
    const bad: RawEntry[] = [
      { userKey: key(2), sequence: 1, type: ValueType.Value, value: Uint8Array.of(0) },
      { userKey: key(1), sequence: 2, type: ValueType.Value, value: Uint8Array.of(0) },
    ];
    const cursors = [new StreamCursor(0, stream(bad, 10))];
    const e = await snapshotErrorOf(async () => {
      for await (const _ of mergeLiveEntries(cursors, new RangeTombstoneCursor([]), { table: 't', batchSize: 4 })) {
        // drain
      }
    });
    expect(e.code).toBe('CORRUPT_CHECKPOINT');
  });
});

describe('range tombstone fragments', () => {
  test('coveringSequence equals the naive maximum over covering tombstones', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(30), fc.nat(30), fc.nat(1000)), { maxLength: 30 }), (ts) => {
        const tombstones = ts.map(([s, e, q]) => ({ start: key(s), end: key(e), sequence: q }));
        const cursor = new RangeTombstoneCursor(tombstones);
        for (let k = 0; k <= 31; k++) {
          const naive = Math.max(-1, ...ts.filter(([s, e]) => s <= k && k < e).map(([, , q]) => q));
          expect(cursor.coveringSequence(key(k))).toBe(naive);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('entry types beyond put and delete', () => {
  const at = (k: number, sequence: number, type: number, value: number[] = []): RawEntry => ({ userKey: key(k), sequence, type, value: Uint8Array.from(value) });

  test('a ValuePreferredSeqno (TimedPut, suffix already removed by the readers) is a put', async () => {
    const newer = [at(1, 9, ValueType.ValuePreferredSeqno, [7]), at(2, 8, ValueType.ValuePreferredSeqno, [5])];
    const older = [at(1, 3, ValueType.Value, [1]), at(2, 9, ValueType.Deletion)];
    expect(await merged([newer, older], [])).toEqual([[1, 7]]);
  });

  test.each([
    ['Merge', ValueType.Merge],
    ['BlobIndex', ValueType.BlobIndex],
    ['WideColumnEntity', ValueType.WideColumnEntity],
  ])('%s: UNSUPPORTED_FEATURE when visible; skipped when a newer put, deletion or range deletion hides it', async (_, type) => {
    expect((await snapshotErrorOf(() => merged([[at(1, 5, type, [1])]], []))).code).toBe('UNSUPPORTED_FEATURE');
    expect((await snapshotErrorOf(() => merged([[at(1, 5, type, [1])], [at(1, 4, ValueType.Value, [2])]], []))).code).toBe('UNSUPPORTED_FEATURE');
    const hidden = [
      [at(1, 6, ValueType.Value, [3]), at(2, 7, ValueType.Deletion), at(3, 9, ValueType.Value, [4])],
      [at(1, 5, type, [1]), at(2, 5, type, [1]), at(3, 5, type, [1]), at(4, 5, type, [1])],
    ];
    // key 4's operand is under the range tombstone [4, 5) at sequence 6
    expect(await merged(hidden, [{ start: key(4), end: key(5), sequence: 6 }])).toEqual([[1, 3], [3, 4]]);
  });
});
