import { SnapshotError } from '../format/errors.js';
import { MAX_EVENT_ID_BYTES, MAX_TABLE_NAME_BYTES } from '../format/constants.js';
import { LONE_SURROGATE, MAX_NODE_NAME_BYTES, MAX_STATEMENT_CHUNKS, MAX_STATEMENT_TABLES } from './identity/statement.js';
import { MAX_RANGES } from './ranges.js';
import { REPORT_SCHEMA_VERSION, type DigestReport } from './schema.js';

/**
 * Reading `digest --json` reports back: splitting a text into JSON documents and checking each
 * against the report schema. Everything here is pure (no I/O): `compare` reads the bytes.
 * A report that fails is a SnapshotError `BAD_REPORT` naming its file (and document number).
 */

/** Largest report text `compare` accepts per input, checked before it is buffered. Defaults to 256 MiB. */
export const MAX_REPORT_BYTES = 256 * 1024 * 1024;

/** One JSON document found in a text, with where it starts. */
export interface ReportDocument {
  /** Byte (character) offset of the document's first character in the text. */
  readonly offset: number;
  readonly text: string;
}

/**
 * Splits a text into its top-level JSON documents: one document, several concatenated ones
 * (`cat a.json b.json`), separated by whitespace or not. A top-level array is one document;
 * `parseJsonDocument` unpacks it. Documents before a broken one are yielded before the error is
 * thrown, so one truncated report does not hide the others. Iterative (no recursion on depth).
 */
export function* jsonDocuments(text: string, file: string): Generator<ReportDocument> {
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0xfeff) {
      i++;
      continue;
    }
    const start = i;
    if (c !== 0x7b /* { */ && c !== 0x5b /* [ */) {
      throw new SnapshotError('BAD_REPORT', `not a JSON report: expected "{" or "[" but found ${JSON.stringify(text.slice(i, i + 20))}`, { file, offset: i });
    }
    let depth = 0;
    let inString = false;
    for (; i < n; i++) {
      const ch = text.charCodeAt(i);
      if (inString) {
        if (ch === 0x5c /* \ */) i++;
        else if (ch === 0x22 /* " */) inString = false;
        continue;
      }
      if (ch === 0x22) inString = true;
      else if (ch === 0x7b || ch === 0x5b) depth++;
      else if (ch === 0x7d || ch === 0x5d) {
        depth--;
        if (depth === 0) {
          i++;
          break;
        }
      }
    }
    if (depth !== 0 || inString) {
      throw new SnapshotError('BAD_REPORT', `truncated JSON: the document starting here never ends (${n - start} characters read)`, { file, offset: start });
    }
    yield { offset: start, text: text.slice(start, i) };
  }
}

/** Parses one document; a top-level array yields its elements. */
export function parseJsonDocument(doc: ReportDocument, file: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(doc.text);
  } catch (e) {
    const m = /at position (\d+)/.exec((e as Error).message);
    throw new SnapshotError('BAD_REPORT', `invalid JSON: ${(e as Error).message}`, { file, offset: doc.offset + (m === null ? 0 : Number(m[1])) });
  }
  if (Array.isArray(value) && value.length === 0) throw new SnapshotError('BAD_REPORT', 'an empty JSON array holds no report', { file, offset: doc.offset });
  return Array.isArray(value) ? value : [value];
}

/** Every report value in a text (one document, concatenated documents, or a JSON array). */
export function reportValues(text: string, file: string): unknown[] {
  const out: unknown[] = [];
  for (const doc of jsonDocuments(text, file)) out.push(...parseJsonDocument(doc, file));
  return out;
}

const DECIMAL = /^(0|[1-9]\d{0,19})$/;
const U64_MAX = 0xffff_ffff_ffff_ffffn;
const DIGEST = /^[0-9a-f]{16}$/;
const PREFIX = /^[0-9a-f]{8}$/;
const HEX = /^(?:[0-9a-f]{2})*$/;
const PUBLIC_KEY = /^[0-9a-f]{64}$/;
const SIGNATURE = /^[0-9a-f]{128}$/;

/**
 * Checks a parsed value against report schema version 1 and returns it typed. Unknown extra
 * fields are allowed (adding optional fields does not bump the schema). Beyond types, it checks
 * what a report of a real digest run always satisfies: table ids strictly ascending and names
 * unique, one range list of `rangesPerTable` ranges per table, entry counts that add up, and the
 * last chunk digest equal to the snapshot digest; a report failing these was edited or damaged.
 * `where` names the report in messages (its file, and its document number when a text has several).
 */
export function validateReport(value: unknown, where: string): DigestReport {
  const bad = (path: string, message: string): never => {
    throw new SnapshotError('BAD_REPORT', `${path}: ${message}`, { file: where });
  };
  const obj = (v: unknown, path: string): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(path, `expected an object, got ${describe(v)}`);
    return v as Record<string, unknown>;
  };
  const arr = (v: unknown, path: string): unknown[] => {
    if (!Array.isArray(v)) bad(path, `expected an array, got ${describe(v)}`);
    return v as unknown[];
  };
  const str = (v: unknown, path: string, re: RegExp, what: string): string => {
    if (typeof v !== 'string' || !re.test(v)) bad(path, `expected ${what}, got ${describe(v)}`);
    return v as string;
  };
  const u64 = (v: unknown, path: string): string => {
    const s = str(v, path, DECIMAL, 'a decimal u64 string');
    if (BigInt(s) > U64_MAX) bad(path, `${s} does not fit in 64 bits`);
    return s;
  };
  const int = (v: unknown, path: string, max: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) bad(path, `expected an integer from 0 to ${max}, got ${describe(v)}`);
    return v as number;
  };

  // Names must be encodable, as a signed statement encodes them: well-formed UTF-16, bounded UTF-8.
  const text = (v: unknown, path: string, maxBytes: number): string => {
    if (typeof v !== 'string' || v.length === 0 || LONE_SURROGATE.test(v) || Buffer.byteLength(v) > maxBytes) {
      bad(path, `expected a non-empty, well-formed string of at most ${maxBytes} UTF-8 bytes, got ${describe(v)}`);
    }
    return v as string;
  };

  const r = obj(value, 'report');
  if ('error' in r && !('schemaVersion' in r)) {
    const e = typeof r['error'] === 'object' && r['error'] !== null ? (r['error'] as Record<string, unknown>) : {};
    bad('report', `this is the error output of a failed digest run, not a report (${String(e['code'] ?? '?')}: ${String(e['message'] ?? '')})`);
  }
  if (typeof r['schemaVersion'] === 'number' && Number.isInteger(r['schemaVersion']) && r['schemaVersion'] > REPORT_SCHEMA_VERSION) {
    // Not damage: a newer tool wrote it. Its own code, so compare gives it its own verdict (upgrade, not re-copy).
    throw new SnapshotError('NEWER_REPORT', `written by a newer snapshot-verify (schema ${r['schemaVersion']}); this one reads schema ${REPORT_SCHEMA_VERSION}: upgrade snapshot-verify`, { file: where });
  }
  if (r['schemaVersion'] !== REPORT_SCHEMA_VERSION) {
    bad('schemaVersion', `this tool reads report schema version ${REPORT_SCHEMA_VERSION}, got ${describe(r['schemaVersion'])}`);
  }
  int(r['formatVersion'], 'formatVersion', 0xffff);
  u64(r['epoch'], 'epoch');
  const cursor = obj(r['cursor'], 'cursor');
  u64(cursor['index'], 'cursor.index');
  if (str(cursor['eventIdHex'], 'cursor.eventIdHex', HEX, 'lowercase hex of whole bytes').length > 2 * MAX_EVENT_ID_BYTES) bad('cursor.eventIdHex', `longer than ${MAX_EVENT_ID_BYTES} bytes`);
  u64(r['maxChunkBytes'], 'maxChunkBytes');
  const rangesPerTable = int(r['rangesPerTable'], 'rangesPerTable', MAX_RANGES);
  const digest = str(r['digest'], 'digest', DIGEST, '16 lowercase hex digits');
  const entries = BigInt(u64(r['entries'], 'entries'));
  u64(r['bytes'], 'bytes');

  const names = new Set<string>();
  let previousId = -1;
  let entrySum = 0n;
  const tables = arr(r['tables'], 'tables');
  if (tables.length > MAX_STATEMENT_TABLES) bad('tables', `more than ${MAX_STATEMENT_TABLES} tables`);
  tables.forEach((tv, i) => {
    const p = `tables[${i}]`;
    const t = obj(tv, p);
    const id = int(t['id'], `${p}.id`, 0xffff_ffff);
    if (id <= previousId) bad(`${p}.id`, `table ids must be strictly ascending (${id} after ${previousId})`);
    previousId = id;
    text(t['name'], `${p}.name`, MAX_TABLE_NAME_BYTES);
    const name = t['name'] as string;
    if (names.has(name)) bad(`${p}.name`, `duplicate table name ${JSON.stringify(name)}`);
    names.add(name);
    entrySum += BigInt(u64(t['entries'], `${p}.entries`));
    u64(t['bytes'], `${p}.bytes`);
    str(t['digest'], `${p}.digest`, DIGEST, '16 lowercase hex digits');
    if (rangesPerTable === 0) {
      if (t['ranges'] !== undefined) bad(`${p}.ranges`, 'present although rangesPerTable is 0');
      return;
    }
    const ranges = arr(t['ranges'], `${p}.ranges`);
    if (ranges.length !== rangesPerTable) bad(`${p}.ranges`, `expected ${rangesPerTable} ranges (rangesPerTable), got ${ranges.length}`);
    let rangeSum = 0n;
    ranges.forEach((gv, j) => {
      const q = `${p}.ranges[${j}]`;
      const g = obj(gv, q);
      if (g['index'] !== j) bad(`${q}.index`, `expected ${j}, got ${describe(g['index'])}`);
      str(g['start'], `${q}.start`, PREFIX, '8 lowercase hex digits');
      if (j + 1 < rangesPerTable) str(g['end'], `${q}.end`, PREFIX, '8 lowercase hex digits');
      else if (g['end'] !== '') bad(`${q}.end`, `expected "" (the last range has no upper bound), got ${describe(g['end'])}`);
      rangeSum += BigInt(u64(g['entries'], `${q}.entries`));
      str(g['digest'], `${q}.digest`, DIGEST, '16 lowercase hex digits');
    });
    if (rangeSum !== BigInt(t['entries'] as string)) bad(`${p}.ranges`, `range entries add up to ${rangeSum}, the table has ${String(t['entries'])}`);
  });
  if (entrySum !== entries) bad('entries', `${entries}, but the tables hold ${entrySum} entries`);

  const chunks = arr(r['chunks'], 'chunks');
  if (chunks.length === 0) bad('chunks', 'a snapshot has at least one chunk');
  if (chunks.length > MAX_STATEMENT_CHUNKS) bad('chunks', `more than ${MAX_STATEMENT_CHUNKS} chunks`);
  chunks.forEach((cv, i) => {
    const p = `chunks[${i}]`;
    const c = obj(cv, p);
    if (c['index'] !== i) bad(`${p}.index`, `expected ${i}, got ${describe(c['index'])}`);
    int(c['bytes'], `${p}.bytes`, Number.MAX_SAFE_INTEGER);
    str(c['digest'], `${p}.digest`, DIGEST, '16 lowercase hex digits');
  });
  const last = chunks[chunks.length - 1] as Record<string, unknown>;
  if (last['digest'] !== digest) bad('digest', `${digest} is not the last chunk's digest ${String(last['digest'])} (the snapshot digest is the last trailer)`);

  if (r['anchorDigest'] !== undefined) str(r['anchorDigest'], 'anchorDigest', DIGEST, '16 lowercase hex digits');
  const node = obj(r['node'], 'node');
  text(node['name'], 'node.name', MAX_NODE_NAME_BYTES);
  for (const f of ['source', 'sourceKind', 'startedAt', 'toolVersion'] as const) {
    if (node[f] !== undefined && typeof node[f] !== 'string') bad(`node.${f}`, `expected a string, got ${describe(node[f])}`);
  }
  if (node['backupId'] !== undefined) int(node['backupId'], 'node.backupId', 0xffff_ffff);
  if (r['signature'] !== undefined) {
    const sig = obj(r['signature'], 'signature');
    if (typeof sig['scheme'] !== 'string') bad('signature.scheme', `expected a string, got ${describe(sig['scheme'])}`);
    int(sig['statementVersion'], 'signature.statementVersion', 0xffff);
    str(sig['publicKey'], 'signature.publicKey', PUBLIC_KEY, '64 lowercase hex digits (an Ed25519 public key)');
    str(sig['value'], 'signature.value', SIGNATURE, '128 lowercase hex digits (an Ed25519 signature)');
  }
  return r as unknown as DigestReport;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
