/**
 * A family plan: everything needed to merge any key range of one column family (range-merger.ts),
 * read once per family: its files per level, the WAL's entries, the range tombstones.
 */
import type { FamilyMerge } from './family-merge.js';
import type { Tombstone } from './range-tombstones.js';
import type { MemEntry } from './wal.js';

/** A live table file of the family. */
export interface PlannedFile {
  readonly path: string;
  /** The level (0 for L0): for error messages. */
  readonly level: number;
  /** The MANIFEST's largest sequence (used by ingested files whose global_seqno is 0). */
  readonly largestSequence: number;
  /** User keys of the file's smallest and largest internal keys, from the MANIFEST. */
  readonly smallest: Uint8Array;
  readonly largest: Uint8Array;
  /** Point entries the file's properties announce; the ranges read must add up to this. */
  readonly pointEntries: number;
  /** Where the count is reported on a mismatch (the index block, as the table reader does). */
  readonly indexOffset: number;
}

export interface FamilyPlan {
  /** The column family's name. */
  readonly table: string;
  /** The WAL's entries for the family, in internal-key order. */
  readonly memtable: readonly MemEntry[];
  /** A label standing for the WAL in error messages. */
  readonly memtableLabel: string;
  /** Range tombstones of every live file and the WAL. */
  readonly tombstones: readonly Tombstone[];
  /** L0 files, newest first (each its own sorted stream). */
  readonly level0: readonly PlannedFile[];
  /** Levels 1 and up, each sorted by key without overlaps (one stream per level). */
  readonly levels: readonly (readonly PlannedFile[])[];
  /** Most entries per packed batch. */
  readonly batchSize: number;
  /** The family's merge operator, or why it has none (family-merge.ts). */
  readonly merge: FamilyMerge;
}
