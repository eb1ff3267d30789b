/**
 * Off-thread decoding gives the same entries as in-thread decoding. The worker runs compiled
 * JavaScript, so this uses the build output (dist/, made by `npm test`) and is skipped without it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Source } from '../../../src/sources/source.js';
import { FIXTURES, readTable } from './helpers.js';

const DIST = join(FIXTURES, '..', '..', '..', 'dist', 'sources', 'rocksdb', 'index.js');
const WORKER = join(DIST, '..', 'table-worker.js');
type Open = (dir: string, options: { decodeThreads: number }) => Promise<Source>;

describe.skipIf(!existsSync(WORKER))('decoding in worker threads (from dist/)', () => {
  test.each(['levels', 'ldb-three-families', 'wal-only'])('%s reads the same with 2 decode threads', async (name) => {
    const spec = DIST;
    const { openRocksDbCheckpoint } = (await import(spec)) as { openRocksDbCheckpoint: Open };
    const dir = join(FIXTURES, 'checkpoints', name);
    const source = await openRocksDbCheckpoint(dir, { decodeThreads: 2 });
    try {
      for (const t of await source.listTables()) {
        const ours: [string, string][] = [];
        for await (const batch of source.entries(t.name)) {
          for (const e of batch) ours.push([Buffer.from(e.key).toString('hex'), Buffer.from(e.value).toString('hex')]);
        }
        expect(ours).toEqual(await readTable(dir, t.name));
      }
    } finally {
      await source.close();
    }
  });

  test('an unsupported feature found in a worker keeps its code', async () => {
    const spec = DIST;
    const { openRocksDbCheckpoint } = (await import(spec)) as { openRocksDbCheckpoint: Open };
    const source = await openRocksDbCheckpoint(join(FIXTURES, 'checkpoints', 'merge-operands'), { decodeThreads: 1 });
    try {
      await expect(async () => {
        for await (const _ of source.entries('default')) {
          // drain
        }
      }).rejects.toMatchObject({ code: 'UNSUPPORTED_FEATURE' });
    } finally {
      await source.close();
    }
  });
});
