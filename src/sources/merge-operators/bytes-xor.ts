import type { MergeOperator } from '../merge-operator.js';

/**
 * RocksDB's BytesXOR (`bytesxor`): each operand is XORed byte by byte onto the value so far;
 * the longer one's tail is kept as it is, and with no existing value the first operand is taken
 * as it is. utilities/merge_operators/bytesxor.cc.
 */
export const bytesXorOperator: MergeOperator = {
  name: 'BytesXOR',
  fullMerge(_key, existing, operands) {
    let acc: Uint8Array | undefined = existing;
    for (const op of operands) {
      if (acc === undefined) {
        acc = op.slice();
        continue;
      }
      const out = new Uint8Array(Math.max(acc.length, op.length));
      out.set(acc.length >= op.length ? acc : op);
      const n = Math.min(acc.length, op.length);
      for (let i = 0; i < n; i++) out[i] = acc[i]! ^ op[i]!;
      acc = out;
    }
    return acc === undefined ? new Uint8Array(0) : acc.slice();
  },
};
