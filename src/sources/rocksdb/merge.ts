/**
 * The merging iterator: turns the internal-key streams of one column family (memtable, L0
 * files newest first, then one stream per level L1+) into its live user entries.
 *
 * A binary heap orders the stream cursors by (user key ascending, sequence descending, source
 * rank ascending), so the first version popped for a user key is its newest; every older
 * version is skipped. The newest version is live iff it is a put not covered by a range
 * tombstone with a higher sequence. A visible merge operand is merged as RocksDB's
 * DBIter::MergeValuesNewToOld does: the key's older versions are read newest first, collecting
 * operands, until a put (the base value), a deletion, a single deletion or a version covered by
 * a range tombstone (no base), or the last version (no base). Each cursor holds one decoded
 * batch, so memory is bounded by (number of streams × batch size) plus one key's operands,
 * never by table size.
 */
import { compareRanges } from '../../format/bytes.js';
import { DEFAULT_PACKED_BATCH_BYTES, PackedEntriesBuilder, type PackedEntries } from '../../format/packed.js';
import { corrupt, sequenceToNumber, unsupported } from './codec.js';
import { fullMerge, type FamilyMerge } from './family-merge.js';
import type { MergeOperator } from '../merge-operator.js';
import { EntryColumns } from './table/types.js';
import type { RangeTombstoneCursor } from './range-tombstones.js';
import { ValueType } from './wal.js';

/** A versioned entry as table files and the memtable yield it. */
export interface RawEntry {
  readonly userKey: Uint8Array;
  readonly sequence: bigint | number;
  readonly type: number;
  readonly value: Uint8Array;
}

/**
 * One batch of a stream, and the file it came from (for error messages): entry objects, or
 * columns (EntryColumns, from the table reader: no object or view per entry).
 */
export type SourceBatch =
  | { readonly file: string; readonly entries: readonly RawEntry[] }
  | { readonly file: string; readonly columns: EntryColumns };

/** Entry objects as columns (views kept as they are, at offset 0). */
function toColumns(entries: readonly RawEntry[], file: string): EntryColumns {
  const cols = new EntryColumns(Math.max(1, entries.length));
  for (const e of entries) {
    const seq = typeof e.sequence === 'number' && e.sequence >= 0 && e.sequence <= Number.MAX_SAFE_INTEGER
      ? e.sequence
      : sequenceToNumber(e.sequence, file);
    cols.push(e.userKey, 0, e.userKey.length, e.value, 0, e.value.length, seq, e.type);
  }
  return cols;
}

/**
 * A position in one sorted internal-key stream. It checks the order it is promised: a table
 * file out of internal-key order would otherwise silently produce wrong results. The current
 * user key is `kb[ks, ks + kl)` and the value `vb[vs, vs + vl)`: views are made only for the
 * entries the merge keeps.
 */
export class StreamCursor {
  kb: Uint8Array = EMPTY;
  ks = 0;
  kl = 0;
  seq = 0;
  /** Whether the current user key differs from the previous one of this stream (or is the first). */
  distinct = true;
  file = '';
  /** The current batch and index: the type and value are read from it only when needed. */
  batch: EntryColumns = EMPTY_COLUMNS;
  index = 0;
  private started = false;

  /** `rank` breaks ties between equal (key, sequence) pairs: lower ranks are newer sources. */
  constructor(
    readonly rank: number,
    private readonly batches: AsyncIterator<SourceBatch>,
  ) {}

  /** The current user key as a view. */
  get key(): Uint8Array {
    return this.kb.subarray(this.ks, this.ks + this.kl);
  }

  /** The current value as a view. */
  get value(): Uint8Array {
    const b = this.batch;
    const i = this.index;
    const vs = b.valStart[i]!;
    return b.valBuf[i]!.subarray(vs, vs + b.valLen[i]!);
  }

  /** The current value type. */
  get type(): number {
    return this.batch.type[this.index]!;
  }

  /** Moves within the current batch; false when the batch is used up (then call refill). */
  advance(): boolean {
    if (this.index + 1 >= this.batch.length) return false;
    this.load(++this.index);
    return true;
  }

  /** Loads the next non-empty batch; false when the stream is exhausted. */
  async refill(): Promise<boolean> {
    for (;;) {
      const r = await this.batches.next();
      if (r.done === true) return false;
      const b = r.value;
      const cols = 'columns' in b ? b.columns : toColumns(b.entries, b.file);
      if (cols.length === 0) continue;
      this.file = b.file;
      this.batch = cols;
      this.index = 0;
      this.load(0);
      return true;
    }
  }

  /** Stops the underlying stream early (closing its file). */
  async close(): Promise<void> {
    await this.batches.return?.();
  }

  private load(i: number): void {
    const b = this.batch;
    const kb = b.keyBuf[i]!;
    const ks = b.keyStart[i]!;
    const kl = b.keyLen[i]!;
    const seq = b.seq[i]!;
    if (this.started) {
      const c = compareRanges(this.kb, this.ks, this.kl, kb, ks, kl);
      if (c > 0 || (c === 0 && seq >= this.seq)) {
        throw corrupt(this.file, 0, 'entries are not in internal-key order (user key ascending, sequence descending)');
      }
      this.distinct = c !== 0;
    }
    this.started = true;
    this.kb = kb;
    this.ks = ks;
    this.kl = kl;
    this.seq = seq;
  }
}

function before(a: StreamCursor, b: StreamCursor): boolean {
  const c = compareRanges(a.kb, a.ks, a.kl, b.kb, b.ks, b.kl);
  if (c !== 0) return c < 0;
  if (a.seq !== b.seq) return a.seq > b.seq;
  return a.rank < b.rank;
}

/** A binary min-heap of cursors ordered by `before`. */
class CursorHeap {
  readonly items: StreamCursor[] = [];
  /**
   * Index (1 or 2) of the root's first child in heap order, or -1 when unknown. Only the root
   * cursor ever moves, so this stays valid until the root's children change (a swap at the
   * root, a pop or a push): sifting the root then costs one comparison instead of two.
   */
  private second = -1;

  push(c: StreamCursor): void {
    this.second = -1;
    const h = this.items;
    h.push(c);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  /** Restores heap order after the top cursor moved forward; true when it stays on top. */
  siftTop(): boolean {
    const h = this.items;
    const n = h.length;
    if (n < 2) return true;
    let m = this.second;
    if (m < 0) m = this.second = n > 2 && before(h[2]!, h[1]!) ? 2 : 1;
    if (!before(h[m]!, h[0]!)) return true;
    [h[m], h[0]] = [h[0]!, h[m]!];
    this.second = -1;
    let i = m;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return false;
      const r = l + 1;
      const c = r < n && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[c]!, h[i]!)) return false;
      [h[c], h[i]] = [h[i]!, h[c]!];
      i = c;
    }
  }

  popTop(): void {
    this.second = -1;
    const h = this.items;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      this.siftTop();
    }
  }
}

export type MergeOptions = Readonly<{
  /** The column family's name, for error messages. */
  table: string;
  /** Most entries per yielded batch. */
  batchSize: number;
  /** Bytes per yielded batch, about (a batch ends after the entry that reaches it). */
  batchBytes?: number;
  /** The family's merge operator (or why it has none); without it a visible operand is UNSUPPORTED_FEATURE. */
  merge?: FamilyMerge;
}>;

/**
 * Yields the live entries of the streams in strictly ascending user-key order. A visible merge
 * operand is merged with `options.merge` (MERGE_FAILED when the operator fails), and is
 * UNSUPPORTED_FEATURE without an operator. Throws UNSUPPORTED_FEATURE when the visible version
 * of a key is a blob reference, a wide-column entity or another type this source must not
 * approximate; such a version hidden by a newer one (or by a newer range tombstone) cannot
 * affect the result and is skipped like any older version. Entries are packed (format/packed.ts) as they are found:
 * the only copy of their bytes before the writer's. Closes every cursor when done or abandoned.
 */
export async function* mergeLiveEntries(
  cursors: readonly StreamCursor[],
  tombstones: RangeTombstoneCursor,
  options: MergeOptions,
): AsyncGenerator<PackedEntries> {
  const heap = new CursorHeap();
  const batchBytes = options.batchBytes ?? DEFAULT_PACKED_BATCH_BYTES;
  try {
    for (const c of cursors) if (await c.refill()) heap.push(c);
    const checkTombstones = !tombstones.empty;
    const out = new PackedEntriesBuilder(batchBytes + (batchBytes >> 2));
    const h = heap.items;
    while (h.length > 0) {
      let top = h[0]!;
      const kb = top.kb;
      const ks = top.ks;
      const kl = top.kl;
      const tb = top.batch;
      const ti = top.index;
      const type = tb.type[ti]!;
      // A ValuePreferredSeqno (TimedPut) value is a Value for readers: the table reader and the
      // WAL replay have already removed its 8-byte packed suffix.
      if (type === ValueType.Value || type === ValueType.ValuePreferredSeqno) {
        if (!checkTombstones || !(top.seq < tombstones.coveringSequence(top.key))) {
          out.push(kb, ks, kl, tb.valBuf[ti]!, tb.valStart[ti]!, tb.valLen[ti]!);
        }
      } else if (type !== ValueType.Deletion && type !== ValueType.SingleDeletion) {
        const cover = checkTombstones ? tombstones.coveringSequence(top.key) : -1;
        if (!(top.seq < cover)) {
          if (type !== ValueType.Merge) throw visibleTypeError(type, top, options.table);
          const merge = options.merge;
          if (merge?.operator === undefined) throw merge?.refuse(top.file) ?? visibleTypeError(type, top, options.table);
          const merged = await mergeGroup(heap, cover, merge.operator, options.table);
          out.push(merged.key, 0, kl, merged.value, 0, merged.value.length);
          // The group ended at another key (or the end): nothing of this key is left to skip.
          if (!merged.more) {
            if (out.bytes >= batchBytes || out.count >= options.batchSize) yield out.take();
            continue;
          }
          top = h[0]!;
        }
      }
      // Skip every older version of this user key (and the newest one itself).
      for (;;) {
        if (!top.advance() && !(await top.refill())) {
          heap.popTop();
        } else if (heap.siftTop() && top.distinct) {
          // The same cursor stays on top at a new user key: no other cursor is at `key`.
          break;
        }
        if (h.length === 0) break;
        top = h[0]!;
        if (top.kl !== kl || compareRanges(top.kb, top.ks, kl, kb, ks, kl) !== 0) break;
      }
      if (out.bytes >= batchBytes || out.count >= options.batchSize) yield out.take();
    }
    if (out.count > 0) yield out.take();
  } finally {
    await Promise.all(cursors.map((c) => c.close()));
  }
}

/**
 * Merges the key whose newest version, a visible merge operand, is the heap's top: reads its
 * older versions newest first (DBIter::MergeValuesNewToOld) and applies the operator. `more`
 * says whether the top is still at this key (at the base, or the deletion or covered version
 * that ended the group), whose remaining versions the caller skips.
 */
async function mergeGroup(
  heap: CursorHeap,
  cover: number,
  operator: MergeOperator,
  table: string,
): Promise<{ key: Uint8Array; value: Uint8Array; more: boolean }> {
  const h = heap.items;
  const first = h[0]!;
  const key = first.key.slice();
  const file = first.file;
  // Copies: a cursor's batch can be replaced while the group is read.
  const operands = [first.value.slice()];
  let existing: Uint8Array | undefined;
  let more = false;
  for (;;) {
    const top = h[0]!;
    if (!top.advance() && !(await top.refill())) heap.popTop();
    else if (heap.siftTop() && top.distinct) break;
    if (h.length === 0) break;
    const next = h[0]!;
    if (compareRanges(next.kb, next.ks, next.kl, key, 0, key.length) !== 0) break;
    more = true;
    const type = next.type;
    if (next.seq < cover || type === ValueType.Deletion || type === ValueType.SingleDeletion) break;
    if (type === ValueType.Value || type === ValueType.ValuePreferredSeqno) {
      existing = next.value.slice();
      break;
    }
    if (type !== ValueType.Merge) {
      throw type === ValueType.BlobIndex || type === ValueType.WideColumnEntity
        ? unsupported(next.file, `merge operands over a ${type === ValueType.BlobIndex ? 'blob reference' : 'wide-column entity'} in column family ${JSON.stringify(table)} are not supported`)
        : visibleTypeError(type, next, table);
    }
    operands.push(next.value.slice());
    more = false;
  }
  return { key, value: fullMerge(operator, table, file, key, existing, operands), more };
}

function visibleTypeError(type: number, at: StreamCursor, table: string): Error {
  const where = `in column family ${JSON.stringify(table)}`;
  switch (type) {
    case ValueType.Merge:
      return unsupported(at.file, `merge operands ${where} are not supported (resolving them needs the merge operator)`);
    case ValueType.BlobIndex:
      return unsupported(at.file, `blob references (BlobDB) ${where} are not supported`);
    case ValueType.WideColumnEntity:
      return unsupported(at.file, `wide-column entities ${where} are not supported`);
    case ValueType.DeletionWithTimestamp:
      return unsupported(at.file, `user-defined timestamps ${where} are not supported`);
    default:
      return corrupt(at.file, 0, `unknown value type ${type} ${where}`);
  }
}

const EMPTY = new Uint8Array(0);
const EMPTY_COLUMNS = new EntryColumns(1);
