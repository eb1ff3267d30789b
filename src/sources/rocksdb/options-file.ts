/**
 * The OPTIONS file RocksDB writes beside the MANIFEST (`OPTIONS-<number>`, the newest one is
 * the options the database was last opened with), read only for what a reader needs: each
 * column family's merge operator, and the RocksDB version that wrote it.
 *
 * The syntax is RocksDB's (options/options_parser.cc, util/string_util.cc): one statement per
 * line, `#` starts a comment unless escaped as `\#`, leading and trailing white space is
 * trimmed, `[Section "argument"]` opens a section (the argument unescaped), `name=value` sets
 * an option. A merge operator is `nullptr`, an id (`UInt64AddOperator`, `merge blob info`) or,
 * for an operator with options, `{id=StringAppendOperator;delimiter=|;}`. Option strings are
 * escaped by RocksDB's EscapeOptionString (`\` before `\`, `#`, `:`, and `\r`/`\n` as `\r`/`\n`);
 * they are unescaped once here, which gives back exactly the string the writer configured.
 *
 * Hostile input: the file is refused above MAX_OPTIONS_FILE_BYTES before it is read; parsing is
 * one pass over the lines, with no recursion.
 */
import { join } from 'node:path';
import { readdir } from 'node:fs/promises';
import { SnapshotError } from '../../format/errors.js';
import { corrupt } from './codec.js';
import { ioError, readSmallFile } from './file-io.js';
import type { RecordedOperator } from '../merge-operators/index.js';

/** Real OPTIONS files are a few KiB per column family; this bounds a hostile one. */
export const MAX_OPTIONS_FILE_BYTES = 16 << 20;
const OPTIONS_NAME = /^OPTIONS-(\d{1,20})$/;
/** RocksDB writes every non-empty option of a configurable merge operator from 6.24 on. */
const OPTIONS_COMPLETE_SINCE: readonly [number, number] = [6, 24];

/** What an OPTIONS file says, as far as this reader needs it. */
export interface OptionsFile {
  readonly path: string;
  /** `[Version] rocksdb_version=MAJOR.MINOR.PATCH`, when present and well formed. */
  readonly rocksdbVersion: readonly [number, number, number] | undefined;
  /** Per column family name: its merge operator, or null for `nullptr` / none. */
  readonly mergeOperators: ReadonlyMap<string, RecordedOperator | null>;
}

/** The newest OPTIONS file of `dir` (by number), or undefined when it has none. */
export async function findOptionsFile(dir: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw ioError(dir, e);
  }
  let best: { name: string; n: bigint } | undefined;
  for (const name of names) {
    const m = OPTIONS_NAME.exec(name);
    if (m === null) continue;
    const n = BigInt(m[1]!);
    if (best === undefined || n > best.n) best = { name, n };
  }
  return best === undefined ? undefined : join(dir, best.name);
}

/** Reads and parses an OPTIONS file (see parseOptionsFile). */
export async function readOptionsFile(path: string): Promise<OptionsFile> {
  const bytes = await readSmallFile(path, MAX_OPTIONS_FILE_BYTES, (size) =>
    corrupt(path, MAX_OPTIONS_FILE_BYTES, `OPTIONS file is ${size} bytes; at most ${MAX_OPTIONS_FILE_BYTES} are read`),
  );
  return parseOptionsFile(bytes, path);
}

/**
 * Parses the bytes of an OPTIONS file. Throws CORRUPT_CHECKPOINT (with the offset of the line)
 * for a line that is neither a section nor a statement, a statement without a name, a section
 * without its closing bracket, or a column family listed twice.
 */
export function parseOptionsFile(bytes: Uint8Array, path: string): OptionsFile {
  // Latin-1 maps every byte to one char and back: option strings are bytes in RocksDB.
  const text = new TextDecoder('latin1').decode(bytes);
  let version: [number, number, number] | undefined;
  // Values are parsed at the end: what they mean depends on [Version], wherever it stands.
  const values = new Map<string, string>();
  let section: 'version' | 'cf' | 'other' = 'other';
  let family: string | undefined;
  let lineStart = 0;
  while (lineStart < text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const line = trimAndRemoveComment(text.slice(lineStart, lineEnd), false);
    const at = lineStart;
    lineStart = lineEnd + 1;
    if (line.length === 0) continue;
    if (line.length >= 2 && line[0] === '[' && line[line.length - 1] === ']') {
      const argStart = line.indexOf('"');
      const argEnd = line.lastIndexOf('"');
      const hasArg = argStart >= 0 && argStart !== argEnd;
      const title = trimAndRemoveComment(hasArg ? line.slice(1, argStart) : line.slice(1, -1), true);
      section = title === 'Version' ? 'version' : title === 'CFOptions' ? 'cf' : 'other';
      family = undefined;
      if (section === 'cf') {
        family = utf8(unescapeOptionString(hasArg ? line.slice(argStart + 1, argEnd) : ''));
        if (values.has(family)) throw corrupt(path, at, `OPTIONS lists column family ${JSON.stringify(family)} twice`);
        values.set(family, '');
      }
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw corrupt(path, at, 'OPTIONS line is neither a [section] nor a name=value statement');
    const name = trimAndRemoveComment(line.slice(0, eq), true);
    if (name.length === 0) throw corrupt(path, at, 'OPTIONS statement without a name');
    const value = trimAndRemoveComment(line.slice(eq + 1), false);
    if (section === 'version' && name === 'rocksdb_version') {
      const m = /^(\d{1,6})\.(\d{1,6})\.(\d{1,6})$/.exec(value);
      version = m === null ? undefined : [Number(m[1]), Number(m[2]), Number(m[3])];
    } else if (section === 'cf' && family !== undefined && name === 'merge_operator') {
      values.set(family, value);
    }
  }
  const mergeOperators = new Map<string, RecordedOperator | null>();
  for (const [cf, value] of values) mergeOperators.set(cf, parseMergeOperatorValue(value, version));
  return { path, rocksdbVersion: version, mergeOperators };
}

/**
 * A `merge_operator=` value: null for none (`nullptr`, empty), else the id and options.
 * `{id=ID;k=v;…;}` is split at each `;` that starts another `name=` (RocksDB does not escape
 * `;` in option strings, so this keeps a `;` inside a delimiter); every string is unescaped once.
 */
export function parseMergeOperatorValue(value: string, version: readonly [number, number, number] | undefined): RecordedOperator | null {
  const complete = version !== undefined && (version[0] > OPTIONS_COMPLETE_SINCE[0] || (version[0] === OPTIONS_COMPLETE_SINCE[0] && version[1] >= OPTIONS_COMPLETE_SINCE[1]));
  if (value === '' || value === 'nullptr') return null;
  if (!(value.length >= 2 && value[0] === '{' && value[value.length - 1] === '}')) {
    return { id: utf8(unescapeOptionString(value)), options: new Map(), optionsComplete: complete };
  }
  let inner = value.slice(1, -1);
  if (inner.endsWith(';')) inner = inner.slice(0, -1);
  const pairs: [string, string][] = [];
  let start = 0;
  for (let i = 0; i <= inner.length; i++) {
    if (i < inner.length && !(inner[i] === ';' && /^\s*[A-Za-z_][A-Za-z0-9_.]*\s*=/.test(inner.slice(i + 1, i + 130)))) continue;
    const part = inner.slice(start, i);
    start = i + 1;
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    pairs.push([part.slice(0, eq).trim(), part.slice(eq + 1)]);
  }
  let id = '';
  const options = new Map<string, Uint8Array>();
  for (const [k, v] of pairs) {
    if (k === 'id') id = utf8(unescapeOptionString(v.trim()));
    else options.set(k, latin1Bytes(unescapeOptionString(v)));
  }
  // Options written in braces are complete whatever the version: RocksDB wrote them out.
  return { id, options, optionsComplete: true };
}

/** RocksDBOptionsParser::TrimAndRemoveComment: cut at the first `#` not after a `\` (unless trimOnly), trim white space. */
function trimAndRemoveComment(line: string, trimOnly: boolean): string {
  let end = line.length;
  if (!trimOnly) {
    for (let i = line.indexOf('#'); i >= 0; i = line.indexOf('#', i + 1)) {
      if (i === 0 || line[i - 1] !== '\\') {
        end = i;
        break;
      }
    }
  }
  let start = 0;
  while (start < end && isSpace(line.charCodeAt(start))) start++;
  while (start < end && isSpace(line.charCodeAt(end - 1))) end--;
  return line.slice(start, end);
}

/** C's isspace in the "C" locale. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** RocksDB's UnescapeOptionString: `\x` is x, except `\r` and `\n`, which are CR and LF. */
export function unescapeOptionString(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    if (++i >= s.length) break;
    const e = s[i]!;
    out += e === 'r' ? '\r' : e === 'n' ? '\n' : e;
  }
  return out;
}

function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function utf8(latin1: string): string {
  return new TextDecoder('utf-8').decode(latin1Bytes(latin1));
}

/**
 * The checkpoint's newest OPTIONS file, parsed; the error reading it (kept, not thrown: it only
 * matters once a merge operand needs the operator it names); undefined when there is none.
 */
export async function readCheckpointOptions(dir: string): Promise<OptionsFile | SnapshotError | undefined> {
  const path = await findOptionsFile(dir);
  if (path === undefined) return undefined;
  try {
    return await readOptionsFile(path);
  } catch (e) {
    return e instanceof SnapshotError ? e : ioError(path, e);
  }
}
