/**
 * Index blocks (table/format.cc IndexValue, block.cc IndexBlockIter): each entry maps a separator
 * key to a BlockHandle. With index_value_is_delta_encoded (format_version >= 4) entries have no
 * value length; an entry whose key shares no prefix holds a full handle, the others only a
 * signed size delta, the offset following the previous block and its trailer. With
 * kBinarySearchWithFirstKey a length-prefixed first key follows the handle. A full scan only
 * needs the handles, in order; a scan of a key range also collects the separator keys.
 */
import { type BlockHandle, BLOCK_TRAILER_SIZE, decodeBlockHandle } from './block-handle.js';
import { blockLayout } from './block.js';
import { corrupt } from './errors.js';
import { readVarint32, readVarsigned64, type VarintResult } from '../util/varint.js';

/** How index values are encoded, from the table properties. */
export interface IndexEncoding {
  readonly valueDeltaEncoded: boolean;
  readonly haveFirstKey: boolean;
  /** Separators are user keys (index_key_is_user_key), not internal keys with an 8-byte trailer. */
  readonly keyIsUserKey: boolean;
}

/**
 * The user-key part of each separator of an index block, packed: separator i is
 * `bytes[ends[i - 1], ends[i])` (ends[-1] = 0). Every user key in block i is at most separator
 * i, and every user key in block i + 1 is at least separator i.
 */
export interface IndexKeys {
  readonly bytes: Uint8Array;
  readonly ends: Int32Array;
}

const vr: VarintResult = { value: 0, pos: 0 };

/** The block handles of one index block (or one partition, or the top level), in order. */
export function decodeIndexBlock(file: string, blockOffset: number, data: Uint8Array, enc: IndexEncoding): BlockHandle[] {
  return decodeIndex(file, blockOffset, data, enc, undefined);
}

/** As decodeIndexBlock, with the separators' user keys. */
export function decodeIndexBlockWithKeys(
  file: string,
  blockOffset: number,
  data: Uint8Array,
  enc: IndexEncoding,
): { handles: BlockHandle[]; keys: IndexKeys } {
  const collected = { key: new Uint8Array(64), bytes: new Uint8Array(1024), used: 0, ends: [] as number[] };
  const handles = decodeIndex(file, blockOffset, data, enc, collected);
  return { handles, keys: { bytes: collected.bytes.slice(0, collected.used), ends: Int32Array.from(collected.ends) } };
}

interface KeyCollector {
  key: Uint8Array; // the current full separator, rebuilt from its shared prefix
  bytes: Uint8Array;
  used: number;
  ends: number[];
}

function decodeIndex(file: string, blockOffset: number, data: Uint8Array, enc: IndexEncoding, keys: KeyCollector | undefined): BlockHandle[] {
  const { keysEnd } = blockLayout(file, blockOffset, data);
  const handles: BlockHandle[] = [];
  const pos = { pos: 0 };
  let prevKeyLen = 0;
  let prev: BlockHandle | undefined;
  let p = 0;
  const bad = (what: string) => corrupt(file, blockOffset, `${what} at index block byte ${p}`);
  while (p < keysEnd) {
    readVarint32(data, p, keysEnd, vr);
    const shared = vr.value;
    if (vr.pos >= 0) readVarint32(data, vr.pos, keysEnd, vr);
    const nonShared = vr.value;
    let valueLen = -1;
    if (vr.pos >= 0 && !enc.valueDeltaEncoded) {
      readVarint32(data, vr.pos, keysEnd, vr);
      valueLen = vr.value;
    }
    if (vr.pos < 0) throw bad('bad entry header');
    p = vr.pos;
    if (shared > prevKeyLen || nonShared > keysEnd - p) throw bad('entry overruns the block');
    if (keys !== undefined) collectKey(keys, data, p, shared, nonShared, enc.keyIsUserKey, bad);
    prevKeyLen = shared + nonShared;
    p += nonShared;
    const valueEnd = valueLen >= 0 ? p + valueLen : keysEnd;
    if (valueEnd > keysEnd) throw bad('value overruns the block');
    let handle: BlockHandle | undefined;
    if (enc.valueDeltaEncoded && shared !== 0) {
      if (prev === undefined) throw bad('delta-encoded handle without a previous handle');
      readVarsigned64(data, p, valueEnd, vr);
      if (vr.pos < 0) throw bad('bad delta-encoded block handle');
      const size = prev.size + vr.value;
      if (size < 0) throw bad('negative block size');
      handle = { offset: prev.offset + prev.size + BLOCK_TRAILER_SIZE, size };
      pos.pos = vr.pos;
    } else {
      handle = decodeBlockHandle(data, p, valueEnd, pos);
      if (handle === undefined) throw bad('bad block handle');
    }
    let q = pos.pos;
    if (enc.haveFirstKey) {
      readVarint32(data, q, valueEnd, vr);
      if (vr.pos < 0 || vr.value > valueEnd - vr.pos) throw bad('bad first key');
      q = vr.pos + vr.value;
    }
    // Without delta encoding the value length is authoritative; with it the value ends here.
    p = valueLen >= 0 ? valueEnd : q;
    handles.push(handle);
    prev = handle;
  }
  return handles;
}

/** Rebuilds the separator at data[p, p + nonShared) after `shared` bytes of the previous one and appends its user key. */
function collectKey(
  c: KeyCollector,
  data: Uint8Array,
  p: number,
  shared: number,
  nonShared: number,
  keyIsUserKey: boolean,
  bad: (what: string) => Error,
): void {
  const len = shared + nonShared;
  if (len > c.key.length) {
    const k = new Uint8Array(Math.max(len, c.key.length * 2));
    k.set(c.key.subarray(0, shared));
    c.key = k;
  }
  // Byte loops, not set(subarray): two views per separator made most of this function's cost.
  const key = c.key;
  for (let i = 0; i < nonShared; i++) key[shared + i] = data[p + i]!;
  const userLen = keyIsUserKey ? len : len - 8;
  if (userLen < 0) throw bad('index separator shorter than an internal key');
  if (c.used + userLen > c.bytes.length) {
    const b = new Uint8Array(Math.max(c.used + userLen, c.bytes.length * 2));
    b.set(c.bytes.subarray(0, c.used));
    c.bytes = b;
  }
  const bytes = c.bytes;
  for (let i = 0; i < userLen; i++) bytes[c.used + i] = key[i]!;
  c.used += userLen;
  c.ends.push(c.used);
}
