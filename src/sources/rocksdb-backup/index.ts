/**
 * RocksDB BackupEngine backups, digested in place (docs/BACKUP.md): the backup's files are
 * verified against its meta file, then read by the checkpoint reader (../rocksdb/), whose table
 * files are looked up through the backup (`tableFilePath`), never copied or restored.
 */
import type { CheckpointVerification, RocksDbSourceOptions, WalRecoveryMode } from '../rocksdb/index.js';
import type { PackedEntries } from '../../format/packed.js';
import type { Source, SourceWarning } from '../source.js';
import { openBackup } from './backup-dir.js';

export { isBackupDirectory } from './detect.js';
export { backupIds, listBackups, openBackup, readBackupMeta, type BackupSummary, type VerifiedBackup } from './backup-dir.js';
export { parseBackupMeta, type BackupFileEntry, type BackupMeta } from './meta-file.js';

/** Options of {@link openRocksDbBackup}: the checkpoint reader's, and which backup. */
export type RocksDbBackupOptions = Omit<RocksDbSourceOptions, 'tableFilePath' | 'allowLive'> & Readonly<Partial<{ backupId: number }>>;

/**
 * Opens backup `backupId` (default: the newest) of the BackupEngine directory `dir`: every file the
 * meta file lists is verified (size, crc32c) first, then its tables read as a checkpoint's.
 */
export async function openRocksDbBackup(dir: string, options: RocksDbBackupOptions = {}): Promise<Source & { readonly backupId: number }> {
  const { backupId, ...rest } = options;
  const backup = await openBackup(dir, backupId);
  const { openRocksDbCheckpoint } = await import('../rocksdb/index.js');
  const source = await openRocksDbCheckpoint(backup.privateDir, { ...rest, tableFilePath: backup.tableFilePath });
  return new BackupSource(source, backup.id);
}

/**
 * `verify BACKUP_DIR`: backup `backupId` (default: the newest) verified as openRocksDbBackup
 * verifies it (every listed file's size and crc32c), then as `verify <checkpoint-dir>` verifies a
 * checkpoint: every block of every table file, every WAL record, all families.
 */
export async function verifyRocksDbBackup(dir: string, options: Readonly<{ backupId?: number; walRecovery?: WalRecoveryMode }> = {}): Promise<CheckpointVerification & { readonly backupId: number }> {
  const backup = await openBackup(dir, options.backupId);
  const { verifyRocksDbCheckpoint } = await import('../rocksdb/index.js');
  const verified = await verifyRocksDbCheckpoint(backup.privateDir, { ...(options.walRecovery !== undefined ? { walRecovery: options.walRecovery } : {}), tableFilePath: backup.tableFilePath });
  return { ...verified, backupId: backup.id };
}

/** The checkpoint reader's source over the backup, under its own kind and with the backup's id. */
class BackupSource implements Source {
  readonly kind = 'rocksdb-backup';
  constructor(
    private readonly inner: Source,
    readonly backupId: number,
  ) {}
  listTables(): ReturnType<Source['listTables']> {
    return this.inner.listTables();
  }
  entries(table: string): ReturnType<Source['entries']> {
    return this.inner.entries(table);
  }
  packedEntries(table: string): AsyncIterable<PackedEntries> {
    return this.inner.packedEntries!(table);
  }
  warnings(): readonly SourceWarning[] {
    return this.inner.warnings?.() ?? [];
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
