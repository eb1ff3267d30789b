/**
 * Checks of a RocksDB checkpoint as a whole, whatever tables are selected. A digest of some
 * column families must not vouch for a checkpoint whose other families lost files: the cheap
 * structural check runs on every open; the full one (every block of every table) on request.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SnapshotError } from '../../format/errors.js';
import { fileKind, isSpecialFile, statRegularFile } from '../../format/regular-file.js';
import { corrupt, sequenceToNumber } from './codec.js';
import { ioError, ReadOnlyFile, specialFileIsCorrupt } from './file-io.js';
import { findLockHolder, liveDatabase } from './live.js';
import { readManifest, type ColumnFamilyVersion, type ManifestVersion } from './manifest.js';
import { toSourceError } from './range-merger.js';
import { loadChecksums } from './table/checksum.js';
import { decodeFooter, FOOTER_SIZE } from './table/footer.js';
import { TableReader } from './table/index.js';
import type { FileMeta } from './version-edit.js';
import type { SourceWarning } from '../source.js';
import { gapWarning, listWalFiles, replayWal, tailWarning, walsToReplay, type WalFile, type WalRecoveryMode, type WalSequenceGap, type WalTailDropped } from './wal.js';

/** Where a checkpoint's table file named `name` (000012.sst) is: in the directory, or elsewhere (a backup's shared files). */
export type TableFilePath = (name: string) => string;

/** The file name RocksDB gives table file `number`. */
export function tableFileName(number: number): string {
  return `${String(number).padStart(6, '0')}.sst`;
}

/**
 * Refuses a checkpoint directory holding a FIFO, socket or device under any name (CURRENT,
 * MANIFEST, table files, WALs referenced or not, OPTIONS, …): CORRUPT_CHECKPOINT naming it,
 * found from the directory listing and stat, never opened.
 */
export async function checkNoSpecialFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw ioError(dir, e);
  }
  for (const d of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(dir, d.name);
    if (d.isSymbolicLink()) {
      const s = await stat(path).catch(() => undefined); // a dangling link is left to whoever reads it
      if (s !== undefined && isSpecialFile(s)) throw special(path, fileKind(s));
    } else if (d.isFIFO() || d.isSocket() || d.isCharacterDevice() || d.isBlockDevice()) {
      throw special(path, d.isFIFO() ? 'a FIFO' : d.isSocket() ? 'a socket' : 'a device');
    }
  }
  return entries.map((d) => d.name);
}

/**
 * Refuses a table file in the checkpoint directory that the MANIFEST's live version does not
 * list. A checkpoint holds only live table files (Checkpoint::CreateCheckpoint copies the live
 * set with the MANIFEST as it was then), so such a file means the MANIFEST lost its last edits
 * (a MANIFEST cut at a record boundary reads as a sound older version, which RocksDB would open
 * too, without the newest table files) or a file that does not belong there. Not for a live
 * database, where flushes and compactions write table files before the MANIFEST names them.
 */
export function checkNoUnlistedTableFiles(dir: string, names: readonly string[], version: ManifestVersion): void {
  const live = new Set(liveTableFiles(version).map(({ file }) => file.number));
  for (const name of names) {
    const m = /^(\d+)\.(sst|ldb)$/.exec(name);
    if (m === null || live.has(Number(m[1]))) continue;
    throw corrupt(join(dir, name), 0, `table file ${name} is not in the live version the MANIFEST describes (next file number ${version.nextFileNumber}): a checkpoint holds only live table files, so its MANIFEST is truncated or older than its table files, or the file does not belong in it`);
  }
}

function special(path: string, kind: string): SnapshotError {
  return corrupt(path, 0, `${path} is not a regular file (it is ${kind}); refused without opening it`);
}

/** Every live table file of every column family, with its family. */
export function liveTableFiles(version: ManifestVersion): { cf: ColumnFamilyVersion; file: FileMeta }[] {
  const out: { cf: ColumnFamilyVersion; file: FileMeta }[] = [];
  for (const cf of version.columnFamilies) {
    for (const file of [...cf.level0, ...cf.levels.flat()]) out.push({ cf, file });
  }
  return out;
}

/**
 * The cheap structural check: every live table file the MANIFEST lists, of every column family,
 * exists, is a regular file of the size the MANIFEST records, and ends with a table footer that
 * decodes. Throws CORRUPT_CHECKPOINT naming the file otherwise. A footer of a kind this reader
 * does not read (UNSUPPORTED_FEATURE) passes here: that family is refused only when read.
 */
export async function checkLiveFiles(dir: string, version: ManifestVersion, tablePath: TableFilePath = (name) => join(dir, name)): Promise<void> {
  await loadChecksums();
  for (const { cf, file } of liveTableFiles(version)) {
    const path = tablePath(tableFileName(file.number));
    const what = `live table file ${file.number} of column family ${JSON.stringify(cf.name)} (level ${file.level})`;
    let s;
    try {
      s = await statRegularFile(path);
    } catch (e) {
      throw specialFileIsCorrupt(e);
    }
    if (s === undefined) throw corrupt(path, 0, `${what} is missing from the checkpoint`);
    if (s.size !== file.fileSize) {
      throw corrupt(path, Math.min(s.size, file.fileSize), `${what} is ${s.size} bytes; the MANIFEST records ${file.fileSize}`);
    }
    const f = await ReadOnlyFile.open(path);
    try {
      const tailLength = Math.min(FOOTER_SIZE, f.size);
      decodeFooter(path, await f.read(f.size - tailLength, tailLength), f.size - tailLength);
    } catch (e) {
      if (!(e instanceof SnapshotError && e.code === 'UNSUPPORTED_FEATURE')) throw e;
    } finally {
      await f.close();
    }
  }
}

/** A checkpoint whose structure was checked: its version, WAL files, and whether it is live. */
export interface CheckpointStructure {
  readonly version: ManifestVersion;
  readonly wals: readonly WalFile[];
  /** Another process holds the LOCK (allowed by the caller). */
  readonly live: boolean;
}

/**
 * What every open of a checkpoint does first, whatever tables are then read: refuses a live
 * database (LIVE_DATABASE) unless `allowLive`, refuses special files anywhere in the directory,
 * replays the MANIFEST, checks every live table file (checkLiveFiles), lists the WAL files.
 */
export async function openCheckpointStructure(dir: string, allowLive: boolean, tablePath?: TableFilePath): Promise<CheckpointStructure> {
  const holder = await findLockHolder(dir);
  if (holder !== undefined && !allowLive) throw liveDatabase(dir, holder);
  const names = await checkNoSpecialFiles(dir);
  const version = await readManifest(dir);
  await checkLiveFiles(dir, version, tablePath);
  // Table files elsewhere (a backup's shared files) are listed by their own meta files.
  if (holder === undefined && tablePath === undefined) checkNoUnlistedTableFiles(dir, names, version);
  return { version, wals: await listWalFiles(dir), live: holder !== undefined };
}

/** What a full verification of a checkpoint read. */
export interface CheckpointVerification {
  readonly columnFamilies: number;
  readonly tableFiles: number;
  /** Point entries read from all table files (every version, before merging). */
  readonly tableEntries: number;
  /** WAL files replayed (every record's checksum and every write batch decoded). */
  readonly walFiles: number;
  /** Torn WAL tails tolerated (with walRecovery 'tolerate-tail'). */
  readonly warnings: readonly SourceWarning[];
  /** Another process held the LOCK (allowed by the caller). */
  readonly live: boolean;
}

/**
 * `verify <checkpoint-dir>`: the structural check, then every block of every live table file of
 * every column family (verifyTableFiles) and every record of every WAL file recovery reads.
 */
export async function verifyRocksDbCheckpoint(
  dir: string,
  options: Readonly<{ walRecovery?: WalRecoveryMode; allowLive?: boolean; tableFilePath?: TableFilePath }> = {},
): Promise<CheckpointVerification> {
  const { version, wals, live } = await openCheckpointStructure(dir, options.allowLive ?? false, options.tableFilePath);
  const tables = await verifyTableFiles(dir, version, options.tableFilePath);
  const replayed = walsToReplay(version, wals);
  const dropped: WalTailDropped[] = [];
  const gaps: WalSequenceGap[] = [];
  await replayWal(replayed, new Map(version.columnFamilies.map((cf) => [cf.id, cf.logNumber])), {
    recovery: options.walRecovery ?? 'tolerate-tail',
    lastWalNumber: wals[wals.length - 1]?.number ?? -1,
    onTailDropped: (d) => dropped.push(d),
    onSequenceGap: (g) => gaps.push(g),
  });
  return { ...tables, walFiles: replayed.length, warnings: [...gaps.map(gapWarning), ...dropped.map(tailWarning)], live };
}

/**
 * Full block verification of every live table file of every column family: footer, metaindex,
 * properties, every index block and partition, every data block (checksum, decompression,
 * decoding), the range deletion block, and each file's entry count against its properties.
 * Independent of merging, so families this tool cannot digest (merge operands, wide columns)
 * are verified too.
 */
export async function verifyTableFiles(
  dir: string,
  version: ManifestVersion,
  tablePath: TableFilePath = (name) => join(dir, name),
): Promise<{ columnFamilies: number; tableFiles: number; tableEntries: number }> {
  let tableEntries = 0;
  const files = liveTableFiles(version);
  for (const { file } of files) {
    const path = tablePath(tableFileName(file.number));
    let t: TableReader;
    try {
      t = await TableReader.open(path, {
        largestSequence: sequenceToNumber(file.largestSeqno, version.manifestPath),
        passThroughUnsupportedTypes: true,
      });
    } catch (e) {
      throw specialFileIsCorrupt(e);
    }
    try {
      for await (const cols of t.columns()) tableEntries += cols.length;
      await t.rangeTombstones();
    } catch (e) {
      throw toSourceError(path, e);
    } finally {
      await t.close();
    }
  }
  return { columnFamilies: version.columnFamilies.length, tableFiles: files.length, tableEntries };
}
