/**
 * The committed Walrus RocksDB fixture (test/fixtures/rocksdb/walrus/): it really holds unmerged
 * operands under Walrus's operator names, and its expected values (Walrus's unit-test
 * expectations) are what the preset's operators compute from its writes. The end-to-end read of
 * the fixture by the RocksDB source is in walrus-rocksdb.test.ts (the reader applies
 * merge operators).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadWalrusPreset, WALRUS_OPERATOR_NAMES } from '../../src/presets/walrus/index.js';
import type { MergeOperator } from '../../src/sources/merge-operator.js';
import { REPO } from '../helpers/cli.js';

const FIXTURE = join(REPO, 'test', 'fixtures', 'rocksdb', 'walrus');
const DB = join(FIXTURE, 'checkpoint_epoch_7');
interface Step { at: string; op: 'put' | 'merge' | 'delete'; bytes?: string }
const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as { tables: Record<string, { key: string; value: string; source: string; steps: Step[] }[]> };
const OPERATOR_OF: Record<string, string> = {
  aggregate_blob_info: WALRUS_OPERATOR_NAMES.blobInfo,
  per_object_blob_info: WALRUS_OPERATOR_NAMES.perObjectBlobInfo,
  per_object_pooled_blob_info: WALRUS_OPERATOR_NAMES.perObjectPooledBlobInfo,
  storage_pool_info: WALRUS_OPERATOR_NAMES.storagePoolInfo,
};

let ops: Map<string, MergeOperator>;
beforeAll(async () => {
  ops = new Map((await loadWalrusPreset()).mergeOperators.map((o) => [o.name, o]));
});

describe('Walrus RocksDB fixture', () => {
  it('holds unmerged operands (type 2) in its table files, each family naming Walrus\'s operator', () => {
    const seen = new Map<string, number>();
    for (const f of readdirSync(DB).filter((n) => n.endsWith('.sst'))) {
      const props = execFileSync('sst_dump', [`--file=${join(DB, f)}`, '--show_properties'], { encoding: 'utf8' });
      const family = /column family name: (\S+)/.exec(props)![1]!;
      const operator = /merge operator name: (.+)/.exec(props)![1]!.trim();
      expect(operator).toBe(OPERATOR_OF[family]);
      const scan = execFileSync('sst_dump', [`--file=${join(DB, f)}`, '--command=scan', '--output_hex'], { encoding: 'utf8' });
      seen.set(family, (seen.get(family) ?? 0) + (scan.match(/type:2 =>/g)?.length ?? 0));
    }
    for (const family of Object.keys(OPERATOR_OF)) expect(seen.get(family), family).toBeGreaterThan(0);
    const options = readdirSync(DB).filter((n) => n.startsWith('OPTIONS-')).sort().at(-1)!;
    for (const name of Object.values(OPERATOR_OF)) expect(readFileSync(join(DB, options), 'utf8')).toContain(`merge_operator=${name}\n`);
  });

  it('its expected values are what Walrus\'s merges give for its writes (RocksDB\'s rules: a deletion clears the base, operands oldest first)', () => {
    for (const [table, entries] of Object.entries(expected.tables)) {
      for (const e of entries) {
        let base: Uint8Array | undefined;
        let operands: Uint8Array[] = [];
        const value = () => (operands.length === 0 ? base : ops.get(OPERATOR_OF[table]!)!.fullMerge(Buffer.from(e.key, 'hex'), base, operands));
        for (const s of e.steps) {
          if (s.op === 'merge') operands.push(Buffer.from(s.bytes!, 'hex'));
          else {
            base = s.op === 'put' ? Buffer.from(s.bytes!, 'hex') : undefined;
            operands = [];
          }
        }
        expect(Buffer.from(value()!).toString('hex'), `${table} ${e.source}`).toBe(e.value);
      }
    }
  });
});
