/**
 * RocksDB block-based table (SST) reader: the API the DB-level source uses.
 * Sequence numbers are JS numbers (see InternalEntry).
 */
export { RunScratch, TableReader, type BlockRun, type KeyRange, type PlacedBlocks, type RawBlockRun, type RunFetch, type TableReaderOptions } from './table-reader.js';
export { EntryColumns, type InternalEntry, type RangeTombstone } from './types.js';
export type { TableProperties } from './properties.js';
export { ValueType, valueTypeName } from './value-type.js';
export { ChecksumType, checksumTypeName } from './checksum.js';
export { CompressionType, compressionName } from './compression.js';
