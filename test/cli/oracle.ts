import { spawnSync } from 'node:child_process';

/**
 * An independent computation of format v1 digests for tests: the bytes are framed here from
 * spec/FORMAT.md (sections 4 and 5) without any code of src/, and hashed by the system's
 * `xxh64sum` (xxHash's own tool), never by the library under test.
 */

export type Rows = readonly (readonly [Uint8Array, Uint8Array])[];

/** True when xxh64sum is installed (Debian: package xxhash). */
export function haveXxh64sum(): boolean {
  return spawnSync('xxh64sum', ['--version']).status === 0;
}

/** xxhash64 (seed 0) of bytes, as 16 hex digits, by xxh64sum. */
export function xxh64sum(bytes: Uint8Array): string {
  const r = spawnSync('xxh64sum', [], { input: bytes });
  if (r.status !== 0) throw new Error(`xxh64sum failed: ${r.stderr.toString()}`);
  return r.stdout.toString().slice(0, 16);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}

/** The ENTRY records of a table (spec 4.2): tag 0x01, u32 key length, u32 value length, key, value. */
export function entryRecords(rows: Rows): Buffer {
  return Buffer.concat(rows.flatMap(([k, v]) => [Buffer.of(0x01), u32(k.length), u32(v.length), Buffer.from(k), Buffer.from(v)]));
}

/** Table digest (spec 5.1): xxhash64 of the table's ENTRY records. */
export function tableDigest(rows: Rows): string {
  return xxh64sum(entryRecords(rows));
}

/**
 * Snapshot digest of an unchunked snapshot (M = 0; spec 4 and 5.2): the trailer,
 * xxhash64 of header, records and SNAPSHOT_END. `tables` in catalog order with their ids.
 */
export function snapshotDigest(epoch: bigint, cursor: bigint, tables: readonly { id: number; name: string; rows: Rows }[], eventId: Uint8Array = new Uint8Array(0)): string {
  const parts: Buffer[] = [
    Buffer.from([0x89, 0x53, 0x4e, 0x50, 0x56, 0x0d, 0x0a, 0x1a]),
    Buffer.from([1, 0, 0, 0]), // format version 1, flags 0
    u64(epoch),
    u64(cursor),
    Buffer.from([eventId.length & 0xff, eventId.length >> 8]), // event id length, u16
    Buffer.from(eventId),
    u64(0n), // max chunk bytes: unchunked
    u32(0), // chunk index
    u64(0n), // previous chunk digest
    u32(0), // table position
    u32(tables.length),
  ];
  for (const t of tables) parts.push(u32(t.id), Buffer.of(Buffer.byteLength(t.name)), Buffer.from(t.name));
  for (const t of tables) {
    parts.push(entryRecords(t.rows));
    parts.push(Buffer.of(0x02), u32(t.id), u64(BigInt(t.rows.length)), u64(BigInt(`0x${tableDigest(t.rows)}`)));
  }
  parts.push(Buffer.of(0x04));
  return xxh64sum(Buffer.concat(parts));
}

/**
 * The range (spec of `digest --ranges K`, src/report/ranges.ts doc) holding a key: the first 4 key
 * bytes as a big-endian u32 p (zero-padded), range i covers floor(i·2^32/K) ≤ p < floor((i+1)·2^32/K).
 */
export function rangeOfKey(key: Uint8Array, k: number): number {
  const p = BigInt(Buffer.concat([Buffer.from(key.subarray(0, 4)), Buffer.alloc(4)]).readUInt32BE(0));
  for (let i = 0; i < k; i++) {
    const lo = (BigInt(i) << 32n) / BigInt(k);
    const hi = (BigInt(i + 1) << 32n) / BigInt(k);
    if (p >= lo && p < hi) return i;
  }
  throw new Error('unreachable');
}
