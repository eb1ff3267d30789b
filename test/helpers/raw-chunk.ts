import { loadHasher, xxh64 } from '../../src/format/index.js';

/**
 * Builds chunks by hand, field by field as spec/FORMAT.md lays them out, with a correct trailer:
 * lets tests reach the checks behind the checksum (canonical form, order, chaining).
 */
export interface RawHeader {
  version?: number;
  flags?: number;
  epoch?: bigint;
  cursorIndex?: bigint;
  eventId?: Uint8Array;
  maxChunkBytes?: bigint;
  chunkIndex?: number;
  previous?: bigint;
  tablePosition?: number;
  tables?: { id: number; name: Uint8Array | string }[];
  tableCount?: number;
}

const u16 = (v: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
const u64 = (v: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(v); return b; };

export function rawHeader(h: RawHeader = {}): Buffer {
  const eventId = h.eventId ?? new Uint8Array(0);
  const tables = h.tables ?? [];
  return Buffer.concat([
    Buffer.from([0x89, 0x53, 0x4e, 0x50, 0x56, 0x0d, 0x0a, 0x1a]),
    u16(h.version ?? 1), u16(h.flags ?? 0), u64(h.epoch ?? 1n), u64(h.cursorIndex ?? 0n), u16(eventId.length), Buffer.from(eventId),
    u64(h.maxChunkBytes ?? 0n), u32(h.chunkIndex ?? 0), u64(h.previous ?? 0n), u32(h.tablePosition ?? 0), u32(h.tableCount ?? tables.length),
    ...tables.map((t) => {
      const name = typeof t.name === 'string' ? Buffer.from(t.name) : Buffer.from(t.name);
      return Buffer.concat([u32(t.id), Buffer.from([name.length]), name]);
    }),
  ]);
}

export function entryRecord(key: Uint8Array | string, value: Uint8Array | string): Buffer {
  const k = Buffer.from(key as string);
  const v = Buffer.from(value as string);
  return Buffer.concat([Buffer.from([1]), u32(k.length), u32(v.length), k, v]);
}

export async function tableEnd(id: number, entries: Buffer[], count = BigInt(entries.length)): Promise<Buffer> {
  await loadHasher();
  return Buffer.concat([Buffer.from([2]), u32(id), u64(count), u64(xxh64(Buffer.concat(entries)))]);
}

export const CHUNK_END = Buffer.from([3]);
export const SNAPSHOT_END = Buffer.from([4]);

/** header + records + trailer (xxhash64 of everything before it). */
export async function sealChunk(...parts: Buffer[]): Promise<Buffer> {
  await loadHasher();
  const body = Buffer.concat(parts);
  return Buffer.concat([body, u64(xxh64(body))]);
}

export function trailerOf(chunk: Buffer): bigint {
  return chunk.readBigUInt64LE(chunk.length - 8);
}
