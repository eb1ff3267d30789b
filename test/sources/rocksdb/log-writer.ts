/**
 * A test-only writer of RocksDB's log format (db/log_writer.cc behaviour): records are split
 * into FIRST/MIDDLE/LAST fragments at 32 KiB block boundaries, block tails shorter than a
 * header are zero-filled. Lets tests build exact, hostile or unusual logs byte by byte.
 */
import { crc32c, maskCrc } from '../../../src/sources/rocksdb/codec.js';

export const BLOCK = 32768;

export class TestLogWriter {
  private readonly parts: number[] = [];

  constructor(
    private readonly recyclable = false,
    private readonly logNumber = 0,
  ) {}

  get length(): number {
    return this.parts.length;
  }

  /** Appends one logical record, fragmenting it as RocksDB does. */
  add(payload: Uint8Array): this {
    const header = this.recyclable ? 11 : 7;
    let left = payload.length;
    let at = 0;
    let first = true;
    do {
      const room = BLOCK - (this.parts.length % BLOCK);
      if (room < header) {
        for (let i = 0; i < room; i++) this.parts.push(0);
        continue;
      }
      const n = Math.min(left, room - header);
      const end = n === left;
      const type = first && end ? 1 : first ? 2 : end ? 4 : 3;
      this.physical((this.recyclable ? 4 : 0) + type, payload.subarray(at, at + n));
      at += n;
      left -= n;
      first = false;
    } while (left > 0);
    return this;
  }

  /** Appends one physical record of any type, with a correct checksum. */
  physical(type: number, payload: Uint8Array, logNumber = this.logNumber): this {
    const recyclable = (type >= 5 && type <= 8) || type === 11 || type === 131;
    const body: number[] = [type];
    if (recyclable) body.push(logNumber & 0xff, (logNumber >>> 8) & 0xff, (logNumber >>> 16) & 0xff, (logNumber >>> 24) & 0xff);
    body.push(...payload);
    const crc = maskCrc(crc32c(Uint8Array.from(body)));
    this.parts.push(crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24);
    this.parts.push(payload.length & 0xff, payload.length >>> 8);
    this.parts.push(...body);
    return this;
  }

  /** Raw bytes, for hand-made damage. */
  raw(bytes: ArrayLike<number>): this {
    for (let i = 0; i < bytes.length; i++) this.parts.push(bytes[i]!);
    return this;
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** Encodes a varint (unsigned, up to 2^53). */
export function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/** A varint length followed by the bytes. */
export function lengthPrefixed(bytes: ArrayLike<number> | string): number[] {
  const b = typeof bytes === 'string' ? [...Buffer.from(bytes)] : Array.from(bytes);
  return [...varint(b.length), ...b];
}

/** An internal key: user key + (sequence << 8 | type) as fixed64. */
export function internalKey(userKey: string, sequence: number, type: number): number[] {
  const trailer = (BigInt(sequence) << 8n) | BigInt(type);
  const t: number[] = [];
  for (let i = 0n; i < 8n; i++) t.push(Number((trailer >> (8n * i)) & 0xffn));
  return [...Buffer.from(userKey), ...t];
}
