/** Plain data types the table reader produces. */

/**
 * One point entry of a table: the user key, its sequence number and value type (ValueType),
 * and the value (empty for deletions). Sequence numbers are JS numbers: the reader rejects any
 * >= 2^53 (UNSUPPORTED_FEATURE), which no real database reaches (RocksDB's limit is 2^56).
 * Arrays are views into buffers that are never reused; they stay valid.
 */
export interface InternalEntry {
  readonly userKey: Uint8Array;
  readonly sequence: number;
  readonly type: number;
  readonly value: Uint8Array;
}

/** A range deletion: user keys in [start, end) with sequence < `sequence` are deleted. */
export interface RangeTombstone {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
  readonly sequence: number;
}
