import fc from 'fast-check';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileSink } from '../../src/format/index.js';

const dir = await mkdtemp(join(tmpdir(), 'sv-file-sink-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('fileSink writes what it is given, in order, whatever the sizes of the writes', () => {
  it('small writes gathered and large ones written as they are give the concatenation; the caller may reuse its buffer once a write settles', async () => {
    // Sizes around the sink's gathering limits (64 KiB writes, 1 MiB buffer): tiny, chunk-sized,
    // just under and over the limit, and large enough to pass the buffer many times.
    const size = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 4000, max: 4200 }), fc.integer({ min: 65_530, max: 65_540 }), fc.integer({ min: 300_000, max: 1_200_000 }));
    await fc.assert(
      fc.asyncProperty(fc.array(size, { minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 255 }), async (sizes, seed) => {
        const file = join(dir, 'x.snap');
        const sink = fileSink(file);
        const expected: Uint8Array[] = [];
        const scratch = new Uint8Array(Math.max(...sizes));
        let b = seed;
        for (const n of sizes) {
          const bytes = scratch.subarray(0, n);
          for (let i = 0; i < n; i++) bytes[i] = b = (b * 31 + 7) & 255;
          expected.push(bytes.slice());
          await sink.write(bytes);
          scratch.fill(0xee); // the writer reuses its buffer (sink.doneWithBytesOnWrite)
        }
        await sink.close();
        expect(Buffer.compare(await readFile(file), Buffer.concat(expected))).toBe(0);
        expect((await readdir(dir)).sort()).toEqual(['x.snap']); // no temporary file left
      }),
      { numRuns: 40 },
    );
  });
});
