/**
 * The RocksDB checkpoint source: CURRENT → MANIFEST → live table files per column family,
 * plus the WAL files the checkpoint holds, merged into each family's live entries.
 */
import type { MergeOperator } from '../merge-operator.js';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { SnapshotError } from '../../format/errors.js';
import { unpackEntries, type PackedEntries } from '../../format/packed.js';
import type { Entry, Source, SourceWarning, TableInfo } from '../source.js';
import { corrupt, sequenceToNumber, unsupported } from './codec.js';
import type { FamilyPlan, PlannedFile } from './family-plan.js';
import { ioError, specialFileIsCorrupt } from './file-io.js';
import { openCheckpointStructure, tableFileName, type TableFilePath } from './structure.js';
import type { ColumnFamilyVersion, ManifestVersion } from './manifest.js';
import { checkEntryCounts, guard, MAX_OPEN_TABLES, RangeMerger, toSourceError, type EntryCounts } from './range-merger.js';
import { cutsInside, largestRun, toRanges } from './range-split.js';
import type { Tombstone } from './range-tombstones.js';
import { TableReader } from './table/index.js';
import { PlaceAhead } from './kernel/place-ahead.js';
import type { FileMeta } from './version-edit.js';
import { gapWarning, replayWal, tailWarning, walsToReplay, ValueType, type MemTable, type WalFile, type WalRecoveryMode, type WalSequenceGap, type WalTailDropped } from './wal.js';
import { resolveFamilyMerge } from './family-merge.js';
import { readCheckpointOptions, type OptionsFile } from './options-file.js';
import type { MergePool } from './parallel/merge-pool.js';
import { checkWorkers, defaultMergeWorkers } from './parallel/workers-option.js';

/** The only comparator whose order is plain bytewise order, which the snapshot format needs. */
const BYTEWISE_COMPARATOR = 'leveldb.BytewiseComparator';
const DEFAULT_BATCH_SIZE = 8192;
/**
 * Table-file bytes per key range, merged one after the other. Ranges bound what a fallback of the
 * merge kernel costs (the JavaScript merger redoes one range, not a whole family). Each range
 * costs a kernel start, a cold read per stream and, to cut it, index separators decoded as keys:
 * at 4 MiB that was ~20% of a digest's CPU once the rest got fast (issue 13), so one thread merges
 * 64 MiB ranges; merge workers take 4 MiB ones (they need several ranges per family to share).
 */
const DEFAULT_RANGE_BYTES = 64 << 20;
const DEFAULT_WORKER_RANGE_BYTES = 4 << 20;
/** Ranges a family needs before its merge goes to worker threads (fewer: not worth their start). */
const PARALLEL_MIN_RANGES = 4;

/** Options of {@link openRocksDbCheckpoint}. */
export type RocksDbSourceOptions = Readonly<
  Partial<{
    /** Most entries per yielded batch. Defaults to 8,192. */
    batchSize: number;
    /** Table-file bytes per key range merged at a time. Defaults to 64 MiB, or 4 MiB with merge workers. */
    rangeBytes: number;
    /**
     * Merge operators beyond RocksDB's built-ins (plugins, presets), looked up by the name the
     * checkpoint records for a column family. Defaults to none.
     */
    mergeOperators: readonly MergeOperator[];
    /** How a torn tail of the newest WAL is treated (wal.ts). Defaults to 'tolerate-tail'. */
    walRecovery: WalRecoveryMode;
    /**
     * Read the database although another process holds its LOCK (live.ts); the source then says
     * so (`live`). Defaults to false: LIVE_DATABASE.
     */
    allowLive: boolean;
    /**
     * Where a live table file is, by the name RocksDB gives it (000012.sst): the hook through
     * which a BackupEngine backup (../rocksdb-backup/) points at its shared files in place.
     * Defaults to the checkpoint directory.
     */
    tableFilePath: TableFilePath;
    /**
     * Worker threads that merge a big family's key ranges beside the caller (parallel/); 0 merges
     * on the calling thread. Defaults to SNAPSHOT_VERIFY_MERGE_WORKERS, or 0.
     */
    workers: number;
    /**
     * Without merge workers, a family with at least this many bytes of table files has its runs
     * of blocks read and placed ahead on a worker thread (kernel/place-ahead.ts) while the
     * calling thread merges: ~20% of the calling thread's work moves to a second core, for
     * 0.25–0.4 CPU-s more and ~16 MB more RSS on the benchmark checkpoint (bench/README.md).
     * Defaults to 32 MiB with two or more cores, Infinity (never) with one or with
     * SNAPSHOT_VERIFY_PLACE_WORKER=0 (defaultPlaceAheadBytes).
     */
    placeAheadBytes: number;
  }>
>;

/** See placeAheadBytes: smaller families do not repay the worker's start. */
const PLACE_AHEAD_BYTES = 32 << 20;

/**
 * The place worker by default: on with two or more cores, as the digest's speed is wall-clock
 * time beside `ldb | xxh64sum`, which uses two processes (quiet 2-core machine, bench/RESULTS.md:
 * 0.95 s instead of 1.10 s wall, for 1.52 instead of 1.25 CPU-s and 103 instead of 87 MB). It
 * costs more than it saves on cores busy with other work, so SNAPSHOT_VERIFY_PLACE_WORKER=0 turns
 * it off (=1 turns it on with one core). Either way the entries and errors are the same.
 */
export function defaultPlaceAheadBytes(env: string | undefined, cores: number): number {
  if (env === '0') return Infinity;
  if (env === '1') return PLACE_AHEAD_BYTES;
  return cores >= 2 ? PLACE_AHEAD_BYTES : Infinity;
}

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
 * Families using unsupported features (blob files, user-defined timestamps, non-bytewise
 * comparators) are listed, and rejected with UNSUPPORTED_FEATURE when read. Merge operands are
 * merged with the operator the checkpoint names for their family (family-merge.ts).
 */
export async function openRocksDbCheckpoint(dir: string, options: RocksDbSourceOptions = {}): Promise<Source> {
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new SnapshotError('NOT_FOUND', `${dir} is not a directory`, { file: dir });
  } catch (e) {
    throw ioError(dir, e);
  }
  const { batchSize, rangeBytes, workers, placeAheadBytes } = readOptions(options);
  const mergeOperators = checkMergeOperators(options.mergeOperators ?? []);
  const tablePath = options.tableFilePath ?? ((name: string) => join(dir, name));
  const { version, wals, live } = await openCheckpointStructure(dir, options.allowLive ?? false, options.tableFilePath);
  const optionsFile = await readCheckpointOptions(dir);
  return new RocksDbSource(dir, version, wals, {
    batchSize,
    rangeBytes,
    walRecovery: options.walRecovery ?? 'tolerate-tail',
    live,
    mergeOperators,
    optionsFile,
    tablePath,
    workers,
    placeAheadBytes,
  });
}

/** The read options every opener takes, defaulted and checked (positive integers). */
function readOptions(options: RocksDbSourceOptions): { batchSize: number; rangeBytes: number; workers: number; placeAheadBytes: number } {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const placeAheadBytes = options.placeAheadBytes ?? defaultPlaceAheadBytes(process.env['SNAPSHOT_VERIFY_PLACE_WORKER'], availableParallelism());
  if (!(placeAheadBytes >= 0)) throw new SnapshotError('INVALID_ARGUMENT', `placeAheadBytes must be a non-negative number, got ${placeAheadBytes}`);
  const workers = checkWorkers(options.workers ?? defaultMergeWorkers());
  const rangeBytes = options.rangeBytes ?? (workers > 0 ? DEFAULT_WORKER_RANGE_BYTES : DEFAULT_RANGE_BYTES);
  for (const [name, v] of [['batchSize', batchSize], ['rangeBytes', rangeBytes]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) {
      throw new SnapshotError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${v}`);
    }
  }
  return { batchSize, rangeBytes, workers, placeAheadBytes };
}

/**
 * A source over a version described by something other than a MANIFEST: an exported column
 * family's metadata (../rocksdb-export/). It has no WAL and no OPTIONS file (merge operators come
 * from the table files' properties or plugins); the caller has checked its table files.
 */
export function openRocksDbVersion(dir: string, version: ManifestVersion, options: RocksDbSourceOptions = {}): Source {
  const { batchSize, rangeBytes, workers, placeAheadBytes } = readOptions(options);
  return new RocksDbSource(dir, version, [], {
    batchSize,
    rangeBytes,
    walRecovery: 'tolerate-tail',
    live: false,
    mergeOperators: checkMergeOperators(options.mergeOperators ?? []),
    optionsFile: undefined,
    tablePath: options.tableFilePath ?? ((name: string) => join(dir, name)),
    workers,
    placeAheadBytes,
  });
}

class RocksDbSource implements Source {
  readonly kind = 'rocksdb';
  private readonly active = new Set<AsyncGenerator<unknown>>();
  private closed = false;
  /** Torn WAL tails dropped, by file and offset (the WAL is replayed once per table read). */
  private readonly dropped = new Map<string, WalTailDropped>();
  /** Sequence gaps between WAL files, by the file after the gap (reported once). */
  private readonly gaps = new Map<string, WalSequenceGap>();
  /** Merge workers, started by the first family big enough for them (null: they could not start). */
  private pool: MergePool | null | undefined;
  readonly live: boolean;

  constructor(
    private readonly dir: string,
    private readonly version: ManifestVersion,
    private readonly wals: readonly WalFile[],
    private readonly options: {
      readonly batchSize: number;
      readonly rangeBytes: number;
      readonly walRecovery: WalRecoveryMode;
      readonly live: boolean;
      readonly mergeOperators: readonly MergeOperator[];
      readonly optionsFile: OptionsFile | SnapshotError | undefined;
      readonly tablePath: TableFilePath;
      readonly workers: number;
      readonly placeAheadBytes: number;
    },
  ) {
    this.live = options.live;
  }

  /** What was tolerated rather than read: torn WAL tails dropped, sequence gaps (empty when none). */
  warnings(): readonly SourceWarning[] {
    return [...[...this.gaps.values()].map(gapWarning), ...[...this.dropped.values()].map(tailWarning)];
  }

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
    const packed = this.packedEntries(table);
    return {
      [Symbol.asyncIterator]: () => {
        const it = packed[Symbol.asyncIterator]();
        return {
          next: async () => {
            const r = await it.next();
            // Entries must stay valid; a packed batch only until the next one: unpack a copy.
            return r.done === true ? r : { done: false, value: unpackEntries({ bytes: r.value.bytes.slice(), count: r.value.count }) };
          },
          return: async () => {
            await it.return?.();
            return { done: true, value: undefined };
          },
        };
      },
    };
  }

  packedEntries(table: string): AsyncIterable<PackedEntries> {
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
    await this.pool?.close();
    this.pool = undefined;
  }

  private checkOpen(): void {
    if (this.closed) throw new SnapshotError('INVALID_ARGUMENT', 'the RocksDB source is closed');
  }

  /**
   * The family's live entries: its key space cut into ranges, merged one after the other.
   * Every file's entries read over all ranges must add up to its properties' count.
   */
  private async *generate(table: string): AsyncGenerator<PackedEntries> {
    this.checkOpen();
    const cf = this.version.columnFamilies.find((c) => c.name === table);
    if (cf === undefined) {
      throw new SnapshotError('UNKNOWN_TABLE', `no column family ${JSON.stringify(table)} in ${this.dir}`, {
        file: this.version.manifestPath,
      });
    }
    checkFamilySupported(cf, this.version.manifestPath);
    // Workers start before planning, so that they load while the plan is read.
    const bytes = allFiles(cf).reduce((n, f) => n + f.fileSize, 0);
    if (bytes >= PARALLEL_MIN_RANGES * this.options.rangeBytes && this.options.workers > 0) {
      // Loaded on use: a source without workers never loads the pool.
      this.pool ??= (await import('./parallel/merge-pool.js')).MergePool.create(this.options.workers) ?? null;
    }
    // Likewise the place worker (it places nothing for families whose merge goes to the pool).
    const fetch = this.options.workers === 0 && bytes >= this.options.placeAheadBytes ? PlaceAhead.get()?.fetch : undefined;
    const { plan, splits, readers } = await this.plan(cf);
    const counts: EntryCounts = new Map();
    const ranges = toRanges(splits);
    if (this.pool && ranges.length >= PARALLEL_MIN_RANGES && plan.merge.operator === undefined) {
      // (Operators are functions, which cannot cross threads.)
      // The workers open the files themselves.
      await Promise.all(readers.map((t) => t.close()));
      yield* this.pool.merge(plan, ranges, counts);
      checkEntryCounts(plan, counts);
      return;
    }
    const merger = new RangeMerger(plan, fetch);
    for (const t of readers) merger.adopt(t);
    try {
      for (const range of ranges) yield* merger.merge(range, counts);
    } finally {
      await merger.close();
    }
    checkEntryCounts(plan, counts);
  }

  /**
   * Reads what merging the family needs besides point entries: the WAL's memtable, every
   * file's properties and range tombstones (they apply across levels by sequence number, so
   * all are gathered first), and keys that cut the family into ranges of about `rangeBytes` of
   * table files (range-split.ts). The table readers stay open for the merge (closed on error).
   */
  private async plan(cf: ColumnFamilyVersion): Promise<{ plan: FamilyPlan; splits: Uint8Array[]; readers: TableReader[] }> {
    const readers: TableReader[] = [];
    try {
      return { ...(await this.planWith(cf, readers)), readers };
    } catch (e) {
      await Promise.all(readers.map((t) => t.close()));
      throw e;
    }
  }

  /** As plan; the readers it opens are left open in `readers`, for the merge to reuse. */
  private async planWith(cf: ColumnFamilyVersion, readers: TableReader[]): Promise<{ plan: FamilyPlan; splits: Uint8Array[] }> {
    const memtable = (await this.replay([cf])).get(cf.id)!;
    const tombstones: Tombstone[] = [...memtable.rangeTombstones];
    const splitRun = largestRun([...cf.level0.map((f) => [f]), ...cf.levels]);
    const splits: Uint8Array[] = [];
    const planned = new Map<FileMeta, PlannedFile>();
    let tableFileOperator: string | undefined;
    for (const f of allFiles(cf)) {
      const t = await this.open(f);
      // The first readers stay open for the merge (plan closes them on error); beyond the
      // merge's cap of open files, they close at once.
      const kept = readers.length < MAX_OPEN_TABLES;
      if (kept) readers.push(t);
      try {
        checkTableProperties(cf, t);
        const op = t.properties.mergeOperator;
        if (tableFileOperator === undefined && op !== undefined && op !== '' && op !== 'nullptr') tableFileOperator = op;
        for (const rt of await guard(t.path, () => t.rangeTombstones())) {
          tombstones.push({ start: rt.start, end: rt.end, sequence: sequenceToNumber(rt.sequence, t.path) });
        }
        planned.set(f, {
          path: t.path,
          level: f.level,
          largestSequence: sequenceToNumber(f.largestSeqno, this.version.manifestPath),
          smallest: userKeyOf(f.smallest),
          largest: userKeyOf(f.largest),
          pointEntries: t.pointEntries,
          indexOffset: t.indexOffset,
        });
        if (splitRun?.includes(f) === true) {
          // The file's first key starts a range (after the first file); big files are cut inside too.
          if (f !== splitRun[0]) splits.push(userKeyOf(f.smallest));
          const inside = cutsInside(f.fileSize, this.options.rangeBytes);
          if (inside > 0) splits.push(...(await guard(t.path, () => t.splitKeys(inside))));
        }
      } finally {
        if (!kept) await t.close();
      }
    }
    const plan: FamilyPlan = {
      table: cf.name,
      memtable: memtable.entries,
      memtableLabel: join(this.dir, '(WAL)'),
      tombstones,
      level0: cf.level0.map((f) => planned.get(f)!),
      levels: cf.levels.filter((files) => files.length > 0).map((files) => files.map((f) => planned.get(f)!)),
      batchSize: this.options.batchSize,
      merge: resolveFamilyMerge({ table: cf.name, options: this.options.optionsFile, tableFileOperator, plugins: this.options.mergeOperators }),
    };
    return { plan, splits };
  }

  private async open(f: FileMeta): Promise<TableReader> {
    const path = this.options.tablePath(tableFileName(f.number));
    try {
      // Ingested external files take their sequence number from the MANIFEST (table-reader.ts).
      return await TableReader.open(path, {
        largestSequence: sequenceToNumber(f.largestSeqno, this.version.manifestPath),
        passThroughUnsupportedTypes: true,
      });
    } catch (e) {
      if (e instanceof SnapshotError && e.code === 'NOT_FOUND') {
        throw corrupt(path, 0, `live table file ${f.number} (level ${f.level}) is missing from the checkpoint`);
      }
      throw toSourceError(path, specialFileIsCorrupt(e));
    }
  }

  private async replay(families: readonly ColumnFamilyVersion[]): Promise<Map<number, MemTable>> {
    const logNumbers = new Map(families.map((cf) => [cf.id, cf.logNumber]));
    return replayWal(walsToReplay(this.version, this.wals), logNumbers, {
      recovery: this.options.walRecovery,
      lastWalNumber: this.wals[this.wals.length - 1]?.number ?? -1,
      onTailDropped: (d) => this.dropped.set(`${d.file}\0${d.offset}`, d),
      onSequenceGap: (g) => this.gaps.set(g.file, g),
    });
  }
}

/** Plugins must be operators (a name and a full merge), one per name. */
function checkMergeOperators(ops: readonly MergeOperator[]): readonly MergeOperator[] {
  const names = new Set<string>();
  for (const op of ops) {
    if (typeof op?.name !== 'string' || typeof op.fullMerge !== 'function') {
      throw new SnapshotError('INVALID_ARGUMENT', 'a merge operator must have a string name and a fullMerge function');
    }
    if (names.has(op.name)) throw new SnapshotError('INVALID_ARGUMENT', `two merge operators are named ${JSON.stringify(op.name)}`);
    names.add(op.name);
  }
  return ops;
}

function userKeyOf(internalKey: Uint8Array): Uint8Array {
  return internalKey.slice(0, internalKey.length - 8);
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

function checkTableProperties(cf: ColumnFamilyVersion, t: TableReader): void {
  const name = t.properties.comparator;
  if (name !== undefined && name !== '' && name !== BYTEWISE_COMPARATOR) {
    throw unsupported(t.path, `table file of column family ${JSON.stringify(cf.name)} is ordered by comparator ${JSON.stringify(name)}; only ${BYTEWISE_COMPARATOR} is supported`);
  }
}
