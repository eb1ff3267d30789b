// Shared helpers of the benchmarks: input generation and the timed operations.
// Plain ESM over the built library (../dist), so `npm run bench` measures what users run.
import { SnapshotWriter, readSnapshot, verifySnapshot } from '../dist/index.js';

export const KEY_BYTES = 32;

/** The anchor of every benchmark snapshot: one table, chunked or not. */
export function anchor(maxChunkBytes = 0n) {
  return { epoch: 1n, cursor: { index: 0n }, tables: [{ id: 0, name: 't' }], maxChunkBytes };
}

/**
 * Deterministic pseudo-random bytes (xorshift32), so that every run writes the same content and
 * the digests in RESULTS.md are comparable between runs and versions.
 */
export function pseudoRandomBytes(size, seed) {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x;
  }
  return out;
}

/** A pool of `count` (a power of two) pseudo-random values of `size` bytes, reused round-robin. */
export function valuePool(count, size) {
  if ((count & (count - 1)) !== 0) throw new Error('pool size must be a power of two');
  return Array.from({ length: count }, (_, i) => pseudoRandomBytes(size, 0x9e3779b9 + i));
}

/**
 * Writes one table of `entries` entries (ascending 32-byte keys: a big-endian counter in the
 * first 8 bytes, a fixed pseudo-random suffix) through `SnapshotWriter.add`. One key buffer is reused:
 * the writer copies keys; values come from the pool and are never modified.
 */
export async function writeTable(sink, { entries, values, maxChunkBytes = 0n }) {
  const key = new Uint8Array(KEY_BYTES);
  key.set(pseudoRandomBytes(KEY_BYTES - 8, 0x2545f491), 8);
  const kv = new DataView(key.buffer);
  const mask = values.length - 1;
  const writer = await SnapshotWriter.create(sink, anchor(maxChunkBytes));
  try {
    for (let i = 0; i < entries; i++) {
      kv.setUint32(0, Math.floor(i / 0x1_0000_0000));
      kv.setUint32(4, i >>> 0);
      const r = writer.add(key, values[i & mask]);
      if (r !== undefined) await r;
    }
    writer.endTable();
    return await writer.finish();
  } catch (e) {
    await writer.abort();
    throw e;
  }
}

/** Bytes of the snapshot stream (all chunks) described by a summary. */
export function streamBytes(summary) {
  let n = 0;
  for (const c of summary.chunks) n += c.bytes;
  return n;
}

/** Reads and verifies with `verifySnapshot`; returns the summary. */
export function verify(input) {
  return verifySnapshot(input);
}

/** Iterates every `readSnapshot` event, touching every entry; returns the entry count. */
export async function iterate(input) {
  let entries = 0;
  let valueBytes = 0;
  let verified = false;
  for await (const ev of readSnapshot(input)) {
    if (ev.kind === 'entries') {
      for (const e of ev.entries) valueBytes += e.value.length;
      entries += ev.entries.length;
    } else if (ev.kind === 'end') {
      verified = true;
    }
  }
  if (!verified) throw new Error('readSnapshot ended without an end event');
  return { entries, valueBytes };
}
