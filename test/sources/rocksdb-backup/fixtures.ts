/**
 * Shared by the backup and export tests: a Walrus-shaped database made by the fixture tool
 * (make-fixture.cc: Walrus's blob-info column family names, several
 * rounds of overwrites and deletions, merge operands of a built-in operator in the WAL, L0 and
 * lower levels), digested through the real CLI, and the independent oracle: `ldb scan --hex` of
 * each family (real RocksDB, merges applied) framed from the spec and hashed by xxh64sum.
 */
import { expect } from 'vitest';
import { formatDigest } from '../../../src/format/digest.js';
import { digestSource } from '../../../src/report/digest-source.js';
import { openCheckpoint, type OpenOptions } from '../../../src/sources/open.js';
import { runCli } from '../../helpers/cli.js';
import { snapshotDigest, type Rows } from '../../cli/oracle.js';
import { oracleScan } from '../rocksdb/helpers.js';

/** Walrus's deterministic tables (its fourth, aggregate_blob_info, is node-local). */
export const FAMILIES = ['per_object_blob_info', 'per_object_pooled_blob_info', 'storage_pool_info'] as const;
export const EPOCH = 7n;

/** make-fixture flags of the Walrus-shaped workload (uint64add: a built-in operator both RocksDB and we apply). */
export function walrusShaped(seed: number): string[] {
  return [
    '--seed', String(seed), '--keys', '150', '--rounds', '3', '--deletes', '5', '--value-size', '40',
    ...FAMILIES.flatMap((f) => ['--cf', f]),
    '--merge-operator', 'uint64add', '--merge-workload', '120', '--merge-keys', '30', '--wal-keys', '10',
  ];
}

/** The JSON report of `digest PATH` over `tables` at EPOCH; fails the test on a non-zero exit. */
export async function digestOf(path: string, tables: readonly string[] = FAMILIES, extra: string[] = []): Promise<{ digest: string; tables: { name: string; digest: string }[]; node: { sourceKind: string; backupId?: number } }> {
  const r = await runCli(['digest', path, '--tables', tables.join(','), '--epoch', String(EPOCH), '--json', '--node', 'n', ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

/** `ldb scan --hex` of one family (on a throw-away copy: ldb writes to what it opens), as rows. */
function ldbRows(db: string, family: string): Rows {
  return oracleScan(db, family).map(([k, v]) => [new Uint8Array(Buffer.from(k, 'hex')), new Uint8Array(Buffer.from(v, 'hex'))] as const);
}

/** The snapshot digest of `tables` of the database `db` as real RocksDB reads it (ids by name order, as --tables a,b gives). */
export function ldbDigest(db: string, tables: readonly string[] = FAMILIES): string {
  const sorted = [...tables].sort();
  return snapshotDigest(EPOCH, 0n, sorted.map((name, id) => ({ id, name, rows: ldbRows(db, name) })));
}

/** The snapshot digest of `path` at EPOCH, in process (the same pipeline as `digest`, without spawning the CLI). */
export async function digestHere(path: string, options: OpenOptions = {}, tables: readonly string[] = FAMILIES): Promise<string> {
  const source = await openCheckpoint([path], options);
  try {
    const anchor = { epoch: EPOCH, cursor: { index: 0n }, maxChunkBytes: 0n, tables: [...tables].sort().map((name, id) => ({ id, name })) };
    return formatDigest((await digestSource(source, { anchor })).summary.digest);
  } finally {
    await source.close();
  }
}
