/**
 * The metadata of an exported column family (`Checkpoint::ExportColumnFamily`), which RocksDB
 * returns in memory (ExportImportFilesMetaData) and applications store beside the SST files.
 * Read in Restate's `metadata.json` layout (its partition snapshots: PartitionSnapshotMetadata
 * with `files` as SnapshotSstFile), which the fixture tool writes too; docs/BACKUP.md.
 * Pure: JSON text in, a version (the files per level) out.
 */
import { compareBytes } from '../../format/bytes.js';
import { SnapshotError } from '../../format/errors.js';
import type { ColumnFamilyVersion, ManifestVersion } from '../rocksdb/manifest.js';
import type { FileMeta } from '../rocksdb/version-edit.js';
import { MAX_LEVELS } from '../rocksdb/version-edit.js';

/** The metadata file's name, as Restate's snapshots name it. */
export const EXPORT_METADATA_FILE = 'metadata.json';
/** Stands for the table of an export whose metadata does not name its column family (RocksDB 7.8 leaves it empty). */
export const UNNAMED_TABLE = '(unnamed)';
const TABLE_FILE = /^\/?(\d{1,20})\.sst$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;
/** The trailer of an internal key; only the user key before it is used from the metadata. */
const TRAILER = new Uint8Array(8);

/** An exported column family: its name (undefined when the metadata leaves it empty) and its version. */
export interface ExportedFamily {
  readonly name: string | undefined;
  /** Builds the version the reader merges, with the family named `name`. */
  version(name: string): ManifestVersion;
}

/** Parses the metadata text; `file` names it in errors. */
export function parseExportMetadata(text: string, file: string): ExportedFamily {
  const bad = (message: string): SnapshotError => new SnapshotError('CORRUPT_CHECKPOINT', `${file}: ${message}`, { file, offset: 0 });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw bad(`not JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw bad('not a JSON object');
  if (doc['version'] !== undefined && doc['version'] !== 'V1') {
    throw new SnapshotError('UNSUPPORTED_FEATURE', `${file}: snapshot metadata version ${JSON.stringify(doc['version'])} is not read by this tool (only V1)`, { file });
  }
  const comparator = doc['db_comparator_name'];
  if (comparator !== undefined && typeof comparator !== 'string') throw bad('db_comparator_name is not a string');
  const files = doc['files'];
  if (!Array.isArray(files)) throw bad('no "files" array');
  const names = new Set<string>();
  const metas: FileMeta[] = [];
  for (const [i, f] of files.entries()) {
    const where = `files[${i}]`;
    if (!isObject(f)) throw bad(`${where} is not an object`);
    const cf = f['column_family_name'];
    if (cf !== undefined && cf !== null && typeof cf !== 'string') throw bad(`${where}.column_family_name is not a string`);
    if (typeof cf === 'string' && cf !== '') names.add(cf);
    const name = f['name'];
    const m = typeof name === 'string' ? TABLE_FILE.exec(name) : null;
    if (m === null) throw bad(`${where}.name is not a table file name (NNNNNN.sst): ${JSON.stringify(name)}`);
    const number = Number(m[1]);
    const level = integer(f['level'], `${where}.level`, bad);
    if (level >= MAX_LEVELS) throw bad(`${where}.level ${level} is beyond ${MAX_LEVELS - 1}`);
    const start = hexKey(f['start_key'], `${where}.start_key`, bad, file);
    const end = hexKey(f['end_key'], `${where}.end_key`, bad, file);
    if (compareBytes(start, end) > 0) throw bad(`${where}: start_key is after end_key`);
    const smallestSeqno = sequence(f['smallest_seqno'], `${where}.smallest_seqno`, bad, file);
    const largestSeqno = sequence(f['largest_seqno'], `${where}.largest_seqno`, bad, file);
    if (smallestSeqno > largestSeqno) throw bad(`${where}: smallest_seqno is above largest_seqno`);
    if (metas.some((x) => x.number === number)) throw bad(`${where}: table file ${number} is listed twice`);
    metas.push({
      level,
      number,
      fileSize: integer(f['size'], `${where}.size`, bad),
      smallest: internalKey(start),
      largest: internalKey(end),
      smallestSeqno,
      largestSeqno,
      epochNumber: 0n,
    });
  }
  if (names.size > 1) throw bad(`files of several column families (${[...names].join(', ')}); an export holds one`);
  const level0 = metas.filter((f) => f.level === 0).sort(newestFirst);
  const levels: FileMeta[][] = [];
  for (const f of metas) if (f.level > 0) (levels[f.level - 1] ??= []).push(f);
  for (const [i, files] of levels.entries()) {
    if (files === undefined) continue;
    files.sort((a, b) => compareBytes(a.smallest.subarray(0, -8), b.smallest.subarray(0, -8)));
    for (let k = 1; k < files.length; k++) {
      if (compareBytes(files[k - 1]!.largest.subarray(0, -8), files[k]!.smallest.subarray(0, -8)) >= 0) {
        throw bad(`level ${i + 1}: table files ${files[k - 1]!.number} and ${files[k]!.number} overlap`);
      }
    }
  }
  const dense = Array.from({ length: levels.length }, (_, i) => levels[i] ?? []);
  const lastSequence = metas.reduce((m, f) => (f.largestSeqno > m ? f.largestSeqno : m), 0n);
  const named = [...names][0];
  return {
    name: named,
    version(name: string): ManifestVersion {
      const cf: ColumnFamilyVersion = {
        id: 0,
        name,
        comparator: comparator === '' ? undefined : comparator,
        logNumber: 0,
        userDefinedTimestamps: false,
        blobFiles: false,
        level0,
        levels: dense,
      };
      return { manifestPath: file, lastSequence, nextFileNumber: Math.max(0, ...metas.map((f) => f.number)) + 1, prevLogNumber: 0, columnFamilies: [cf] };
    },
  };
}

/** L0 files are read newest first: by largest, then smallest sequence number, then file number. */
function newestFirst(a: FileMeta, b: FileMeta): number {
  if (a.largestSeqno !== b.largestSeqno) return a.largestSeqno > b.largestSeqno ? -1 : 1;
  if (a.smallestSeqno !== b.smallestSeqno) return a.smallestSeqno > b.smallestSeqno ? -1 : 1;
  return b.number - a.number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function integer(v: unknown, what: string, bad: (m: string) => SnapshotError): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(`${what} is not a non-negative integer: ${JSON.stringify(v)}`);
  return v;
}

/** Sequence numbers above 2^53 cannot come through JSON numbers exactly: refused, not rounded. */
function sequence(v: unknown, what: string, bad: (m: string) => SnapshotError, file: string): bigint {
  if (typeof v === 'number' && v > Number.MAX_SAFE_INTEGER) {
    throw new SnapshotError('UNSUPPORTED_FEATURE', `${file}: ${what} is above 2^53-1, which JSON numbers do not carry exactly`, { file });
  }
  return BigInt(integer(v, what, bad));
}

function hexKey(v: unknown, what: string, bad: (m: string) => SnapshotError, file: string): Uint8Array {
  if (v === null || v === undefined) {
    throw new SnapshotError('UNSUPPORTED_FEATURE', `${file}: ${what} is absent; this tool needs every file's key range`, { file });
  }
  if (typeof v !== 'string' || !HEX.test(v)) throw bad(`${what} is not hex`);
  return Uint8Array.from(Buffer.from(v, 'hex'));
}

function internalKey(userKey: Uint8Array): Uint8Array {
  const k = new Uint8Array(userKey.length + 8);
  k.set(userKey);
  k.set(TRAILER, userKey.length);
  return k;
}
