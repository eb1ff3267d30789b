/**
 * What the DB level needs from a table (SST) file reader. `table/index.ts` provides the real
 * one (TableReader); tests and benchmarks may inject another opener through the source options.
 */
import type { RawEntry } from './merge.js';
import { TableReader } from './table/index.js';

/** A range deletion as a table file stores it. */
export interface TableRangeTombstone {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
  readonly sequence: bigint | number;
}

/** The table properties the DB level reads. */
export interface TablePropertiesLike {
  readonly numEntries: number;
  readonly numDeletions?: number;
  readonly comparator?: string;
  readonly mergeOperator?: string;
}

/** An open table file. */
export interface TableLike {
  readonly path: string;
  readonly properties: TablePropertiesLike;
  rangeTombstones(): Promise<readonly TableRangeTombstone[]>;
  /** Point entries in internal-key order, batched. */
  entries(): AsyncIterable<readonly RawEntry[]>;
  close(): Promise<void>;
}

/** Opens a table file read-only. */
export type OpenTable = (path: string) => Promise<TableLike>;

/** The table reader of `table/index.ts`. */
export const openTableFile: OpenTable = (path) => TableReader.open(path);
