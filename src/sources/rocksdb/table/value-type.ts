/**
 * RocksDB's ValueType (db/dbformat.h), the low byte of an internal key's 8-byte trailer.
 * Only the types that can appear in SST files are listed; the others are WAL-only.
 */
export const ValueType = {
  Deletion: 0x0,
  Value: 0x1,
  Merge: 0x2,
  SingleDeletion: 0x7,
  RangeDeletion: 0xf,
  BlobIndex: 0x11,
  DeletionWithTimestamp: 0x14,
  WideColumnEntity: 0x16,
  /** A value with an 8-byte packed write time / preferred seqno suffix (RocksDB 9.x TimedPut). */
  ValuePreferredSeqno: 0x18,
} as const;
export type ValueType = (typeof ValueType)[keyof typeof ValueType];

/** Name of a value type for error messages. */
export function valueTypeName(type: number): string {
  for (const [name, v] of Object.entries(ValueType)) if (v === type) return `kType${name}`;
  return `0x${type.toString(16)}`;
}
