import { compareBytes, toHex } from '../format/bytes.js';
import { SnapshotError } from '../format/errors.js';
import type { Entry, Source } from '../sources/source.js';

/**
 * Key-level difference of two checkpoints or snapshots (anything a Source reads): per table, the
 * two sorted streams are merged in one pass, holding one batch of each side at a time, so memory
 * does not grow with table size. Tables are matched by name. Every difference is counted, to the
 * end of both streams (which also finishes verifying a snapshot's trailers); only the first
 * `limit` differences are kept for listing.
 */

/** Differences kept for listing unless told otherwise. Defaults to 20. */
export const DEFAULT_DIFF_LIMIT = 20;
/** Value bytes kept per listed difference; longer values are cut and their length given. Defaults to 64. */
export const VALUE_PREVIEW_BYTES = 64;

/** removed: the key is only in a; added: only in b; changed: in both with different values. */
export type DifferenceKind = 'removed' | 'added' | 'changed';

/** A value as listed: hex of at most VALUE_PREVIEW_BYTES bytes, and the full length. */
export interface ValuePreview {
  readonly hex: string;
  readonly bytes: number;
  readonly truncated: boolean;
}

export interface KeyDifference {
  readonly table: string;
  readonly kind: DifferenceKind;
  /** The key in full, hex (keys are bounded by the format's key limit). */
  readonly key: string;
  readonly keyBytes: number;
  /** The value in a; absent for `added`. */
  readonly a?: ValuePreview;
  /** The value in b; absent for `removed`. */
  readonly b?: ValuePreview;
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
}

export interface DiffOptions {
  /** Table names to compare; absent: every table of either side. */
  readonly tables?: readonly string[];
  /** Key differences kept for listing. Defaults to DEFAULT_DIFF_LIMIT. */
  readonly limit?: number;
}

/** The tables a source names: its recorded catalog (a snapshot), else the tables it lists. */
export async function tableNames(source: Source): Promise<string[]> {
  if (source.recorded?.tables !== undefined) return source.recorded.tables.map((t) => t.name);
  return (await source.listTables()).map((t) => t.name);
}

/** Reads entries one at a time from a batched stream, holding one batch. */
class EntryCursor {
  readonly #it: AsyncIterator<readonly Entry[]>;
  #batch: readonly Entry[] = [];
  #i = 0;
  #done = false;
  /** Entries read: a number, exact to 2^53, cheaper per entry than a BigInt. */
  count = 0;

  constructor(stream: AsyncIterable<readonly Entry[]>) {
    this.#it = stream[Symbol.asyncIterator]();
  }

  /** The current entry, or undefined at the end. */
  async peek(): Promise<Entry | undefined> {
    while (this.#i >= this.#batch.length) {
      if (this.#done) return undefined;
      const r = await this.#it.next();
      if (r.done === true) {
        this.#done = true;
        return undefined;
      }
      this.#batch = r.value;
      this.#i = 0;
    }
    return this.#batch[this.#i];
  }

  advance(): void {
    this.#i++;
    this.count++;
  }

  async close(): Promise<void> {
    if (!this.#done) await this.#it.return?.();
  }
}

function preview(value: Uint8Array): ValuePreview {
  const truncated = value.length > VALUE_PREVIEW_BYTES;
  return { hex: toHex(truncated ? value.subarray(0, VALUE_PREVIEW_BYTES) : value), bytes: value.length, truncated };
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
      throw new SnapshotError('UNKNOWN_TABLE', `no table ${missing.join(', ')} in either input (a: ${namesA.join(', ') || 'none'}; b: ${namesB.join(', ') || 'none'})`);
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

  for (const name of names) {
    if (!inB.has(name) || !inA.has(name)) {
      const side = inA.has(name) ? a : b;
      const c = new EntryCursor(side.entries(name));
      while ((await c.peek()) !== undefined) c.advance();
      tables.push({ name, presence: inA.has(name) ? 'a-only' : 'b-only', entriesA: inA.has(name) ? String(c.count) : '0', entriesB: inA.has(name) ? '0' : String(c.count), added: '0', removed: '0', changed: '0' });
      continue;
    }
    const ca = new EntryCursor(a.entries(name));
    const cb = new EntryCursor(b.entries(name));
    let added = 0n;
    let removed = 0n;
    let changed = 0n;
    try {
      for (;;) {
        const ea = await ca.peek();
        const eb = await cb.peek();
        if (ea === undefined && eb === undefined) break;
        const order = ea === undefined ? 1 : eb === undefined ? -1 : compareBytes(ea.key, eb.key);
        if (order < 0) {
          removed++;
          note(() => ({ table: name, kind: 'removed', key: toHex(ea!.key), keyBytes: ea!.key.length, a: preview(ea!.value) }));
          ca.advance();
        } else if (order > 0) {
          added++;
          note(() => ({ table: name, kind: 'added', key: toHex(eb!.key), keyBytes: eb!.key.length, b: preview(eb!.value) }));
          cb.advance();
        } else {
          if (!equalBytes(ea!.value, eb!.value)) {
            changed++;
            note(() => ({ table: name, kind: 'changed', key: toHex(ea!.key), keyBytes: ea!.key.length, a: preview(ea!.value), b: preview(eb!.value), differsAt: firstDifference(ea!.value, eb!.value) }));
          }
          ca.advance();
          cb.advance();
        }
      }
    } finally {
      await ca.close();
      await cb.close();
    }
    tables.push({ name, presence: 'both', entriesA: String(ca.count), entriesB: String(cb.count), added: String(added), removed: String(removed), changed: String(changed) });
  }

  const identical = total === 0n && tables.every((t) => t.presence === 'both');
  return { identical, tables, first, listed, totalDifferences: String(total), limit };
}
