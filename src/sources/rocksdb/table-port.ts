/**
 * What the DB level needs from a table (SST) file reader. `table/index.ts` provides the real
 * one (TableReader); tests and benchmarks may inject another opener through the source options.
 */
import type { RawEntry } from './merge.js';
import { TableReader, type EntryColumns } from './table/index.js';
import type { BlockFetcher } from './table/table-reader.js';

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
  /** The same entries in columns, when the reader can (the fast path of the merge). */
  columns?(): AsyncIterable<EntryColumns>;
  close(): Promise<void>;
}

/** What the DB level knows about a table file from the MANIFEST, for opening it. */
export interface TableOpenOptions {
  /**
   * The file's largest sequence number as the MANIFEST records it. An ingested external file
   * (SstFileWriter) stores sequence 0 in every key and, when its global_seqno property is 0
   * too, takes its sequence number from here, as RocksDB's table reader does.
   */
  readonly largestSequence?: number;
  /** Reads, verifies and decompresses data blocks off-thread (block-fetch-pool.ts). */
  readonly blockFetcher?: BlockFetcher;
}

/** Opens a table file read-only. */
export type OpenTable = (path: string, options?: TableOpenOptions) => Promise<TableLike>;

/**
 * The table reader of `table/index.ts`. Entry types the source cannot interpret (Merge,
 * BlobIndex, WideColumnEntity, DeletionWithTimestamp) are passed through as stored: the merge
 * (merge.ts) refuses them with UNSUPPORTED_FEATURE exactly when one is the visible version of
 * its key, and ignores them when a newer write or a range tombstone hides them (they cannot
 * affect the result then).
 */
export const openTableFile: OpenTable = (path, options = {}) =>
  TableReader.open(path, {
    ...(options.largestSequence === undefined ? {} : { largestSequence: options.largestSequence }),
    ...(options.blockFetcher === undefined ? {} : { blockFetcher: options.blockFetcher }),
    passThroughUnsupportedTypes: true,
  });
