/**
 * Merge operators as data: a name (the one RocksDB records for a column family in OPTIONS and
 * in each table file's properties) and a full-merge function. Built-ins and plugins (the Walrus
 * preset, a user's module given with `--merge-operator NAME=PATH`) are looked up by that name;
 * the RocksDB reader has no special cases for any of them.
 *
 * This is the plugin interface: a plugin module exports a `MergeOperator` as its default export
 * (or exports `name` and `fullMerge`).
 */

/** A RocksDB merge operator, reduced to what a reader needs: the full merge. */
export interface MergeOperator {
  /** The operator's name exactly as RocksDB records it, e.g. `UInt64AddOperator`. */
  readonly name: string;
  /**
   * RocksDB's FullMergeV2: applies `operands` (oldest first) to `existing` (the base value, or
   * undefined when the key had no value: no base, or a deletion, single deletion or range
   * deletion below the operands) and returns the merged value. Throwing fails the merge: the
   * reader reports it as an error naming the key and the file, never as a digest.
   * Must be deterministic and must not keep or modify its arguments.
   */
  fullMerge(key: Uint8Array, existing: Uint8Array | undefined, operands: readonly Uint8Array[]): Uint8Array;
}
