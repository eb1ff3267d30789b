import { createReadStream } from 'node:fs';
import { TRAILER_BYTES } from '../format/constants.js';
import { formatDigest, loadHasher, newHasher, type Hasher64 } from '../format/digest.js';

/**
 * Checking one chunk's bytes as they stream by, without buffering it: the xxhash64 of all but
 * the last 8 bytes, the trailer (those 8 bytes, u64 little-endian), the header's chunk index and
 * previous chunk digest (at 38+E and 42+E, spec/FORMAT.md 4.1, E = the event id length).
 */
export class ChunkCheck {
  readonly #hasher: Hasher64;
  readonly #headFieldsEnd: number;
  readonly #head: Uint8Array;
  #size = 0;
  #tail = new Uint8Array(0);

  /** `loadHasher()` must have completed. */
  constructor(readonly eventIdBytes: number) {
    this.#hasher = newHasher();
    this.#headFieldsEnd = 50 + eventIdBytes;
    this.#head = new Uint8Array(this.#headFieldsEnd);
  }

  get size(): number {
    return this.#size;
  }

  update(piece: Uint8Array): void {
    if (this.#size < this.#headFieldsEnd) this.#head.set(piece.subarray(0, this.#headFieldsEnd - this.#size), this.#size);
    this.#size += piece.length;
    // Everything but the last TRAILER_BYTES seen so far is hashed; those wait in #tail.
    if (piece.length >= TRAILER_BYTES) {
      if (this.#tail.length > 0) this.#hasher.update(this.#tail);
      this.#hasher.update(piece.subarray(0, piece.length - TRAILER_BYTES));
      this.#tail = piece.slice(piece.length - TRAILER_BYTES);
      return;
    }
    const joined = concat(this.#tail, piece);
    const hashable = joined.length - TRAILER_BYTES;
    if (hashable > 0) this.#hasher.update(joined.subarray(0, hashable));
    this.#tail = joined.slice(Math.max(0, hashable));
  }

  /** What the bytes say: undefined fields when the chunk is too short to hold them. */
  result(): { digest: string; trailer: string | undefined; index: number | undefined; previous: string | undefined } {
    const digest = formatDigest(this.#hasher.digest());
    const view = new DataView(this.#head.buffer);
    const headComplete = this.#size >= this.#headFieldsEnd + TRAILER_BYTES;
    return {
      digest,
      trailer: this.#tail.length === TRAILER_BYTES ? formatDigest(new DataView(this.#tail.buffer, this.#tail.byteOffset).getBigUint64(0, true)) : undefined,
      index: headComplete ? view.getUint32(38 + this.eventIdBytes, true) : undefined,
      previous: headComplete ? formatDigest(view.getBigUint64(42 + this.eventIdBytes, true)) : undefined,
    };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** What a chunk must be, from its report: its place, size, digest and its predecessor's digest. */
export interface ExpectedChunk {
  readonly index: number;
  readonly bytes: number;
  readonly digest: string;
  /** The previous chunk's digest; 0000000000000000 for chunk 0. */
  readonly previous: string;
}

/** Why the bytes are not the expected chunk, or undefined when they are. */
export function chunkProblem(check: ChunkCheck, expected: ExpectedChunk): string | undefined {
  const r = check.result();
  if (check.size !== expected.bytes) return `${check.size} bytes, the report says ${expected.bytes}`;
  if (r.trailer !== r.digest) return `trailer ${r.trailer ?? '(none)'} is not the xxhash64 of the chunk's bytes (${r.digest})`;
  if (r.digest !== expected.digest) return `chunk digest ${r.digest}, the report says ${expected.digest}`;
  if (r.index !== expected.index) return `header says chunk index ${r.index ?? '(none)'}`;
  if (r.previous !== expected.previous) return `header's previous chunk digest ${r.previous ?? '(none)'} is not chunk ${expected.index - 1}'s digest ${expected.previous}`;
  return undefined;
}

/** Checks a byte range of a local file as a chunk (hashing it, streamed). */
export async function checkFileRange(file: string, start: number, length: number, expected: ExpectedChunk, eventIdBytes: number): Promise<string | undefined> {
  await loadHasher();
  const check = new ChunkCheck(eventIdBytes);
  if (length > 0) {
    for await (const piece of createReadStream(file, { start, end: start + length - 1, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) check.update(piece);
  }
  return chunkProblem(check, expected);
}

/** The expected chunks of a report. */
export function expectedChunks(report: { readonly chunks: readonly { readonly index: number; readonly bytes: number; readonly digest: string }[] }): ExpectedChunk[] {
  return report.chunks.map((c, i) => ({ index: c.index, bytes: c.bytes, digest: c.digest, previous: i === 0 ? '0000000000000000' : report.chunks[i - 1]!.digest }));
}
