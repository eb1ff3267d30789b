import {
  CATALOG_ENTRY_PREFIX_BYTES,
  FORMAT_VERSION,
  HEADER_FIXED_PREFIX_BYTES,
  HEADER_FIXED_SUFFIX_BYTES,
  MAGIC,
  MAX_EVENT_ID_BYTES,
  MAX_TABLE_NAME_BYTES,
  U32_MAX,
  U64_MAX,
} from './constants.js';
import { SnapshotError } from './errors.js';
import type { ResolvedLimits } from './limits.js';

/** A position in the node's event log: an index and, optionally, the opaque id of that event. */
export interface Cursor {
  readonly index: bigint;
  /** Opaque event id, 1 to 1,024 bytes; absent (or empty) means none. */
  readonly eventId?: Uint8Array;
}

/** One selected table of the catalog. */
export interface TableRef {
  /** Numeric id, unique, u32; the catalog is in ascending id order. */
  readonly id: number;
  /** UTF-8 name, 1 to 255 bytes, unique. */
  readonly name: string;
}

/** What makes two snapshots comparable: identical anchors, or the digests mean nothing. */
export interface SnapshotAnchor {
  readonly epoch: bigint;
  readonly cursor: Cursor;
  readonly tables: readonly TableRef[];
  /** Largest chunk in bytes; 0 for an unchunked snapshot (one chunk of any size). */
  readonly maxChunkBytes: bigint;
}

/** The header of one chunk: the anchor repeated, plus the chunk's place in the chain. */
export interface ChunkHeader extends SnapshotAnchor {
  readonly formatVersion: number;
  readonly chunkIndex: number;
  /** Trailer of the previous chunk; 0 in chunk 0. */
  readonly previousChunkDigest: bigint;
  /** Catalog index of the table the chunk's first record belongs to (the count of tables ended before it). */
  readonly tablePosition: number;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Validates an anchor given by a caller (INVALID_ARGUMENT); returns the encoded table names. */
export function validateAnchor(anchor: SnapshotAnchor, limits: ResolvedLimits): Uint8Array[] {
  const bad = (message: string): never => {
    throw new SnapshotError('INVALID_ARGUMENT', message);
  };
  if (anchor.epoch < 0n || anchor.epoch > U64_MAX) bad(`epoch ${anchor.epoch} is not a u64`);
  if (anchor.cursor.index < 0n || anchor.cursor.index > U64_MAX) bad(`cursor index ${anchor.cursor.index} is not a u64`);
  if ((anchor.cursor.eventId?.length ?? 0) > MAX_EVENT_ID_BYTES) bad(`event id longer than ${MAX_EVENT_ID_BYTES} bytes`);
  if (anchor.maxChunkBytes < 0n || anchor.maxChunkBytes > U64_MAX) bad(`max chunk bytes ${anchor.maxChunkBytes} is not a u64`);
  if (anchor.tables.length > limits.maxTables) bad(`${anchor.tables.length} tables exceed the limit of ${limits.maxTables}`);
  const names = new Set<string>();
  const encoded: Uint8Array[] = [];
  let previousId = -1;
  for (const t of anchor.tables) {
    if (!Number.isInteger(t.id) || t.id < 0 || t.id > U32_MAX) bad(`table id ${t.id} is not a u32`);
    if (t.id <= previousId) bad(`table ids must be strictly ascending (${t.id} after ${previousId})`);
    previousId = t.id;
    const name = utf8.encode(t.name);
    if (name.length === 0 || name.length > MAX_TABLE_NAME_BYTES) bad(`table name "${t.name}" must be 1 to 255 UTF-8 bytes`);
    if ((t.name as { isWellFormed?: () => boolean }).isWellFormed?.() === false) bad(`table name "${t.name}" is not well-formed Unicode`);
    if (names.has(t.name)) bad(`table name "${t.name}" appears twice`);
    names.add(t.name);
    encoded.push(name);
  }
  return encoded;
}

/** Encodes a chunk header (spec/FORMAT.md, "Chunk header"). The anchor must be validated. */
export function encodeChunkHeader(
  anchor: SnapshotAnchor,
  encodedNames: readonly Uint8Array[],
  chunkIndex: number,
  previousChunkDigest: bigint,
  tablePosition: number,
): Uint8Array {
  const eventId = anchor.cursor.eventId ?? new Uint8Array(0);
  let size = HEADER_FIXED_PREFIX_BYTES + eventId.length + HEADER_FIXED_SUFFIX_BYTES;
  for (const n of encodedNames) size += CATALOG_ENTRY_PREFIX_BYTES + n.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint16(8, FORMAT_VERSION, true);
  view.setUint16(10, 0, true); // reserved flags
  view.setBigUint64(12, anchor.epoch, true);
  view.setBigUint64(20, anchor.cursor.index, true);
  view.setUint16(28, eventId.length, true);
  out.set(eventId, 30);
  let p = 30 + eventId.length;
  view.setBigUint64(p, anchor.maxChunkBytes, true);
  view.setUint32(p + 8, chunkIndex, true);
  view.setBigUint64(p + 12, previousChunkDigest, true);
  view.setUint32(p + 20, tablePosition, true);
  view.setUint32(p + 24, anchor.tables.length, true);
  p += HEADER_FIXED_SUFFIX_BYTES;
  anchor.tables.forEach((t, i) => {
    const name = encodedNames[i]!;
    view.setUint32(p, t.id, true);
    out[p + 4] = name.length;
    out.set(name, p + 5);
    p += CATALOG_ENTRY_PREFIX_BYTES + name.length;
  });
  return out;
}

/**
 * Reads bytes of a header that may still be arriving. `peek(n)` returns the first n bytes of
 * the chunk or undefined when fewer have arrived; `base` is the chunk's stream offset, for errors.
 */
export type Peek = (n: number) => Uint8Array | undefined;

/**
 * Decodes a chunk header, validating every field before allocating by it.
 * Returns undefined when more bytes are needed, else the header and its size in bytes.
 */
export function decodeChunkHeader(
  peek: Peek,
  base: number,
  limits: ResolvedLimits,
): { header: ChunkHeader; size: number } | undefined {
  const fail = (code: 'BAD_MAGIC' | 'UNSUPPORTED_VERSION' | 'NON_CANONICAL' | 'LIMIT_EXCEEDED', at: number, msg: string): never => {
    throw new SnapshotError(code, msg, { offset: base + at });
  };
  // The magic is checked as soon as its first bytes arrive, so garbage fails fast.
  const head = peek(Math.min(8, HEADER_FIXED_PREFIX_BYTES)) ?? peekAvailablePrefix(peek, 8);
  for (let i = 0; i < head.length; i++) {
    if (head[i] !== MAGIC[i]) fail('BAD_MAGIC', i, `not a snapshot: byte ${i} of the magic is 0x${hex2(head[i]!)}, expected 0x${hex2(MAGIC[i]!)}`);
  }
  const fixed = peek(HEADER_FIXED_PREFIX_BYTES);
  if (fixed === undefined) return undefined;
  const dv = new DataView(fixed.buffer, fixed.byteOffset, fixed.byteLength);
  const version = dv.getUint16(8, true);
  if (version !== FORMAT_VERSION) fail('UNSUPPORTED_VERSION', 8, `format version ${version} is not supported (this reader knows version ${FORMAT_VERSION})`);
  if (dv.getUint16(10, true) !== 0) fail('NON_CANONICAL', 10, 'reserved header flags must be zero');
  const eventIdLength = dv.getUint16(28, true);
  if (eventIdLength > MAX_EVENT_ID_BYTES) fail('LIMIT_EXCEEDED', 28, `event id of ${eventIdLength} bytes exceeds ${MAX_EVENT_ID_BYTES}`);
  const suffixAt = HEADER_FIXED_PREFIX_BYTES + eventIdLength;
  const upToSuffix = peek(suffixAt + HEADER_FIXED_SUFFIX_BYTES);
  if (upToSuffix === undefined) return undefined;
  const sv = new DataView(upToSuffix.buffer, upToSuffix.byteOffset, upToSuffix.byteLength);
  const tablePosition = sv.getUint32(suffixAt + 20, true);
  const tableCount = sv.getUint32(suffixAt + 24, true);
  if (tableCount > limits.maxTables) fail('LIMIT_EXCEEDED', suffixAt + 24, `${tableCount} tables exceed the limit of ${limits.maxTables}`);
  if (tablePosition > tableCount) fail('NON_CANONICAL', suffixAt + 20, `table position ${tablePosition} is beyond the ${tableCount}-table catalog`);
  // Walk the catalog with bounded peeks: each step needs at most 5 + 255 more bytes.
  let size = suffixAt + HEADER_FIXED_SUFFIX_BYTES;
  const tables: TableRef[] = [];
  let previousId = -1;
  for (let i = 0; i < tableCount; i++) {
    const prefix = peek(size + CATALOG_ENTRY_PREFIX_BYTES);
    if (prefix === undefined) return undefined;
    const pv = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
    const id = pv.getUint32(size, true);
    const nameLength = prefix[size + 4]!;
    if (id <= previousId) fail('NON_CANONICAL', size, `table ids must be strictly ascending (${id} after ${previousId})`);
    if (nameLength === 0) fail('NON_CANONICAL', size + 4, 'table names must not be empty');
    const all = peek(size + CATALOG_ENTRY_PREFIX_BYTES + nameLength);
    if (all === undefined) return undefined;
    let name: string;
    try {
      name = strictUtf8.decode(all.subarray(size + 5, size + 5 + nameLength));
    } catch {
      return fail('NON_CANONICAL', size + 5, 'table name is not valid UTF-8');
    }
    if (tables.some((t) => t.name === name)) fail('NON_CANONICAL', size + 5, `table name "${name}" appears twice`);
    tables.push({ id, name });
    previousId = id;
    size += CATALOG_ENTRY_PREFIX_BYTES + nameLength;
  }
  const eventId = eventIdLength === 0 ? undefined : upToSuffix.slice(30, 30 + eventIdLength);
  const header: ChunkHeader = {
    formatVersion: version,
    epoch: dv.getBigUint64(12, true),
    cursor: eventId === undefined ? { index: dv.getBigUint64(20, true) } : { index: dv.getBigUint64(20, true), eventId },
    maxChunkBytes: sv.getBigUint64(suffixAt, true),
    chunkIndex: sv.getUint32(suffixAt + 8, true),
    previousChunkDigest: sv.getBigUint64(suffixAt + 12, true),
    tablePosition,
    tables,
  };
  if (header.chunkIndex === 0 && header.previousChunkDigest !== 0n) {
    fail('NON_CANONICAL', suffixAt + 12, 'chunk 0 must have a zero previous chunk digest');
  }
  if (header.chunkIndex === 0 && tablePosition !== 0) {
    fail('NON_CANONICAL', suffixAt + 20, 'chunk 0 must have table position 0');
  }
  return { header, size };
}

function peekAvailablePrefix(peek: Peek, max: number): Uint8Array {
  for (let n = max - 1; n > 0; n--) {
    const b = peek(n);
    if (b !== undefined) return b;
  }
  return new Uint8Array(0);
}

function hex2(b: number): string {
  return b.toString(16).padStart(2, '0');
}

/** True when two anchors are equal field by field (what makes chunks of one snapshot). */
export function sameAnchor(a: SnapshotAnchor, b: SnapshotAnchor): boolean {
  if (a.epoch !== b.epoch || a.cursor.index !== b.cursor.index || a.maxChunkBytes !== b.maxChunkBytes) return false;
  const ea = a.cursor.eventId ?? new Uint8Array(0);
  const eb = b.cursor.eventId ?? new Uint8Array(0);
  if (ea.length !== eb.length || ea.some((v, i) => v !== eb[i])) return false;
  if (a.tables.length !== b.tables.length) return false;
  return a.tables.every((t, i) => t.id === b.tables[i]!.id && t.name === b.tables[i]!.name);
}
