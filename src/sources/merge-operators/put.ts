import type { MergeOperator } from '../merge-operator.js';

/**
 * RocksDB's PutOperator (`put`, and the deprecated `put_v1`; both record the name
 * "PutOperator"): the newest operand replaces whatever was there. utilities/merge_operators/put.cc.
 */
export const putOperator: MergeOperator = {
  name: 'PutOperator',
  fullMerge(_key, _existing, operands) {
    const newest = operands[operands.length - 1];
    if (newest === undefined) throw new Error('a full merge with no operands');
    return newest.slice();
  },
};
