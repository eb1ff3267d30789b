/** Plain data types the table reader produces. */

/**
 * One point entry of a table: the user key, its sequence number and value type (ValueType),
 * and the value (empty for deletions). Sequence numbers are JS numbers: the reader rejects any
 * >= 2^53 (UNSUPPORTED_FEATURE), which no real database reaches (RocksDB's limit is 2^56).
 * Arrays are views into buffers that are never reused; they stay valid.
 */
export interface InternalEntry {
  readonly userKey: Uint8Array;
  readonly sequence: number;
  readonly type: number;
  readonly value: Uint8Array;
}

/** A range deletion: user keys in [start, end) with sequence < `sequence` are deleted. */
export interface RangeTombstone {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
  readonly sequence: number;
}

/**
 * A batch of point entries in columns, for the hot path (TableReader.columns): entry i's user
 * key is `keyBuf[i][keyStart[i], keyStart[i] + keyLen[i])`, its value likewise, so that no
 * object or view is created per entry; a consumer creates views only for the entries it keeps.
 * The buffers are never reused (views into them stay valid); the batch object itself is not
 * reused either.
 */
export class EntryColumns {
  length = 0;
  readonly keyBuf: Uint8Array[] = [];
  readonly valBuf: Uint8Array[] = [];
  keyStart: Int32Array;
  keyLen: Int32Array;
  valStart: Int32Array;
  valLen: Int32Array;
  seq: Float64Array;
  type: Uint8Array;

  constructor(capacity = 1024) {
    this.keyStart = new Int32Array(capacity);
    this.keyLen = new Int32Array(capacity);
    this.valStart = new Int32Array(capacity);
    this.valLen = new Int32Array(capacity);
    this.seq = new Float64Array(capacity);
    this.type = new Uint8Array(capacity);
  }

  push(kb: Uint8Array, ks: number, kl: number, vb: Uint8Array, vs: number, vl: number, seq: number, type: number): void {
    const i = this.length;
    if (i === this.seq.length) this.#grow();
    this.keyBuf.push(kb);
    this.valBuf.push(vb);
    this.keyStart[i] = ks;
    this.keyLen[i] = kl;
    this.valStart[i] = vs;
    this.valLen[i] = vl;
    this.seq[i] = seq;
    this.type[i] = type;
    this.length = i + 1;
  }

  /** Keeps only entries [from, to), in place. */
  keep(from: number, to: number): void {
    const n = to - from;
    if (from > 0) {
      this.keyStart.copyWithin(0, from, to);
      this.keyLen.copyWithin(0, from, to);
      this.valStart.copyWithin(0, from, to);
      this.valLen.copyWithin(0, from, to);
      this.seq.copyWithin(0, from, to);
      this.type.copyWithin(0, from, to);
      this.keyBuf.splice(0, from);
      this.valBuf.splice(0, from);
    }
    this.keyBuf.length = n;
    this.valBuf.length = n;
    this.length = n;
  }

  /** Entry i as an InternalEntry (views into the buffers). */
  entry(i: number): InternalEntry {
    const ks = this.keyStart[i]!;
    const vs = this.valStart[i]!;
    return {
      userKey: this.keyBuf[i]!.subarray(ks, ks + this.keyLen[i]!),
      sequence: this.seq[i]!,
      type: this.type[i]!,
      value: this.valBuf[i]!.subarray(vs, vs + this.valLen[i]!),
    };
  }

  #grow(): void {
    const n = Math.max(16, this.seq.length * 2);
    const g = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a as never);
      return b;
    };
    this.keyStart = g(this.keyStart, (k) => new Int32Array(k));
    this.keyLen = g(this.keyLen, (k) => new Int32Array(k));
    this.valStart = g(this.valStart, (k) => new Int32Array(k));
    this.valLen = g(this.valLen, (k) => new Int32Array(k));
    this.seq = g(this.seq, (k) => new Float64Array(k));
    this.type = g(this.type, (k) => new Uint8Array(k));
  }
}
