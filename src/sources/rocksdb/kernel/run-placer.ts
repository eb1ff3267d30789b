/**
 * Places runs of data blocks in a merge kernel's memory (each block's entries, up to its restart
 * array, and a list of where they are): by the kernel itself (assembly/place.ts: checksum,
 * decompression, block layout in one call per run) or, for anything it declines, by the
 * JavaScript path (table-reader.ts blockOf, table/block.ts blockLayout), which reports any error.
 */
import { blockLayout } from '../table/block.js';
import { ChecksumType } from '../table/checksum.js';
import type { RawBlockRun, TableReader } from '../table/index.js';
import { crc32cTables } from '../util/crc32c.js';
import { SECRET } from '../util/xxh3.js';

/** What a placer needs of a kernel instance: its memory and a bump allocator in it. */
export interface KernelMemory {
  readonly buffer: ArrayBuffer;
  alloc(bytes: number): number;
  view(): DataView;
  readonly exports: { runSize(desc: number): number; placeRun(desc: number): number };
}

/** Where a run's blocks go: reused from run to run while large enough. */
export interface Region {
  at: number;
  cap: number;
}

// Run descriptor of assembly/place.ts (byte offsets).
const D_N = 0;
const D_HANDLES = 4;
const D_RAW = 8;
const D_TABLES = 12;
const D_DST = 16;
const D_CTX_BASE = 20;
const D_START = 24;
const D_MAX = 32;
const D_CHECKSUM = 36;
const D_SECRET = 40;
const DESC_SIZE = 48;
/** Bytes the kernel's decoders may write past a region's end or read past a run's end (wide copies). */
export const SLACK = 16;
/** The CRC-32C slicing-by-16 tables, then XXH3's secret, placed once per kernel; merges allocate after them. */
const CRC_TABLES = crc32cTables(16);
const TABLES_AT = 1024;
const SECRET_AT = TABLES_AT + CRC_TABLES.byteLength;
export const PLACER_HEAP_START = SECRET_AT + SECRET.length;

/** Declared block sizes above this are decompressed first and copied in (a bound before anything is verified). */
export const MAX_PLACED_BLOCK = 8 << 20;

let traps = 0;

/**
 * Times the kernel trapped while placing a run (a bug of the kernel's, never of the input: a
 * run it cannot place is declined). The JavaScript path still places such a run, so results stay
 * right; tests assert this stays 0.
 */
export function placeTraps(): number {
  return traps;
}

/** Writes the constant tables at the start of a fresh kernel's memory (below PLACER_HEAP_START). */
export function initPlacerTables(buffer: ArrayBuffer): void {
  new Uint32Array(buffer, TABLES_AT, CRC_TABLES.length).set(CRC_TABLES);
  new Uint8Array(buffer, SECRET_AT, SECRET.length).set(SECRET);
}

/** Whether the kernel verifies blocks with this checksum type (others take the JavaScript path). */
export function kernelVerifies(checksumType: number): boolean {
  return checksumType === ChecksumType.CRC32c || checksumType === ChecksumType.XXH3;
}

/** Where a staged run's handles go (after the run and the decoders' slack, 8-aligned). */
export function handlesAt(stage: number, runBytes: number): number {
  return stage + ((runBytes + SLACK + 7) & ~7);
}

/** The region holds at least `need` bytes (a new one when not: the old one is done with). */
export function reserve(mem: KernelMemory, region: Region, need: number): void {
  if (need > region.cap) {
    region.cap = Math.max(need, 2 * region.cap, 64 * 1024);
    region.at = mem.alloc(region.cap);
  }
}

export class RunPlacer {
  /** Where runs are copied for placeRun (reused from run to run: placing is synchronous). */
  private stageArea = { at: 0, cap: 0 };
  private desc = 0;

  constructor(private readonly mem: KernelMemory) {}

  /** After the kernel's allocations were all freed (a new merge): allocates the descriptor anew. */
  reset(): void {
    this.stageArea = { at: 0, cap: 0 };
    this.desc = this.mem.alloc(DESC_SIZE);
  }

  /** Places a raw run by the kernel, or when it declines by the JavaScript path; returns the block count. */
  place(region: Region, file: string, raw: RawBlockRun, reader: TableReader): number {
    return this.placeInKernel(region, raw, reader) ?? this.placeRaw(region, file, raw, reader);
  }

  /**
   * Places a raw run by the kernel itself (CRC-32C or XXH3; Snappy, LZ4 or none; the block
   * layout), one copy of the run in and one call per run; the block count, or undefined when the
   * kernel declines (another checksum or codec, a block over MAX_PLACED_BLOCK, anything wrong
   * with a block): placeRaw then places it, and reports any error, as before.
   */
  placeInKernel(region: Region, raw: RawBlockRun, reader: TableReader): number | undefined {
    const { checksumType, baseContextChecksum } = reader.blockChecksum;
    if (!kernelVerifies(checksumType)) return undefined;
    const n = raw.handles.length;
    const stage = this.stage(raw.bytes, n);
    new Uint8Array(this.mem.buffer).set(raw.buf.subarray(0, raw.bytes), stage);
    const words = new Uint32Array(this.mem.buffer, handlesAt(stage, raw.bytes), 2 * n);
    for (let k = 0; k < n; k++) {
      const h = raw.handles[k]!;
      words[2 * k] = h.offset - raw.start;
      words[2 * k + 1] = h.size;
    }
    return this.placeStaged(region, n, raw.bytes, raw.start, checksumType, baseContextChecksum);
  }

  /**
   * Room in the kernel's memory for a run of `runBytes` bytes in `n` blocks: the run goes at the
   * address returned, its n (offset in the run, size) u32 pairs at handlesAt(stage, runBytes).
   */
  stage(runBytes: number, n: number): number {
    const need = runBytes + SLACK + 8 * n + 8;
    if (need > this.stageArea.cap) {
      this.stageArea.cap = Math.max(need, 2 * this.stageArea.cap, 512 * 1024);
      this.stageArea.at = this.mem.alloc(this.stageArea.cap);
    }
    return this.stageArea.at;
  }

  /** Bytes the blocks of the last run placed by the kernel take in its region, after the list. */
  placedBytes = 0;

  /**
   * Places the staged run (stage(): its bytes from file offset `start`, and its handles) by the
   * kernel: the block count, or undefined when the kernel declines it.
   */
  placeStaged(region: Region, n: number, runBytes: number, start: number, checksumType: number, baseContextChecksum: number): number | undefined {
    const mem = this.mem;
    const stage = this.stageArea.at;
    const view = mem.view();
    const d = this.desc;
    view.setInt32(d + D_N, n, true);
    view.setInt32(d + D_HANDLES, handlesAt(stage, runBytes), true);
    view.setInt32(d + D_RAW, stage, true);
    view.setInt32(d + D_TABLES, TABLES_AT, true);
    view.setUint32(d + D_CTX_BASE, baseContextChecksum, true);
    view.setFloat64(d + D_START, start, true);
    view.setInt32(d + D_MAX, MAX_PLACED_BLOCK, true);
    view.setInt32(d + D_CHECKSUM, checksumType, true);
    view.setInt32(d + D_SECRET, SECRET_AT, true);
    let bytes: number;
    try {
      bytes = mem.exports.runSize(d);
    } catch {
      traps++;
      return undefined;
    }
    if (bytes < 0) return undefined;
    reserve(mem, region, bytes + 8 * n + SLACK);
    mem.view().setInt32(d + D_DST, region.at, true);
    try {
      if (mem.exports.placeRun(d) >= 0) return undefined;
    } catch {
      traps++;
      return undefined;
    }
    this.placedBytes = bytes;
    return n;
  }

  /**
   * Verifies and decompresses a raw run's blocks straight into the region (one copy less than
   * decompressing elsewhere and copying in): each block's declared size places it first. A run
   * with a block whose size only decompressing tells (zlib, zstd) is decompressed first and copied in.
   * Returns the block count; the block list (start, end of entries) is at region.at.
   */
  placeRaw(region: Region, file: string, raw: RawBlockRun, reader: TableReader): number {
    const mem = this.mem;
    const n = raw.handles.length;
    const sizes = raw.handles.map((_, k) => reader.declaredSize(raw, k, MAX_PLACED_BLOCK));
    // A block whose size only decompressing tells: the whole run is decompressed first, in order
    // (so that the first bad block is the one reported), and copied in.
    const early = sizes.includes(-1) ? raw.handles.map((_, k) => reader.blockOf(raw, k)) : undefined;
    if (early !== undefined) for (let k = 0; k < n; k++) sizes[k] = early[k]!.length;
    const need = sizes.reduce((sum, size) => sum + size, 8 * n);
    reserve(mem, region, need);
    // No allocation below: views of the memory stay valid.
    const buffer = mem.buffer;
    const bytes = new Uint8Array(buffer);
    const view = mem.view();
    const list = region.at;
    let at = list + 8 * n;
    for (let k = 0; k < n; k++) {
      const size = sizes[k]!;
      let block = early?.[k];
      if (block === undefined) {
        const place = new Uint8Array(buffer, at, size);
        block = reader.blockOf(raw, k, (m) => (m === size ? place : new Uint8Array(m)));
      }
      if (block.buffer !== buffer || block.byteOffset !== at) {
        if (block.length !== size) throw new Error(`block of ${block.length} bytes, declared ${size}`);
        bytes.set(block, at);
      }
      at += size;
    }
    // Layouts once every block is verified, as before: a checksum error comes first.
    at = list + 8 * n;
    for (let k = 0; k < n; k++) {
      const end = blockLayout(file, raw.handles[k]!.offset, new Uint8Array(buffer, at, sizes[k]!)).keysEnd;
      view.setInt32(list + 8 * k, at, true);
      view.setInt32(list + 8 * k + 4, at + end, true);
      at += sizes[k]!;
    }
    return n;
  }
}
