import type { MergeOperator } from '../merge-operator.js';

/**
 * RocksDB's StringAppendOperator (`stringappend`) and StringAppendTESTOperator
 * (`stringappendtest`): the existing value, then each operand (oldest first), with the delimiter
 * between consecutive pieces; without an existing value the first operand starts the result.
 * Both give the same full merge (utilities/merge_operators/string_append/); only RocksDB's
 * partial merges differ, and they never change what a read sees.
 */
export function stringAppendOperator(delimiter: Uint8Array, name = 'StringAppendOperator'): MergeOperator {
  const delim = delimiter.slice();
  return {
    name,
    fullMerge(_key, existing, operands) {
      const pieces = existing === undefined ? operands : [existing, ...operands];
      let size = delim.length * Math.max(0, pieces.length - 1);
      for (const p of pieces) size += p.length;
      const out = new Uint8Array(size);
      let at = 0;
      pieces.forEach((p, i) => {
        if (i > 0) {
          out.set(delim, at);
          at += delim.length;
        }
        out.set(p, at);
        at += p.length;
      });
      return out;
    },
  };
}
