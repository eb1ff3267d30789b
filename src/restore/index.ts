/** Restore: a verified snapshot → a RocksDB database directory or SST files to ingest. */
export { restoreSnapshot, DEFAULT_MAX_SST_BYTES, RESTORE_LEVEL, type RestoreOptions, type RestoreReport, type RestoredFile, type RestoredTable } from './restore.js';
export { planColumnFamilies, DEFAULT_COLUMN_FAMILY, type FamilyPlan } from './column-families.js';
