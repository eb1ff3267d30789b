import { copyFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SnapshotError } from '../../../../src/format/errors.js';
import { TableReader } from '../../../../src/sources/rocksdb/table/index.js';
import { cleanup, hex, makeDb, sstDumpScan, tempDir } from './oracle.js';

afterAll(cleanup);

/** Opens and fully reads `file`; returns the error it fails with (or undefined). */
async function failure(file: string): Promise<SnapshotError | undefined> {
  let reader: TableReader | undefined;
  try {
    reader = await TableReader.open(file);
    await reader.rangeTombstones();
    for await (const batch of reader.entries()) void batch;
    return undefined;
  } catch (e) {
    if (!(e instanceof SnapshotError)) throw new Error(`non-SnapshotError escaped: ${String(e)}`, { cause: e });
    return e;
  } finally {
    await reader?.close();
  }
}

async function expectUnsupported(args: string[], pattern: RegExp): Promise<void> {
  const { ssts } = makeDb(['--keys', '50', ...args]);
  expect(ssts.length).toBeGreaterThan(0);
  const e = await failure(ssts[ssts.length - 1]!);
  expect(e?.code).toBe('UNSUPPORTED_FEATURE');
  expect(e?.file).toBe(ssts[ssts.length - 1]);
  expect(e?.message).toMatch(pattern);
}

describe('unsupported features are named, never approximated', () => {
  it('merge operands (kTypeMerge) in a data block', () => expectUnsupported(['--merges', '10'], /kTypeMerge/));
  it('blob indexes (kTypeBlobIndex)', () => expectUnsupported(['--blob-min-size', '10'], /kTypeBlobIndex/));
  it('wide-column entities (kTypeWideColumnEntity)', () => expectUnsupported(['--wide-columns', '5'], /kTypeWideColumnEntity/));
  it('a non-bytewise comparator', () => expectUnsupported(['--comparator', 'reverse'], /ReverseBytewiseComparator/));
  it('user-defined timestamps (a ".u64ts" comparator)', () =>
    expectUnsupported(['--comparator', 'u64ts'], /user-defined timestamps/));
  it('plain table files', () => expectUnsupported(['--table', 'plain'], /plain table/));
  it('cuckoo table files', () => expectUnsupported(['--table', 'cuckoo'], /cuckoo table/));
  it('bzip2-compressed blocks', () => expectUnsupported(['--compression', 'bzip2'], /BZip2/));
  it('dictionary compression', () =>
    expectUnsupported(['--compression', 'zstd', '--max-dict-bytes', '4096'], /compression_dict/));
});

describe('passThroughUnsupportedTypes', () => {
  it.each([
    [['--merges', '10'], 0x2],
    [['--blob-min-size', '10'], 0x11],
    [['--wide-columns', '5'], 0x16],
  ] as const)('yields %j entries with their stored type %i instead of failing', async (args, type) => {
    const { ssts } = makeDb(['--keys', '50', ...args]);
    const file = ssts[ssts.length - 1]!;
    const reader = await TableReader.open(file, { passThroughUnsupportedTypes: true });
    const got: Array<{ key: string; seq: number; type: number; value: string }> = [];
    for await (const batch of reader.entries()) {
      for (const e of batch) got.push({ key: hex(e.userKey), seq: e.sequence, type: e.type, value: hex(e.value) });
    }
    await reader.close();
    expect(got.some((e) => e.type === type)).toBe(true);
    expect(got).toEqual(sstDumpScan(file));
  });
});

/** A fresh single-SST database and a writable copy of its table. */
function oneTable(args: string[] = []): { file: string; bytes: Buffer } {
  const { ssts } = makeDb(['--keys', '300', '--block-size', '1024', ...args]);
  const file = join(tempDir(), 'table.sst');
  copyFileSync(ssts[0]!, file);
  return { file, bytes: readFileSync(file) };
}

describe('corruption is reported as CORRUPT_CHECKPOINT with file and offset', () => {
  for (const checksum of ['crc32c', 'xxhash', 'xxhash64', 'xxh3']) {
    for (const compression of ['none', 'snappy', 'lz4', 'zstd', 'zlib']) {
      it(`a flipped byte in a data block (${checksum}, ${compression}) fails its block's checksum`, async () => {
        const { file, bytes } = oneTable(['--checksum', checksum, '--compression', compression]);
        // Data blocks start at offset 0; the second block starts after the first block's trailer.
        const flipAt = 700;
        bytes[flipAt] = bytes[flipAt]! ^ 0x10;
        writeFileSync(file, bytes);
        const e = await failure(file);
        expect(e?.code).toBe('CORRUPT_CHECKPOINT');
        expect(e?.file).toBe(file);
        expect(e?.offset).toBeLessThanOrEqual(flipAt);
        expect(e?.message).toMatch(/checksum mismatch/);
      });
    }
  }

  it('every single-byte flip anywhere in the file is detected or harmless, never another error', async () => {
    const { file, bytes } = oneTable(['--checksum', 'crc32c', '--keys', '40']);
    const original = Buffer.from(bytes);
    let detected = 0;
    for (let i = 0; i < original.length; i += 7) {
      const b = Buffer.from(original);
      b[i] = b[i]! ^ 0x41;
      writeFileSync(file, b);
      const e = await failure(file);
      if (e !== undefined) {
        expect(['CORRUPT_CHECKPOINT', 'UNSUPPORTED_FEATURE']).toContain(e.code);
        expect(e.file).toBe(file);
        expect(e.offset).toBeGreaterThanOrEqual(0);
        expect(e.offset).toBeLessThan(original.length);
        detected++;
      }
    }
    expect(detected).toBeGreaterThan(0);
  }, 60_000);

  it('a truncated file fails with CORRUPT_CHECKPOINT at every truncation length', async () => {
    const { file, bytes } = oneTable(['--keys', '40']);
    for (const len of [0, 1, 47, 52, 53, 100, Math.floor(bytes.length / 2), bytes.length - 54, bytes.length - 1]) {
      writeFileSync(file, bytes.subarray(0, len));
      const e = await failure(file);
      expect(e?.code, `truncated to ${len}`).toBe('CORRUPT_CHECKPOINT');
      expect(e?.file).toBe(file);
    }
  });

  it('a file whose tail was cut by one data block still fails cleanly', async () => {
    const { file } = oneTable();
    truncateSync(file, statSync(file).size - 200);
    expect((await failure(file))?.code).toBe('CORRUPT_CHECKPOINT');
  });

  it('a missing file is NOT_FOUND', async () => {
    const e = await failure(join(tempDir(), 'missing.sst'));
    expect(e?.code).toBe('NOT_FOUND');
  });
});

describe('read-only by construction', () => {
  it('reading leaves the file byte-for-byte and mtime unchanged', async () => {
    const { file, bytes } = oneTable();
    const before = statSync(file);
    expect(await failure(file)).toBeUndefined();
    expect(readFileSync(file).equals(bytes)).toBe(true);
    expect(statSync(file).mtimeMs).toBe(before.mtimeMs);
  });
});
