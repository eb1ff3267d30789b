import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { readLogRecords, type DroppedTail, type LogReaderOptions } from '../../../src/sources/rocksdb/log-reader.js';
import { cleanup, snapshotErrorOf, tempDir } from './helpers.js';
import { BLOCK, TestLogWriter } from './log-writer.js';

const dir = tempDir();
afterAll(() => cleanup(dir));
let n = 0;

const WAL: LogReaderOptions = { logNumber: 7, maxRecordBytes: 1 << 20, tail: 'tolerate' };
const MANIFEST: LogReaderOptions = { ...WAL, tail: 'error' };

async function read(bytes: Uint8Array, options: LogReaderOptions = MANIFEST): Promise<{ data: number[]; offset: number }[]> {
  const path = join(dir, `log-${n++}`);
  writeFileSync(path, bytes);
  const out: { data: number[]; offset: number }[] = [];
  for await (const r of readLogRecords(path, options)) out.push({ data: [...r.data], offset: r.offset });
  return out;
}

function fill(len: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: len }, (_, i) => (i * 31 + seed) & 0xff);
}

describe('log reader', () => {
  test('records are returned whole, fragments joined across 32 KiB blocks', async () => {
    const big = fill(3 * BLOCK + 100, 1);
    const w = new TestLogWriter().add(fill(10, 2)).add(big).add(fill(0, 0)).add(fill(BLOCK - 7 - 17 - 3, 3)).add(fill(5, 4));
    const recs = await read(w.bytes());
    expect(recs.map((r) => r.data.length)).toEqual([10, big.length, 0, BLOCK - 27, 5]);
    expect(recs[1]!.data).toEqual([...big]);
    expect(recs[1]!.offset).toBe(17);
  });

  test('locate maps record positions to file offsets, across fragments', async () => {
    const path = join(dir, `log-${n++}`);
    writeFileSync(path, new TestLogWriter().add(fill(10, 1)).add(fill(BLOCK, 2)).bytes());
    const recs = [];
    for await (const r of readLogRecords(path, MANIFEST)) recs.push(r);
    expect(recs[0]!.locate(3)).toBe(7 + 3);
    const firstPiece = BLOCK - 17 - 7; // payload bytes of the first fragment
    expect(recs[1]!.locate(0)).toBe(17 + 7);
    expect(recs[1]!.locate(firstPiece - 1)).toBe(BLOCK - 1);
    expect(recs[1]!.locate(firstPiece)).toBe(BLOCK + 7);
  });

  test('block tails shorter than a header are zero padding', async () => {
    // 32768 - 7 - 32755 = 6 bytes left in the block: padding, then the next record.
    const w = new TestLogWriter().add(fill(BLOCK - 7 - 6, 1)).add(fill(3, 9));
    const recs = await read(w.bytes());
    expect(recs.map((r) => r.offset)).toEqual([0, BLOCK]);
  });

  test('recyclable records carry the log number; a record of an older incarnation ends the log', async () => {
    const w = new TestLogWriter(true, 7).add(fill(20, 1)).add(fill(40000, 2));
    w.physical(5, fill(4, 3), 6); // left over from when the file was log 6
    w.physical(5, fill(4, 4), 7);
    const recs = await read(w.bytes(), WAL);
    expect(recs.map((r) => r.data.length)).toEqual([20, 40000]);
  });

  test('a checksum mismatch is CORRUPT_CHECKPOINT at the record header', async () => {
    const bytes = new TestLogWriter().add(fill(10, 1)).add(fill(10, 2)).bytes();
    bytes[17 + 7 + 3] = bytes[17 + 7 + 3]! ^ 0x01;
    const e = await snapshotErrorOf(() => read(bytes, WAL));
    expect([e.code, e.offset]).toEqual(['CORRUPT_CHECKPOINT', 17]);
  });

  test('an unknown record type is corruption unless its safe-to-ignore bit is set', async () => {
    const ok = new TestLogWriter().physical(0x85, fill(3, 1)).add(fill(2, 2)).bytes();
    expect((await read(ok)).map((r) => r.data.length)).toEqual([2]);
    const bad = new TestLogWriter().add(fill(2, 2)).physical(12, fill(3, 1)).bytes();
    const e = await snapshotErrorOf(() => read(bad));
    expect([e.code, e.offset]).toEqual(['CORRUPT_CHECKPOINT', 9]);
  });

  test('fragments out of sequence are corruption', async () => {
    for (const [types, offset] of [
      [[3], 0],
      [[4], 0],
      [[2, 1], 10],
      [[2, 2], 10],
    ] as const) {
      const w = new TestLogWriter();
      for (const t of types) w.physical(t, fill(3, t));
      const e = await snapshotErrorOf(() => read(w.bytes()));
      expect([e.code, e.offset]).toEqual(['CORRUPT_CHECKPOINT', offset]);
    }
  });

  test('a record cut by end of file ends a WAL, reported as a dropped tail, but corrupts a MANIFEST', async () => {
    const whole = new TestLogWriter().add(fill(10, 1)).add(fill(50, 2)).bytes();
    for (const cut of [whole.length - 1, 17 + 3, 17 + 7]) {
      const bytes = whole.subarray(0, cut);
      const dropped: DroppedTail[] = [];
      expect((await read(bytes, { ...WAL, onTailDropped: (d) => dropped.push(d) })).length).toBe(1);
      expect(dropped.map((d) => [d.offset, d.bytes])).toEqual([[17, cut - 17]]);
      const e = await snapshotErrorOf(() => read(bytes, MANIFEST));
      expect([e.code, e.offset]).toEqual(['CORRUPT_CHECKPOINT', 17]);
    }
    // Cut inside a fragmented record, at a block boundary.
    const frag = new TestLogWriter().add(fill(BLOCK * 2, 1)).bytes().subarray(0, BLOCK);
    expect(await read(frag, WAL)).toEqual([]);
    expect((await snapshotErrorOf(() => read(frag, MANIFEST))).code).toBe('CORRUPT_CHECKPOINT');
  });

  test('a length that overruns a full block is corruption even in a WAL', async () => {
    const w = new TestLogWriter().add(fill(BLOCK - 7, 1)).add(fill(5, 2));
    const bytes = w.bytes();
    bytes[4] = 0xff;
    bytes[5] = 0xff;
    const e = await snapshotErrorOf(() => read(bytes, WAL));
    expect([e.code, e.offset]).toEqual(['CORRUPT_CHECKPOINT', 0]);
  });

  test('zeros to the end of the file are a torn tail: dropped and reported where tolerated, corruption elsewhere', async () => {
    const bytes = new TestLogWriter().add(fill(4, 1)).raw(new Uint8Array(100)).bytes();
    const dropped: DroppedTail[] = [];
    expect((await read(bytes, { ...WAL, onTailDropped: (d) => dropped.push(d) })).length).toBe(1);
    expect(dropped.map((d) => [d.offset, d.bytes])).toEqual([[11, 100]]);
    const e = await snapshotErrorOf(() => read(bytes, MANIFEST));
    expect([e.code, e.offset]).toEqual(['CORRUPT_CHECKPOINT', 11]);
  });

  test('a zero-filled region followed by data is a gap: corruption even where tails are tolerated', async () => {
    // Zeros from offset 11 to the end of the first block, then a valid record in the second.
    const w = new TestLogWriter().add(fill(4, 1));
    w.raw(new Uint8Array(BLOCK - w.length)).add(fill(5, 2));
    const e = await snapshotErrorOf(() => read(w.bytes(), WAL));
    expect([e.code, e.offset]).toEqual(['CORRUPT_CHECKPOINT', 11]);
  });

  test('the record size limit is checked before fragments are joined: at the limit passes, one over fails', async () => {
    const bytes = new TestLogWriter().add(fill(40000, 1)).bytes();
    expect((await read(bytes, { ...MANIFEST, maxRecordBytes: 40000 })).length).toBe(1);
    const e = await snapshotErrorOf(() => read(bytes, { ...MANIFEST, maxRecordBytes: 39999 }));
    expect([e.code, e.offset]).toEqual(['CORRUPT_CHECKPOINT', 0]);
  });

  test('WAL compression and user-defined timestamp records are UNSUPPORTED_FEATURE', async () => {
    const none = new TestLogWriter().physical(9, Uint8Array.of(0, 0, 0, 0)).add(fill(2, 1)).bytes();
    expect((await read(none, WAL)).length).toBe(1);
    const zstd = new TestLogWriter().physical(9, Uint8Array.of(7, 0, 0, 0)).add(fill(2, 1)).bytes();
    expect((await snapshotErrorOf(() => read(zstd, WAL))).code).toBe('UNSUPPORTED_FEATURE');
    const udt = new TestLogWriter().physical(10, Uint8Array.of(1, 0, 0, 0, 8, 0)).bytes();
    expect((await snapshotErrorOf(() => read(udt, WAL))).code).toBe('UNSUPPORTED_FEATURE');
    const udtZero = new TestLogWriter().physical(10, Uint8Array.of(1, 0, 0, 0, 0, 0)).bytes();
    expect(await read(udtZero, WAL)).toEqual([]);
  });

  test('a missing file is NOT_FOUND', async () => {
    const e = await snapshotErrorOf(async () => {
      for await (const _ of readLogRecords(join(dir, 'nope'), WAL)) {
        // unreachable
      }
    });
    expect(e.code).toBe('NOT_FOUND');
  });
});
