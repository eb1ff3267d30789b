import type { MergeOperator } from '../merge-operator.js';

/**
 * RocksDB's UInt64AddOperator (`uint64add`): values are little-endian u64 (PutFixed64), summed
 * modulo 2^64 onto the existing value (0 when none). A value or operand of any other size counts
 * as 0, as RocksDB does (it logs "uint64 value corruption" and goes on); the result is always 8
 * bytes. utilities/merge_operators/uint64add.cc, the same from RocksDB 6.x to 10.x.
 */
export const uint64AddOperator: MergeOperator = {
  name: 'UInt64AddOperator',
  fullMerge(_key, existing, operands) {
    let sum = existing === undefined ? 0n : decode(existing);
    for (const op of operands) sum = (sum + decode(op)) & MASK;
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, sum, true);
    return out;
  },
};

const MASK = (1n << 64n) - 1n;

function decode(value: Uint8Array): bigint {
  return value.length === 8 ? new DataView(value.buffer, value.byteOffset, 8).getBigUint64(0, true) : 0n;
}
