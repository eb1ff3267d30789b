/**
 * Data blocks laid out as RocksDB writes them (prefix-compressed keys, restart points), for the
 * merge kernel's tests.
 */
import type { KernelRun } from '../../../src/sources/rocksdb/kernel/kernel-merger.js';

export interface Version {
  key: Uint8Array;
  seq: number;
  type: number;
  value: Uint8Array;
}

function varint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
}

/** A RocksDB data block: keys prefix-compressed between restart points every `interval` entries. */
export function dataBlock(entries: readonly Version[], interval: number): Uint8Array {
  const out: number[] = [];
  const restarts: number[] = [];
  let prev: number[] = [];
  entries.forEach((e, i) => {
    const trailer = [e.type, ...Array.from({ length: 7 }, (_, b) => Math.floor(e.seq / 2 ** (8 * b)) % 256)];
    const key = [...e.key, ...trailer];
    let shared = 0;
    if (i % interval === 0) restarts.push(out.length);
    else while (shared < prev.length && shared < key.length && prev[shared] === key[shared]) shared++;
    varint(out, shared);
    varint(out, key.length - shared);
    varint(out, e.value.length);
    out.push(...key.slice(shared));
    for (const b of e.value) out.push(b);
    prev = key;
  });
  if (restarts.length === 0) restarts.push(0);
  for (const r of [...restarts, restarts.length]) out.push(r & 0xff, (r >>> 8) & 0xff, (r >>> 16) & 0xff, r >>> 24);
  return Uint8Array.from(out);
}

/** A stream's versions cut into blocks of `perBlock` entries and runs of `perRun` blocks. */
export function runsOf(file: string, versions: readonly Version[], perBlock: number, perRun: number, interval: number): KernelRun[] {
  const blocks: Uint8Array[] = [];
  for (let i = 0; i < versions.length; i += perBlock) blocks.push(dataBlock(versions.slice(i, i + perBlock), interval));
  const runs: KernelRun[] = [];
  for (let i = 0; i < blocks.length; i += perRun) {
    const b = blocks.slice(i, i + perRun);
    runs.push({ file, blocks: b, offsets: b.map((_, k) => (i + k) * 4096), bytes: 0, globalSequence: undefined });
  }
  return runs;
}

