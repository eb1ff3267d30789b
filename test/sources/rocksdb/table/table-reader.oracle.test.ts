import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { TableReader, ValueType, type InternalEntry, type TableReaderOptions } from '../../../../src/sources/rocksdb/table/index.js';
import { cleanup, hex, makeDb, sstDumpRangeDeletions, sstDumpScan, tempDir } from './oracle.js';

afterAll(cleanup);

async function readAll(file: string, options: TableReaderOptions = {}): Promise<{ entries: InternalEntry[]; reader: TableReader }> {
  const reader = await TableReader.open(file, options);
  const entries: InternalEntry[] = [];
  for await (const batch of reader.entries()) entries.push(...batch);
  return { entries, reader };
}

async function expectMatchesSstDump(file: string, options: TableReaderOptions = {}): Promise<TableReader> {
  const { entries, reader } = await readAll(file, options);
  const oracle = sstDumpScan(file);
  const got = entries.map((e) => ({ key: hex(e.userKey), seq: e.sequence, type: e.type, value: hex(e.value) }));
  expect(got.length).toBe(oracle.length);
  expect(got).toEqual(oracle);
  const tombs = (await reader.rangeTombstones()).map((t) => ({ start: hex(t.start), end: hex(t.end) }));
  expect(tombs).toEqual(sstDumpRangeDeletions(file));
  await reader.close();
  return reader;
}

const compressions = ['none', 'snappy', 'zlib', 'lz4', 'lz4hc', 'zstd'] as const;
const formatVersions = [2, 3, 4, 5] as const;
const checksums = ['crc32c', 'xxhash', 'xxhash64', 'xxh3', 'none'] as const;
const indexes = ['binary', 'partitioned', 'first-key', 'hash'] as const;

// A pairwise-style matrix: every compression with every format version, rotating checksum
// type, index type and the data block hash index so that each appears with many of the others.
const cases = compressions.flatMap((compression, ci) =>
  formatVersions.map((formatVersion, fi) => ({
    compression,
    formatVersion,
    checksum: checksums[(ci + fi) % checksums.length]!,
    index: indexes[(ci * 3 + fi) % indexes.length]!,
    hashIndex: (ci + fi) % 2 === 0,
    indexRestart: 1 + ((ci + fi) % 3) * 7,
  })),
);

describe('every entry read equals what sst_dump (RocksDB 7.8) prints', () => {
  it.each(cases)(
    '$compression fv$formatVersion $checksum index=$index hash=$hashIndex restart=$indexRestart',
    async (c) => {
      const { ssts } = makeDb([
        '--seed', String(c.formatVersion * 10 + c.indexRestart),
        '--keys', '400', '--rounds', '3', '--deletes', '4', '--single-deletes', '5', '--range-deletes', '3',
        '--compression', c.compression, '--format-version', String(c.formatVersion), '--checksum', c.checksum,
        '--index', c.index, '--index-restart-interval', String(c.indexRestart), '--block-size', '1024',
        ...(c.hashIndex ? ['--hash-index'] : []),
      ]);
      expect(ssts.length).toBe(3);
      for (const f of ssts) {
        const r = await expectMatchesSstDump(f);
        expect(r.properties.formatVersion).toBe(c.formatVersion);
        expect(r.properties.checksumName).toBe(
          { crc32c: 'kCRC32c', xxhash: 'kxxHash', xxhash64: 'kxxHash64', xxh3: 'kXXH3', none: 'kNoChecksum' }[c.checksum],
        );
      }
    },
    60_000,
  );
});

describe('edge shapes still equal sst_dump', () => {
  it.each(compressions)('values larger than a block (multi-byte varints, long literals): %s', async (compression) => {
    const { ssts } = makeDb(['--keys', '60', '--value-size', '9000', '--compression', compression, '--checksum', 'xxh3']);
    for (const f of ssts) await expectMatchesSstDump(f);
  });

  it('8-byte keys, restart interval 1, empty and large values mixed with deletions', async () => {
    const { ssts } = makeDb([
      '--keys', '500', '--key-size', '8', '--value-size', '3', '--restart-interval', '1', '--rounds', '4', '--deletes', '2',
    ]);
    for (const f of ssts) await expectMatchesSstDump(f);
  });

  it('one block per read (readBatchBytes 1) and everything in one read give the same entries', async () => {
    const { ssts } = makeDb(['--keys', '2000', '--block-size', '512', '--index', 'partitioned']);
    for (const f of ssts) {
      await expectMatchesSstDump(f, { readBatchBytes: 1 });
      await expectMatchesSstDump(f, { readBatchBytes: 1 << 30 });
    }
  });

  it('batches are in internal-key order: user key ascending, then sequence descending', async () => {
    const { ssts } = makeDb(['--keys', '300', '--rounds', '3', '--no-flush', '--compact-after', '2']);
    const { entries, reader } = await readAll(ssts[ssts.length - 1]!);
    await reader.close();
    for (let i = 1; i < entries.length; i++) {
      const c = Buffer.compare(entries[i - 1]!.userKey, entries[i]!.userKey);
      expect(c < 0 || (c === 0 && entries[i - 1]!.sequence > entries[i]!.sequence)).toBe(true);
    }
  });

  it('an external (SstFileWriter) file: sequence 0 as stored, or the largest sequence the MANIFEST gives', async () => {
    const ext = join(tempDir(), 'external.sst');
    makeDb(['--keys', '50', '--external-sst', ext]);
    const r = await expectMatchesSstDump(ext);
    expect(r.properties.externalSstFileVersion).toBe(2);
    expect(r.properties.externalSstFileGlobalSeqno).toBe(0);
    const { entries, reader } = await readAll(ext, { largestSequence: 1234 });
    await reader.close();
    expect(entries.length).toBe(50);
    expect(entries.every((e) => e.sequence === 1234 && e.type === ValueType.Value)).toBe(true);
  });

  it('properties carry the column family, comparator, merge operator and counts', async () => {
    const { ssts } = makeDb(['--keys', '100', '--cf', 'blobinfo:zstd', '--range-deletes', '2', '--deletes', '3', '--rounds', '2']);
    const readers = await Promise.all(ssts.map((f) => TableReader.open(f)));
    const cf = readers.filter((r) => r.properties.columnFamilyName === 'blobinfo');
    expect(cf.length).toBeGreaterThan(0);
    for (const r of cf) {
      expect(r.properties.columnFamilyId).toBe(1);
      expect(r.properties.compression).toBe('ZSTD');
      expect(r.properties.comparator).toBe('leveldb.BytewiseComparator');
      expect(r.properties.mergeOperator).toBe('concat');
      expect(r.properties.userDefinedTimestampSize).toBe(0);
    }
    const last = readers[readers.length - 1]!;
    expect(last.properties.numRangeDeletions).toBe((await last.rangeTombstones()).length);
    for (const r of readers) await r.close();
  });
});
