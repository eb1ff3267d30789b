import { toHex } from '../format/bytes.js';
import { MAX_EVENT_ID_BYTES, MAX_TABLE_NAME_BYTES, U32_MAX, U64_MAX } from '../format/constants.js';
import { formatDigest, loadHasher, xxh64 } from '../format/digest.js';
import { SnapshotError } from '../format/errors.js';
import type { Cursor, TableRef } from '../format/header.js';
import { MAX_RANGES } from './ranges.js';

/**
 * The anchor file (docs/ANCHOR.md): the parameters every node must digest with, kept in one
 * shared JSON file instead of hand-copied flags. Pure: the CLI reads the bytes, this parses them,
 * checks them and gives their canonical form and its digest, which a report records so that
 * `compare` can name a node that used another anchor file.
 */

/** Version of the anchor file format; a file with another version is refused. */
export const ANCHOR_VERSION = 1;
/** Largest anchor file read, checked before it is buffered. Defaults to 1 MiB. */
export const MAX_ANCHOR_BYTES = 1024 * 1024;

/** An anchor file's content, checked. Fields the file leaves out are absent (epoch, cursor) or defaulted. */
export interface AnchorFile {
  /** The catalog, ascending by id. */
  readonly tables: readonly TableRef[];
  readonly epoch?: bigint;
  readonly cursor?: Cursor;
  /** Defaults to 0 (unchunked). */
  readonly maxChunkBytes: bigint;
  /** Key ranges per table for range digests; 0 for none. Defaults to 0. */
  readonly ranges: number;
  /** xxhash64 (seed 0) of the canonical form, 16 hex digits: the same for files that mean the same. */
  readonly digest: string;
}

const FIELDS = ['anchorVersion', 'tables', 'epoch', 'cursor', 'maxChunkBytes', 'ranges'] as const;

function bad(message: string, file: string, offset?: number): never {
  throw new SnapshotError('BAD_ANCHOR', message, { file, ...(offset !== undefined ? { offset } : {}) });
}

/** A u64 as a decimal string or a JSON integer up to 2^53 − 1. */
function u64(v: unknown, field: string, file: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^(0|[1-9]\d{0,19})$/.test(v) && BigInt(v) <= U64_MAX) return BigInt(v);
  return bad(`${field}: expected a u64 as a decimal string ("42") or an integer, got ${JSON.stringify(v)}`, file);
}

function cursorOf(v: unknown, file: string): Cursor {
  const m = typeof v === 'string' ? /^(0|[1-9]\d{0,19})(?::((?:[0-9a-fA-F]{2})*))?$/.exec(v) : null;
  if (m === null) return bad(`cursor: expected "INDEX" or "INDEX:EVENT_ID_HEX" (as --cursor takes it), got ${JSON.stringify(v)}`, file);
  const index = BigInt(m[1]!);
  if (index > U64_MAX) bad(`cursor: index ${m[1]} does not fit in 64 bits`, file);
  const hex = m[2] ?? '';
  if (hex.length / 2 > MAX_EVENT_ID_BYTES) bad(`cursor: event id of ${hex.length / 2} bytes, more than ${MAX_EVENT_ID_BYTES}`, file);
  return hex.length === 0 ? { index } : { index, eventId: new Uint8Array(Buffer.from(hex, 'hex')) };
}

function tablesOf(v: unknown, file: string): TableRef[] {
  if (!Array.isArray(v) || v.length === 0) return bad(`tables: expected a non-empty array of {"id": N, "name": "…"}, got ${JSON.stringify(v)?.slice(0, 60)}`, file);
  const ids = new Set<number>();
  const names = new Set<string>();
  const tables = v.map((t: unknown, i) => {
    const o = t as Record<string, unknown>;
    if (typeof t !== 'object' || t === null || Array.isArray(t)) return bad(`tables[${i}]: expected {"id": N, "name": "…"}`, file);
    const extra = Object.keys(o).filter((k) => k !== 'id' && k !== 'name');
    if (extra.length > 0) bad(`tables[${i}]: unknown field ${extra.join(', ')} (a table has id and name)`, file);
    const id = o['id'];
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > U32_MAX) bad(`tables[${i}].id: expected an integer from 0 to ${U32_MAX}, got ${JSON.stringify(id)}`, file);
    const name = o['name'];
    if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) > MAX_TABLE_NAME_BYTES) {
      bad(`tables[${i}].name: expected a name of 1 to ${MAX_TABLE_NAME_BYTES} UTF-8 bytes, got ${JSON.stringify(name)}`, file);
    }
    if (ids.has(id as number)) bad(`tables[${i}].id: id ${String(id)} is given twice`, file);
    if (names.has(name as string)) bad(`tables[${i}].name: table ${JSON.stringify(name)} is given twice`, file);
    ids.add(id as number);
    names.add(name as string);
    return { id: id as number, name: name as string };
  });
  return tables.sort((x, y) => x.id - y.id);
}

/**
 * The canonical form (docs/ANCHOR.md §3): keys in a fixed order, tables ascending by id, u64 as
 * decimal strings, defaults written out, no whitespace. Two files that mean the same anchor have
 * the same canonical form, whatever their spacing, key order or number spelling.
 */
export function canonicalAnchor(a: Omit<AnchorFile, 'digest'>): string {
  const doc: Record<string, unknown> = { anchorVersion: ANCHOR_VERSION, tables: a.tables.map((t) => ({ id: t.id, name: t.name })) };
  if (a.epoch !== undefined) doc['epoch'] = String(a.epoch);
  if (a.cursor !== undefined) doc['cursor'] = a.cursor.eventId === undefined || a.cursor.eventId.length === 0 ? String(a.cursor.index) : `${a.cursor.index}:${toHex(a.cursor.eventId)}`;
  doc['maxChunkBytes'] = String(a.maxChunkBytes);
  doc['ranges'] = a.ranges;
  return JSON.stringify(doc);
}

/** Parses and checks an anchor file's text; any problem is a SnapshotError BAD_ANCHOR naming the field. */
export async function parseAnchor(text: string, file: string): Promise<AnchorFile> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const m = /at position (\d+)/.exec((e as Error).message);
    return bad(`not JSON: ${(e as Error).message}`, file, m === null ? 0 : Number(m[1]));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('expected one JSON object {"anchorVersion": 1, "tables": [...], ...}', file, 0);
  const o = value as Record<string, unknown>;
  if (o['anchorVersion'] !== ANCHOR_VERSION) {
    bad(
      typeof o['anchorVersion'] === 'number' && o['anchorVersion'] > ANCHOR_VERSION
        ? `anchorVersion ${o['anchorVersion']} is written for a newer snapshot-verify (this one reads version ${ANCHOR_VERSION}); upgrade`
        : `anchorVersion: expected ${ANCHOR_VERSION}, got ${JSON.stringify(o['anchorVersion'])}`,
      file,
    );
  }
  const unknown = Object.keys(o).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) bad(`unknown field ${unknown.join(', ')} (an anchor has ${FIELDS.join(', ')})`, file);
  const tables = tablesOf(o['tables'], file);
  const ranges = o['ranges'] === undefined ? 0 : o['ranges'];
  if (typeof ranges !== 'number' || !Number.isInteger(ranges) || ranges < 0 || ranges > MAX_RANGES) bad(`ranges: expected an integer from 0 to ${MAX_RANGES}, got ${JSON.stringify(o['ranges'])}`, file);
  const anchor = {
    tables,
    ...(o['epoch'] !== undefined ? { epoch: u64(o['epoch'], 'epoch', file) } : {}),
    ...(o['cursor'] !== undefined ? { cursor: cursorOf(o['cursor'], file) } : {}),
    maxChunkBytes: o['maxChunkBytes'] === undefined ? 0n : u64(o['maxChunkBytes'], 'maxChunkBytes', file),
    ranges: ranges as number,
  };
  await loadHasher();
  return { ...anchor, digest: formatDigest(xxh64(new TextEncoder().encode(canonicalAnchor(anchor)))) };
}

/** A report whose anchor file differs from the others' (or from `compare --anchor`'s). */
export interface AnchorFileNote {
  readonly node: string;
  readonly file: string;
  /** The report's anchorDigest; null when it was digested without an anchor file. */
  readonly anchorDigest: string | null;
  /** The anchor digest most reports (or `compare --anchor`) used; null: no anchor file. */
  readonly expected: string | null;
}

/**
 * Nodes that used another anchor file than the rest (or than `expected`, the digest of
 * `compare --anchor FILE`). Their digests may still be comparable (the anchor fields decide that);
 * the note says which node's configuration drifted. Without `expected`, the most common anchor
 * digest among the reports is the reference (ties: the first report's).
 */
export function anchorFileNotes(reports: readonly { readonly file: string; readonly report: { readonly anchorDigest?: string; readonly node: { readonly name: string } } }[], expected?: string): AnchorFileNote[] {
  const digestOf = (r: (typeof reports)[number]): string | null => r.report.anchorDigest ?? null;
  let reference: string | null | undefined = expected;
  if (reference === undefined) {
    const counts = new Map<string | null, number>();
    for (const r of reports) counts.set(digestOf(r), (counts.get(digestOf(r)) ?? 0) + 1);
    if (counts.size <= 1) return [];
    reference = [...counts].reduce((best, e) => (e[1] > best[1] ? e : best))[0];
  }
  return reports.filter((r) => digestOf(r) !== reference).map((r) => ({ node: r.report.node.name, file: r.file, anchorDigest: digestOf(r), expected: reference }));
}

/** A note as one line: "node X used another anchor file (…)". */
export function anchorFileNoteLine(n: AnchorFileNote): string {
  const used = n.anchorDigest === null ? 'no anchor file' : `anchor ${n.anchorDigest}`;
  const expected = n.expected === null ? 'the others used none' : `expected ${n.expected}`;
  return n.anchorDigest === null
    ? `node ${n.node} (${n.file}) used no anchor file (${expected})`
    : `node ${n.node} (${n.file}) used another anchor file (${used}, ${expected})`;
}
