/** BlockHandle: where a block lives in the file (offset, size without the 5-byte trailer). */
import { readVarint64, type VarintResult } from '../util/varint.js';

/** A block's position: `size` excludes the block trailer (compression type + checksum). */
export interface BlockHandle {
  readonly offset: number;
  readonly size: number;
}

/** Bytes after every block of a block-based table: 1 compression type byte + 4 checksum bytes. */
export const BLOCK_TRAILER_SIZE = 5;

const vr: VarintResult = { value: 0, pos: 0 };

/**
 * Decodes a varint64 offset and size at `pos`; returns the handle and advances `out.pos`, or
 * returns undefined if the varints are malformed or truncated at `end`.
 */
export function decodeBlockHandle(buf: Uint8Array, pos: number, end: number, out: { pos: number }): BlockHandle | undefined {
  readVarint64(buf, pos, end, vr);
  if (vr.pos < 0) return undefined;
  const offset = vr.value;
  readVarint64(buf, vr.pos, end, vr);
  if (vr.pos < 0) return undefined;
  out.pos = vr.pos;
  return { offset, size: vr.value };
}
