/**
 * Drives the merge kernel (assembly/merge.ts, compiled to WebAssembly): lays out its state in
 * the kernel's memory, feeds each stream's data blocks as the kernel asks for them, and hands
 * out the ENTRY records it writes as packed batches. Per entry, no JavaScript runs at all.
 *
 * The kernel handles what real checkpoints are made of; anything else makes it stop with
 * FALLBACK (a malformed entry, keys out of order, a visible merge operand when merging is off, a
 * key over 8 KiB). `RangeMerger` then redoes the range with the JavaScript merger (the reference,
 * which reports errors precisely), keeping what the kernel already emitted. With merging on, a
 * key with visible merge operands comes out as a merge group (MergeTag), which merge-groups.ts
 * resolves with the family's operator.
 */
import type { PackedEntries } from '../../../format/packed.js';
import { blockLayout } from '../table/block.js';
import type { BlockRun, PlacedBlocks, RawBlockRun, TableReader } from '../table/index.js';
import { fragment, type Tombstone } from '../range-tombstones.js';
import type { MemEntry } from '../wal.js';
import { MERGE_KERNEL_WASM_BASE64 } from './merge-kernel-wasm.js';
import { initPlacerTables, PLACER_HEAP_START, reserve, RunPlacer, SLACK, type KernelMemory, type Region } from './run-placer.js';

// Layout shared with assembly/merge.ts (byte offsets).
const C_N = 0;
const C_CURSORS = 4;
const C_HEAP = 8;
const C_OUT = 16;
const C_OUT_CAP = 20;
const C_OUT_POS = 24;
const C_OUT_COUNT = 28;
const C_LO = 32;
const C_LO_LEN = 36;
const C_HI = 40;
const C_HI_LEN = 44;
const C_TOMB = 48;
const C_TOMB_COUNT = 52;
const C_FLUSH_AT = 60;
const C_PENDING = 68;
const C_GROUP_KEY = 72;
const C_REASON = 80;
const C_FLUSH_COUNT = 88;
const C_LAST_RECORD = 92;
const C_MERGE = 96;
const C_MERGE_GROUPS = 100;
const CTRL_SIZE = 128;

const CURSOR_SIZE = 104;
const K_RANK = 0;
const K_STATE = 4;
const K_BLOCKS = 8;
const K_BLOCK_COUNT = 12;
const K_BLOCK_IDX = 16;
const K_POS = 20;
const K_END = 24;
const K_KEY_A = 28;
const K_KEY_B = 32;
const K_KEY_CAP = 36;
const K_KEY = 40;
const K_KEY_LEN = 44;
const K_GLOBAL_SEQ = 64;
const K_COUNT = 80;

const DONE = 0;
const OUTPUT = 1;
const REFILL = 2;
const GROW = 4;

/** Longest internal key the kernel handles (longer ones fall back to the JavaScript merger). */
const KEY_CAP = 8 * 1024 + 8;
/** Output buffer (grown for a record larger than this). */
const OUT_CAP = 1280 * 1024;
const FLUSH_AT = 1024 * 1024;
const PAGE = 65536;

interface KernelExports {
  readonly memory: WebAssembly.Memory;
  begin(ctrl: number): void;
  step(): number;
  runSize(desc: number): number;
  placeRun(desc: number): number;
}

let compiled: WebAssembly.Module | undefined;

/** One stream of the merge: its rank (lower is newer) and its runs of blocks, each tagged with its file. */
export interface KernelStream {
  readonly rank: number;
  readonly runs: AsyncIterator<KernelRun>;
}

/**
 * Blocks of one file (or the memtable), and the sequence number all its entries take, if any:
 * decoded already, or as read (`raw`, with the reader that verifies and decompresses them: the
 * kernel's driver has them decompressed straight into the kernel's memory).
 */
export type KernelRun = {
  readonly file: string;
  readonly globalSequence: number | undefined;
} & (BlockRun | { readonly raw: RawBlockRun; readonly reader: TableReader });

/** Why the kernel stopped before the end (diagnostics; the JavaScript merger reports the error). */
export class KernelFallback {
  constructor(readonly reason: number) {}
}

/**
 * Record tags of a merge group in the kernel's output, beside ENTRY (1): the visible operands of
 * one key, newest first, then BASE (the value they apply to) or NO_BASE (none). Every record
 * has the ENTRY layout (tag, key length, value length, key, value).
 */
export const MergeTag = { Operand: 2, Base: 3, NoBase: 4 } as const;

/**
 * A packed batch of the kernel, and the offset of its last record (where the batch's last key
 * is). With `mergeGroups` > 0 it also holds merge groups (MergeTag), which must be resolved
 * before it is a batch of ENTRY records; `count` then counts their records too.
 */
export interface KernelBatch extends PackedEntries {
  readonly lastRecord: number;
  readonly mergeGroups: number;
}

/** A kernel instance: one per thread, reused for every range it merges. */
export class MergeKernel implements KernelMemory {
  readonly exports: KernelExports;
  private top = 0;
  private dv: DataView | undefined;
  /** Places each stream's runs of blocks (by the kernel, or the JavaScript path when it declines). */
  readonly placer: RunPlacer;

  constructor() {
    compiled ??= new WebAssembly.Module(Buffer.from(MERGE_KERNEL_WASM_BASE64, 'base64'));
    this.exports = new WebAssembly.Instance(compiled, {}).exports as unknown as KernelExports;
    this.alloc(PLACER_HEAP_START);
    initPlacerTables(this.buffer);
    this.placer = new RunPlacer(this);
  }

  /** Frees everything allocated in the kernel's memory (a new merge, or a new run placed alone). */
  reset(): void {
    this.top = PLACER_HEAP_START; // address 0 stays unused
    this.placer.reset();
  }

  get buffer(): ArrayBuffer {
    return this.exports.memory.buffer;
  }

  /** Bump allocation in the kernel's memory (grown as needed); everything is freed per merge. */
  alloc(bytes: number): number {
    const at = (this.top + 7) & ~7;
    const end = at + bytes;
    const have = this.buffer.byteLength;
    if (end > have) this.exports.memory.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    return at;
  }

  /** A view of the kernel's memory (made anew when growing the memory replaced its buffer). */
  view(): DataView {
    if (this.dv?.buffer !== this.buffer) this.dv = new DataView(this.buffer);
    return this.dv;
  }

  private i32(at: number, value: number): void {
    this.view().setInt32(at, value, true);
  }

  private getI32(at: number): number {
    return this.view().getInt32(at, true);
  }

  private bytes(at: number, data: Uint8Array): void {
    new Uint8Array(this.buffer).set(data, at);
  }

  /**
   * Merges `streams` over the user-key range [lo, hi) into packed batches of about 1 MiB, or
   * `batchSize` entries if fewer. `onCount(file, n)`
   * receives the entries within the range read from each file. Each batch is a view into the
   * kernel's memory, valid until the next one is requested. Throws KernelFallback when the
   * kernel cannot go on; the batches already yielded are right (whole user keys, in order).
   * With `mergeGroups`, keys with visible merge operands come out as merge groups (KernelBatch);
   * without, the kernel falls back on them.
   */
  async *merge(
    streams: readonly KernelStream[],
    lo: Uint8Array | undefined,
    hi: Uint8Array | undefined,
    tombstones: readonly Tombstone[],
    batchSize: number,
    onCount: (file: string, n: number) => void,
    mergeGroups = false,
  ): AsyncGenerator<KernelBatch> {
    this.reset();
    const n = streams.length;
    const ctrl = this.alloc(CTRL_SIZE);
    const cursors = this.alloc(n * CURSOR_SIZE);
    new Uint8Array(this.buffer, ctrl, CTRL_SIZE).fill(0);
    new Uint8Array(this.buffer, cursors, n * CURSOR_SIZE).fill(0);
    this.i32(ctrl + C_N, n);
    this.i32(ctrl + C_CURSORS, cursors);
    this.i32(ctrl + C_HEAP, this.alloc(4 * Math.max(1, n)));
    let out = this.alloc(OUT_CAP);
    this.i32(ctrl + C_OUT, out);
    this.i32(ctrl + C_OUT_CAP, OUT_CAP);
    this.i32(ctrl + C_FLUSH_AT, FLUSH_AT);
    this.i32(ctrl + C_FLUSH_COUNT, Math.min(batchSize, 0x7fffffff));
    this.i32(ctrl + C_GROUP_KEY, this.alloc(KEY_CAP));
    this.i32(ctrl + C_MERGE, mergeGroups ? 1 : 0);
    this.setBound(ctrl + C_LO, ctrl + C_LO_LEN, lo);
    this.setBound(ctrl + C_HI, ctrl + C_HI_LEN, hi);
    this.setTombstones(ctrl, tombstones);

    const files: (string | undefined)[] = new Array(n).fill(undefined);
    const regions: Region[] = [];
    for (let i = 0; i < n; i++) {
      const c = cursors + i * CURSOR_SIZE;
      this.i32(c + K_RANK, streams[i]!.rank);
      const a = this.alloc(KEY_CAP);
      this.i32(c + K_KEY_A, a);
      this.i32(c + K_KEY_B, this.alloc(KEY_CAP));
      this.i32(c + K_KEY_CAP, KEY_CAP);
      this.i32(c + K_KEY, a);
      this.i32(c + K_KEY_LEN, 8);
      regions.push({ at: 0, cap: 0 });
    }
    const settle = (i: number) => {
      const c = cursors + i * CURSOR_SIZE;
      const counted = this.getI32(c + K_COUNT);
      if (counted > 0) onCount(files[i]!, counted);
      this.i32(c + K_COUNT, 0);
    };

    this.exports.begin(ctrl);
    try {
      for (;;) {
        const status = this.exports.step();
        if (status === DONE || status === OUTPUT) {
          const used = this.getI32(ctrl + C_OUT_POS);
          if (used > 0) {
            // A view into the kernel's memory: the consumer copies it before asking for more.
            yield {
              bytes: new Uint8Array(this.buffer, out, used),
              count: this.getI32(ctrl + C_OUT_COUNT),
              lastRecord: this.getI32(ctrl + C_LAST_RECORD),
              mergeGroups: this.getI32(ctrl + C_MERGE_GROUPS),
            };
            this.i32(ctrl + C_OUT_POS, 0);
            this.i32(ctrl + C_OUT_COUNT, 0);
            this.i32(ctrl + C_MERGE_GROUPS, 0);
          }
          if (status === DONE) {
            for (let i = 0; i < n; i++) settle(i);
            return;
          }
        } else if (status === GROW) {
          // A record larger than the output, or a merge group outgrowing it: what the output
          // holds (the group's first records) moves to the bigger one.
          const need = this.getI32(ctrl + C_PENDING);
          const used = this.getI32(ctrl + C_OUT_POS);
          const cap = Math.max(need, 2 * this.getI32(ctrl + C_OUT_CAP));
          const grown = this.alloc(cap);
          if (used > 0) new Uint8Array(this.buffer).copyWithin(grown, out, out + used);
          out = grown;
          this.i32(ctrl + C_OUT, out);
          this.i32(ctrl + C_OUT_CAP, cap);
        } else if (status === REFILL) {
          const i = this.getI32(ctrl + C_PENDING);
          settle(i);
          const c = cursors + i * CURSOR_SIZE;
          const r = await streams[i]!.runs.next();
          if (r.done === true) {
            this.i32(c + K_STATE, 2);
            continue;
          }
          files[i] = r.value.file;
          this.install(c, regions[i]!, r.value);
        } else {
          throw new KernelFallback(this.getI32(ctrl + C_REASON));
        }
      }
    } finally {
      // Streams the merge no longer needs (it reached hi, or stopped) are closed, so that their
      // files' reads ahead land before anything reuses their memory.
      await Promise.all(streams.map((s) => s.runs.return?.(undefined)));
    }
  }

  /** Places a run's blocks (their entries, up to the restart arrays) in the cursor's region. */
  private install(c: number, region: Region, run: KernelRun): void {
    const n = 'raw' in run ? (run.raw.placed ? this.copyPlaced(region, run.raw.placed) : this.placer.place(region, run.file, run.raw, run.reader)) : this.copyBlocks(region, run);
    const view = this.view();
    view.setInt32(c + K_BLOCKS, region.at, true);
    view.setInt32(c + K_BLOCK_COUNT, n, true);
    view.setInt32(c + K_BLOCK_IDX, -1, true);
    view.setInt32(c + K_POS, 0, true);
    view.setInt32(c + K_END, 0, true);
    view.setFloat64(c + K_GLOBAL_SEQ, run.globalSequence ?? -1, true);
  }

  /** Copies a run placed elsewhere (a worker: place-ahead.ts) into the region; returns the block count. */
  private copyPlaced(region: Region, placed: PlacedBlocks): number {
    const n = placed.list.length / 2;
    reserve(this, region, 8 * n + placed.bytes.length + SLACK);
    const first = region.at + 8 * n;
    new Uint8Array(this.buffer).set(placed.bytes, first);
    const list = new Int32Array(this.buffer, region.at, 2 * n);
    for (let i = 0; i < 2 * n; i++) list[i] = placed.list[i]! + first;
    placed.done?.();
    return n;
  }

  /** Copies a decoded run's blocks (their entries, up to the restart arrays) into the region; returns the block count. */
  private copyBlocks(region: Region, run: BlockRun & { readonly file: string }): number {
    const ends = run.blocks.map((b, k) => blockLayout(run.file, run.offsets[k]!, b).keysEnd);
    reserve(this, region, ends.reduce((s, e) => s + e, 0) + 8 * run.blocks.length);
    const mem = new Uint8Array(this.buffer);
    const view = this.view();
    const list = region.at;
    let at = list + 8 * run.blocks.length;
    for (let k = 0; k < run.blocks.length; k++) {
      const end = ends[k]!;
      mem.set(end === run.blocks[k]!.length ? run.blocks[k]! : run.blocks[k]!.subarray(0, end), at);
      view.setInt32(list + 8 * k, at, true);
      view.setInt32(list + 8 * k + 4, at + end, true);
      at += end;
    }
    return run.blocks.length;
  }

  private setBound(ptrField: number, lenField: number, key: Uint8Array | undefined): void {
    if (key === undefined) {
      this.i32(lenField, -1);
      return;
    }
    const at = this.alloc(Math.max(1, key.length));
    this.bytes(at, key);
    this.i32(ptrField, at);
    this.i32(lenField, key.length);
  }

  private setTombstones(ctrl: number, tombstones: readonly Tombstone[]): void {
    const frags = fragment(tombstones);
    const table = this.alloc(24 * Math.max(1, frags.length));
    const placed = frags.map((f) => {
      const s = this.alloc(Math.max(1, f.start.length));
      this.bytes(s, f.start);
      const e = this.alloc(Math.max(1, f.end.length));
      this.bytes(e, f.end);
      return { s, e, f };
    });
    const view = this.view();
    placed.forEach(({ s, e, f }, i) => {
      const at = table + 24 * i;
      view.setInt32(at, s, true);
      view.setInt32(at + 4, f.start.length, true);
      view.setInt32(at + 8, e, true);
      view.setInt32(at + 12, f.end.length, true);
      view.setFloat64(at + 16, f.maxSequence, true);
    });
    this.i32(ctrl + C_TOMB, table);
    this.i32(ctrl + C_TOMB_COUNT, frags.length);
  }
}

/**
 * The memtable's entries as one data block (every key whole: no shared prefixes), so that the
 * kernel reads them like a table's. ValuePreferredSeqno values were already stripped of their
 * suffix by the WAL replay, so they are written as plain values.
 */
export function memtableRun(entries: readonly MemEntry[], label: string): KernelRun | undefined {
  if (entries.length === 0) return undefined;
  let size = 8; // the restart array
  for (const e of entries) size += 15 + e.userKey.length + 8 + e.value.length;
  const block = new Uint8Array(size);
  const view = new DataView(block.buffer);
  let p = 0;
  const varint = (v: number) => {
    while (v >= 0x80) {
      block[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    block[p++] = v;
  };
  for (const e of entries) {
    varint(0);
    varint(e.userKey.length + 8);
    varint(e.value.length);
    block.set(e.userKey, p);
    p += e.userKey.length;
    const type = e.type === 0x18 ? 0x1 : e.type;
    // The trailer: (sequence << 8 | type) as a little-endian u64, in two halves (sequence < 2^53).
    view.setUint32(p, ((e.sequence % 0x1000000) * 256 + type) >>> 0, true);
    view.setUint32(p + 4, Math.floor(e.sequence / 0x1000000), true);
    p += 8;
    block.set(e.value, p);
    p += e.value.length;
  }
  // The restart array: one restart point, at offset 0 (blockLayout wants at least one).
  view.setUint32(p, 0, true);
  view.setUint32(p + 4, 1, true);
  p += 8;
  return { file: label, blocks: [block.subarray(0, p)], offsets: [0], bytes: p, globalSequence: undefined };
}
