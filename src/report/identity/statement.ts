import { SnapshotError } from '../../format/errors.js';
import { MAX_EVENT_ID_BYTES, MAX_TABLE_NAME_BYTES } from '../../format/constants.js';
import { MAX_RANGES } from '../ranges.js';
import type { ChunkReport, DigestReport, TableReport } from '../schema.js';

/**
 * The signed statement (spec/STATEMENT.md): the canonical bytes of everything a report attests,
 * which is what a node signs. JSON is only the envelope around it: two JSON texts that say the
 * same thing encode to the same statement, and a statement says exactly one thing.
 * Pure (no I/O).
 */

/** The 26 bytes every statement starts with: a domain separator, so a signature over it is never valid for anything else. */
export const STATEMENT_MAGIC = new TextEncoder().encode('snapshot-verify statement\0');
/** Bumped whenever the statement bytes change; verifiers refuse versions they do not know. */
export const STATEMENT_VERSION = 1;
/** Longest node name, in UTF-8 bytes. */
export const MAX_NODE_NAME_BYTES = 1024;
/** Most tables and chunks a statement may list: bounds what a decoder allocates. */
export const MAX_STATEMENT_TABLES = 1024;
export const MAX_STATEMENT_CHUNKS = 1 << 24;
/** Raw Ed25519 public key length. */
export const PUBLIC_KEY_BYTES = 32;

/** The report fields a statement attests: the anchor, every digest and count, the chunks. */
export type AttestedFields = Pick<DigestReport, 'formatVersion' | 'epoch' | 'cursor' | 'maxChunkBytes' | 'rangesPerTable' | 'digest' | 'entries' | 'bytes' | 'tables' | 'chunks'>;

/**
 * What a report attests, with who attests it, in the report's own notation (decimal strings
 * for u64, lowercase hex for digests and bytes) so it converts to and from a report losslessly.
 * Tables carry `ranges` exactly when rangesPerTable > 0.
 */
export interface Statement extends AttestedFields {
  /** The node name the statement is made under. */
  readonly node: string;
  /** The signer's raw Ed25519 public key, 64 lowercase hex digits. */
  readonly publicKey: string;
}

/** The statement a report makes when signed with `publicKey` (hex): every attested field, nothing node-local. */
export function statementOf(report: DigestReport, publicKey: string): Statement {
  return {
    formatVersion: report.formatVersion,
    epoch: report.epoch,
    cursor: { index: report.cursor.index, eventIdHex: report.cursor.eventIdHex },
    maxChunkBytes: report.maxChunkBytes,
    rangesPerTable: report.rangesPerTable,
    digest: report.digest,
    entries: report.entries,
    bytes: report.bytes,
    tables: report.tables.map((t) => ({
      id: t.id,
      name: t.name,
      entries: t.entries,
      bytes: t.bytes,
      digest: t.digest,
      ...(report.rangesPerTable > 0 ? { ranges: (t.ranges ?? []).map((g) => ({ index: g.index, start: g.start, end: g.end, entries: g.entries, digest: g.digest })) } : {}),
    })),
    chunks: report.chunks.map((c) => ({ index: c.index, bytes: c.bytes, digest: c.digest })),
    node: report.node.name,
    publicKey,
  };
}

/**
 * A text that is equal for two statements exactly when they attest the same content, whoever
 * signs it: the statement bytes without the node name and key. Used to tell copies from
 * contradictions.
 */
export function attestedContentKey(s: Statement): string {
  const bytes = encodeStatement({ ...s, node: '-', publicKey: '00'.repeat(PUBLIC_KEY_BYTES) });
  return Buffer.from(bytes).toString('hex');
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Growable big-endian byte builder. */
class Bytes {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.room(1);
    this.buf[this.length++] = v;
  }
  u16(v: number): void {
    this.room(2);
    this.view.setUint16(this.length, v);
    this.length += 2;
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.length, v);
    this.length += 4;
  }
  u64(v: bigint): void {
    this.room(8);
    this.view.setBigUint64(this.length, v);
    this.length += 8;
  }
  raw(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const DECIMAL = /^(0|[1-9]\d{0,19})$/;
const DIGEST = /^[0-9a-f]{16}$/;
/** A UTF-16 surrogate without its pair: UTF-8 cannot encode it, and TextEncoder would replace it silently. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const U64_MAX = 0xffff_ffff_ffff_ffffn;

/**
 * The canonical bytes of a statement (spec/STATEMENT.md section 2). Throws BAD_STATEMENT for a
 * statement that cannot be encoded (a field out of range, a name that is not well-formed UTF-16):
 * it never encodes two different statements alike.
 */
export function encodeStatement(s: Statement): Uint8Array {
  const bad = (message: string): never => {
    throw new SnapshotError('BAD_STATEMENT', `cannot encode the statement: ${message}`);
  };
  const u64 = (v: string, what: string): bigint => {
    if (!DECIMAL.test(v) || BigInt(v) > U64_MAX) bad(`${what} ${JSON.stringify(v)} is not a decimal u64`);
    return BigInt(v);
  };
  const hexBytes = (v: string, len: number | undefined, what: string): Uint8Array => {
    if (!/^(?:[0-9a-f]{2})*$/.test(v) || (len !== undefined && v.length !== len * 2)) bad(`${what} ${JSON.stringify(v)} is not ${len ?? 'whole-byte'} lowercase hex bytes`);
    return Uint8Array.from(Buffer.from(v, 'hex'));
  };
  const digest = (v: string, what: string): bigint => {
    if (!DIGEST.test(v)) bad(`${what} ${JSON.stringify(v)} is not 16 lowercase hex digits`);
    return BigInt(`0x${v}`);
  };
  const text = (v: string, max: number, what: string): Uint8Array => {
    if (typeof v !== 'string' || v.length === 0 || LONE_SURROGATE.test(v)) bad(`${what} must be a non-empty, well-formed string`);
    const b = utf8.encode(v);
    if (b.length > max) bad(`${what} is ${b.length} bytes of UTF-8, more than ${max}`);
    return b;
  };
  const int = (v: number, max: number, what: string): number => {
    if (!Number.isInteger(v) || v < 0 || v > max) bad(`${what} ${String(v)} is not an integer from 0 to ${max}`);
    return v;
  };

  const out = new Bytes();
  out.raw(STATEMENT_MAGIC);
  out.u16(STATEMENT_VERSION);
  out.u16(int(s.formatVersion, 0xffff, 'format version'));
  out.u64(u64(s.epoch, 'epoch'));
  out.u64(u64(s.cursor.index, 'cursor index'));
  const eventId = hexBytes(s.cursor.eventIdHex, undefined, 'event id');
  if (eventId.length > MAX_EVENT_ID_BYTES) bad(`event id longer than ${MAX_EVENT_ID_BYTES} bytes`);
  out.u16(eventId.length);
  out.raw(eventId);
  out.u64(u64(s.maxChunkBytes, 'max chunk bytes'));
  const k = int(s.rangesPerTable, MAX_RANGES, 'ranges per table');
  out.u32(k);
  if (s.tables.length > MAX_STATEMENT_TABLES) bad(`more than ${MAX_STATEMENT_TABLES} tables`);
  out.u32(s.tables.length);
  for (const t of s.tables) {
    out.u32(int(t.id, 0xffff_ffff, 'table id'));
    const name = text(t.name, MAX_TABLE_NAME_BYTES, 'table name');
    out.u8(name.length);
    out.raw(name);
    out.u64(u64(t.entries, 'table entries'));
    out.u64(u64(t.bytes, 'table bytes'));
    out.u64(digest(t.digest, 'table digest'));
    const ranges = t.ranges ?? [];
    if (ranges.length !== k) bad(`table ${JSON.stringify(t.name)} has ${ranges.length} ranges, not ${k}`);
    ranges.forEach((g, j) => {
      if (g.index !== j) bad(`range ${j} of table ${JSON.stringify(t.name)} has index ${g.index}`);
      out.raw(hexBytes(g.start, 4, 'range start'));
      if (j + 1 < k) out.raw(hexBytes(g.end, 4, 'range end'));
      else if (g.end !== '') bad('the last range has an end');
      out.u64(u64(g.entries, 'range entries'));
      out.u64(digest(g.digest, 'range digest'));
    });
  }
  out.u64(digest(s.digest, 'snapshot digest'));
  out.u64(u64(s.entries, 'entries'));
  out.u64(u64(s.bytes, 'bytes'));
  if (s.chunks.length === 0 || s.chunks.length > MAX_STATEMENT_CHUNKS) bad(`${s.chunks.length} chunks (1 to ${MAX_STATEMENT_CHUNKS})`);
  out.u32(s.chunks.length);
  s.chunks.forEach((c, i) => {
    if (c.index !== i) bad(`chunk ${i} has index ${c.index}`);
    out.u64(BigInt(int(c.bytes, Number.MAX_SAFE_INTEGER, 'chunk bytes')));
    out.u64(digest(c.digest, 'chunk digest'));
  });
  const node = text(s.node, MAX_NODE_NAME_BYTES, 'node name');
  out.u16(node.length);
  out.raw(node);
  out.raw(hexBytes(s.publicKey, PUBLIC_KEY_BYTES, 'public key'));
  return out.done();
}

/**
 * Decodes statement bytes (spec/STATEMENT.md section 3). Every length is bounded before it is
 * used; anything malformed, out of canonical form, or followed by extra bytes is BAD_STATEMENT
 * with the offset. `where` names the input in errors. The result re-encodes to the same bytes.
 */
export function decodeStatement(bytes: Uint8Array, where?: string): Statement {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const bad = (message: string, offset = at): never => {
    throw new SnapshotError('BAD_STATEMENT', message, { offset, ...(where !== undefined ? { file: where } : {}) });
  };
  const need = (n: number, what: string): void => {
    if (at + n > bytes.length) bad(`truncated: ${what} needs ${n} bytes, ${bytes.length - at} left`);
  };
  const u8 = (what: string): number => {
    need(1, what);
    return bytes[at++]!;
  };
  const u16 = (what: string): number => {
    need(2, what);
    const v = view.getUint16(at);
    at += 2;
    return v;
  };
  const u32 = (what: string): number => {
    need(4, what);
    const v = view.getUint32(at);
    at += 4;
    return v;
  };
  const u64 = (what: string): bigint => {
    need(8, what);
    const v = view.getBigUint64(at);
    at += 8;
    return v;
  };
  const raw = (n: number, what: string): Uint8Array => {
    need(n, what);
    const b = bytes.subarray(at, at + n);
    at += n;
    return b;
  };
  const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  const digest = (what: string): string => u64(what).toString(16).padStart(16, '0');
  const text = (n: number, max: number, what: string): string => {
    const start = at;
    if (n === 0 || n > max) bad(`${what} length ${n} (1 to ${max})`, start - (max > 255 ? 2 : 1));
    const b = raw(n, what);
    try {
      return strictUtf8.decode(b);
    } catch {
      return bad(`${what} is not valid UTF-8`, start);
    }
  };

  const magic = raw(STATEMENT_MAGIC.length, 'magic');
  if (!magic.every((b, i) => b === STATEMENT_MAGIC[i])) bad('not a statement (bad magic)', 0);
  const version = u16('version');
  if (version !== STATEMENT_VERSION) bad(`statement version ${version}; this tool reads version ${STATEMENT_VERSION}`, at - 2);
  const formatVersion = u16('format version');
  const epoch = u64('epoch');
  const cursorIndex = u64('cursor index');
  const eventIdLength = u16('event id length');
  if (eventIdLength > MAX_EVENT_ID_BYTES) bad(`event id length ${eventIdLength} exceeds ${MAX_EVENT_ID_BYTES}`, at - 2);
  const eventId = hex(raw(eventIdLength, 'event id'));
  const maxChunkBytes = u64('max chunk bytes');
  const k = u32('ranges per table');
  if (k > MAX_RANGES) bad(`ranges per table ${k} exceeds ${MAX_RANGES}`, at - 4);
  const tableCount = u32('table count');
  if (tableCount > MAX_STATEMENT_TABLES) bad(`table count ${tableCount} exceeds ${MAX_STATEMENT_TABLES}`, at - 4);
  const tables: TableReport[] = [];
  for (let i = 0; i < tableCount; i++) {
    const id = u32('table id');
    const name = text(u8('table name length'), MAX_TABLE_NAME_BYTES, 'table name');
    const entries = u64('table entries');
    const tableBytes = u64('table bytes');
    const tableDigest = digest('table digest');
    const ranges = [];
    for (let j = 0; j < k; j++) {
      const start = hex(raw(4, 'range start'));
      const end = j + 1 < k ? hex(raw(4, 'range end')) : '';
      ranges.push({ index: j, start, end, entries: String(u64('range entries')), digest: digest('range digest') });
    }
    tables.push({ id, name, entries: String(entries), bytes: String(tableBytes), digest: tableDigest, ...(k > 0 ? { ranges } : {}) });
  }
  const snapshotDigest = digest('snapshot digest');
  const entries = u64('entries');
  const totalBytes = u64('bytes');
  const chunkCount = u32('chunk count');
  if (chunkCount === 0 || chunkCount > MAX_STATEMENT_CHUNKS) bad(`chunk count ${chunkCount} (1 to ${MAX_STATEMENT_CHUNKS})`, at - 4);
  // 16 bytes per chunk must be present before the list is built: a forged count allocates nothing.
  need(chunkCount * 16, 'the chunk list');
  const chunks: ChunkReport[] = [];
  for (let i = 0; i < chunkCount; i++) {
    const size = u64('chunk bytes');
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) bad(`chunk bytes ${size} exceeds 2^53 - 1`, at - 8);
    chunks.push({ index: i, bytes: Number(size), digest: digest('chunk digest') });
  }
  const node = text(u16('node name length'), MAX_NODE_NAME_BYTES, 'node name');
  const publicKey = hex(raw(PUBLIC_KEY_BYTES, 'public key'));
  if (at !== bytes.length) bad(`${bytes.length - at} bytes after the end of the statement`);
  return {
    formatVersion,
    epoch: String(epoch),
    cursor: { index: String(cursorIndex), eventIdHex: eventId },
    maxChunkBytes: String(maxChunkBytes),
    rangesPerTable: k,
    digest: snapshotDigest,
    entries: String(entries),
    bytes: String(totalBytes),
    tables,
    chunks,
    node,
    publicKey,
  };
}
