/**
 * The SST writer read back by our reader and checked by sst_dump: keys whose prefix runs into
 * the previous key's 8-byte trailer, varints of two bytes and more, blocks cut at every size,
 * both codecs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TableBuilder } from '../../src/sources/rocksdb/table/builder/table-builder.js';
import { TableReader } from '../../src/sources/rocksdb/table/index.js';
import { cleanup, sstDumpCheck, tempDir } from './helpers.js';

let work: string;
beforeAll(() => {
  work = tempDir('sv-table-builder-');
});
afterAll(() => cleanup(work));

const b = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);
/** Ascending keys chosen to stress prefix sharing: a key equal to the previous one plus its trailer bytes. */
const KEYS: Uint8Array[] = [
  b(),
  b(0x61),
  b(0x61, 0x01), // shares "a" + the previous key's type byte 0x01
  b(0x61, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00), // shares the whole previous internal key
  b(0x61, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00),
  new Uint8Array(200).fill(0x62), // 2-byte varints
  new Uint8Array(70_000).fill(0x63), // 3-byte varints
  b(0x64),
];

describe('TableBuilder', () => {
  for (const compression of ['none', 'zlib'] as const) {
    for (const blockSize of [1, 64, 4096]) {
      it(`${compression}, block size ${blockSize}: our reader reads exactly what was added, sst_dump verifies every checksum`, async () => {
        const builder = new TableBuilder({ columnFamilyId: 3, columnFamilyName: 'cf', fileNumber: 9, dbId: 'id', dbSessionId: 'ABCDEFGHIJKLMNOPQRST', external: false, compression, blockSize });
        const entries = KEYS.map((key, i) => ({ key, value: new Uint8Array(i * 40).map((_, j) => (j * 7) % 5) }));
        const chunks: Uint8Array[] = [];
        for (const e of entries) {
          builder.add(e.key, e.value);
          chunks.push(...builder.takeOutput().map((v) => v.slice()));
        }
        const done = builder.finish();
        chunks.push(...builder.takeOutput().map((v) => v.slice()));
        const file = join(work, `t-${compression}-${blockSize}.sst`);
        writeFileSync(file, Buffer.concat(chunks));
        expect(done.fileSize).toBe(chunks.reduce((s, c) => s + c.length, 0));
        expect(done.entries).toBe(KEYS.length);
        expect(Buffer.from(done.smallest)).toEqual(Buffer.from(b(1, 0, 0, 0, 0, 0, 0, 0)));
        expect(Buffer.from(done.largest)).toEqual(Buffer.from(b(0x64, 1, 0, 0, 0, 0, 0, 0, 0)));
        const reader = await TableReader.open(file);
        try {
          const got = [];
          for await (const batch of reader.entries()) got.push(...batch);
          expect(got.map((e) => [Buffer.from(e.userKey), Buffer.from(e.value), e.sequence, e.type])).toEqual(entries.map((e) => [Buffer.from(e.key), Buffer.from(e.value), 0, 1]));
          expect(reader.properties.numDataBlocks).toBe(blockSize === 1 ? KEYS.length : reader.properties.numDataBlocks);
          expect(reader.properties.columnFamilyId).toBe(3);
          expect(reader.properties.externalSstFileVersion).toBeUndefined();
        } finally {
          await reader.close();
        }
        sstDumpCheck(file);
      });
    }
  }

  it('refuses to finish an empty table (RocksDB can neither ingest nor use one)', () => {
    const builder = new TableBuilder({ columnFamilyId: 0, columnFamilyName: 'default', fileNumber: 3, dbId: 'x', dbSessionId: 'y', external: true });
    expect(() => builder.finish()).toThrow(/no entries/);
  });
});
