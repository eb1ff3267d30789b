/**
 * Replays the MANIFEST named by CURRENT into the live version: the column families that exist
 * (dropped ones excluded), their comparators and WAL log numbers, and the live table files of
 * each level. This mirrors RocksDB's recovery (VersionEditHandler + VersionBuilder) closely
 * enough to reject what it rejects: adding a file twice, deleting a file that is not live, a
 * column family added twice, edits for a column family never added, broken atomic groups.
 * Features we do not read (blob files, user-defined timestamps) are recorded per family and
 * refused when that family is read, so the other families of the checkpoint stay readable.
 */
import { join } from 'node:path';
import { compareBytes } from '../../format/bytes.js';
import { corrupt } from './codec.js';
import { readCurrent } from './current.js';
import { specialFileIsCorrupt } from './file-io.js';
import { statRegularFile } from '../../format/regular-file.js';
import { readLogRecords } from './log-reader.js';
import { decodeVersionEdit, type FileMeta, type VersionEdit } from './version-edit.js';

/** A single VersionEdit larger than this is not something RocksDB writes. */
const MAX_MANIFEST_RECORD_BYTES = 64 * 1024 * 1024;
const DEFAULT_COLUMN_FAMILY = 'default';

/** One live column family of the recovered version. */
export interface ColumnFamilyVersion {
  readonly id: number;
  readonly name: string;
  /** The comparator name the MANIFEST records; undefined when it never names one. */
  readonly comparator: string | undefined;
  /** WAL files numbered below this hold nothing for this family that is not in a table file. */
  readonly logNumber: number;
  readonly userDefinedTimestamps: boolean;
  /** Whether the family has (or had) blob files: its values may live outside table files. */
  readonly blobFiles: boolean;
  /** L0 newest first (the order RocksDB reads them). */
  readonly level0: readonly FileMeta[];
  /** Levels 1..n, each sorted by smallest key and checked not to overlap. */
  readonly levels: readonly (readonly FileMeta[])[];
}

/** The version a checkpoint's MANIFEST describes. */
export interface ManifestVersion {
  readonly manifestPath: string;
  readonly lastSequence: bigint;
  readonly nextFileNumber: number;
  readonly prevLogNumber: number;
  /** Live column families sorted by name. */
  readonly columnFamilies: readonly ColumnFamilyVersion[];
}

interface MutableFamily {
  id: number;
  name: string;
  comparator: string | undefined;
  logNumber: number;
  userDefinedTimestamps: boolean;
  blobFiles: boolean;
  /** file number → file, across all levels (a file number is unique within a DB). */
  files: Map<number, FileMeta>;
}

/**
 * Reads CURRENT and replays its MANIFEST. Throws NOT_FOUND when CURRENT is missing,
 * CORRUPT_CHECKPOINT when the MANIFEST it names is missing, for bad bytes or an impossible edit sequence, and
 * UNSUPPORTED_FEATURE for must-understand fields this reader does not know.
 */
export async function readManifest(dir: string): Promise<ManifestVersion> {
  const current = await readCurrent(dir);
  const path = join(dir, current.fileName);
  // A MANIFEST that CURRENT names but the directory lacks is a damaged checkpoint, as a missing table file is.
  let found;
  try {
    found = await statRegularFile(path);
  } catch (e) {
    throw specialFileIsCorrupt(e);
  }
  if (found === undefined) throw corrupt(join(dir, 'CURRENT'), 0, `CURRENT names ${current.fileName}, which is missing from the checkpoint`);
  const families = new Map<number, MutableFamily>();
  const dropped = new Set<number>();
  families.set(0, {
    id: 0,
    name: DEFAULT_COLUMN_FAMILY,
    comparator: undefined,
    logNumber: 0,
    userDefinedTimestamps: false,
    blobFiles: false,
    files: new Map(),
  });
  let lastSequence: bigint | undefined;
  let nextFileNumber: number | undefined;
  let prevLogNumber = 0;
  let group: VersionEdit[] = [];

  const apply = (edit: VersionEdit): void => {
    if (edit.lastSequence !== undefined) lastSequence = edit.lastSequence;
    if (edit.nextFileNumber !== undefined) nextFileNumber = edit.nextFileNumber;
    if (edit.prevLogNumber !== undefined) prevLogNumber = edit.prevLogNumber;
    const id = edit.columnFamily;
    if (edit.columnFamilyAdd !== undefined) {
      if (families.has(id) || dropped.has(id)) {
        throw corrupt(path, edit.offset, `column family ${id} is added twice`);
      }
      families.set(id, {
        id,
        name: edit.columnFamilyAdd,
        comparator: undefined,
        logNumber: 0,
        userDefinedTimestamps: false,
        blobFiles: false,
        files: new Map(),
      });
    } else if (edit.columnFamilyDrop) {
      if (!families.delete(id)) throw corrupt(path, edit.offset, `dropping unknown column family ${id}`);
      dropped.add(id);
      return;
    }
    const cf = families.get(id);
    if (cf === undefined) {
      if (dropped.has(id)) return; // RocksDB ignores edits for a family dropped earlier.
      throw corrupt(path, edit.offset, `edit for column family ${id}, which was never added`);
    }
    if (edit.comparator !== undefined) cf.comparator = edit.comparator;
    if (edit.logNumber !== undefined) cf.logNumber = edit.logNumber;
    if (edit.userDefinedTimestamps) cf.userDefinedTimestamps = true;
    if (edit.blobFiles) cf.blobFiles = true;
    // Deletions before additions, as VersionBuilder applies them: a trivial move deletes a
    // file from one level and adds it to the next in the same edit.
    for (const d of edit.deletedFiles) {
      const f = cf.files.get(d.number);
      if (f === undefined || f.level !== d.level) {
        throw corrupt(path, edit.offset, `deleting table file ${d.number} from level ${d.level}, where it is not live`);
      }
      cf.files.delete(d.number);
    }
    for (const f of edit.newFiles) {
      const existing = cf.files.get(f.number);
      if (existing !== undefined) {
        throw corrupt(path, edit.offset, `adding table file ${f.number} to level ${f.level}; it is already live on level ${existing.level}`);
      }
      cf.files.set(f.number, f);
    }
  };

  for await (const record of readLogRecords(path, {
    logNumber: current.number,
    maxRecordBytes: MAX_MANIFEST_RECORD_BYTES,
    tail: 'error',
    tailRefused: 'in a MANIFEST (a checkpoint copies it whole)',
  })) {
    const edit = decodeVersionEdit(record.data, path, record.offset, record.locate);
    if (edit.remainingInAtomicGroup !== undefined) {
      const previous = group[group.length - 1];
      if (previous !== undefined && previous.remainingInAtomicGroup !== edit.remainingInAtomicGroup + 1) {
        throw corrupt(path, edit.offset, 'atomic group entries out of sequence');
      }
      if (edit.columnFamilyAdd !== undefined || edit.columnFamilyDrop) {
        throw corrupt(path, edit.offset, 'column family added or dropped inside an atomic group');
      }
      group.push(edit);
      if (edit.remainingInAtomicGroup === 0) {
        for (const e of group) apply(e);
        group = [];
      }
    } else {
      if (group.length > 0) throw corrupt(path, edit.offset, 'atomic group interrupted by an unrelated edit');
      apply(edit);
    }
  }
  // An atomic group the MANIFEST ends inside was never committed; RocksDB drops it too.

  if (lastSequence === undefined) throw corrupt(path, 0, 'MANIFEST has no last-sequence entry');
  if (nextFileNumber === undefined) throw corrupt(path, 0, 'MANIFEST has no next-file-number entry');

  const columnFamilies = [...families.values()]
    .map((cf) => toVersion(cf, path))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { manifestPath: path, lastSequence, nextFileNumber, prevLogNumber, columnFamilies };
}

function toVersion(cf: MutableFamily, path: string): ColumnFamilyVersion {
  const byLevel: FileMeta[][] = [];
  for (const f of cf.files.values()) (byLevel[f.level] ??= []).push(f);
  const level0 = (byLevel[0] ?? []).sort(newestFirst);
  const levels: FileMeta[][] = [];
  for (let l = 1; l < byLevel.length; l++) {
    const files = (byLevel[l] ?? []).sort((a, b) => compareInternalKeys(a.smallest, b.smallest));
    for (let i = 1; i < files.length; i++) {
      if (compareInternalKeys(files[i - 1]!.largest, files[i]!.smallest) >= 0) {
        throw corrupt(path, 0, `table files ${files[i - 1]!.number} and ${files[i]!.number} overlap on level ${l}`);
      }
    }
    levels.push(files);
  }
  return {
    id: cf.id,
    name: cf.name,
    comparator: cf.comparator,
    logNumber: cf.logNumber,
    userDefinedTimestamps: cf.userDefinedTimestamps,
    blobFiles: cf.blobFiles,
    level0,
    levels,
  };
}

/** L0 read order: epoch number, then largest sequence, then file number, all descending. */
function newestFirst(a: FileMeta, b: FileMeta): number {
  if (a.epochNumber !== b.epochNumber) return a.epochNumber > b.epochNumber ? -1 : 1;
  if (a.largestSeqno !== b.largestSeqno) return a.largestSeqno > b.largestSeqno ? -1 : 1;
  return b.number - a.number;
}

/** Internal key order: user key ascending, then the (sequence, type) trailer descending. */
export function compareInternalKeys(a: Uint8Array, b: Uint8Array): number {
  const c = compareBytes(a.subarray(0, a.length - 8), b.subarray(0, b.length - 8));
  if (c !== 0) return c;
  for (let i = 7; i >= 0; i--) {
    const d = b[b.length - 8 + i]! - a[a.length - 8 + i]!;
    if (d !== 0) return d;
  }
  return 0;
}
