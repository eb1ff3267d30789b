/**
 * The hot loop: decodes every entry of one (decompressed, checksummed) data block into
 * InternalEntry objects. Keys that are stored whole are views into the block; keys rebuilt
 * from a shared prefix are carved from a shared slab (one allocation per 64 KiB, not per key).
 * Values are always views into the block.
 */
import { blockLayout } from './block.js';
import { corrupt, unsupported } from './errors.js';
import { EntryColumns, type InternalEntry } from './types.js';
import { ValueType, valueTypeName } from './value-type.js';
import { readVarint32, type VarintResult } from '../util/varint.js';

const SLAB_SIZE = 64 * 1024;
let slab = new Uint8Array(SLAB_SIZE);
let slabPos = 0;

const vr: VarintResult = { value: 0, pos: 0 };

/**
 * Appends the entries of `data` to `out`. `globalSequence`, when defined, replaces every
 * entry's sequence number (ingested external files, see TableReader). With `passThrough`,
 * Merge, BlobIndex, WideColumnEntity and DeletionWithTimestamp entries are yielded as stored
 * instead of raising UNSUPPORTED_FEATURE.
 */
export function decodeDataBlock(
  file: string,
  blockOffset: number,
  data: Uint8Array,
  out: InternalEntry[],
  globalSequence: number | undefined,
  passThrough = false,
): void {
  const cols = new EntryColumns(64);
  decodeDataBlockColumns(file, blockOffset, data, cols, globalSequence, passThrough);
  for (let i = 0; i < cols.length; i++) out.push(cols.entry(i));
}

/** As decodeDataBlock, appending to columns: no object or view per entry. */
export function decodeDataBlockColumns(
  file: string,
  blockOffset: number,
  data: Uint8Array,
  out: EntryColumns,
  globalSequence: number | undefined,
  passThrough = false,
): void {
  const { keysEnd } = blockLayout(file, blockOffset, data);
  let prevBuf = data;
  let prevStart = 0;
  let prevLen = 0;
  let p = 0;
  while (p < keysEnd) {
    let shared: number;
    let nonShared: number;
    let valueLen: number;
    const b0 = data[p]!;
    const b1 = data[p + 1]!;
    const b2 = data[p + 2]!;
    // Fast path as in RocksDB's DecodeEntry: all three varints fit in one byte each.
    if ((b0 | b1 | b2) < 128 && p + 3 <= keysEnd) {
      shared = b0;
      nonShared = b1;
      valueLen = b2;
      p += 3;
    } else {
      readVarint32(data, p, keysEnd, vr);
      shared = vr.value;
      if (vr.pos >= 0) readVarint32(data, vr.pos, keysEnd, vr);
      nonShared = vr.value;
      if (vr.pos >= 0) readVarint32(data, vr.pos, keysEnd, vr);
      valueLen = vr.value;
      if (vr.pos < 0) throw corrupt(file, blockOffset, `bad entry header at data block byte ${p}`);
      p = vr.pos;
    }
    if (shared > prevLen || nonShared > keysEnd - p || valueLen > keysEnd - p - nonShared) {
      throw corrupt(file, blockOffset, `entry at data block byte ${p} overruns the block`);
    }
    const keyLen = shared + nonShared;
    if (keyLen < 8) throw corrupt(file, blockOffset, `internal key shorter than 8 bytes at data block byte ${p}`);
    let kb: Uint8Array;
    let ks: number;
    if (shared === 0) {
      kb = data;
      ks = p;
    } else {
      if (keyLen > SLAB_SIZE - slabPos) {
        slab = new Uint8Array(Math.max(SLAB_SIZE, keyLen));
        slabPos = 0;
      }
      kb = slab;
      ks = slabPos;
      slabPos += keyLen;
      // Short copies by hand: cheaper than creating subarray views for set().
      if (shared <= 32) {
        for (let i = 0; i < shared; i++) kb[ks + i] = prevBuf[prevStart + i]!;
      } else {
        kb.set(prevBuf.subarray(prevStart, prevStart + shared), ks);
      }
      if (nonShared <= 32) {
        for (let i = 0; i < nonShared; i++) kb[ks + shared + i] = data[p + i]!;
      } else {
        kb.set(data.subarray(p, p + nonShared), ks + shared);
      }
    }
    p += nonShared;
    const t = ks + keyLen - 8;
    const type = kb[t]!;
    const top = kb[t + 7]!;
    if (top >= 32) throw unsupported(file, blockOffset, 'sequence number >= 2^53 cannot be represented');
    let sequence =
      kb[t + 1]! + kb[t + 2]! * 0x100 + kb[t + 3]! * 0x10000 + kb[t + 4]! * 0x1000000 +
      (kb[t + 5]! + kb[t + 6]! * 0x100 + top * 0x10000) * 0x100000000;
    if (globalSequence !== undefined) sequence = globalSequence;
    let vEnd = p + valueLen;
    if (type !== ValueType.Value && type !== ValueType.Deletion && type !== ValueType.SingleDeletion) {
      if (type === ValueType.ValuePreferredSeqno) {
        // The value carries an 8-byte packed write time / seqno suffix; readers see the rest.
        if (valueLen < 8) throw corrupt(file, blockOffset, 'kTypeValuePreferredSeqno value shorter than 8 bytes');
        vEnd -= 8;
      } else if (!passThrough || !PASS_THROUGH_TYPES.has(type)) {
        throw badType(file, blockOffset, type);
      }
    }
    out.push(kb, ks, t - ks, data, p, vEnd - p, sequence, type);
    p += valueLen;
    prevBuf = kb;
    prevStart = ks;
    prevLen = keyLen;
  }
}

/** Valid SST entry types we cannot interpret, which a caller may ask to receive as stored. */
const PASS_THROUGH_TYPES: ReadonlySet<number> = new Set([
  ValueType.Merge,
  ValueType.BlobIndex,
  ValueType.WideColumnEntity,
  ValueType.DeletionWithTimestamp,
]);

function badType(file: string, blockOffset: number, type: number): Error {
  switch (type) {
    case ValueType.Merge:
      return unsupported(file, blockOffset, 'merge operands (kTypeMerge) are not supported: the value depends on the merge operator');
    case ValueType.BlobIndex:
      return unsupported(file, blockOffset, 'blob indexes (kTypeBlobIndex, BlobDB / enable_blob_files) are not supported');
    case ValueType.WideColumnEntity:
      return unsupported(file, blockOffset, 'wide-column entities (kTypeWideColumnEntity) are not supported');
    case ValueType.DeletionWithTimestamp:
      return unsupported(file, blockOffset, 'user-defined timestamps (kTypeDeletionWithTimestamp) are not supported');
    default:
      return corrupt(file, blockOffset, `value type ${valueTypeName(type)} cannot appear in a data block`);
  }
}
