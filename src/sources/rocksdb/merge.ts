/**
 * The merging iterator: turns the internal-key streams of one column family (memtable, L0
 * files newest first, then one stream per level L1+) into its live user entries.
 *
 * A binary heap orders the stream cursors by (user key ascending, sequence descending, source
 * rank ascending), so the first version popped for a user key is its newest; every older
 * version is skipped. The newest version is live iff it is a put not covered by a range
 * tombstone with a higher sequence. Each cursor holds one decoded batch, so memory is bounded
 * by (number of streams × batch size), never by table size.
 */
import type { Entry } from '../source.js';
import { compareBytes, corrupt, sequenceToNumber, unsupported } from './codec.js';
import type { RangeTombstoneCursor } from './range-tombstones.js';
import { ValueType } from './wal.js';

/** A versioned entry as table files and the memtable yield it. */
export interface RawEntry {
  readonly userKey: Uint8Array;
  readonly sequence: bigint | number;
  readonly type: number;
  readonly value: Uint8Array;
}

/** One batch of a stream, and the file it came from (for error messages). */
export interface SourceBatch {
  readonly file: string;
  readonly entries: readonly RawEntry[];
}

/**
 * A position in one sorted internal-key stream. It checks the order it is promised: a table
 * file out of internal-key order would otherwise silently produce wrong results.
 */
export class StreamCursor {
  key: Uint8Array = EMPTY;
  seq = 0;
  type = 0;
  value: Uint8Array = EMPTY;
  file = '';
  private batch: readonly RawEntry[] = [];
  private index = 0;
  private started = false;

  /** `rank` breaks ties between equal (key, sequence) pairs: lower ranks are newer sources. */
  constructor(
    readonly rank: number,
    private readonly batches: AsyncIterator<SourceBatch>,
  ) {}

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
      if (r.value.entries.length === 0) continue;
      this.file = r.value.file;
      this.batch = r.value.entries;
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
    const e = this.batch[i]!;
    const seq = typeof e.sequence === 'number' && e.sequence >= 0 && e.sequence <= Number.MAX_SAFE_INTEGER
      ? e.sequence
      : sequenceToNumber(e.sequence, this.file);
    if (this.started) {
      const c = compareBytes(this.key, e.userKey);
      if (c > 0 || (c === 0 && seq >= this.seq)) {
        throw corrupt(this.file, 0, 'entries are not in internal-key order (user key ascending, sequence descending)');
      }
    }
    this.started = true;
    this.key = e.userKey;
    this.seq = seq;
    this.type = e.type;
    this.value = e.value;
  }
}

function before(a: StreamCursor, b: StreamCursor): boolean {
  const c = compareBytes(a.key, b.key);
  if (c !== 0) return c < 0;
  if (a.seq !== b.seq) return a.seq > b.seq;
  return a.rank < b.rank;
}

/** A binary min-heap of cursors ordered by `before`. */
class CursorHeap {
  readonly items: StreamCursor[] = [];

  push(c: StreamCursor): void {
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

  /** Restores heap order after the top cursor moved forward. */
  siftTop(): void {
    const h = this.items;
    const n = h.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const m = r < n && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[m]!, h[i]!)) return;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }

  popTop(): void {
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
  /** Entries per yielded batch. */
  batchSize: number;
}>;

/**
 * Yields the live entries of the streams in strictly ascending user-key order. Throws
 * UNSUPPORTED_FEATURE when the visible version of a key is a merge operand, a blob reference,
 * a wide-column entity or another type this source must not approximate; such a version
 * hidden by a newer one (or by a newer range tombstone) cannot affect the result and is
 * skipped like any older version. Closes every cursor
 * when done or abandoned.
 */
export async function* mergeLiveEntries(
  cursors: readonly StreamCursor[],
  tombstones: RangeTombstoneCursor,
  options: MergeOptions,
): AsyncGenerator<Entry[]> {
  const heap = new CursorHeap();
  try {
    for (const c of cursors) if (await c.refill()) heap.push(c);
    const checkTombstones = !tombstones.empty;
    let out: Entry[] = [];
    const h = heap.items;
    while (h.length > 0) {
      let top = h[0]!;
      const key = top.key;
      const type = top.type;
      // A ValuePreferredSeqno (TimedPut) value is a Value for readers: the table reader and the
      // WAL replay have already removed its 8-byte packed suffix.
      if (type === ValueType.Value || type === ValueType.ValuePreferredSeqno) {
        if (!checkTombstones || !(top.seq < tombstones.coveringSequence(key))) {
          out.push({ key, value: top.value });
        }
      } else if (type !== ValueType.Deletion && type !== ValueType.SingleDeletion) {
        if (!checkTombstones || !(top.seq < tombstones.coveringSequence(key))) {
          throw visibleTypeError(type, top, options.table);
        }
      }
      // Skip every older version of this user key (and the newest one itself).
      for (;;) {
        if (!top.advance() && !(await top.refill())) {
          heap.popTop();
        } else {
          heap.siftTop();
        }
        if (h.length === 0) break;
        top = h[0]!;
        if (top.key.length !== key.length || compareBytes(top.key, key) !== 0) break;
      }
      if (out.length >= options.batchSize) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  } finally {
    await Promise.all(cursors.map((c) => c.close()));
  }
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
