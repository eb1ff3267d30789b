/**
 * The RocksDB checkpoint source: CURRENT → MANIFEST → live table files per column family,
 * plus the WAL files the checkpoint holds, merged into each family's live entries.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SnapshotError } from '../../format/errors.js';
import type { Entry, Source, TableInfo } from '../source.js';
import { corrupt, sequenceToNumber, unsupported } from './codec.js';
import { ioError } from './file-io.js';
import { readManifest, type ColumnFamilyVersion, type ManifestVersion } from './manifest.js';
import { mergeLiveEntries, StreamCursor, type SourceBatch } from './merge.js';
import { RangeTombstoneCursor, type Tombstone } from './range-tombstones.js';
import { openTableFile, type OpenTable, type TableLike } from './table-port.js';
import type { FileMeta } from './version-edit.js';
import { BlockFetchPool } from './block-fetch-pool.js';
import { listWalFiles, replayWal, ValueType, type MemTable, type WalFile } from './wal.js';

/** The only comparator whose order is plain bytewise order, which the snapshot format needs. */
const BYTEWISE_COMPARATOR = 'leveldb.BytewiseComparator';
const DEFAULT_BATCH_SIZE = 1024;

/** Options of {@link openRocksDbCheckpoint}. */
export type RocksDbSourceOptions = Readonly<
  Partial<{
    /** Entries per yielded batch. Defaults to 1,024. */
    batchSize: number;
    /** Opens a table file. Defaults to the table reader of `table/`. */
    openTable: OpenTable;
    /**
     * Worker threads that read, verify and decompress data blocks while this thread parses,
     * merges and encodes (block-fetch-pool.ts); 0 reads in-thread. Ignored when `openTable` is
     * given, or when running from TypeScript sources. Defaults to 1. (Decoding whole tables in
     * workers was measured slower on 2 cores: entries must be packed and copied across.)
     */
    fetchThreads: number;
  }>
>;

/** True when `dir` looks like a RocksDB database or checkpoint (it has a CURRENT file). */
export async function isRocksDbCheckpoint(dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, 'CURRENT'))).isFile();
  } catch {
    return false;
  }
}

/**
 * Opens a RocksDB checkpoint directory read-only: reads CURRENT and replays the MANIFEST now
 * (so a bad checkpoint fails here), and reads table files and WALs lazily per table.
 * Throws NOT_FOUND when the directory or CURRENT is missing, CORRUPT_CHECKPOINT for bad bytes.
 * Families using unsupported features (blob files, merge operands, user-defined timestamps,
 * non-bytewise comparators) are listed, and rejected with UNSUPPORTED_FEATURE when read.
 */
export async function openRocksDbCheckpoint(dir: string, options: RocksDbSourceOptions = {}): Promise<Source> {
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new SnapshotError('NOT_FOUND', `${dir} is not a directory`, { file: dir });
  } catch (e) {
    throw ioError(dir, e);
  }
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new SnapshotError('INVALID_ARGUMENT', `batchSize must be a positive integer, got ${batchSize}`);
  }
  const version = await readManifest(dir);
  const wals = await listWalFiles(dir);
  const fetchPool = options.openTable === undefined ? BlockFetchPool.create(options.fetchThreads ?? 1) : undefined;
  const openTable: OpenTable =
    options.openTable ?? (fetchPool === undefined ? openTableFile : (path, o = {}) => openTableFile(path, { ...o, blockFetcher: fetchPool }));
  return new RocksDbSource(dir, version, wals, openTable, batchSize, fetchPool);
}

class RocksDbSource implements Source {
  readonly kind = 'rocksdb';
  private readonly active = new Set<AsyncGenerator<unknown>>();
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly version: ManifestVersion,
    private readonly wals: readonly WalFile[],
    private readonly openTable: OpenTable,
    private readonly batchSize: number,
    private readonly fetchPool: BlockFetchPool | undefined,
  ) {}

  /**
   * The live column families, sorted by name. `estimatedEntries` is, over the family's live
   * table files, the sum of (num_entries − num_deletions) from their table properties, plus
   * the WAL's puts minus its deletions for the family. Overwritten keys are counted once per
   * version, so it over-estimates after overwrites and can be 0 when only deletions remain.
   * It is omitted for families that `entries` would refuse (UNSUPPORTED_FEATURE), which are
   * still listed so that callers can name them.
   */
  async listTables(): Promise<readonly TableInfo[]> {
    this.checkOpen();
    const memtables = await this.replay(this.version.columnFamilies);
    const out: TableInfo[] = [];
    for (const cf of this.version.columnFamilies) {
      try {
        checkFamilySupported(cf, this.version.manifestPath);
        out.push({ name: cf.name, estimatedEntries: await this.estimate(cf, memtables.get(cf.id)) });
      } catch (e) {
        if (!(e instanceof SnapshotError && e.code === 'UNSUPPORTED_FEATURE')) throw e;
        out.push({ name: cf.name });
      }
    }
    return out;
  }

  private async estimate(cf: ColumnFamilyVersion, memtable: MemTable | undefined): Promise<number> {
    let estimate = 0;
    for (const f of allFiles(cf)) {
      const table = await this.open(f);
      try {
        estimate += table.properties.numEntries - (table.properties.numDeletions ?? 0);
      } finally {
        await table.close();
      }
    }
    for (const e of memtable?.entries ?? []) {
      estimate += e.type === ValueType.Value ? 1 : e.type === ValueType.Deletion || e.type === ValueType.SingleDeletion ? -1 : 0;
    }
    return Math.max(0, estimate);
  }

  entries(table: string): AsyncIterable<readonly Entry[]> {
    const gen = this.generate(table);
    this.active.add(gen);
    const active = this.active;
    return {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          try {
            const r = await gen.next();
            if (r.done === true) active.delete(gen);
            return r;
          } catch (e) {
            active.delete(gen);
            throw e;
          }
        },
        return: async () => {
          active.delete(gen);
          return gen.return(undefined);
        },
      }),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const running = [...this.active];
    this.active.clear();
    await Promise.all(running.map((g) => g.return(undefined).catch(() => undefined)));
    await this.fetchPool?.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new SnapshotError('INVALID_ARGUMENT', 'the RocksDB source is closed');
  }

  private async *generate(table: string): AsyncGenerator<Entry[]> {
    this.checkOpen();
    const cf = this.version.columnFamilies.find((c) => c.name === table);
    if (cf === undefined) {
      throw new SnapshotError('UNKNOWN_TABLE', `no column family ${JSON.stringify(table)} in ${this.dir}`, {
        file: this.version.manifestPath,
      });
    }
    checkFamilySupported(cf, this.version.manifestPath);
    const memtable = (await this.replay([cf])).get(cf.id)!;

    // Range tombstones apply across all levels by sequence number, so they are gathered from
    // every live file before the first entry is produced.
    const tombstones: Tombstone[] = [...memtable.rangeTombstones];
    for (const f of allFiles(cf)) {
      const t = await this.open(f);
      try {
        checkTableProperties(cf, t);
        for (const rt of await guard(t.path, () => t.rangeTombstones())) {
          tombstones.push({ start: rt.start, end: rt.end, sequence: sequenceToNumber(rt.sequence, t.path) });
        }
      } finally {
        await t.close();
      }
    }

    const cursors: StreamCursor[] = [];
    let rank = 0;
    cursors.push(new StreamCursor(rank++, memtableStream(memtable, join(this.dir, '(WAL)'))));
    for (const f of cf.level0) cursors.push(new StreamCursor(rank++, this.filesStream(cf, [f])));
    for (const files of cf.levels) {
      if (files.length > 0) cursors.push(new StreamCursor(rank++, this.filesStream(cf, files)));
    }
    yield* mergeLiveEntries(cursors, new RangeTombstoneCursor(tombstones), {
      table: cf.name,
      batchSize: this.batchSize,
    });
  }

  /** The files of one L0 file or one sorted level, opened one at a time, in order. */
  private async *filesStream(cf: ColumnFamilyVersion, files: readonly FileMeta[]): AsyncGenerator<SourceBatch> {
    for (const f of files) {
      const t = await this.open(f);
      try {
        checkTableProperties(cf, t);
        if (t.columns !== undefined) {
          const it = t.columns()[Symbol.asyncIterator]();
          for (;;) {
            const r = await guard(t.path, () => it.next());
            if (r.done === true) break;
            yield { file: t.path, columns: r.value };
          }
        } else {
          const it = t.entries()[Symbol.asyncIterator]();
          for (;;) {
            const r = await guard(t.path, () => it.next());
            if (r.done === true) break;
            yield { file: t.path, entries: r.value };
          }
        }
      } finally {
        await t.close();
      }
    }
  }

  private async open(f: FileMeta): Promise<TableLike> {
    const path = join(this.dir, `${String(f.number).padStart(6, '0')}.sst`);
    try {
      // Ingested external files take their sequence number from the MANIFEST (table-port.ts).
      return await this.openTable(path, { largestSequence: sequenceToNumber(f.largestSeqno, this.version.manifestPath) });
    } catch (e) {
      if (e instanceof SnapshotError && e.code === 'NOT_FOUND') {
        throw corrupt(path, 0, `live table file ${f.number} (level ${f.level}) is missing from the checkpoint`);
      }
      throw toSourceError(path, e);
    }
  }

  private async replay(families: readonly ColumnFamilyVersion[]): Promise<Map<number, MemTable>> {
    const logNumbers = new Map(families.map((cf) => [cf.id, cf.logNumber]));
    const min = Math.min(...families.map((cf) => cf.logNumber));
    const prev = this.version.prevLogNumber;
    // RocksDB recovers WAL files from the oldest family log number on (and the legacy
    // "previous log"); older files in the directory were fully flushed.
    const wals = this.wals.filter((w) => w.number >= min || (prev !== 0 && w.number === prev));
    return replayWal(wals, logNumbers);
  }
}

async function* memtableStream(memtable: MemTable, label: string): AsyncGenerator<SourceBatch> {
  if (memtable.entries.length > 0) yield { file: label, entries: memtable.entries };
}

function allFiles(cf: ColumnFamilyVersion): FileMeta[] {
  return [...cf.level0, ...cf.levels.flat()];
}

/** Refuses families whose entries this source cannot reproduce exactly. */
function checkFamilySupported(cf: ColumnFamilyVersion, manifest: string): void {
  const name = cf.comparator;
  if (name !== undefined && name !== BYTEWISE_COMPARATOR) {
    const why = name.startsWith(`${BYTEWISE_COMPARATOR}.u64ts`) ? ' (user-defined timestamps)' : '';
    throw unsupported(manifest, `column family ${JSON.stringify(cf.name)} uses comparator ${JSON.stringify(name)}${why}; only ${BYTEWISE_COMPARATOR} is supported`);
  }
  if (cf.blobFiles) {
    throw unsupported(manifest, `column family ${JSON.stringify(cf.name)} has blob files (BlobDB, enable_blob_files), which are not supported`);
  }
  if (cf.userDefinedTimestamps) {
    throw unsupported(manifest, `column family ${JSON.stringify(cf.name)} uses user-defined timestamps, which are not supported`);
  }
}

function checkTableProperties(cf: ColumnFamilyVersion, t: TableLike): void {
  const name = t.properties.comparator;
  if (name !== undefined && name !== '' && name !== BYTEWISE_COMPARATOR) {
    throw unsupported(t.path, `table file of column family ${JSON.stringify(cf.name)} is ordered by comparator ${JSON.stringify(name)}; only ${BYTEWISE_COMPARATOR} is supported`);
  }
}

/** Runs a table-reader call, turning anything but a SnapshotError into one. */
async function guard<T>(file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toSourceError(file, e);
  }
}

/** File-system errors become IO_ERROR; anything else a reader throws means bad bytes. */
function toSourceError(file: string, e: unknown): SnapshotError {
  if (e instanceof SnapshotError) return e;
  if (typeof (e as { code?: unknown } | null)?.code === 'string' && (e as { syscall?: unknown }).syscall !== undefined) {
    return ioError(file, e);
  }
  return new SnapshotError('CORRUPT_CHECKPOINT', `cannot decode ${file}: ${(e as Error)?.message ?? String(e)}`, {
    file,
    cause: e,
  });
}
