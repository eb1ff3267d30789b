import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SnapshotError } from '../../../../src/format/errors.js';
import { TableReader, type InternalEntry } from '../../../../src/sources/rocksdb/table/index.js';
import { toFormatVersion6 } from './fv6.js';
import { cleanup, hex, makeDb, sstDumpScan, tempDir } from './oracle.js';

afterAll(cleanup);

async function scan(file: string): Promise<InternalEntry[]> {
  const r = await TableReader.open(file);
  const out: InternalEntry[] = [];
  try {
    for await (const b of r.entries()) out.push(...b);
    await r.rangeTombstones();
  } finally {
    await r.close();
  }
  return out;
}

async function error(file: string): Promise<SnapshotError> {
  try {
    await scan(file);
  } catch (e) {
    if (e instanceof SnapshotError) return e;
    throw e;
  }
  throw new Error('expected a SnapshotError');
}

// Synthesized from RocksDB-written format_version 5 tables (see fv6.ts): RocksDB 7.8 cannot
// write format_version 6, so sst_dump of the *original* file is the oracle for the entries.
describe('format_version 6 (context checksums, index handle in the metaindex)', () => {
  for (const checksum of ['crc32c', 'xxhash', 'xxhash64', 'xxh3', 'none']) {
    for (const index of ['binary', 'partitioned']) {
      it(`reads the same entries as sst_dump of the fv5 original (${checksum}, ${index})`, async () => {
        const { ssts } = makeDb(['--keys', '300', '--block-size', '1024', '--rounds', '2', '--range-deletes', '2',
          '--deletes', '3', '--checksum', checksum, '--index', index, '--format-version', '5']);
        for (const f of ssts) {
          const v6 = join(tempDir(), 'v6.sst');
          writeFileSync(v6, await toFormatVersion6(readFileSync(f)));
          const r = await TableReader.open(v6);
          expect(r.properties.formatVersion).toBe(6);
          await r.close();
          const got = (await scan(v6)).map((e) => ({ key: hex(e.userKey), seq: e.sequence, type: e.type, value: hex(e.value) }));
          expect(got).toEqual(sstDumpScan(f));
        }
      });
    }
  }

  it('a block moved to another offset fails its context checksum even though its bytes are intact', async () => {
    const { ssts } = makeDb(['--keys', '300', '--block-size', '1024', '--compression', 'none', '--value-size', '64', '--key-size', '16']);
    const bytes = await toFormatVersion6(readFileSync(ssts[0]!));
    // With fixed-size entries and no compression the first data blocks have equal sizes.
    const v6 = join(tempDir(), 'moved.sst');
    // Swap data blocks 0 and 1: each keeps its bytes and trailer, only its offset changes.
    const size = findFirstBlockSize(bytes);
    const a = bytes.slice(0, size + 5);
    const b = bytes.slice(size + 5, 2 * (size + 5));
    bytes.set(b, 0);
    bytes.set(a, size + 5);
    writeFileSync(v6, bytes);
    const e = await error(v6);
    expect(e.code).toBe('CORRUPT_CHECKPOINT');
    expect(e.offset).toBe(0);
    expect(e.message).toMatch(/checksum mismatch/);
  });

  it('a flipped footer byte fails the footer checksum', async () => {
    const { ssts } = makeDb(['--keys', '50']);
    const bytes = await toFormatVersion6(readFileSync(ssts[0]!));
    bytes[bytes.length - 53 + 20] = bytes[bytes.length - 53 + 20]! ^ 1; // reserved (unchecked-by-value) bytes are still checksummed
    const v6 = join(tempDir(), 'footer.sst');
    writeFileSync(v6, bytes);
    const e = await error(v6);
    expect(e.code).toBe('CORRUPT_CHECKPOINT');
    expect(e.offset).toBe(bytes.length - 53);
    expect(e.message).toMatch(/footer checksum/);
  });
});

/** Size of the first data block, from the first entry of a binary index block at its handle. */
function findFirstBlockSize(bytes: Uint8Array): number {
  // Data block 0 starts at offset 0; its trailer follows `size` bytes. Scan for the smallest size
  // whose next block starts right after a 5-byte trailer and has the same size: blocks written
  // with equal entry sizes close at the same entry count, so sizes repeat.
  for (let size = 64; size < 4096; size++) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    // num_restarts of a block ends at size - 4; a block of this size ends with a plausible count.
    const n0 = dv.getUint32(size - 4, true);
    const n1 = dv.getUint32(2 * size + 5 - 4, true);
    if (n0 > 0 && n0 < 64 && n0 === n1 && bytes[size] === 0 && bytes[2 * size + 5] === 0) return size;
  }
  throw new Error('no two equal-size blocks found');
}
