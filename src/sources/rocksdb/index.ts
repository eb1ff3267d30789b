/**
 * The RocksDB checkpoint source: reads a checkpoint directory's documented on-disk formats
 * directly, read-only by construction (files are opened with flag 'r' only; nothing is
 * created, written, renamed or locked).
 *
 * Pipeline, one module per step:
 * - `current.ts`: CURRENT names the live MANIFEST.
 * - `log-reader.ts`: the 32 KiB-block log format (fragments, CRC32C, recyclable records)
 *   shared by the MANIFEST and the WAL.
 * - `version-edit.ts`, `manifest.ts`: VersionEdits replayed into live column families
 *   (dropped ones excluded), their comparators, log numbers and live table files per level.
 * - `wal.ts`: WriteBatches of WAL files numbered at or above a family's log number, replayed
 *   into a sorted in-memory memtable (bounded in practice by write_buffer_size).
 * - `range-tombstones.ts`, `merge.ts`: a binary heap of cursors over the memtable, each L0
 *   file (newest first) and each level L1+ (files opened one at a time) yields the newest
 *   version of every user key; deletions, single deletions and range deletions with a higher
 *   sequence number hide it. Memory is bounded by one batch per cursor plus the range
 *   tombstones, never by table size. TimedPut (ValuePreferredSeqno) values read as Values.
 *   Ingested external files get their sequence number from the MANIFEST when global_seqno is 0.
 *   Live entries come out packed (format/packed.ts), ready for the writer.
 * - `kernel/`: the same merge in WebAssembly (AssemblyScript source in kernel/assembly): it
 *   decodes data-block entries, merges and writes ENTRY records with no JavaScript per entry,
 *   and stops (fallback) on anything unusual, for `merge.ts` to redo the range and report.
 * - `options-file.ts`, `family-merge.ts`: merge operands. The newest OPTIONS file (or the table
 *   files' properties) names each family's merge operator; it is looked up among plugins, then
 *   RocksDB's built-ins (../merge-operators/). A key whose visible version is an operand is
 *   merged as RocksDB's read path does; the kernel writes it as a merge group (operands, then the
 *   base or none) and the operator runs in JavaScript on groups only.
 * - `family-plan.ts`, `range-split.ts`, `range-merger.ts`: a family's key space cut into ranges
 *   of about 4 MiB of table data (file boundaries and index separators of its largest sorted
 *   run), merged one after the other by the kernel; a fallback redoes only its range. Every
 *   file's entries read over all ranges must add up to its properties' count.
 * - `parallel/`: opt-in (SNAPSHOT_VERIFY_MERGE_WORKERS, the `workers` option) worker threads that
 *   merge a big family's ranges, handing the batches back in key order.
 * - `table/`: the table (SST) reader: footer, properties, index search, data blocks (columns,
 *   no object per entry), checksums and decompression.
 *
 * Refused with UNSUPPORTED_FEATURE, never approximated: merge operands without an operator this
 * reader can apply, blob references and wide-column entities that are the visible version of a key (hidden ones cannot affect the
 * result and are skipped), families with blob files, user-defined timestamps, comparators other
 * than leveldb.BytewiseComparator, two-phase-commit WAL markers, WAL compression, and sequence
 * numbers above 2^53−1. Bad bytes raise CORRUPT_CHECKPOINT with the file and byte offset.
 */
export { isRocksDbCheckpoint, openRocksDbCheckpoint, openRocksDbVersion, type RocksDbSourceOptions } from './rocksdb-source.js';
export { verifyRocksDbCheckpoint, type CheckpointVerification } from './structure.js';
export { WAL_RECOVERY_MODES, type WalRecoveryMode } from './wal.js';
