/**
 * Decoding of one VersionEdit, the record type of the MANIFEST (db/version_edit.{h,cc}).
 * An edit is a sequence of `varint32 tag` + tag-specific fields. Tags at or above 2^13 are
 * forward-compatible extensions followed by a length, so an unknown one can be skipped; any
 * other unknown tag is corruption, as RocksDB itself treats it.
 */
import { SliceReader, unsupported, type Locate } from './codec.js';

/** Levels beyond this are not a RocksDB layout we know (num_levels is 7 by default). */
export const MAX_LEVELS = 64;

/** A table file as the MANIFEST describes it. */
export interface FileMeta {
  readonly level: number;
  readonly number: number;
  readonly fileSize: number;
  /** Internal keys (user key + 8-byte trailer) bounding the file. */
  readonly smallest: Uint8Array;
  readonly largest: Uint8Array;
  readonly smallestSeqno: bigint;
  readonly largestSeqno: bigint;
  /** Ordering of L0 files in RocksDB >= 7.10; 0 when absent. */
  readonly epochNumber: bigint;
}

/** Everything one VersionEdit says that the live-file computation needs. */
export interface VersionEdit {
  /** File offset of the log record, for error messages. */
  readonly offset: number;
  columnFamily: number;
  columnFamilyAdd: string | undefined;
  columnFamilyDrop: boolean;
  comparator: string | undefined;
  logNumber: number | undefined;
  prevLogNumber: number | undefined;
  nextFileNumber: number | undefined;
  lastSequence: bigint | undefined;
  /** Entries still to come in this atomic group (0 for its last edit); undefined outside groups. */
  remainingInAtomicGroup: number | undefined;
  /** Set when the edit shows user-defined timestamps are in use for its column family. */
  userDefinedTimestamps: boolean;
  /** Set when the edit adds blob files or table files that reference them (BlobDB). */
  blobFiles: boolean;
  readonly deletedFiles: { level: number; number: number }[];
  readonly newFiles: FileMeta[];
}

/** VersionEdit tags (db/version_edit.h), shared with the encoder (version-edit-encoder.ts). */
export const Tag = {
  Comparator: 1,
  LogNumber: 2,
  NextFileNumber: 3,
  LastSequence: 4,
  CompactCursor: 5,
  DeletedFile: 6,
  NewFile: 7,
  PrevLogNumber: 9,
  MinLogNumberToKeep: 10,
  NewFile2: 100,
  NewFile3: 102,
  NewFile4: 103,
  ColumnFamily: 200,
  ColumnFamilyAdd: 201,
  ColumnFamilyDrop: 202,
  MaxColumnFamily: 203,
  InAtomicGroup: 300,
  BlobFileAddition: 400,
  BlobFileGarbage: 401,
  // Forward-compatible tags (kTagSafeIgnoreMask | n).
  DbId: 8193,
  BlobFileAdditionDeprecated: 8194,
  BlobFileGarbageDeprecated: 8195,
  WalAddition: 8196,
  WalDeletion: 8197,
  FullHistoryTsLow: 8198,
} as const;
const TAG_SAFE_IGNORE_MASK = 1 << 13;

export const NewFileTag = {
  Terminate: 1,
  OldestBlobFileNumber: 4,
  MinTimestamp: 10,
  MaxTimestamp: 11,
  EpochNumber: 13,
  /** Custom fields with this bit must be understood; the rest may be skipped. */
  NonSafeIgnoreMask: 1 << 6,
  PathId: (1 << 6) + 1,
} as const;

const WalAdditionTag = { Terminate: 1, SyncedSize: 2 } as const;

/**
 * Decodes one MANIFEST record. `offset` is the file offset of the record's log header (kept
 * for errors about the edit as a whole); `locate` maps record positions to file offsets, or
 * is the file offset of the record's byte 0. Throws CORRUPT_CHECKPOINT or UNSUPPORTED_FEATURE.
 */
export function decodeVersionEdit(record: Uint8Array, file: string, offset: number, locate: Locate | number = offset): VersionEdit {
  const r = new SliceReader(record, file, locate);
  const edit: VersionEdit = {
    offset,
    columnFamily: 0,
    columnFamilyAdd: undefined,
    columnFamilyDrop: false,
    comparator: undefined,
    logNumber: undefined,
    prevLogNumber: undefined,
    nextFileNumber: undefined,
    lastSequence: undefined,
    remainingInAtomicGroup: undefined,
    userDefinedTimestamps: false,
    blobFiles: false,
    deletedFiles: [],
    newFiles: [],
  };
  const text = new TextDecoder('utf-8', { fatal: false });
  while (!r.atEnd) {
    const tagAt = r.pos;
    const tag = r.varint32('tag');
    switch (tag) {
      case Tag.Comparator:
        edit.comparator = text.decode(r.lengthPrefixed('comparator name'));
        break;
      case Tag.LogNumber:
        edit.logNumber = r.varint64Safe('log number');
        break;
      case Tag.PrevLogNumber:
        edit.prevLogNumber = r.varint64Safe('previous log number');
        break;
      case Tag.NextFileNumber:
        edit.nextFileNumber = r.varint64Safe('next file number');
        break;
      case Tag.LastSequence:
        edit.lastSequence = r.varint64('last sequence');
        break;
      case Tag.MinLogNumberToKeep:
        r.varint64('min log number to keep');
        break;
      case Tag.CompactCursor:
        readLevel(r);
        readInternalKey(r, 'compaction cursor');
        break;
      case Tag.DeletedFile: {
        const level = readLevel(r);
        edit.deletedFiles.push({ level, number: r.varint64Safe('deleted file number') });
        break;
      }
      case Tag.NewFile:
      case Tag.NewFile2:
      case Tag.NewFile3:
      case Tag.NewFile4:
        edit.newFiles.push(readNewFile(r, tag, edit));
        break;
      case Tag.ColumnFamily:
        edit.columnFamily = r.varint32('column family id');
        break;
      case Tag.ColumnFamilyAdd:
        edit.columnFamilyAdd = text.decode(r.lengthPrefixed('column family name'));
        break;
      case Tag.ColumnFamilyDrop:
        edit.columnFamilyDrop = true;
        break;
      case Tag.MaxColumnFamily:
        r.varint32('max column family');
        break;
      case Tag.InAtomicGroup:
        edit.remainingInAtomicGroup = r.varint32('atomic group remaining entries');
        break;
      case Tag.BlobFileAddition:
      case Tag.BlobFileAdditionDeprecated:
        // Blob files hold values outside the table files; we refuse to read such a family
        // rather than approximate it (the error is raised when the family is read).
        r.varint64('blob file number');
        r.varint64('total blob count');
        r.varint64('total blob bytes');
        r.lengthPrefixed('blob checksum method');
        r.lengthPrefixed('blob checksum value');
        skipBlobCustomFields(r, tagAt);
        edit.blobFiles = true;
        break;
      case Tag.BlobFileGarbage:
      case Tag.BlobFileGarbageDeprecated:
        r.varint64('blob file number');
        r.varint64('garbage blob count');
        r.varint64('garbage blob bytes');
        skipBlobCustomFields(r, tagAt);
        edit.blobFiles = true;
        break;
      case Tag.DbId:
        r.lengthPrefixed('db id');
        break;
      case Tag.WalAddition:
        // Not length-prefixed despite its forward-compatible tag: number, then tagged fields.
        r.varint64('WAL number');
        for (;;) {
          const t = r.varint32('WAL addition field tag');
          if (t === WalAdditionTag.Terminate) break;
          if (t !== WalAdditionTag.SyncedSize) throw r.error(`unknown WAL addition field ${t}`);
          r.varint64('WAL synced size');
        }
        break;
      case Tag.WalDeletion:
        r.varint64('WAL number');
        break;
      case Tag.FullHistoryTsLow:
        if (r.lengthPrefixed('full_history_ts_low').length === 0) throw r.error('empty full_history_ts_low');
        edit.userDefinedTimestamps = true;
        break;
      default:
        if ((tag & TAG_SAFE_IGNORE_MASK) === 0) {
          throw r.error(`unknown VersionEdit tag ${tag}`);
        }
        // A forward-compatible record (WAL additions v2, timestamps persistence flag, ...):
        // its length says how much to skip.
        r.lengthPrefixed(`VersionEdit tag ${tag}`);
    }
  }
  return edit;
}

/** Blob records end with tagged custom fields: 0 ends them, bit 6 marks must-understand ones. */
function skipBlobCustomFields(r: SliceReader, tagAt: number): void {
  for (;;) {
    const t = r.varint32('blob custom field tag');
    if (t === 0) return;
    if ((t & (1 << 6)) !== 0) throw unsupported(r.file, `blob custom field ${t} is required but unknown`, r.offsetOf(tagAt));
    r.lengthPrefixed('blob custom field');
  }
}

function readLevel(r: SliceReader): number {
  const at = r.pos;
  const level = r.varint32('level');
  if (level >= MAX_LEVELS) {
    r.pos = at;
    throw r.error(`level ${level} is out of range (max ${MAX_LEVELS - 1})`);
  }
  return level;
}

function readInternalKey(r: SliceReader, what: string): Uint8Array {
  const key = r.lengthPrefixed(what);
  if (key.length < 8) throw r.error(`${what} is shorter than an internal key trailer`);
  return key;
}

function readNewFile(r: SliceReader, tag: number, edit: VersionEdit): FileMeta {
  const level = readLevel(r);
  const number = r.varint64Safe('file number');
  if (tag === Tag.NewFile3) r.varint32('path id');
  const fileSize = r.varint64Safe('file size');
  const smallest = readInternalKey(r, 'smallest key');
  const largest = readInternalKey(r, 'largest key');
  let smallestSeqno = 0n;
  let largestSeqno = 0n;
  if (tag !== Tag.NewFile) {
    smallestSeqno = r.varint64('smallest sequence');
    largestSeqno = r.varint64('largest sequence');
  }
  let epochNumber = 0n;
  if (tag === Tag.NewFile4) {
    for (;;) {
      const customAt = r.pos;
      const custom = r.varint32('new-file custom field tag');
      if (custom === NewFileTag.Terminate) break;
      const field = r.lengthPrefixedReader(`new-file custom field ${custom}`);
      switch (custom) {
        case NewFileTag.OldestBlobFileNumber:
          // 0 means "no blob references"; anything else means the file points into blob files.
          if (field.varint64('oldest blob file number') !== 0n) edit.blobFiles = true;
          break;
        case NewFileTag.EpochNumber:
          epochNumber = field.varint64('epoch number');
          break;
        case NewFileTag.MinTimestamp:
        case NewFileTag.MaxTimestamp:
          if (field.remaining > 0) edit.userDefinedTimestamps = true;
          break;
        case NewFileTag.PathId:
          // Files in other db_paths: a checkpoint gathers all live files in its one directory.
          if (field.remaining !== 1) throw field.error('path id field has the wrong size');
          break;
        default:
          if ((custom & NewFileTag.NonSafeIgnoreMask) !== 0) {
            throw unsupported(r.file, `new-file custom field ${custom} is required but unknown`, r.offsetOf(customAt));
          }
      }
    }
  }
  return { level, number, fileSize, smallest, largest, smallestSeqno, largestSeqno, epochNumber };
}
