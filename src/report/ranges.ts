import { ENTRY_PREFIX_BYTES, TAG_ENTRY } from '../format/constants.js';
import { formatDigest, newHasher, type Hasher64 } from '../format/digest.js';
import { SnapshotError } from '../format/errors.js';
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
