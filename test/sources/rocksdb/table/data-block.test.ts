/**
 * Entry types in a hand-built data block: a ValuePreferredSeqno (RocksDB 9.x TimedPut; RocksDB
 * 7.8 cannot write one) loses its 8-byte packed suffix and is otherwise a Value; unsupported
 * types are refused, or passed through as stored when asked (for the DB-level merge).
 */
import { describe, expect, test } from 'vitest';
import { decodeDataBlock, decodeDataBlockColumns } from '../../../../src/sources/rocksdb/table/data-block.js';
import { EntryColumns, type InternalEntry } from '../../../../src/sources/rocksdb/table/types.js';
import { ValueType } from '../../../../src/sources/rocksdb/table/value-type.js';
import { SnapshotError } from '../../../../src/format/errors.js';

/** One restart point, every key stored whole (shared 0). */
function block(entries: { key: string; seq: number; type: number; value: number[] }[]): Uint8Array {
  const out: number[] = [];
  for (const e of entries) {
    const k = [...Buffer.from(e.key)];
    const trailer = [e.type, e.seq & 0xff, (e.seq >> 8) & 0xff, 0, 0, 0, 0, 0];
    out.push(0, k.length + 8, e.value.length, ...k, ...trailer, ...e.value);
  }
  out.push(0, 0, 0, 0, 1, 0, 0, 0); // restart array [0], num_restarts 1
  return Uint8Array.from(out);
}

const suffix = [1, 2, 3, 4, 5, 6, 7, 8];

describe('data block entry types', () => {
  test('ValuePreferredSeqno: value without its 8-byte suffix, sequence and type as stored', () => {
    const data = block([
      { key: 'a', seq: 9, type: ValueType.ValuePreferredSeqno, value: [0x61, 0x62, ...suffix] },
      { key: 'b', seq: 8, type: ValueType.ValuePreferredSeqno, value: suffix },
      { key: 'c', seq: 7, type: ValueType.Value, value: [0x63] },
    ]);
    const out: InternalEntry[] = [];
    decodeDataBlock('f', 0, data, out, undefined);
    expect(out.map((e) => [Buffer.from(e.userKey).toString(), e.sequence, e.type, [...e.value]])).toEqual([
      ['a', 9, ValueType.ValuePreferredSeqno, [0x61, 0x62]],
      ['b', 8, ValueType.ValuePreferredSeqno, []],
      ['c', 7, ValueType.Value, [0x63]],
    ]);
    const cols = new EntryColumns(1);
    decodeDataBlockColumns('f', 0, data, cols, 42);
    expect([cols.length, cols.valLen[0], cols.seq[0], cols.seq[2]]).toEqual([3, 2, 42, 42]);
  });

  test('a ValuePreferredSeqno shorter than its suffix is CORRUPT_CHECKPOINT', () => {
    const data = block([{ key: 'a', seq: 1, type: ValueType.ValuePreferredSeqno, value: [1, 2, 3] }]);
    expect(() => decodeDataBlock('f', 0, data, [], undefined)).toThrow(SnapshotError);
    try {
      decodeDataBlock('f', 0, data, [], undefined);
    } catch (e) {
      expect((e as SnapshotError).code).toBe('CORRUPT_CHECKPOINT');
    }
  });

  test.each([ValueType.Merge, ValueType.BlobIndex, ValueType.WideColumnEntity])('type %i: UNSUPPORTED_FEATURE, or as stored with passThrough', (type) => {
    const data = block([{ key: 'a', seq: 1, type, value: [9] }]);
    try {
      decodeDataBlock('f', 0, data, [], undefined);
      expect.unreachable();
    } catch (e) {
      expect((e as SnapshotError).code).toBe('UNSUPPORTED_FEATURE');
    }
    const out: InternalEntry[] = [];
    decodeDataBlock('f', 0, data, out, undefined, true);
    expect(out.map((e) => [e.type, [...e.value]])).toEqual([[type, [9]]]);
  });
});
