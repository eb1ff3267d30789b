/**
 * A source turns a checkpoint (a snapshot file, a dump directory, a RocksDB checkpoint, ...)
 * into the selected tables as sorted key/value streams. Sources know nothing of the snapshot
 * format or the CLI: the writer frames whatever a source yields.
 */
import type { Entry } from '../format/entry.js';
import type { SnapshotSummary } from '../format/encoder.js';
import type { PackedEntries } from '../format/packed.js';

// The pair type belongs to the format (the writer frames it, the reader yields it); sources re-export it.
export type { Entry };

/** Anchor fields a checkpoint records about itself. */
export interface RecordedAnchor {
  readonly epoch?: bigint;
  readonly cursor?: { readonly index: bigint; readonly eventId?: Uint8Array };
  readonly maxChunkBytes?: bigint;
  /** The catalog in the checkpoint's own order, with its ids. */
  readonly tables?: readonly { readonly id: number; readonly name: string }[];
}

/** What a source can say about one of its tables without reading it all. */
export interface TableInfo {
  /** The table's name (a RocksDB column family name, a dump file's stem, ...). */
  readonly name: string;
  /** An estimate of the number of live entries, where the source can tell cheaply. */
  readonly estimatedEntries?: number;
}

/** Something a source tolerated rather than read, which a report must carry (never silent). */
export interface SourceWarning {
  /**
   * Stable: WAL_TAIL_DROPPED (a torn tail of the newest WAL, dropped as RocksDB's recovery does);
   * WAL_SEQUENCE_GAP (sequence numbers between two WAL files that no WAL holds: a WAL file missing,
   * or writes made without the WAL; `file` is the WAL after the gap, `bytes` 0).
   */
  readonly code: 'WAL_TAIL_DROPPED' | 'WAL_SEQUENCE_GAP';
  readonly file: string;
  /** Offset of the first byte dropped (of the first record after a gap). */
  readonly offset: number;
  /** Bytes dropped (to the end of the file; 0 for a gap). */
  readonly bytes: number;
  readonly message: string;
}

/**
 * A checkpoint opened for reading. Implementations must be read-only by construction:
 * nothing under the checkpoint is created, written, renamed or locked.
 */
export interface Source {
  /** A short name of the kind of source, for reports ("snapshot", "dump", "rocksdb"). */
  readonly kind: string;
  /**
   * Anchor fields the checkpoint itself records (a snapshot file knows its epoch, cursor and
   * chunk size); `digest` uses them where the user gives none. Most sources have none.
   */
  readonly recorded?: RecordedAnchor;
  /** The tables the checkpoint holds, sorted by name. */
  listTables(): Promise<readonly TableInfo[]>;
  /**
   * The live entries of one table, in strictly ascending bytewise key order, yielded in
   * batches (one batch per await keeps per-entry overhead low). Buffers inside an entry
   * must stay valid after the batch is consumed: a source must not reuse them.
   * Rejects with a SnapshotError (UNKNOWN_TABLE, CORRUPT_CHECKPOINT, UNSUPPORTED_FEATURE, …) for an unknown table or a bad checkpoint.
   */
  entries(table: string): AsyncIterable<readonly Entry[]>;
  /**
   * Optional fast path: the same entries as `entries`, as packed batches (ENTRY records, see
   * format/packed.ts) that a writer appends with one copy. Unlike entries, a batch's bytes are
   * valid only until the next batch is requested (a source may reuse them). A source offers it
   * when it builds such batches anyway (the RocksDB source's merge kernel).
   */
  packedEntries?(table: string): AsyncIterable<PackedEntries>;
  /**
   * Called once the selected tables have been read: reads whatever they did not cover, so that
   * integrity checks over the whole checkpoint still run (a snapshot's later tables and trailers).
   * Optional: most sources verify each table as they read it.
   */
  complete?(): Promise<void>;
  /**
   * A snapshot file only: its summary, once `complete()` has returned (the whole file verified).
   * Given the anchor the file records (`recorded`) and its entries, the writer writes exactly
   * this file (the format has one encoding, which the reader enforces), so a digest with that
   * anchor is this summary: no re-encoding needed.
   */
  verifiedSummary?(): SnapshotSummary | undefined;
  /**
   * A snapshot file only: reads and verifies the whole file, handing no entry out, and returns
   * its summary (the digest with the anchor it records, as `verifiedSummary`); `onProgress` gets
   * the entries read so far and the table being read.
   */
  verifyWhole?(onProgress?: (entries: bigint, table: string) => void): Promise<SnapshotSummary>;
  /**
   * A snapshot file only: when `other` is a snapshot file holding the same bytes, reads this one
   * in full (verified) and returns its summary; `other`, the same bytes, verifies the same and
   * holds the same entries. Undefined otherwise (nothing is known: read both as usual).
   */
  sameBytesAs?(other: Source): Promise<SnapshotSummary | undefined>;
  /**
   * What the source tolerated so far (torn WAL tails dropped); complete once the tables read are
   * done. Optional: most sources tolerate nothing.
   */
  warnings?(): readonly SourceWarning[];
  /** True when the source is a live database, read because the caller allowed it (allowLive). */
  readonly live?: boolean;
  /** Releases file handles and worker threads. */
  close(): Promise<void>;
}
