import { ENTRY_PREFIX_BYTES, TAG_ENTRY } from '../format/constants.js';
import { formatDigest, newHasher, type Hasher64 } from '../format/digest.js';
import { SnapshotError } from '../format/errors.js';
import type { PackedEntries } from '../format/packed.js';
import type { RangeDigestReport } from './schema.js';

/** Most ranges per table `--ranges` accepts: enough to localize, small enough to read. */
export const MAX_RANGES = 4096;

/**
 * Range boundaries depend only on K, never on the data, so every node cuts its tables at the same
 * keys even when their contents differ. A key's range is chosen by its first 4 bytes read as a
 * big-endian u32 (shorter keys padded with zero bytes): range i holds prefixes in
 * [floor(i·2^32/K), floor((i+1)·2^32/K)). That prefix never decreases in key order, so each range
 * is a contiguous run of the table and its digest is well defined.
 */
export function rangeStart(index: number, count: number): number {
  return Math.floor((index * 2 ** 32) / count);
}

function keyPrefix(key: Uint8Array): number {
  return ((key[0] ?? 0) * 2 ** 24) + ((key[1] ?? 0) << 16) + ((key[2] ?? 0) << 8) + (key[3] ?? 0);
}

/** keyPrefix of the key `b[k, k + length)`, never reading past it (the value follows). */
function keyPrefixAt(b: Uint8Array, k: number, length: number): number {
  if (length >= 4) return b[k]! * 2 ** 24 + ((b[k + 1]! << 16) | (b[k + 2]! << 8) | b[k + 3]!);
  let p = 0;
  for (let i = 0; i < 4; i++) p = p * 256 + (i < length ? b[k + i]! : 0);
  return p;
}

function prefixHex(value: number): string {
  return value.toString(16).padStart(8, '0');
}

/** Digests of K key ranges of one table, fed the table's entries in key order. */
export class RangeDigester {
  readonly #count: number;
  readonly #reports: RangeDigestReport[] = [];
  #current = 0;
  #nextStart: number;
  #hasher: Hasher64;
  #entries = 0n;
  readonly #prefix = new Uint8Array(ENTRY_PREFIX_BYTES);
  readonly #prefixView = new DataView(this.#prefix.buffer);

  constructor(count: number) {
    if (!Number.isInteger(count) || count < 1 || count > MAX_RANGES) {
      throw new SnapshotError('INVALID_ARGUMENT', `the number of ranges must be an integer from 1 to ${MAX_RANGES}, got ${count}`);
    }
    this.#count = count;
    this.#nextStart = this.#count > 1 ? rangeStart(1, count) : 2 ** 32;
    this.#hasher = newHasher();
    this.#prefix[0] = TAG_ENTRY;
  }

  add(key: Uint8Array, value: Uint8Array): void {
    const p = keyPrefix(key);
    while (p >= this.#nextStart) this.#close();
    // Hash exactly the ENTRY record the format writes, so a range digest means what a table digest means.
    this.#prefixView.setUint32(1, key.length, true);
    this.#prefixView.setUint32(5, value.length, true);
    this.#hasher.update(this.#prefix);
    this.#hasher.update(key);
    this.#hasher.update(value);
    this.#entries++;
  }

  /**
   * The same as `add` for each record of a packed batch (ENTRY records, which are exactly the
   * bytes a range digest hashes): one hash update per run of records in one range, no object
   * per entry. The batch must already be checked (the writer's `addPacked` does it). `lastKey`,
   * the batch's last key when the caller knows it (the writer's), spares the walk over its
   * records when the whole batch lies in the current range, as most do: key prefixes never
   * decrease, so none before it starts a later range.
   */
  addPacked(packed: PackedEntries, lastKey?: Uint8Array): void {
    const b = packed.bytes;
    const end = b.length;
    if (lastKey !== undefined && packed.count > 0 && keyPrefix(lastKey) < this.#nextStart) {
      this.#hashRun(b, 0, end, packed.count);
      return;
    }
    let from = 0; // records [from, p) are in the current range and not yet hashed
    let n = 0;
    let p = 0;
    while (p < end) {
      const keyLength = (b[p + 1]! | (b[p + 2]! << 8) | (b[p + 3]! << 16)) + b[p + 4]! * 0x1000000;
      const valueLength = (b[p + 5]! | (b[p + 6]! << 8) | (b[p + 7]! << 16)) + b[p + 8]! * 0x1000000;
      const k = p + ENTRY_PREFIX_BYTES;
      if (keyPrefixAt(b, k, keyLength) >= this.#nextStart) {
        this.#hashRun(b, from, p, n);
        from = p;
        n = 0;
        const prefix = keyPrefixAt(b, k, keyLength);
        while (prefix >= this.#nextStart) this.#close();
      }
      n++;
      p = k + keyLength + valueLength;
    }
    this.#hashRun(b, from, p, n);
  }

  #hashRun(b: Uint8Array, from: number, to: number, entries: number): void {
    if (to === from) return;
    this.#hasher.update(b.subarray(from, to));
    this.#entries += BigInt(entries);
  }

  finish(): RangeDigestReport[] {
    while (this.#current < this.#count) this.#close();
    return this.#reports;
  }

  #close(): void {
    const i = this.#current;
    this.#reports.push({
      index: i,
      start: prefixHex(rangeStart(i, this.#count)),
      end: i + 1 < this.#count ? prefixHex(rangeStart(i + 1, this.#count)) : '',
      entries: String(this.#entries),
      digest: formatDigest(this.#hasher.digest()),
    });
    this.#current++;
    this.#nextStart = this.#current + 1 < this.#count ? rangeStart(this.#current + 1, this.#count) : 2 ** 32;
    this.#hasher = newHasher();
    this.#entries = 0n;
  }
}
