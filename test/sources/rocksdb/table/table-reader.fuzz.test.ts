import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { SnapshotError } from '../../../../src/format/errors.js';
import { TableReader } from '../../../../src/sources/rocksdb/table/index.js';
import { cleanup, makeDb, tempDir } from './oracle.js';

afterAll(cleanup);

/**
 * With kNoChecksum nothing stops corrupt bytes before the decoders, so these tables exercise
 * every parser (footer, metaindex, properties, index, blocks, each codec) on hostile input.
 */
describe('hostile tables: only SnapshotError escapes, and the reader terminates', () => {
  it.each(['none', 'snappy', 'lz4', 'zlib', 'zstd'])('random byte corruptions of an unchecksummed %s table', async (compression) => {
    const { ssts } = makeDb([
      '--keys', '60', '--block-size', '256', '--checksum', 'none', '--compression', compression,
      '--index', compression === 'lz4' ? 'partitioned' : 'binary', '--rounds', '2', '--range-deletes', '2', '--deletes', '3',
    ]);
    const original = readFileSync(ssts[ssts.length - 1]!);
    const file = join(tempDir(), 'fuzz.sst');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 4 }),
        async (flips) => {
          const b = Buffer.from(original);
          for (const { at, xor } of flips) b[at % b.length] = b[at % b.length]! ^ xor;
          writeFileSync(file, b);
          let reader: TableReader | undefined;
          try {
            reader = await TableReader.open(file);
            await reader.rangeTombstones();
            for await (const batch of reader.entries()) void batch;
          } catch (e) {
            if (!(e instanceof SnapshotError)) throw e;
            expect(['CORRUPT_CHECKPOINT', 'UNSUPPORTED_FEATURE']).toContain(e.code);
            expect(e.file).toBe(file);
          } finally {
            await reader?.close();
          }
        },
      ),
      { numRuns: Number(process.env['FUZZ_RUNS'] ?? 300) },
    );
  }, 60_000);

  it('the reader still works on a good file after failing on bad ones', async () => {
    const { ssts } = makeDb(['--keys', '30']);
    const good = join(tempDir(), 'good.sst');
    copyFileSync(ssts[0]!, good);
    const r = await TableReader.open(good);
    let n = 0;
    for await (const batch of r.entries()) n += batch.length;
    await r.close();
    expect(n).toBe(30);
  });
});
