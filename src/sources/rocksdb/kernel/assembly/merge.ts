// AssemblyScript source of the merge kernel (compiled by ../build.sh into ../merge-kernel-wasm.ts).
//
// The hot loop of the RocksDB source in WebAssembly: decodes data-block entries of several sorted
// streams, merges them by internal key (user key ascending, sequence descending, stream rank), and
// writes the newest visible version of each user key as a snapshot ENTRY record. It is an
// accelerator with no opinions of its own: anything unusual (a malformed entry, a key out of order,
// a visible merge operand when merging is off, a key over 8 KiB) makes it stop with FALLBACK,
// and the JavaScript merger (../../merge.ts), the reference, redoes the range and reports precisely.
//
// With merging on (C_MERGE), a key whose newest visible version is a merge operand is written as a
// merge group instead of an ENTRY: one OPERAND record per visible operand, newest first, then BASE
// (the value they apply to) or NO_BASE (a deletion, a single deletion, a covering range tombstone,
// or no older version): RocksDB's DBIter::MergeValuesNewToOld. The driver applies the operator.
// Groups never straddle an OUTPUT: the output grows instead.
//
// All state lives in linear memory, laid out by the JavaScript driver (../kernel-merger.ts), which
// also refills streams with decompressed blocks when the kernel asks (REFILL). Field offsets below
// must match the constants of kernel-merger.ts.

import { copy as copyBytes } from '../../util/assembly/copy';
import { varint32, varValue } from './varint';

// Statuses returned by step().
const DONE: i32 = 0;
const OUTPUT: i32 = 1;
const REFILL: i32 = 2;
const FALLBACK: i32 = 3;
const GROW: i32 = 4; // the output cannot hold the next record: C_PENDING says how many bytes it needs

// Control block fields (byte offsets).
const C_N: usize = 0;
const C_CURSORS: usize = 4;
const C_HEAP: usize = 8;
const C_HEAP_LEN: usize = 12;
const C_OUT: usize = 16;
const C_OUT_CAP: usize = 20;
const C_OUT_POS: usize = 24;
const C_OUT_COUNT: usize = 28;
const C_LO: usize = 32;
const C_LO_LEN: usize = 36; // -1: open
const C_HI: usize = 40;
const C_HI_LEN: usize = 44; // -1: open
const C_TOMB: usize = 48;
const C_TOMB_COUNT: usize = 52;
const C_TOMB_IDX: usize = 56;
const C_FLUSH_AT: usize = 60;
const C_PHASE: usize = 64;
const C_PENDING: usize = 68;
const C_GROUP_KEY: usize = 72;
const C_GROUP_LEN: usize = 76;
const C_REASON: usize = 80;
const C_INIT_IDX: usize = 84;
const C_FLUSH_COUNT: usize = 88; // or at least this many records
const C_LAST_RECORD: usize = 92; // output offset of the last record written
const C_MERGE: usize = 96; // 1: write merge groups for visible operands; 0: FALLBACK on them
const C_MERGE_GROUPS: usize = 100; // merge groups in the output (reset with C_OUT_POS by the driver)
const C_MERGE_STATE: usize = 104; // where a merge group stands (MS_*)
const C_GROUP_COVER: usize = 112; // f64: highest range tombstone sequence covering the group key, or -1

// Record tags of the output (1 is the snapshot format's ENTRY).
const TAG_ENTRY: u8 = 1;
const TAG_OPERAND: u8 = 2;
const TAG_BASE: u8 = 3;
const TAG_NO_BASE: u8 = 4;

// Phases of the resumable merge.
const P_INIT: i32 = 0;
const P_TOP: i32 = 1;
const P_SKIP: i32 = 2;
const P_DONE: i32 = 3;
const P_MERGE: i32 = 4;

// Merge group states (P_MERGE), so that a REFILL or GROW resumes where it stopped.
const MS_ADVANCE: i32 = 0; // the top version is written: move past it
const MS_EXAMINE: i32 = 1; // the top is an older version of the group key, not yet looked at
const MS_END_TOP: i32 = 2; // no more versions: write NO_BASE, then the top is the next key
const MS_END_SKIP: i32 = 3; // a deletion (or covered version) ends the group: write NO_BASE, skip the rest

// Cursor fields (byte offsets; CURSOR_SIZE bytes each).
const CURSOR_SIZE: usize = 104;
const K_RANK: usize = 0;
const K_STATE: usize = 4; // 0: needs blocks, 1: has an entry, 2: exhausted
const K_BLOCKS: usize = 8; // (start, end) i32 pairs: a block's entries, up to its restart array
const K_BLOCK_COUNT: usize = 12;
const K_BLOCK_IDX: usize = 16;
const K_POS: usize = 20;
const K_END: usize = 24;
const K_KEY_A: usize = 28;
const K_KEY_B: usize = 32;
const K_KEY_CAP: usize = 36;
const K_KEY: usize = 40; // the current internal key (K_KEY_A or K_KEY_B)
const K_KEY_LEN: usize = 44;
const K_BLOCK_PREV: usize = 48; // length of the previous key of this block (0 at a block's start)
const K_TYPE: usize = 52;
const K_SEQ: usize = 56; // f64
const K_GLOBAL_SEQ: usize = 64; // f64, -1: none
const K_VAL: usize = 72;
const K_VAL_LEN: usize = 76;
const K_COUNT: usize = 80; // entries within [lo, hi) loaded since the driver last reset it
const K_STARTED: usize = 84; // an entry within the range was loaded
const K_DISTINCT: usize = 88; // the current user key differs from the stream's previous one

// Fallback reasons (for diagnostics only: the JavaScript merger reports the real error).
const R_ENTRY: i32 = 1;
const R_ORDER: i32 = 2;
const R_TYPE: i32 = 3;
const R_SIZE: i32 = 4;
const R_SEQ: i32 = 5;

// Value types (RocksDB dbformat.h).
const T_DELETION: i32 = 0x0;
const T_VALUE: i32 = 0x1;
const T_MERGE: i32 = 0x2;
const T_SINGLE_DELETION: i32 = 0x7;
const T_BLOB_INDEX: i32 = 0x11;
const T_DELETION_WITH_TS: i32 = 0x14;
const T_WIDE_COLUMN: i32 = 0x16;
const T_VALUE_PREFERRED_SEQNO: i32 = 0x18;

// Results of next().
const N_LOADED: i32 = 1;
const N_REFILL: i32 = 0;
const N_EXHAUSTED: i32 = 2;
const N_FALLBACK: i32 = -1;

let ctrl: usize = 0;

@inline function ci(off: usize): i32 { return load<i32>(ctrl + off); }
@inline function setCi(off: usize, v: i32): void { store<i32>(ctrl + off, v); }
@inline function cur(i: i32): usize { return <usize>ci(C_CURSORS) + <usize>i * CURSOR_SIZE; }
@inline function ki(c: usize, off: usize): i32 { return load<i32>(c + off); }
@inline function setKi(c: usize, off: usize, v: i32): void { store<i32>(c + off, v); }

function fallback(reason: i32): i32 {
  setCi(C_REASON, reason);
  return FALLBACK;
}

/** As fallback, for next(): its result is N_FALLBACK. */
function bail(reason: i32): i32 {
  setCi(C_REASON, reason);
  return N_FALLBACK;
}

/** Bytewise comparison of [a, a + al) and [b, b + bl). */
function compare(a: usize, al: i32, b: usize, bl: i32): i32 {
  const n = al < bl ? al : bl;
  let i = 0;
  // Eight bytes at a time; the first differing word decides, compared big-endian.
  for (; i + 8 <= n; i += 8) {
    const x = load<u64>(a + <usize>i);
    const y = load<u64>(b + <usize>i);
    if (x != y) return bswap<u64>(x) < bswap<u64>(y) ? -1 : 1;
  }
  for (; i < n; i++) {
    const d = <i32>load<u8>(a + <usize>i) - <i32>load<u8>(b + <usize>i);
    if (d != 0) return d;
  }
  return al - bl;
}

/** Copies n bytes (no overlap); up to 128 inline (util/assembly/copy.ts). */
@inline function copy(dst: usize, src: usize, n: usize): void {
  copyBytes(dst, src, n, 128);
}


/**
 * Loads the cursor's next entry within [lo, hi): N_LOADED, N_REFILL (its blocks are used up),
 * N_EXHAUSTED (it reached hi, or the driver marked it exhausted) or N_FALLBACK.
 */
function next(c: usize): i32 {
  if (ki(c, K_STATE) == 2) return N_EXHAUSTED;
  for (;;) {
    let pos = <usize>ki(c, K_POS);
    let end = <usize>ki(c, K_END);
    if (pos >= end) {
      const idx = ki(c, K_BLOCK_IDX) + 1;
      if (idx >= ki(c, K_BLOCK_COUNT)) {
        setKi(c, K_STATE, 0);
        return N_REFILL;
      }
      setKi(c, K_BLOCK_IDX, idx);
      const b = <usize>ki(c, K_BLOCKS) + (<usize>idx << 3);
      pos = <usize>load<i32>(b);
      end = <usize>load<i32>(b + 4);
      setKi(c, K_POS, <i32>pos);
      setKi(c, K_END, <i32>end);
      setKi(c, K_BLOCK_PREV, 0);
      continue;
    }
    let shared: u32;
    let nonShared: u32;
    let valueLen: u32;
    let p = pos;
    const b0 = <u32>load<u8>(p);
    const b1 = p + 1 < end ? <u32>load<u8>(p + 1) : 0x80;
    const b2 = p + 2 < end ? <u32>load<u8>(p + 2) : 0x80;
    if ((b0 | b1 | b2) < 128) {
      shared = b0;
      nonShared = b1;
      valueLen = b2;
      p += 3;
    } else {
      p = varint32(p, end);
      if (p == 0) return bail(R_ENTRY);
      shared = varValue;
      p = varint32(p, end);
      if (p == 0) return bail(R_ENTRY);
      nonShared = varValue;
      p = varint32(p, end);
      if (p == 0) return bail(R_ENTRY);
      valueLen = varValue;
    }
    const room = <u32>(end - p);
    if (shared > <u32>ki(c, K_BLOCK_PREV) || nonShared > room || valueLen > room - nonShared) return bail(R_ENTRY);
    const keyLen = shared + nonShared;
    if (keyLen < 8) return bail(R_ENTRY);
    if (keyLen > <u32>ki(c, K_KEY_CAP)) return bail(R_SIZE);
    const prevKey = <usize>ki(c, K_KEY);
    const prevLen = ki(c, K_KEY_LEN);
    const key = prevKey == <usize>ki(c, K_KEY_A) ? <usize>ki(c, K_KEY_B) : <usize>ki(c, K_KEY_A);
    if (shared > 0) copy(key, prevKey, shared);
    copy(key + <usize>shared, p, nonShared);
    p += <usize>nonShared;
    const t = key + <usize>keyLen - 8;
    const type = <i32>load<u8>(t);
    if (load<u8>(t + 7) >= 32) return bail(R_SEQ); // sequence >= 2^53
    let seq = <f64>(load<u64>(t) >> 8);
    const globalSeq = load<f64>(c + K_GLOBAL_SEQ);
    if (globalSeq >= 0) seq = globalSeq;
    let valueEnd = p + <usize>valueLen;
    if (type != T_VALUE && type != T_DELETION && type != T_SINGLE_DELETION) {
      if (type == T_VALUE_PREFERRED_SEQNO) {
        if (valueLen < 8) return bail(R_ENTRY);
        valueEnd -= 8; // its packed write time / seqno suffix: readers see the rest
      } else if (type != T_MERGE && type != T_BLOB_INDEX && type != T_WIDE_COLUMN && type != T_DELETION_WITH_TS) {
        return bail(R_TYPE);
      }
    }
    // The entry is decoded: it becomes the block's previous key whatever the range says.
    setKi(c, K_POS, <i32>(p + <usize>valueLen));
    setKi(c, K_BLOCK_PREV, <i32>keyLen);
    setKi(c, K_KEY, <i32>key);
    setKi(c, K_KEY_LEN, <i32>keyLen);
    const userLen = <i32>keyLen - 8;
    const started = ki(c, K_STARTED);
    if (started == 0) {
      const loLen = ci(C_LO_LEN);
      if (loLen >= 0 && compare(key, userLen, <usize>ci(C_LO), loLen) < 0) continue; // before the range
    }
    const hiLen = ci(C_HI_LEN);
    if (hiLen >= 0 && compare(key, userLen, <usize>ci(C_HI), hiLen) >= 0) {
      setKi(c, K_STATE, 2);
      return N_EXHAUSTED;
    }
    if (started != 0) {
      // Internal-key order within the stream: user key ascending, then sequence descending.
      const d = compare(prevKey, prevLen - 8, key, userLen);
      if (d > 0 || (d == 0 && seq >= load<f64>(c + K_SEQ))) return bail(R_ORDER);
      setKi(c, K_DISTINCT, d != 0 ? 1 : 0);
    } else {
      setKi(c, K_DISTINCT, 1);
    }
    setKi(c, K_STARTED, 1);
    setKi(c, K_TYPE, type);
    store<f64>(c + K_SEQ, seq);
    setKi(c, K_VAL, <i32>p);
    setKi(c, K_VAL_LEN, <i32>(valueEnd - p));
    setKi(c, K_COUNT, ki(c, K_COUNT) + 1);
    setKi(c, K_STATE, 1);
    return N_LOADED;
  }
}

/** Whether cursor a's entry sorts before cursor b's. */
@inline function before(a: usize, b: usize): bool {
  const d = compare(<usize>ki(a, K_KEY), ki(a, K_KEY_LEN) - 8, <usize>ki(b, K_KEY), ki(b, K_KEY_LEN) - 8);
  if (d != 0) return d < 0;
  const sa = load<f64>(a + K_SEQ);
  const sb = load<f64>(b + K_SEQ);
  if (sa != sb) return sa > sb;
  return ki(a, K_RANK) < ki(b, K_RANK);
}

@inline function heapAt(i: i32): usize { return cur(load<i32>(<usize>ci(C_HEAP) + (<usize>i << 2))); }
@inline function heapIdx(i: i32): i32 { return load<i32>(<usize>ci(C_HEAP) + (<usize>i << 2)); }
@inline function setHeap(i: i32, v: i32): void { store<i32>(<usize>ci(C_HEAP) + (<usize>i << 2), v); }

function heapPush(idx: i32): void {
  let i = ci(C_HEAP_LEN);
  setCi(C_HEAP_LEN, i + 1);
  setHeap(i, idx);
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!before(heapAt(i), heapAt(p))) break;
    const t = heapIdx(p);
    setHeap(p, heapIdx(i));
    setHeap(i, t);
    i = p;
  }
}

/** Restores heap order after the top moved; true when the same cursor stays on top. */
function siftTop(): bool {
  const n = ci(C_HEAP_LEN);
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const m = r < n && before(heapAt(r), heapAt(l)) ? r : l;
    if (!before(heapAt(m), heapAt(i))) break;
    const t = heapIdx(m);
    setHeap(m, heapIdx(i));
    setHeap(i, t);
    i = m;
  }
  return i == 0;
}

function popTop(): void {
  const n = ci(C_HEAP_LEN) - 1;
  setCi(C_HEAP_LEN, n);
  if (n > 0) {
    setHeap(0, heapIdx(n));
    siftTop();
  }
}

/** The highest sequence of a range tombstone covering the key, or -1 (keys come in ascending order). */
function covering(key: usize, len: i32): f64 {
  const count = ci(C_TOMB_COUNT);
  let i = ci(C_TOMB_IDX);
  const base = <usize>ci(C_TOMB);
  // Fragments: start, startLen, end, endLen (i32), maxSeq (f64): 24 bytes, sorted and disjoint.
  while (i < count) {
    const f = base + <usize>i * 24;
    if (compare(<usize>load<i32>(f + 8), load<i32>(f + 12), key, len) > 0) break;
    i++;
  }
  setCi(C_TOMB_IDX, i);
  if (i >= count) return -1;
  const f = base + <usize>i * 24;
  return compare(<usize>load<i32>(f), load<i32>(f + 4), key, len) <= 0 ? load<f64>(f + 16) : -1;
}

/**
 * Writes one record (tag, key, value) to the output; false when it does not fit (C_PENDING then
 * says the output size needed, and the driver grows the output keeping what it holds).
 */
function emit(tag: u8, key: usize, keyLen: i32, value: usize, valueLen: i32): bool {
  const size = 9 + keyLen + valueLen;
  const o = ci(C_OUT_POS);
  if (o + size > ci(C_OUT_CAP)) {
    setCi(C_PENDING, o + size);
    return false;
  }
  const out = <usize>ci(C_OUT) + <usize>o;
  store<u8>(out, tag);
  store<u32>(out + 1, <u32>keyLen);
  store<u32>(out + 5, <u32>valueLen);
  copy(out + 9, key, <usize>keyLen);
  copy(out + 9 + <usize>keyLen, value, <usize>valueLen);
  setCi(C_LAST_RECORD, o);
  setCi(C_OUT_POS, o + size);
  setCi(C_OUT_COUNT, ci(C_OUT_COUNT) + 1);
  return true;
}

// Results of advanceGroup().
const A_SAME: i32 = 0;
const A_END: i32 = 1;
const A_REFILL: i32 = 2;
const A_FALLBACK: i32 = 3;

/**
 * Moves the top cursor past its version of the group key: A_SAME when the new top is another
 * version of it, A_END when the key has no more versions, A_REFILL (C_PENDING names the cursor;
 * call again after the driver refilled it) or A_FALLBACK.
 */
@inline function advanceGroup(groupKey: usize, groupLen: i32): i32 {
  const topIdx = heapIdx(0);
  const top = cur(topIdx);
  const r = next(top);
  if (r == N_REFILL) {
    setCi(C_PENDING, topIdx);
    return A_REFILL;
  }
  if (r == N_FALLBACK) return A_FALLBACK;
  if (r == N_EXHAUSTED) {
    popTop();
  } else if (siftTop() && ki(top, K_DISTINCT) != 0) {
    return A_END; // the same cursor stays on top at a new user key
  }
  if (ci(C_HEAP_LEN) == 0) return A_END;
  const h = heapAt(0);
  return compare(<usize>ki(h, K_KEY), ki(h, K_KEY_LEN) - 8, groupKey, groupLen) == 0 ? A_SAME : A_END;
}

/** Prepares a merge: the driver has written the control block at `at` and the cursors. */
export function begin(at: usize): void {
  ctrl = at;
  setCi(C_PHASE, P_INIT);
  setCi(C_INIT_IDX, 0);
  setCi(C_HEAP_LEN, 0);
  setCi(C_TOMB_IDX, 0);
  setCi(C_OUT_POS, 0);
  setCi(C_OUT_COUNT, 0);
  setCi(C_MERGE_GROUPS, 0);
}

/**
 * Runs the merge until it is DONE, the output holds at least flushAt bytes or flushCount
 * records (OUTPUT: the driver
 * takes them and resets the output), a cursor needs blocks (REFILL: C_PENDING names it; the
 * driver loads its next blocks, or marks it exhausted), GROW (a record larger than the output
 * buffer: the driver gives it a bigger one) or FALLBACK.
 */
export function step(): i32 {
  let phase = ci(C_PHASE);
  if (phase == P_INIT) {
    const n = ci(C_N);
    for (let i = ci(C_INIT_IDX); i < n; i++) {
      const r = next(cur(i));
      if (r == N_REFILL) {
        setCi(C_INIT_IDX, i);
        setCi(C_PENDING, i);
        return REFILL;
      }
      if (r == N_FALLBACK) return FALLBACK;
      if (r == N_LOADED) heapPush(i);
    }
    phase = P_TOP;
    setCi(C_PHASE, phase);
  }
  const groupKey = <usize>ci(C_GROUP_KEY);
  for (;;) {
    if (phase == P_TOP) {
      if (ci(C_HEAP_LEN) == 0) {
        setCi(C_PHASE, P_DONE);
        return DONE;
      }
      if (ci(C_OUT_POS) >= ci(C_FLUSH_AT) || ci(C_OUT_COUNT) >= ci(C_FLUSH_COUNT)) return OUTPUT;
      const top = heapAt(0);
      const key = <usize>ki(top, K_KEY);
      const userLen = ki(top, K_KEY_LEN) - 8;
      const type = ki(top, K_TYPE);
      const seq = load<f64>(top + K_SEQ);
      const cover = ci(C_TOMB_COUNT) > 0 ? covering(key, userLen) : -1;
      const hidden = seq < cover;
      let merging = false;
      if (type == T_VALUE || type == T_VALUE_PREFERRED_SEQNO || (type == T_MERGE && ci(C_MERGE) != 0)) {
        if (!hidden) {
          merging = type == T_MERGE;
          if (!emit(merging ? TAG_OPERAND : TAG_ENTRY, key, userLen, <usize>ki(top, K_VAL), ki(top, K_VAL_LEN))) {
            if (ci(C_OUT_POS) > 0) return OUTPUT;
            return GROW;
          }
        }
      } else if (type != T_DELETION && type != T_SINGLE_DELETION && !hidden) {
        return fallback(R_TYPE); // a visible merge operand, blob reference, …: the JS merger names it
      }
      copy(groupKey, key, <usize>userLen);
      setCi(C_GROUP_LEN, userLen);
      if (merging) {
        store<f64>(ctrl + C_GROUP_COVER, cover);
        setCi(C_MERGE_STATE, MS_ADVANCE);
        phase = P_MERGE;
      } else {
        phase = P_SKIP;
      }
      setCi(C_PHASE, phase);
    }
    if (phase == P_MERGE) {
      // The older versions of a merge group's key, newest first, until the group ends.
      const groupLen = ci(C_GROUP_LEN);
      let ms = ci(C_MERGE_STATE);
      for (;;) {
        if (ms == MS_ADVANCE) {
          const r = advanceGroup(groupKey, groupLen);
          if (r == A_REFILL) return REFILL;
          if (r == A_FALLBACK) return FALLBACK;
          ms = r == A_SAME ? MS_EXAMINE : MS_END_TOP;
          setCi(C_MERGE_STATE, ms);
        }
        if (ms == MS_EXAMINE) {
          const h = heapAt(0);
          const type = ki(h, K_TYPE);
          const hidden = load<f64>(h + K_SEQ) < load<f64>(ctrl + C_GROUP_COVER);
          if (!hidden && (type == T_MERGE || type == T_VALUE || type == T_VALUE_PREFERRED_SEQNO)) {
            const base = type != T_MERGE;
            if (!emit(base ? TAG_BASE : TAG_OPERAND, groupKey, groupLen, <usize>ki(h, K_VAL), ki(h, K_VAL_LEN))) return GROW;
            if (base) {
              phase = P_SKIP;
              break;
            }
            ms = MS_ADVANCE;
            setCi(C_MERGE_STATE, ms);
            continue;
          }
          // Every older version of a covered one is covered too: the group ends here.
          if (!hidden && type != T_DELETION && type != T_SINGLE_DELETION) return fallback(R_TYPE);
          ms = MS_END_SKIP;
          setCi(C_MERGE_STATE, ms);
        }
        // MS_END_TOP or MS_END_SKIP: the operands apply to no value.
        if (!emit(TAG_NO_BASE, groupKey, groupLen, groupKey, 0)) return GROW;
        phase = ms == MS_END_SKIP ? P_SKIP : P_TOP;
        break;
      }
      setCi(C_MERGE_GROUPS, ci(C_MERGE_GROUPS) + 1);
      setCi(C_PHASE, phase);
      if (phase == P_TOP) continue;
    }
    // P_SKIP: move past every version of the group's key (the newest one included).
    const groupLen = ci(C_GROUP_LEN);
    for (;;) {
      const r = advanceGroup(groupKey, groupLen);
      if (r == A_REFILL) return REFILL;
      if (r == A_FALLBACK) return FALLBACK;
      if (r == A_END) break;
    }
    phase = P_TOP;
    setCi(C_PHASE, phase);
  }
  return DONE; // not reached: the loop only returns
}

// Placing a run's blocks (verify, decompress, lay out) before the merge reads them: place.ts.
export { runSize, placeRun } from './place';
