/**
 * Encodes VersionEdits (VersionEdit::EncodeTo, db/version_edit.cc), the writer of
 * version-edit.ts, with the subset of fields a new database's MANIFEST needs: comparator, log
 * number, next file number, last sequence, max column family, column family add/select, and
 * new files (kNewFile4 with no custom field but the terminator).
 */
import { ByteWriter } from './table/builder/byte-writer.js';
import { NewFileTag, Tag, type FileMeta } from './version-edit.js';

const utf8 = new TextEncoder();

/** A table file to add to a level (no epoch number: RocksDB derives it when absent). */
export type NewFile = Omit<FileMeta, 'epochNumber'>;

/** The fields of one edit; absent fields are not written. */
export interface VersionEditFields {
  readonly comparator?: string;
  readonly logNumber?: number;
  readonly prevLogNumber?: number;
  readonly nextFileNumber?: number;
  readonly maxColumnFamily?: number;
  readonly lastSequence?: bigint;
  readonly newFiles?: readonly NewFile[];
  /** The family the edit is about; 0 (default) is not written, as RocksDB. */
  readonly columnFamily?: number;
  /** Creates the family `columnFamily` with this name. */
  readonly columnFamilyAdd?: string;
}

/** Encodes one edit in VersionEdit::EncodeTo's field order. */
export function encodeVersionEdit(e: VersionEditFields): Uint8Array {
  const w = new ByteWriter(256);
  if (e.comparator !== undefined) {
    w.varint(Tag.Comparator);
    w.lengthPrefixed(utf8.encode(e.comparator));
  }
  if (e.logNumber !== undefined) {
    w.varint(Tag.LogNumber);
    w.varint(e.logNumber);
  }
  if (e.prevLogNumber !== undefined) {
    w.varint(Tag.PrevLogNumber);
    w.varint(e.prevLogNumber);
  }
  if (e.nextFileNumber !== undefined) {
    w.varint(Tag.NextFileNumber);
    w.varint(e.nextFileNumber);
  }
  if (e.maxColumnFamily !== undefined) {
    w.varint(Tag.MaxColumnFamily);
    w.varint(e.maxColumnFamily);
  }
  if (e.lastSequence !== undefined) {
    w.varint(Tag.LastSequence);
    w.varintBig(e.lastSequence);
  }
  for (const f of e.newFiles ?? []) {
    w.varint(Tag.NewFile4);
    w.varint(f.level);
    w.varint(f.number);
    w.varint(f.fileSize);
    w.lengthPrefixed(f.smallest);
    w.lengthPrefixed(f.largest);
    w.varintBig(f.smallestSeqno);
    w.varintBig(f.largestSeqno);
    w.varint(NewFileTag.Terminate);
  }
  if (e.columnFamily !== undefined && e.columnFamily !== 0) {
    w.varint(Tag.ColumnFamily);
    w.varint(e.columnFamily);
  }
  if (e.columnFamilyAdd !== undefined) {
    w.varint(Tag.ColumnFamilyAdd);
    w.lengthPrefixed(utf8.encode(e.columnFamilyAdd));
  }
  return w.view().slice();
}
