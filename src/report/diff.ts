import { compareBytes, compareRanges, toHex } from '../format/bytes.js';
import { SnapshotError } from '../format/errors.js';
import { ENTRY_PREFIX_BYTES } from '../format/constants.js';
import { malformedPacked, u32, type PackedEntries } from '../format/packed.js';
import type { Entry, Source } from '../sources/source.js';
import { tableNames, unknownTableError } from './table-names.js';

/**
 * Key-level difference of two checkpoints or snapshots (anything a Source reads): per table, the
 * two sorted streams are merged in one pass, holding one batch of each side at a time, so memory
 * does not grow with table size. Tables are matched by name. Every difference is counted, to the
 * end of both streams (which also finishes verifying a snapshot's trailers); only the first
 * `limit` differences are kept for listing.
 */

/** Differences kept for listing unless told otherwise. Defaults to 20. */
export const DEFAULT_DIFF_LIMIT = 20;

/** removed: the key is only in a; added: only in b; changed: in both with different values. */
export type DifferenceKind = 'removed' | 'added' | 'changed';

/** A listed value, whole (renderers cut it for people; `diff --json` prints it whole). */
export interface ValueBytes {
  readonly hex: string;
  readonly bytes: number;
}

export interface KeyDifference {
  readonly table: string;
  readonly kind: DifferenceKind;
  /** The key in full, hex (keys are bounded by the format's key limit). */
  readonly key: string;
  readonly keyBytes: number;
  /** The value in a; absent for `added`. */
  readonly a?: ValueBytes;
  /** The value in b; absent for `removed`. */
  readonly b?: ValueBytes;
  /** For `changed`: offset of the first byte where the values differ (the shorter length if one is a prefix). */
  readonly differsAt?: number;
}

export interface TableDiff {
  readonly name: string;
  /** Where the table is: in both, or in one side only (its entries are counted, not listed). */
  readonly presence: 'both' | 'a-only' | 'b-only';
  readonly entriesA: string;
  readonly entriesB: string;
  readonly added: string;
  readonly removed: string;
  readonly changed: string;
}

export interface DiffResult {
  readonly identical: boolean;
  readonly tables: readonly TableDiff[];
  /** The first difference in table order, then key order; null when identical or only whole tables differ. */
  readonly first: KeyDifference | null;
  /** The first `limit` key differences, in table order then key order. */
  readonly listed: readonly KeyDifference[];
  /** All key differences, listed or not (tables in one side only are not counted here). */
  readonly totalDifferences: string;
  readonly limit: number;
  /** With a key range: the range compared, as KeyRange.text shows it. */
  readonly keyRange?: string;
}

export interface DiffOptions {
  /** Table names to compare; absent: every table of either side. */
  readonly tables?: readonly string[];
  /** Key differences kept for listing. Defaults to DEFAULT_DIFF_LIMIT. */
  readonly limit?: number;
  /** Compare only the keys in this range (entries outside are read past, not compared). Defaults to every key. */
  readonly keyRange?: KeyRange;
}

/**
 * A contiguous range of keys: `position` says whether a key is before it (−1), in it (0) or after
 * it (1), and never decreases along ascending keys, so a table can be cut to the range in one pass.
 */
export interface KeyRange {
  /** How the range is shown: as `compare` prints it, or `[from, to)` in hex. */
  readonly text: string;
  position(key: Uint8Array): -1 | 0 | 1;
}

function keyPrefix(key: Uint8Array): number {
  return ((key[0] ?? 0) * 2 ** 24) + ((key[1] ?? 0) << 16) + ((key[2] ?? 0) << 8) + (key[3] ?? 0);
}

/**
 * The key range of a range digest (report/ranges.ts): keys whose first 4 bytes (zero-padded), as a
 * big-endian u32, are ≥ start and < end; `end` undefined: no upper bound.
 */
export function prefixRange(start: number, end: number | undefined): KeyRange {
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  return {
    text: `[${hex(start)}, ${end === undefined ? '∞' : hex(end)})`,
    position(key) {
      const p = keyPrefix(key);
      return p < start ? -1 : end !== undefined && p >= end ? 1 : 0;
    },
  };
}

/** Keys k with from ≤ k < to, bytewise; either bound may be absent. */
export function byteRange(from: Uint8Array | undefined, to: Uint8Array | undefined): KeyRange {
  return {
    text: `[${from === undefined ? '' : `0x${toHex(from)}`}, ${to === undefined ? '∞' : `0x${toHex(to)}`})`,
    position(key) {
      if (from !== undefined && compareBytes(key, from) < 0) return -1;
      return to !== undefined && compareBytes(key, to) >= 0 ? 1 : 0;
    },
  };
}

/** Reads entries one at a time from a batched stream, holding one batch; cut to a key range if given. */
class EntryCursor {
  readonly #it: AsyncIterator<readonly Entry[]>;
  readonly #range: KeyRange | undefined;
  #batch: readonly Entry[] = [];
  #i = 0;
  #done = false;
  /** Past the range: the stream is left unread (closed early). */
  #past = false;
  /** Entries read in the range: a number, exact to 2^53, cheaper per entry than a BigInt. */
  count = 0;

  constructor(stream: AsyncIterable<readonly Entry[]>, range?: KeyRange) {
    this.#it = stream[Symbol.asyncIterator]();
    this.#range = range;
  }

  /** The current entry, or undefined at the end (of the stream, or of the range). */
  async peek(): Promise<Entry | undefined> {
    for (;;) {
      while (this.#i >= this.#batch.length) {
        if (this.#done || this.#past) return undefined;
        const r = await this.#it.next();
        if (r.done === true) {
          this.#done = true;
          return undefined;
        }
        this.#batch = r.value;
        this.#i = 0;
      }
      const e = this.#batch[this.#i]!;
      const position = this.#range?.position(e.key) ?? 0;
      if (position === 0) return e;
      if (position > 0) {
        this.#past = true;
        return undefined;
      }
      this.#i++; // before the range: read past it
    }
  }

  advance(): void {
    this.#i++;
    this.count++;
  }

  async close(): Promise<void> {
    if (!this.#done) await this.#it.return?.();
  }
}

function whole(value: Uint8Array): ValueBytes {
  return { hex: toHex(value), bytes: value.length };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

/** Offset of the first differing byte of two different values (a long value may differ past its preview). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** One table's key differences, counted, and noted for the listing, as a merge finds them. */
class TableTally {
  #added = 0n;
  #removed = 0n;
  #changed = 0n;
  readonly #name: string;
  readonly #note: (make: () => KeyDifference) => void;

  constructor(name: string, note: (make: () => KeyDifference) => void) {
    this.#name = name;
    this.#note = note;
  }

  /**
   * One merge step at a's entry and b's (undefined: that side has ended; not both). Returns the
   * order of the keys: below 0 a's entry is passed (removed), above 0 b's (added), 0 both.
   */
  step(ka: Uint8Array | undefined, va: Uint8Array | undefined, kb: Uint8Array | undefined, vb: Uint8Array | undefined): number {
    const table = this.#name;
    const order = ka === undefined ? 1 : kb === undefined ? -1 : compareBytes(ka, kb);
    if (order < 0) {
      this.#removed++;
      this.#note(() => ({ table, kind: 'removed', key: toHex(ka!), keyBytes: ka!.length, a: whole(va!) }));
    } else if (order > 0) {
      this.#added++;
      this.#note(() => ({ table, kind: 'added', key: toHex(kb!), keyBytes: kb!.length, b: whole(vb!) }));
    } else if (!equalBytes(va!, vb!)) {
      this.#changed++;
      this.#note(() => ({ table, kind: 'changed', key: toHex(ka!), keyBytes: ka!.length, a: whole(va!), b: whole(vb!), differsAt: firstDifference(va!, vb!) }));
    }
    return order;
  }

  result(entriesA: number, entriesB: number): TableDiff {
    return { name: this.#name, presence: 'both', entriesA: String(entriesA), entriesB: String(entriesB), added: String(this.#added), removed: String(this.#removed), changed: String(this.#changed) };
  }
}

/** Differences between two sources, table by table (a's order, then b's tables not in a). */
export async function diffSources(a: Source, b: Source, options: DiffOptions = {}): Promise<DiffResult> {
  const limit = options.limit ?? DEFAULT_DIFF_LIMIT;
  if (!Number.isInteger(limit) || limit < 0) throw new SnapshotError('INVALID_ARGUMENT', `--limit must be a non-negative integer, got ${limit}`);
  const namesA = await tableNames(a);
  const namesB = await tableNames(b);
  const inA = new Set(namesA);
  const inB = new Set(namesB);
  let names = [...namesA, ...namesB.filter((n) => !inA.has(n))];
  if (options.tables !== undefined) {
    const missing = options.tables.filter((t) => !inA.has(t) && !inB.has(t));
    if (missing.length > 0) {
      throw unknownTableError(missing, 'either input', [...new Set([...namesA, ...namesB])]);
    }
    const wanted = new Set(options.tables);
    names = names.filter((n) => wanted.has(n));
  }

  const tables: TableDiff[] = [];
  const listed: KeyDifference[] = [];
  let first: KeyDifference | null = null;
  let total = 0n;
  // The listing is built only while it is wanted: counting the rest costs no hex or object.
  const note = (make: () => KeyDifference): void => {
    total++;
    if (first !== null && listed.length >= limit) return;
    const d = make();
    first ??= d;
    if (listed.length < limit) listed.push(d);
  };

  // Two snapshot files of the same bytes: one is verified, and holds what the other does.
  const same = options.keyRange === undefined ? await a.sameBytesAs?.(b) : undefined;
  if (same !== undefined) {
    for (const name of names) {
      const entries = String(same.tables.find((t) => t.name === name)?.entries ?? 0n);
      tables.push({ name, presence: 'both', entriesA: entries, entriesB: entries, added: '0', removed: '0', changed: '0' });
    }
    names = [];
  }
  // Both sides offer their entries as ENTRY records: identical runs are compared as bytes (no
  // object per entry), and only differing records are decoded. A key range needs each key placed.
  const packed = options.keyRange === undefined && a.packedEntries !== undefined && b.packedEntries !== undefined;
  for (const name of names) {
    if (packed) {
      tables.push(inA.has(name) && inB.has(name) ? await diffPackedTable(name, a.packedEntries!(name), b.packedEntries!(name), note) : await countPacked(name, inA.has(name), (inA.has(name) ? a : b).packedEntries!(name)));
      continue;
    }
    if (!inB.has(name) || !inA.has(name)) {
      const side = inA.has(name) ? a : b;
      const c = new EntryCursor(side.entries(name), options.keyRange);
      while ((await c.peek()) !== undefined) c.advance();
      await c.close();
      tables.push({ name, presence: inA.has(name) ? 'a-only' : 'b-only', entriesA: inA.has(name) ? String(c.count) : '0', entriesB: inA.has(name) ? '0' : String(c.count), added: '0', removed: '0', changed: '0' });
      continue;
    }
    const ca = new EntryCursor(a.entries(name), options.keyRange);
    const cb = new EntryCursor(b.entries(name), options.keyRange);
    const tally = new TableTally(name, note);
    try {
      for (;;) {
        const ea = await ca.peek();
        const eb = await cb.peek();
        if (ea === undefined && eb === undefined) break;
        const order = tally.step(ea?.key, ea?.value, eb?.key, eb?.value);
        if (order <= 0) ca.advance();
        if (order >= 0) cb.advance();
      }
    } finally {
      await ca.close();
      await cb.close();
    }
    tables.push(tally.result(ca.count, cb.count));
  }

  if (same === undefined) {
    // What the tables compared did not cover (a snapshot's other tables, its trailers) is still
    // read and verified: a diff never vouches for an input it did not check.
    await a.complete?.();
    await b.complete?.();
  }
  const identical = total === 0n && tables.every((t) => t.presence === 'both');
  return { identical, tables, first, listed, totalDifferences: String(total), limit, ...(options.keyRange !== undefined ? { keyRange: options.keyRange.text } : {}) };
}

/** The entries of a table in one input only, counted from its packed batches (no record decoded). */
async function countPacked(name: string, inA: boolean, stream: AsyncIterable<PackedEntries>): Promise<TableDiff> {
  let count = 0;
  for await (const p of stream) count += p.count;
  return { name, presence: inA ? 'a-only' : 'b-only', entriesA: inA ? String(count) : '0', entriesB: inA ? '0' : String(count), added: '0', removed: '0', changed: '0' };
}

const NO_BYTES = new Uint8Array(0);

/**
 * Reads ENTRY records from packed batches (format/packed.ts): `bytes[pos]` is the next record.
 * Views into `bytes` are valid until the next batch is pulled (a source may reuse its buffer).
 */
class RecordCursor {
  readonly #it: AsyncIterator<PackedEntries>;
  bytes: Uint8Array = NO_BYTES;
  pos = 0;
  #done = false;
  /** Records passed: a number, exact to 2^53. */
  count = 0;
  /** Records of the current batch not passed yet. */
  left = 0;

  constructor(stream: AsyncIterable<PackedEntries>) {
    this.#it = stream[Symbol.asyncIterator]();
  }

  /** True when a record is at `pos`, pulling batches as needed; false at the end of the table. */
  async ready(): Promise<boolean> {
    while (this.pos >= this.bytes.length) {
      if (this.#done) return false;
      const r = await this.#it.next();
      if (r.done === true) {
        this.#done = true;
        this.bytes = NO_BYTES;
        this.pos = 0;
        return false;
      }
      this.bytes = r.value.bytes;
      this.pos = 0;
      this.left = r.value.count;
    }
    return true;
  }

  /** Size of the record at `pos` (ready() was true); throws when the batch is not whole records. */
  size(): number {
    return recordSize(this.bytes, this.pos, this.bytes.length);
  }

  key(): Uint8Array {
    const k = this.pos + ENTRY_PREFIX_BYTES;
    return this.bytes.subarray(k, k + u32(this.bytes, this.pos + 1));
  }

  value(): Uint8Array {
    const k = this.pos + ENTRY_PREFIX_BYTES + u32(this.bytes, this.pos + 1);
    return this.bytes.subarray(k, k + u32(this.bytes, this.pos + 5));
  }

  skip(bytes: number, records: number): void {
    this.pos += bytes;
    this.count += records;
    this.left -= records;
  }

  async close(): Promise<void> {
    if (!this.#done) await this.#it.return?.();
  }
}

/** Size of the ENTRY record at `p`, which must lie whole before `end`. */
function recordSize(b: Uint8Array, p: number, end: number): number {
  const size = end - p >= ENTRY_PREFIX_BYTES ? ENTRY_PREFIX_BYTES + u32(b, p + 1) + u32(b, p + 5) : Infinity;
  if (size > end - p) throw malformedPacked(p, 'a record running past the end of its batch');
  return size;
}

/** a[ap, ap + n) equals b[bp, bp + n): one native comparison (memcmp), not a loop per byte. */
function sameBytes(a: Uint8Array, ap: number, b: Uint8Array, bp: number, n: number): boolean {
  return n <= 32 ? compareRanges(a, ap, n, b, bp, n) === 0 : Buffer.compare(a.subarray(ap, ap + n), b.subarray(bp, bp + n)) === 0;
}

/** Index of the first differing byte of a[ap, ap + n) and b[bp, bp + n), which differ: a bisection of native comparisons. */
function firstDifferingByte(a: Uint8Array, ap: number, b: Uint8Array, bp: number, n: number): number {
  let lo = 0; // [0, lo) is equal
  let hi = n; // the first difference is in [lo, hi)
  while (hi - lo > 64) {
    const mid = lo + ((hi - lo) >>> 1);
    if (sameBytes(a, ap + lo, b, bp + lo, mid - lo)) lo = mid;
    else hi = mid;
  }
  while (a[ap + lo] === b[bp + lo]) lo++;
  return lo;
}

/**
 * One table in both inputs, from packed batches. Both cursors always stand on a record boundary
 * of their own stream; where the bytes that follow are the same on both sides, the records are
 * the same (same framing from the same boundary), so they are passed over in bulk: compared
 * with memcmp and only counted. Records are decoded one by one only where the bytes differ, and
 * reported exactly as the entry-by-entry merge reports them.
 */
async function diffPackedTable(name: string, streamA: AsyncIterable<PackedEntries>, streamB: AsyncIterable<PackedEntries>, note: (make: () => KeyDifference) => void): Promise<TableDiff> {
  const ca = new RecordCursor(streamA);
  const cb = new RecordCursor(streamB);
  const tally = new TableTally(name, note);
  try {
    for (;;) {
      const hasA = await ca.ready();
      const hasB = await cb.ready();
      if (!hasA && !hasB) break;
      if (hasA && hasB) {
        const sa = ca.size();
        const sb = cb.size();
        if (sa === sb && sameBytes(ca.bytes, ca.pos, cb.bytes, cb.pos, sa)) {
          // The next records agree: pass over the run of equal bytes up to the end of the shorter
          // batch (a record boundary on both sides, as the bytes before it are the same).
          const restA = ca.bytes.length - ca.pos;
          const restB = cb.bytes.length - cb.pos;
          const n = Math.min(restA, restB);
          let same = n;
          // To the end of a batch, its count says how many records are passed: none is decoded.
          let records = restA <= restB ? ca.left : cb.left;
          if (!sameBytes(ca.bytes, ca.pos, cb.bytes, cb.pos, n)) {
            // Up to the record holding the first differing byte (records before it are whole and equal).
            const at = firstDifferingByte(ca.bytes, ca.pos, cb.bytes, cb.pos, n);
            same = 0;
            records = 0;
            for (let s = sa; same + s <= at; s = recordSize(ca.bytes, ca.pos + same, ca.bytes.length)) {
              same += s;
              records++;
            }
          }
          ca.skip(same, records);
          cb.skip(same, records);
          continue;
        }
      }
      const order = tally.step(hasA ? ca.key() : undefined, hasA ? ca.value() : undefined, hasB ? cb.key() : undefined, hasB ? cb.value() : undefined);
      if (order <= 0) ca.skip(ca.size(), 1);
      if (order >= 0) cb.skip(cb.size(), 1);
    }
  } finally {
    await ca.close();
    await cb.close();
  }
  return tally.result(ca.count, cb.count);
}
