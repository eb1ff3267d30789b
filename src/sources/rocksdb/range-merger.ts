/**
 * Merges one key range [lo, hi) of a column family (family-plan.ts) into packed live entries.
 * Ranges partition the user-key space, so every version of a key is in one range and ranges
 * can be merged independently and concatenated in order. Each file's entries read in each
 * range are counted: over all ranges of a family they must add up to what the file's
 * properties announce (checkEntryCounts).
 */
import { SnapshotError } from '../../format/errors.js';
import { packedRecordAt, type PackedEntries } from '../../format/packed.js';
import { KernelFallback, MergeKernel, memtableRun, type KernelBatch, type KernelRun, type KernelStream } from './kernel/kernel-merger.js';
import type { MergeOperator } from '../merge-operator.js';
import { resolveMergeGroups } from './family-merge.js';
import { compareBytes } from '../../format/bytes.js';
import { corrupt } from './codec.js';
import type { FamilyPlan, PlannedFile } from './family-plan.js';
import { ioError } from './file-io.js';
import { mergeLiveEntries, StreamCursor, type SourceBatch } from './merge.js';
import { RangeTombstoneCursor } from './range-tombstones.js';
import { RunScratch, TableReader, type KeyRange, type RunFetch } from './table/index.js';
import type { MemEntry } from './wal.js';

/** Open table readers kept per merger: enough for the L0 files and a few per level. */
export const MAX_OPEN_TABLES = 64;

/** Entries read per file path, summed over ranges. */
export type EntryCounts = Map<string, number>;

export class RangeMerger {
  /** Open readers, least recently used first (Map keeps insertion order). */
  private readonly open = new Map<string, Promise<TableReader>>();
  /** Read and decompression memory per stream rank, reused from range to range. */
  private readonly scratch: RunScratch[] = [];
  /** Readers being iterated (never evicted), with their number of users. */
  private readonly busy = new Map<string, number>();
  private closed = false;

  /**
   * With `fetch` (place-ahead.ts), the kernel's runs are read and placed ahead on a worker
   * thread; the JavaScript merger always reads its own.
   */
  constructor(
    readonly plan: FamilyPlan,
    private readonly fetch?: RunFetch,
  ) {}

  /**
   * The live entries of `range`, packed; adds each file's entries read to `counts`. The kernel
   * merges when it can (merge groups it writes are resolved here with the family's operator);
   * when it stops (KernelFallback), or the operator fails, the JavaScript merger redoes the
   * range, counting afresh, and only its entries after the kernel's last one are kept: it either
   * reports the error the kernel stopped at, or produces the rest. A batch is valid until the
   * next one is requested (the kernel's output is reused).
   */
  async *merge(range: KeyRange, counts: EntryCounts): AsyncGenerator<PackedEntries> {
    const local: EntryCounts = new Map();
    let last: Uint8Array | undefined;
    const kernel = idleKernels.pop() ?? new MergeKernel();
    try {
      const streams = this.kernelStreams(range);
      const { operator } = this.plan.merge;
      for await (const k of kernel.merge(streams, range.lo, range.hi, this.plan.tombstones, this.plan.batchSize, (f, n) => addCount(local, f, n), operator !== undefined)) {
        const p = k.mergeGroups > 0 ? resolveOrFallBack(k, operator!, this.plan.table) : k;
        last = keyAt(p.bytes, p.lastRecord);
        yield p;
      }
      for (const [f, n] of local) addCount(counts, f, n);
      return;
    } catch (e) {
      if (!(e instanceof KernelFallback)) throw e;
    } finally {
      idleKernels.push(kernel);
    }
    for await (const p of this.mergeJs(range, counts)) {
      const rest = last === undefined ? p : after(p, last);
      if (rest.count > 0) yield rest;
    }
  }

  /**
   * The sorted streams of `range`, by rank (lower is newer): the memtable (rank 0), each L0
   * file, then each level, keeping only files whose key span meets the range. Ranks do not
   * depend on the range, so both mergers break ties the same way.
   */
  private streams(range: KeyRange): { rank: number; files: readonly PlannedFile[] }[] {
    const out: { rank: number; files: readonly PlannedFile[] }[] = [];
    let rank = 1;
    for (const files of [...this.plan.level0.map((f) => [f]), ...this.plan.levels]) {
      const hit = files.filter((f) => overlaps(f, range));
      if (hit.length > 0) out.push({ rank, files: hit });
      rank++;
    }
    return out;
  }

  /** The kernel's streams for `range`. */
  private kernelStreams(range: KeyRange): KernelStream[] {
    const plan = this.plan;
    const mem = memtableRun(sliceMemtable(plan.memtable, range), plan.memtableLabel);
    return [
      { rank: 0, runs: once(mem) },
      ...this.streams(range).map(({ rank, files }) => {
        // The kernel places each run in its memory before asking for the next, so a stream's read buffers are reused.
        const scratch = (this.scratch[rank] ??= new RunScratch());
        const runs = this.readFiles(
          files,
          (t) => t.rangeRawRuns(range, scratch, this.fetch),
          (t, raw): KernelRun => ({ raw, reader: t, file: t.path, globalSequence: t.globalSequence }),
        );
        return { rank, runs };
      }),
    ];
  }

  /**
   * What `read` yields for each of `files` in turn, mapped by `map`. A file's reader is marked
   * busy while it is read (never evicted then), and its iteration is closed if abandoned.
   */
  private async *readFiles<T, U>(
    files: readonly PlannedFile[],
    read: (t: TableReader) => AsyncIterable<T>,
    map: (t: TableReader, item: T) => U,
  ): AsyncGenerator<U> {
    for (const f of files) {
      this.busy.set(f.path, (this.busy.get(f.path) ?? 0) + 1);
      try {
        const t = await this.reader(f);
        const it = read(t)[Symbol.asyncIterator]();
        try {
          for (;;) {
            const r = await guard(f.path, () => it.next());
            if (r.done === true) break;
            yield map(t, r.value);
          }
        } finally {
          await it.return?.();
        }
      } finally {
        const users = this.busy.get(f.path)! - 1;
        if (users === 0) this.busy.delete(f.path);
        else this.busy.set(f.path, users);
      }
    }
  }

  /** As merge, by the JavaScript merger alone. */
  private async *mergeJs(range: KeyRange, counts: EntryCounts): AsyncGenerator<PackedEntries> {
    const plan = this.plan;
    const cursors = [new StreamCursor(0, memtableStream(sliceMemtable(plan.memtable, range), plan.memtableLabel))];
    for (const { rank, files } of this.streams(range)) {
      const batches = this.readFiles(files, (t) => t.rangeColumns(range), (t, columns): SourceBatch => {
        addCount(counts, t.path, columns.length);
        return { file: t.path, columns };
      });
      cursors.push(new StreamCursor(rank, batches));
    }
    yield* mergeLiveEntries(cursors, new RangeTombstoneCursor(plan.tombstones), { table: plan.table, batchSize: plan.batchSize, merge: plan.merge });
  }

  /** Closes every open table file. */
  async close(): Promise<void> {
    this.closed = true;
    const readers = [...this.open.values()];
    this.open.clear();
    await Promise.all(readers.map((r) => r.then((t) => t.close()).catch(() => undefined)));
  }

  /**
   * Takes over a reader opened while planning the family (its footer, properties and index are
   * read already), so that the merge does not open and read them again.
   */
  adopt(t: TableReader): void {
    this.keep(t.path, Promise.resolve(t));
  }

  private async reader(f: PlannedFile): Promise<TableReader> {
    if (this.closed) throw new SnapshotError('IO_ERROR', 'the RocksDB source is closed', { file: f.path });
    let r = this.open.get(f.path);
    if (r === undefined) {
      r = openTable(f);
      r.catch(() => undefined);
    }
    this.keep(f.path, r);
    return r;
  }

  /** Makes `r` the most recently used reader, closing the least recently used idle ones over the cap. */
  private keep(path: string, r: Promise<TableReader>): void {
    this.open.delete(path);
    for (const [p, t] of this.open) {
      if (this.open.size < MAX_OPEN_TABLES) break;
      if (this.busy.has(p)) continue;
      this.open.delete(p);
      void t.then((x) => x.close()).catch(() => undefined);
    }
    this.open.set(path, r);
  }

}

/** A kernel batch's merge groups resolved; a failing operator makes the JavaScript merger redo the range (it names the file). */
function resolveOrFallBack(batch: KernelBatch, operator: MergeOperator, table: string): KernelBatch {
  try {
    return resolveMergeGroups(batch, operator, table);
  } catch {
    throw new KernelFallback(MERGE_FAILED_REASON);
  }
}

/** KernelFallback's reason for an operator that failed on a kernel batch (the kernel's own are 1–5). */
const MERGE_FAILED_REASON = 100;

function addCount(counts: EntryCounts, file: string, n: number): void {
  counts.set(file, (counts.get(file) ?? 0) + n);
}

/** Kernel instances not merging now: one per concurrent merge, reused (each keeps its grown memory). */
const idleKernels: MergeKernel[] = [];

/** A copy of the key of the record at `at`. */
function keyAt(bytes: Uint8Array, at: number): Uint8Array {
  const { keyLength } = packedRecordAt(bytes, at);
  return bytes.slice(at + 9, at + 9 + keyLength);
}

/** The records of a packed batch whose key sorts after `key`. */
function after(p: PackedEntries, key: Uint8Array): PackedEntries {
  let q = 0;
  let skipped = 0;
  while (q < p.bytes.length) {
    const { keyLength, valueLength } = packedRecordAt(p.bytes, q);
    if (compareBytes(p.bytes.subarray(q + 9, q + 9 + keyLength), key) > 0) break;
    q += 9 + keyLength + valueLength;
    skipped++;
  }
  return skipped === 0 ? p : { bytes: p.bytes.subarray(q), count: p.count - skipped };
}

/** Throws CORRUPT_CHECKPOINT for the first file whose entries read over all ranges differ from its properties. */
export function checkEntryCounts(plan: FamilyPlan, counts: EntryCounts): void {
  for (const f of [...plan.level0, ...plan.levels.flat()]) {
    const n = counts.get(f.path) ?? 0;
    if (n !== f.pointEntries) throw corrupt(f.path, f.indexOffset, `read ${n} point entries, properties say ${f.pointEntries}`);
  }
}

async function openTable(f: PlannedFile): Promise<TableReader> {
  try {
    return await TableReader.open(f.path, { largestSequence: f.largestSequence, passThroughUnsupportedTypes: true });
  } catch (e) {
    if (e instanceof SnapshotError && e.code === 'NOT_FOUND') {
      throw corrupt(f.path, 0, `live table file (level ${f.level}) is missing from the checkpoint`);
    }
    throw toSourceError(f.path, e);
  }
}

function overlaps(f: PlannedFile, range: KeyRange): boolean {
  return (range.hi === undefined || compareBytes(f.smallest, range.hi) < 0) && (range.lo === undefined || compareBytes(f.largest, range.lo) >= 0);
}

/** The memtable entries whose user key is in `range` (the memtable is sorted). */
function sliceMemtable(entries: readonly MemEntry[], range: KeyRange): readonly MemEntry[] {
  const at = (key: Uint8Array | undefined, dflt: number): number => {
    if (key === undefined) return dflt;
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(entries[mid]!.userKey, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const from = at(range.lo, 0);
  const to = at(range.hi, entries.length);
  return from === 0 && to === entries.length ? entries : entries.slice(from, Math.max(from, to));
}

async function* once(run: KernelRun | undefined): AsyncGenerator<KernelRun> {
  if (run !== undefined) yield run;
}

async function* memtableStream(entries: readonly MemEntry[], label: string): AsyncGenerator<SourceBatch> {
  if (entries.length > 0) yield { file: label, entries };
}

/** Runs a table-reader call, turning anything but a SnapshotError into one. */
export async function guard<T>(file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toSourceError(file, e);
  }
}

/** File-system errors become IO_ERROR; anything else a reader throws means bad bytes. */
export function toSourceError(file: string, e: unknown): SnapshotError {
  if (e instanceof SnapshotError) return e;
  if (typeof (e as { code?: unknown } | null)?.code === 'string' && (e as { syscall?: unknown }).syscall !== undefined) {
    return ioError(file, e);
  }
  return new SnapshotError('CORRUPT_CHECKPOINT', `cannot decode ${file}: ${(e as Error)?.message ?? String(e)}`, {
    file,
    cause: e,
  });
}
