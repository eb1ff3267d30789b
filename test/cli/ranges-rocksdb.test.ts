/**
 * `digest <RocksDB checkpoint> --ranges K` takes the fast path (the merge kernel's packed batches,
 * range digests hashed from them) and gives the range digests the definition gives: computed here
 * from the checkpoint's ldb dump (examples/dump) with the spec's framing and xxh64sum, and equal
 * to the entry-by-entry path's (the dump directory source).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { entryRecords, rangeOfKey, type Rows } from './oracle.js';

const ROCKS = 'examples/checkpoint_epoch_42';
const DUMP = 'examples/dump/checkpoint_epoch_42';
const TABLES = ['per_object_blob_info', 'per_object_pooled_blob_info', 'storage_pool_info'];

function dumpRows(table: string): Rows {
  return readFileSync(`${DUMP}/${table}.hex`, 'utf8').split('\n').filter((l) => l.startsWith('0x')).map((l) => {
    const [k, v] = l.split(' : ').map((s) => new Uint8Array(Buffer.from(s.slice(2), 'hex'))) as [Uint8Array, Uint8Array];
    return [k, v] as const;
  });
}

/** xxh64sum of each byte string (one run of the tool for all: files in a temporary directory). */
function xxh64sums(parts: readonly Uint8Array[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'sv-ranges-'));
  try {
    const files = parts.map((p, i) => {
      const f = join(dir, String(i));
      writeFileSync(f, p);
      return f;
    });
    return execFileSync('xxh64sum', files).toString().trim().split('\n').map((l) => l.slice(0, 16));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('digest --ranges of a RocksDB checkpoint', () => {
  it('range digests are the xxh64sum of each range\'s ENTRY records, and equal the entry-by-entry path\'s', async () => {
    const k = 64;
    const fast = await runCli(['digest', ROCKS, '--tables', TABLES.join(','), '--ranges', String(k), '--json']);
    expect(fast.code).toBe(0);
    const slow = await runCli(['digest', DUMP, '--tables', TABLES.join(','), '--ranges', String(k), '--json']);
    expect(slow.code).toBe(0);
    const a = JSON.parse(fast.stdout);
    const b = JSON.parse(slow.stdout);
    expect(a.tables.map((t: { ranges: unknown }) => t.ranges)).toEqual(b.tables.map((t: { ranges: unknown }) => t.ranges));
    for (const t of a.tables as { name: string; ranges: { index: number; entries: string; digest: string }[] }[]) {
      const rows = dumpRows(t.name);
      expect(rows.length).toBeGreaterThan(0);
      expect(t.ranges).toHaveLength(k);
      const byRange = new Map<number, (readonly [Uint8Array, Uint8Array])[]>();
      for (const r of rows) byRange.set(rangeOfKey(r[0], k), [...(byRange.get(rangeOfKey(r[0], k)) ?? []), r]);
      const expected = xxh64sums(t.ranges.map((r) => entryRecords(byRange.get(r.index) ?? [])));
      expect(t.ranges.map((r) => r.entries)).toEqual(t.ranges.map((r) => String(byRange.get(r.index)?.length ?? 0)));
      expect(t.ranges.map((r) => r.digest)).toEqual(expected);
    }
  });
});
