/**
 * WriteBatch replay and column-family rules, on hand-made WAL and MANIFEST bytes (for what
 * ldb cannot produce: damaged batches, transaction markers, a WAL older than a family's log).
 */
import { mkdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { openRocksDbCheckpoint } from '../../../src/sources/rocksdb/index.js';
import { cleanup, readTable, snapshotErrorOf, tempDir } from './helpers.js';
import { lengthPrefixed, TestLogWriter, varint } from './log-writer.js';

const root = tempDir();
afterAll(() => cleanup(root));
let n = 0;

interface Family {
  id: number;
  name: string;
  logNumber: number;
  comparator?: string;
}

/** A checkpoint with only a MANIFEST (families, log numbers) and the given WAL files. */
function checkpoint(families: Family[], wals: Record<number, number[][]>): string {
  const dir = join(root, `c${n++}`);
  mkdirSync(dir);
  const m = new TestLogWriter();
  for (const f of families) {
    const edit: number[] = [];
    if (f.id !== 0) edit.push(...varint(200), ...varint(f.id), ...varint(201), ...lengthPrefixed(f.name));
    edit.push(1, ...lengthPrefixed(f.comparator ?? 'leveldb.BytewiseComparator'), 2, ...varint(f.logNumber));
    m.add(Uint8Array.from(edit));
  }
  m.add(Uint8Array.from([3, ...varint(100), 4, ...varint(0)]));
  writeFileSync(join(dir, 'MANIFEST-000001'), m.bytes());
  writeFileSync(join(dir, 'CURRENT'), 'MANIFEST-000001\n');
  for (const [num, batches] of Object.entries(wals)) {
    const w = new TestLogWriter();
    for (const b of batches) w.add(Uint8Array.from(b));
    writeFileSync(join(dir, `${String(num).padStart(6, '0')}.log`), w.bytes());
  }
  return dir;
}

/** A WriteBatch: sequence, count, then records. */
function batch(sequence: number, count: number, ...records: number[][]): number[] {
  const out = [];
  let s = BigInt(sequence);
  for (let i = 0; i < 8; i++, s >>= 8n) out.push(Number(s & 0xffn));
  out.push(count & 0xff, (count >> 8) & 0xff, 0, 0);
  for (const r of records) out.push(...r);
  return out;
}
const put = (k: string, v: string, cf = 0) =>
  cf === 0 ? [0x1, ...lengthPrefixed(k), ...lengthPrefixed(v)] : [0x5, ...varint(cf), ...lengthPrefixed(k), ...lengthPrefixed(v)];
const del = (k: string, cf = 0) => (cf === 0 ? [0x0, ...lengthPrefixed(k)] : [0x4, ...varint(cf), ...lengthPrefixed(k)]);
const sdel = (k: string) => [0x7, ...lengthPrefixed(k)];
const rdel = (a: string, b: string) => [0xf, ...lengthPrefixed(a), ...lengthPrefixed(b)];
const merge = (k: string, v: string) => [0x2, ...lengthPrefixed(k), ...lengthPrefixed(v)];
const logData = (b: string) => [0x3, ...lengthPrefixed(b)];
const hex = (s: string) => Buffer.from(s).toString('hex');

const DEFAULT: Family = { id: 0, name: 'default', logNumber: 5 };

describe('WAL replay', () => {
  test('puts, deletions, single deletions and range deletions apply by sequence; log data takes no sequence', async () => {
    const dir = checkpoint([DEFAULT], {
      5: [
        batch(1, 4, put('a', '1'), put('b', '2'), put('c', '3'), logData('ignored'), put('d', '4')),
        batch(5, 3, del('a'), sdel('b'), put('a', 'again')),
        batch(8, 2, rdel('c', 'd'), put('e', '5')),
      ],
    });
    expect(await readTable(dir, 'default')).toEqual([
      [hex('a'), hex('again')],
      [hex('d'), hex('4')],
      [hex('e'), hex('5')],
    ]);
  });

  test('records go to their column family; WAL files older than a family\'s log number are skipped for it', async () => {
    const dir = checkpoint([DEFAULT, { id: 1, name: 'other', logNumber: 6 }], {
      4: [batch(1, 1, put('old', 'x'))], // below every family's log number: not replayed at all
      5: [batch(2, 2, put('k', 'default-5'), put('k', 'other-5', 1))], // flushed already for "other"
      6: [batch(4, 2, put('j', 'default-6'), put('j', 'other-6', 1)), batch(6, 1, put('z', 'dropped family', 7))],
    });
    expect(await readTable(dir, 'default')).toEqual([
      [hex('j'), hex('default-6')],
      [hex('k'), hex('default-5')],
    ]);
    expect(await readTable(dir, 'other')).toEqual([[hex('j'), hex('other-6')]]);
  });

  test('a WriteBatch whose count disagrees with its records is CORRUPT_CHECKPOINT at the record', async () => {
    const dir = checkpoint([DEFAULT], { 5: [batch(1, 1, put('a', '1')), batch(2, 3, put('b', '2'))] });
    const e = await snapshotErrorOf(() => readTable(dir, 'default'));
    // The second batch's payload starts after the first record (7 + 17 bytes) and its own header.
    expect([e.code, e.offset, e.file]).toEqual(['CORRUPT_CHECKPOINT', 24 + 7, join(dir, '000005.log')]);
  });

  test.each([
    ['an unknown record type', [0x42, 1, 0x61], 'CORRUPT_CHECKPOINT'],
    ['a key overrunning the batch', [0x1, 9, 0x61], 'CORRUPT_CHECKPOINT'],
    ['a transaction prepare marker', [0x9], 'UNSUPPORTED_FEATURE'],
    ['a commit marker', [0xb, 1, 0x78], 'UNSUPPORTED_FEATURE'],
  ])('%s is %s', async (_, record, code) => {
    const dir = checkpoint([DEFAULT], { 5: [batch(1, 1, record)] });
    expect((await snapshotErrorOf(() => readTable(dir, 'default'))).code).toBe(code);
  });

  test('a batch shorter than its 12-byte header is CORRUPT_CHECKPOINT', async () => {
    const dir = checkpoint([DEFAULT], { 5: [[1, 2, 3]] });
    expect((await snapshotErrorOf(() => readTable(dir, 'default'))).code).toBe('CORRUPT_CHECKPOINT');
  });

  test('a merge operand in the WAL is UNSUPPORTED_FEATURE when visible, skipped when a newer write hides it (as in table files)', async () => {
    const visible = checkpoint([DEFAULT], { 5: [batch(1, 1, merge('m', 'x'))] });
    expect((await snapshotErrorOf(() => readTable(visible, 'default'))).code).toBe('UNSUPPORTED_FEATURE');
    const overPut = checkpoint([DEFAULT], { 5: [batch(1, 2, put('m', 'a'), merge('m', 'x'))] });
    expect((await snapshotErrorOf(() => readTable(overPut, 'default'))).code).toBe('UNSUPPORTED_FEATURE');
    const deleted = checkpoint([DEFAULT], { 5: [batch(1, 3, put('a', '1'), merge('m', 'x'), del('m'))] });
    expect(await readTable(deleted, 'default')).toEqual([[hex('a'), hex('1')]]);
    const overwritten = checkpoint([DEFAULT], { 5: [batch(1, 1, merge('m', 'x')), batch(2, 1, put('m', 'y'))] });
    expect(await readTable(overwritten, 'default')).toEqual([[hex('m'), hex('y')]]);
    const rangeDeleted = checkpoint([DEFAULT], { 5: [batch(1, 2, merge('m', 'x'), rdel('a', 'z'))] });
    expect(await readTable(rangeDeleted, 'default')).toEqual([]);
  });

  test('a TimedPut (ValuePreferredSeqno) reads as a put of its value without the 8-byte write time', async () => {
    const time = [1, 2, 3, 4, 5, 6, 7, 8];
    const timedPut = (k: string, v: string, cf = 0) => {
      const value = [...new TextEncoder().encode(v), ...time];
      return cf === 0
        ? [0x18, ...lengthPrefixed(k), ...varint(value.length), ...value]
        : [0x19, ...varint(cf), ...lengthPrefixed(k), ...varint(value.length), ...value];
    };
    const dir = checkpoint([DEFAULT, { id: 1, name: 'second', logNumber: 5 }], {
      5: [batch(1, 4, put('a', 'old'), timedPut('a', 'new'), timedPut('b', 'v'), timedPut('c', 'w', 1))],
    });
    expect(await readTable(dir, 'default')).toEqual([[hex('a'), hex('new')], [hex('b'), hex('v')]]);
    expect(await readTable(dir, 'second')).toEqual([[hex('c'), hex('w')]]);
    const short = checkpoint([DEFAULT], { 5: [batch(1, 1, [0x18, ...lengthPrefixed('a'), ...lengthPrefixed('1234567')])] });
    expect((await snapshotErrorOf(() => readTable(short, 'default'))).code).toBe('CORRUPT_CHECKPOINT');
  });

  test('a merge operand for another family does not stop this one', async () => {
    const dir = checkpoint([DEFAULT, { id: 1, name: 'm', logNumber: 5 }], {
      5: [batch(1, 2, put('a', '1'), [0x6, 1, ...lengthPrefixed('k'), ...lengthPrefixed('v')])],
    });
    expect(await readTable(dir, 'default')).toEqual([[hex('a'), hex('1')]]);
    expect((await snapshotErrorOf(() => readTable(dir, 'm'))).code).toBe('UNSUPPORTED_FEATURE');
  });

  test('sequence numbers above 2^53-1 are UNSUPPORTED_FEATURE, not rounded', async () => {
    const dir = checkpoint([DEFAULT], { 5: [batch(2 ** 53, 1, put('a', '1'))] });
    expect((await snapshotErrorOf(() => readTable(dir, 'default'))).code).toBe('UNSUPPORTED_FEATURE');
  });
});

describe('family-level refusals', () => {
  test.each([
    ['leveldb.ReverseBytewiseComparator', /ReverseBytewise/],
    ['leveldb.BytewiseComparator.u64ts', /timestamps/],
  ])('comparator %s is UNSUPPORTED_FEATURE naming it, for that family only', async (comparator, message) => {
    const dir = checkpoint([DEFAULT, { id: 1, name: 'odd', logNumber: 5, comparator }], {
      5: [batch(1, 2, put('a', '1'), put('b', '2', 1))],
    });
    const e = await snapshotErrorOf(() => readTable(dir, 'odd'));
    expect(e.code).toBe('UNSUPPORTED_FEATURE');
    expect(e.message).toMatch(message);
    expect(await readTable(dir, 'default')).toEqual([[hex('a'), hex('1')]]);
    const source = await openRocksDbCheckpoint(dir);
    try {
      expect(await source.listTables()).toEqual([
        { name: 'default', estimatedEntries: 1 },
        { name: 'odd' },
      ]);
    } finally {
      await source.close();
    }
  });
});

describe('torn WAL tails (WalRecoveryMode)', () => {
  const torn = (): string => {
    const dir = checkpoint([DEFAULT], { 5: [batch(1, 1, put('a', '1')), batch(2, 1, put('b', '2'))], 6: [batch(3, 1, put('c', '3')), batch(4, 1, put('d', '4'))] });
    return dir;
  };
  const cut = (path: string, bytes: number) => truncateSync(path, statSync(path).size - bytes);

  test('a torn tail of the newest WAL is dropped and reported; absolute refuses it', async () => {
    const dir = torn();
    const wal = join(dir, '000006.log');
    cut(wal, 3);
    const source = await openRocksDbCheckpoint(dir);
    try {
      const keys: string[] = [];
      for await (const b of source.entries('default')) for (const e of b) keys.push(Buffer.from(e.key).toString());
      expect(keys).toEqual(['a', 'b', 'c']);
      const size = statSync(wal).size;
      const second = size - (7 + 12 + 1 + 2 + 2 - 3); // the second record's header offset
      expect(source.warnings!().map((w) => [w.code, w.file, w.offset, w.bytes])).toEqual([['WAL_TAIL_DROPPED', wal, second, size - second]]);
    } finally {
      await source.close();
    }
    const strict = await openRocksDbCheckpoint(dir, { walRecovery: 'absolute' });
    const e = await snapshotErrorOf(() => readTableWith(strict));
    expect([e.code, e.file]).toEqual(['CORRUPT_CHECKPOINT', wal]);
    expect(e.message).toContain('--wal-recovery absolute');
  });

  test('a torn tail of an older WAL is CORRUPT_CHECKPOINT even with tolerate-tail', async () => {
    const dir = torn();
    const wal = join(dir, '000005.log');
    cut(wal, 3);
    const e = await snapshotErrorOf(() => readTable(dir, 'default'));
    expect([e.code, e.file]).toEqual(['CORRUPT_CHECKPOINT', wal]);
    expect(e.message).toContain('older than the newest');
  });
});

async function readTableWith(source: Awaited<ReturnType<typeof openRocksDbCheckpoint>>): Promise<void> {
  try {
    for await (const _ of source.entries('default')) {
      // drain
    }
  } finally {
    await source.close();
  }
}
