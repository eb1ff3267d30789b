/**
 * Checkpoints written by real, recent RocksDB builds (test/fixtures/rocksdb/fv6/, made by its
 * make.mjs with npm packages that bundle RocksDB 10.5.1 and 9.7.4): block-based tables of
 * format_version 6 (footer checksum, context checksums, index handle in the metaindex) and 5,
 * RocksDB 9/10 MANIFESTs and WALs. expected.json comes from the writing RocksDB's own iterator,
 * so the oracle is RocksDB, not this code. Needs no RocksDB tools.
 *
 * FV6_FIXTURES=<dir> points the test at another folder of such fixtures (to try freshly made ones).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { openRocksDbCheckpoint, type RocksDbSourceOptions } from '../../../src/sources/rocksdb/index.js';
import { FIXTURES, snapshotErrorOf } from './helpers.js';

/** kBlockBasedTableMagicNumber (table/block_based/block_based_table_builder.cc). */
const BLOCK_BASED_MAGIC = 0x88e241b785f4cff7n;

/**
 * Real files outside what the reader supports (README "Formats covered"): it must refuse them
 * with this code, not misread them. Their expected.json still holds RocksDB's content, for the
 * day support is added.
 */
const REFUSED: Record<string, { code: string; message: RegExp; families?: readonly string[] }> = {
  // WAL compression (kZSTD), @nxtedition/rocksdb's default
  'nxt-9.7.4-walzstd': { code: 'UNSUPPORTED_FEATURE', message: /WAL compression/ },
  // BlobDB in one family only: the others must still read exactly
  'native-10.5.1-fv6-blob': { code: 'UNSUPPORTED_FEATURE', message: /blob files/, families: ['beta'] },
};

const DIR = process.env['FV6_FIXTURES'] ?? join(FIXTURES, 'fv6');
const names = readdirSync(DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

interface Expected {
  generator: string;
  rocksdbVersion: string;
  formatVersion: number;
  tables: Record<string, [string, string][]>;
}

function expectedOf(dir: string): Expected {
  return JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
}

/** sha256, size and mtime of every file of a fixture. */
function hashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    out[name] = `${createHash('sha256').update(readFileSync(p)).digest('hex')} ${st.size} ${st.mtimeMs}`;
  }
  return out;
}

/** Every entry of every family, read from one source, as lowercase hex pairs. */
async function readFamilies(
  dir: string,
  families: readonly string[],
  options: RocksDbSourceOptions = {},
): Promise<Record<string, [string, string][]>> {
  const source = await openRocksDbCheckpoint(dir, options);
  try {
    const out: Record<string, [string, string][]> = {};
    for (const cf of families) {
      const rows: [string, string][] = [];
      for await (const batch of source.entries(cf)) {
        for (const e of batch) rows.push([Buffer.from(e.key).toString('hex'), Buffer.from(e.value).toString('hex')]);
      }
      out[cf] = rows;
    }
    return out;
  } finally {
    await source.close();
  }
}

describe('checkpoints written by RocksDB 9.x/10.x (format_version 6)', () => {
  test('there are fixtures to test', () => {
    expect(names.length).toBeGreaterThanOrEqual(2);
  });

  test.each(names)('%s: every SST is a block-based table of the format_version the generator asked for', (name) => {
    const dir = join(DIR, name);
    const want = expectedOf(dir).formatVersion;
    const ssts = readdirSync(dir).filter((f) => f.endsWith('.sst'));
    expect(ssts.length).toBeGreaterThan(0);
    for (const f of ssts) {
      // read from the footer's last 12 bytes directly, independently of the reader under test
      const b = readFileSync(join(dir, f));
      expect(b.readBigUInt64LE(b.length - 8), `${f}: magic`).toBe(BLOCK_BASED_MAGIC);
      expect(b.readUInt32LE(b.length - 12), `${f}: format_version`).toBe(want);
    }
  });

  test.each(names)('%s reads exactly as RocksDB iterated it, and is left unchanged', async (name) => {
    const dir = join(DIR, name);
    const expected = expectedOf(dir);
    const before = hashes(dir);
    const families = Object.keys(expected.tables).sort();
    const refusal = REFUSED[name];
    const refused = refusal === undefined ? [] : (refusal.families ?? families);
    for (const cf of refused) {
      const e = await snapshotErrorOf(() => readFamilies(dir, [cf]));
      expect(e.code, cf).toBe(refusal?.code);
      expect(e.message, cf).toMatch(refusal?.message ?? /^$/);
    }
    const readable = families.filter((cf) => !refused.includes(cf));
    if (readable.length > 0) {
      const source = await openRocksDbCheckpoint(dir);
      try {
        expect((await source.listTables()).map((t) => t.name).sort()).toEqual(families);
      } finally {
        await source.close();
      }
      // default batches, and tiny ones so that batch boundaries fall everywhere
      for (const options of [{}, { batchSize: 7 }]) {
        const got = await readFamilies(dir, readable, options);
        for (const cf of readable) {
          const entries = expected.tables[cf]!;
          expect(got[cf]?.length, `${cf}: number of entries`).toBe(entries.length);
          expect(got[cf], cf).toEqual(entries);
        }
      }
    }
    expect(hashes(dir)).toEqual(before);
  });
});
