/**
 * Block layout (table/block_based/block_builder.cc, block.cc, data_block_footer.cc): entries
 * `shared varint32, non_shared varint32, value_length varint32, key delta, value`, then the
 * restart array (uint32 each), an optional data-block hash index, and a packed uint32 footer
 * holding num_restarts and feature bits. A full scan only needs where the entries end; restart
 * offsets are not needed to read forward.
 */
import { corrupt, unsupported } from './errors.js';
import { readFixed32, readVarint32, type VarintResult } from '../util/varint.js';

const HASH_INDEX_BIT = 0x80000000;
const UNIFORM_KEYS_BIT = 1 << 29;
const SEPARATED_KV_BIT = 1 << 28;
const MAX_NUM_RESTARTS = (1 << 28) - 1;

/** Where a block's entries end, and how many restart points it has. */
export interface BlockLayout {
  /** Entries occupy `[0, keysEnd)`; the restart array starts here. */
  readonly keysEnd: number;
  readonly numRestarts: number;
}

/**
 * Decodes the block footer. `blockOffset` is the block's file offset, for errors (offsets inside
 * a decompressed block have no file position).
 */
export function blockLayout(file: string, blockOffset: number, data: Uint8Array): BlockLayout {
  if (data.length < 4) throw corrupt(file, blockOffset, `block too small (${data.length} bytes)`);
  let packed = readFixed32(data, data.length - 4);
  let end = data.length - 4;
  const hasHashIndex = (packed & HASH_INDEX_BIT) !== 0;
  packed &= ~HASH_INDEX_BIT;
  packed >>>= 0;
  if (packed & SEPARATED_KV_BIT) {
    throw unsupported(file, blockOffset, 'block uses separated key/value storage (RocksDB >= 10), not supported');
  }
  // The uniform-keys bit only enables interpolation search; the layout is unchanged.
  packed &= ~UNIFORM_KEYS_BIT;
  if (packed > MAX_NUM_RESTARTS) throw corrupt(file, blockOffset, 'block footer has unknown feature bits');
  const numRestarts = packed;
  if (hasHashIndex) {
    // Hash index: buckets (1 byte each), then uint16 num_buckets, just before the packed footer.
    if (end < 2) throw corrupt(file, blockOffset, 'block too small for its hash index');
    const numBuckets = data[end - 2]! | (data[end - 1]! << 8);
    end -= 2 + numBuckets;
    if (end < 0) throw corrupt(file, blockOffset, 'data block hash index larger than the block');
  }
  const keysEnd = end - 4 * numRestarts;
  if (keysEnd < 0) throw corrupt(file, blockOffset, `block too small for ${numRestarts} restart points`);
  if (numRestarts === 0 && keysEnd !== 0) throw corrupt(file, blockOffset, 'block with entries but no restart points');
  return { keysEnd, numRestarts };
}

/** One key/value of a meta block (metaindex, properties), copied out of the block. */
export interface MetaEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

const vr: VarintResult = { value: 0, pos: 0 };

/**
 * Reads every entry of a block whose entries carry value lengths (data, meta, range-deletion,
 * and index blocks without value delta encoding). Keys are reassembled from shared prefixes.
 */
export function readBlockEntries(file: string, blockOffset: number, data: Uint8Array): MetaEntry[] {
  const { keysEnd } = blockLayout(file, blockOffset, data);
  const out: MetaEntry[] = [];
  let prev: Uint8Array = new Uint8Array(0);
  let p = 0;
  while (p < keysEnd) {
    readVarint32(data, p, keysEnd, vr);
    const shared = vr.value;
    if (vr.pos >= 0) readVarint32(data, vr.pos, keysEnd, vr);
    const nonShared = vr.value;
    if (vr.pos >= 0) readVarint32(data, vr.pos, keysEnd, vr);
    const valueLen = vr.value;
    if (vr.pos < 0) throw corrupt(file, blockOffset, `bad entry header at block byte ${p}`);
    p = vr.pos;
    if (shared > prev.length || nonShared > keysEnd - p || valueLen > keysEnd - p - nonShared) {
      throw corrupt(file, blockOffset, `entry at block byte ${p} overruns the block`);
    }
    const key = new Uint8Array(shared + nonShared);
    key.set(prev.subarray(0, shared), 0);
    key.set(data.subarray(p, p + nonShared), shared);
    p += nonShared;
    out.push({ key, value: data.subarray(p, p + valueLen) });
    p += valueLen;
    prev = key;
  }
  return out;
}
