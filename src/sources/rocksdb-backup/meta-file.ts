/**
 * A BackupEngine meta file (`<backup_dir>/meta/<id>`), as RocksDB writes it (spec: docs/BACKUP.md):
 *
 *   [schema_version 2[.minor]]          only in schema 2
 *   <timestamp>                          seconds since the epoch, decimal
 *   <sequence number>                    decimal
 *   [<field> <data>]…                    schema 1: only `metadata <hex>`; schema 2: any, `ni::` ones must be known
 *   <number of files>                    decimal
 *   <path> crc32 <decimal>               schema 1: exactly this
 *   <path>( <field> <data>)*             schema 2: crc32, size, temp, ni::excluded; other `ni::` fields refused
 *   [// FOOTER                           schema 2 only, then `<field> <data>` lines]
 *
 * Pure: bytes in, a description out. Every bad line is CORRUPT_CHECKPOINT at its byte offset; what
 * this reader does not read (another schema major version, a non-ignorable field it does not know,
 * files excluded from the backup) is UNSUPPORTED_FEATURE naming it.
 */
import { SnapshotError } from '../../format/errors.js';

/** RocksDB's crc32c checksum (named "crc32" in the file) is an unsigned 32-bit decimal. */
const MAX_U32 = 0xffff_ffff;
/** Field names RocksDB gives must-understand fields. */
const NON_IGNORABLE = 'ni::';
const FOOTER_MARKER = '// FOOTER';
/** The three places a backup keeps a file, relative to the backup directory. */
const PRIVATE = /^private\/(\d{1,10})\/([^/]+)$/;
const SHARED = /^shared\/([^/]+)$/;
const SHARED_CHECKSUM = /^shared_checksum\/([^/]+)$/;
/**
 * A shared_checksum name: `<number>_<crc32c>_<size>.<ext>` (kLegacyCrc32cAndFileSize),
 * `<number>_s<session id>.<ext>` (kUseDbSessionId) or `<number>_s<session id>_<size>.<ext>`
 * (with kFlagIncludeFileSize). The database's own name is `<number>.<ext>`.
 */
const CHECKSUM_NAME = /^(\d+)_([^.]+)\.([A-Za-z0-9]+)$/;

/** One file of a backup as its meta file lists it. */
export interface BackupFileEntry {
  /** Relative to the backup directory: `private/<id>/CURRENT`, `shared_checksum/000012_s…_980.sst`, … */
  readonly path: string;
  /** The name the file has in the database (and in a checkpoint): `CURRENT`, `000012.sst`, … */
  readonly dbName: string;
  /** The crc32c of the whole file, unmasked. */
  readonly crc32c: number;
  /** The size the meta file records (schema 2 `size`) or the shared_checksum name carries. */
  readonly size?: number;
  /** The checksum a legacy shared_checksum name carries (`<number>_<crc32c>_<size>`). */
  readonly nameCrc32c?: number;
  /** Byte offset of the file's line in the meta file. */
  readonly line: number;
}

/** What a meta file says about one backup. */
export interface BackupMeta {
  /** 1 (no schema line) or 2. */
  readonly schemaVersion: 1 | 2;
  /** Seconds since the Unix epoch, when the backup was taken. */
  readonly timestamp: bigint;
  /** The database's last sequence number at the backup. */
  readonly sequence: bigint;
  /** Application metadata (CreateNewBackupWithMetadata), decoded from hex; undefined when none. */
  readonly appMetadata?: Uint8Array;
  readonly files: readonly BackupFileEntry[];
}

/** Reads the meta file of backup `id`; `file` names it in errors. */
export function parseBackupMeta(bytes: Uint8Array, id: number, file: string): BackupMeta {
  const lines = splitLines(bytes, file);
  const corrupt = (at: number, message: string): SnapshotError => new SnapshotError('CORRUPT_CHECKPOINT', `${file}: ${message}`, { file, offset: at });
  const unsupported = (at: number, message: string): SnapshotError => new SnapshotError('UNSUPPORTED_FEATURE', `${file}: ${message}`, { file, offset: at });
  let i = 0;
  const next = (what: string): { text: string; at: number } => {
    const l = lines[i++];
    if (l === undefined) throw corrupt(bytes.length, `ends before the ${what}`);
    return l;
  };
  let schemaVersion: 1 | 2 = 1;
  let first = next('timestamp');
  if (first.text.startsWith('schema_version ')) {
    const ver = first.text.slice('schema_version '.length);
    if (ver !== '2' && !/^2\.\d+$/.test(ver)) throw unsupported(first.at, `backup meta schema version ${JSON.stringify(ver)} is not read by this tool (only 1 and 2.x)`);
    schemaVersion = 2;
    first = next('timestamp');
  }
  const timestamp = decimal(first, 'timestamp', corrupt);
  const sequence = decimal(next('sequence number'), 'sequence number', corrupt);
  let appMetadata: Uint8Array | undefined;
  let count: number | undefined;
  while (count === undefined) {
    const l = next('number of files');
    if (/^[0-9]/.test(l.text)) {
      count = Number(decimal(l, 'number of files', corrupt));
      if (count > lines.length) throw corrupt(l.at, `announces ${count} files in ${lines.length} lines`);
      break;
    }
    const space = l.text.indexOf(' ');
    if (space <= 0) throw corrupt(l.at, 'expected the number of files or a field');
    const name = l.text.slice(0, space);
    const data = l.text.slice(space + 1);
    if (name === 'metadata') {
      if (!/^(?:[0-9A-Fa-f]{2})*$/.test(data)) throw corrupt(l.at + space + 1, 'application metadata is not hex');
      appMetadata = Uint8Array.from(Buffer.from(data, 'hex'));
    } else if (schemaVersion === 1) {
      throw corrupt(l.at, `unexpected field ${JSON.stringify(name)} in a schema 1 meta file`);
    } else if (name.startsWith(NON_IGNORABLE)) {
      throw unsupported(l.at, `non-ignorable backup field ${JSON.stringify(name)} is not read by this tool`);
    }
  }
  const files: BackupFileEntry[] = [];
  const seen = new Set<string>();
  let footer = false;
  while (i < lines.length) {
    const l = lines[i++]!;
    if (schemaVersion === 2 && l.text === FOOTER_MARKER) {
      footer = true;
      break;
    }
    const parts = l.text.split(' ');
    const path = parts[0]!;
    if (schemaVersion === 1 && (parts.length !== 3 || parts[1] !== 'crc32')) throw corrupt(l.at, `expected "<file> crc32 <checksum>" for ${JSON.stringify(path)}`);
    if (parts.length % 2 !== 1) throw corrupt(l.at, `bad number of fields for ${JSON.stringify(path)}`);
    let crc: number | undefined;
    let size: number | undefined;
    for (let k = 1; k < parts.length; k += 2) {
      const name = parts[k]!;
      const data = parts[k + 1]!;
      const at = l.at + parts.slice(0, k + 1).join(' ').length + 1;
      if (name === 'crc32') {
        crc = Number(decimal({ text: data, at }, `crc32 of ${path}`, corrupt));
        if (crc > MAX_U32) throw corrupt(at, `crc32 of ${path} is not a 32-bit value`);
      } else if (name === 'size') {
        size = safeNumber(decimal({ text: data, at }, `size of ${path}`, corrupt), at, corrupt);
      } else if (name === 'ni::excluded') {
        if (data === 'true') throw unsupported(at, `${path} is excluded from this backup (exclude_files_callback): its content lives outside the backup directory, which this tool does not read`);
        if (data !== 'false') throw unsupported(at, `unknown value ${JSON.stringify(data)} of ni::excluded`);
      } else if (name.startsWith(NON_IGNORABLE)) {
        throw unsupported(at, `non-ignorable file field ${JSON.stringify(name)} of ${path} is not read by this tool`);
      }
      // Other fields (temp: the file's temperature tier) do not change its content.
    }
    if (crc === undefined) throw unsupported(l.at, `no crc32 is recorded for ${path}: this tool reads only backups whose every file it can verify`);
    if (seen.has(path)) throw corrupt(l.at, `${path} is listed twice`);
    seen.add(path);
    const named = naming(path, id, l.at, corrupt);
    if (size !== undefined && named.size !== undefined && size !== named.size) throw corrupt(l.at, `${path}: its name says ${named.size} bytes, its size field ${size}`);
    files.push({ path, crc32c: crc, line: l.at, ...named, ...(size !== undefined ? { size } : {}) });
  }
  if (footer) {
    for (; i < lines.length; i++) {
      const l = lines[i]!;
      const space = l.text.indexOf(' ');
      if (space <= 0) throw corrupt(l.at, 'expected a footer field');
      if (l.text.startsWith(NON_IGNORABLE)) throw unsupported(l.at, `non-ignorable footer field ${JSON.stringify(l.text.slice(0, space))} is not read by this tool`);
    }
  }
  if (files.length !== count) throw corrupt(bytes.length, `announces ${count} files but lists ${files.length}`);
  const names = new Map<string, string>();
  for (const f of files) {
    const other = names.get(f.dbName);
    if (other !== undefined) throw corrupt(f.line, `${f.path} and ${other} are both the database's ${f.dbName}`);
    names.set(f.dbName, f.path);
  }
  return { schemaVersion, timestamp, sequence, files, ...(appMetadata !== undefined ? { appMetadata } : {}) };
}

type Corrupt = (at: number, message: string) => SnapshotError;

/** Lines with their byte offsets; an empty line is corruption (RocksDB refuses it too). */
function splitLines(bytes: Uint8Array, file: string): { text: string; at: number }[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SnapshotError('CORRUPT_CHECKPOINT', `${file} is not UTF-8 text`, { file, offset: 0 });
  }
  const out: { text: string; at: number }[] = [];
  let at = 0;
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  for (const p of parts) {
    if (p === '') throw new SnapshotError('CORRUPT_CHECKPOINT', `${file}: unexpected empty line`, { file, offset: at });
    out.push({ text: p, at });
    at += Buffer.byteLength(p) + 1;
  }
  return out;
}

function decimal(l: { text: string; at: number }, what: string, corrupt: Corrupt): bigint {
  if (!/^(0|[1-9][0-9]{0,19})$/.test(l.text)) throw corrupt(l.at, `${what} is not a decimal number: ${JSON.stringify(l.text.slice(0, 40))}`);
  const v = BigInt(l.text);
  if (v >= 1n << 64n) throw corrupt(l.at, `${what} does not fit 64 bits`);
  return v;
}

function safeNumber(v: bigint, at: number, corrupt: Corrupt): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(at, `${v} is too large`);
  return Number(v);
}

/**
 * Where a listed path lives and which database file it is. Only the three documented places are
 * accepted, so a meta file cannot name a path outside the backup (no `..`, no absolute path).
 */
function naming(path: string, id: number, at: number, corrupt: Corrupt): { dbName: string; nameCrc32c?: number; size?: number } {
  const p = PRIVATE.exec(path);
  if (p !== null) {
    if (Number(p[1]) !== id) throw corrupt(at, `${path} is a private file of another backup than ${id}`);
    return { dbName: plainName(p[2]!, path, at, corrupt) };
  }
  const s = SHARED.exec(path);
  if (s !== null) return { dbName: plainName(s[1]!, path, at, corrupt) };
  const c = SHARED_CHECKSUM.exec(path);
  if (c === null) throw corrupt(at, `${path} is not in private/${id}/, shared/ or shared_checksum/`);
  const m = CHECKSUM_NAME.exec(c[1]!);
  if (m === null) throw corrupt(at, `${path} is not named <number>_<checksum or session>[_<size>].<type>`);
  const dbName = `${m[1]!}.${m[3]!}`;
  const fields = m[2]!.split('_');
  // Legacy: <crc32c>_<size>; session naming: s<session id>[_<size>]. The size is the last field when present.
  if (fields[0]!.startsWith('s')) {
    if (fields.length === 1) return { dbName };
    if (fields.length !== 2 || !/^\d{1,15}$/.test(fields[1]!)) throw corrupt(at, `${path}: unexpected fields after the session id`);
    return { dbName, size: Number(fields[1]) };
  }
  if (fields.length !== 2 || !/^\d{1,10}$/.test(fields[0]!) || !/^\d{1,15}$/.test(fields[1]!)) throw corrupt(at, `${path} is not named <number>_<crc32c>_<size>.<type>`);
  const nameCrc32c = Number(fields[0]);
  if (nameCrc32c > MAX_U32) throw corrupt(at, `${path}: checksum in the name is not a 32-bit value`);
  return { dbName, nameCrc32c, size: Number(fields[1]) };
}

function plainName(name: string, path: string, at: number, corrupt: Corrupt): string {
  if (name === '.' || name === '..' || name.includes('\\')) throw corrupt(at, `${path} is not a file name`);
  return name;
}
