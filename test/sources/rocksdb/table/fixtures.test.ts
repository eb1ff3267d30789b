import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TableReader, type InternalEntry } from '../../../../src/sources/rocksdb/table/index.js';
import { hex, parseScan } from './oracle.js';

const dir = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../fixtures/rocksdb/sst');
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.sst'))
  .map((f) => f.slice(0, -4))
  .sort();

describe('committed RocksDB 7.8 tables read exactly as sst_dump printed them', () => {
  it('there are fixtures', () => expect(names.length).toBeGreaterThanOrEqual(5));

  it.each(names)('%s', async (name) => {
    const reader = await TableReader.open(join(dir, `${name}.sst`));
    const entries: InternalEntry[] = [];
    for await (const batch of reader.entries()) entries.push(...batch);
    const tombstones = await reader.rangeTombstones();
    await reader.close();
    const got = entries.map((e) => ({ key: hex(e.userKey), seq: e.sequence, type: e.type, value: hex(e.value) }));
    expect(got).toEqual(parseScan(readFileSync(join(dir, `${name}.scan.txt`), 'utf8')));
    expect(tombstones.length).toBe(reader.properties.numRangeDeletions);
    expect(tombstones.length).toBeGreaterThan(0);
  });
});
