import { compareBytes } from '../../format/bytes.js';
import type { MergeOperator } from '../merge-operator.js';

/**
 * RocksDB's MaxOperator (`max`): the bytewise largest (Slice::compare: memcmp, then the shorter
 * first) of the existing value and the operands; with no existing value it starts from the
 * empty string. utilities/merge_operators/max.cc.
 */
export const maxOperator: MergeOperator = {
  name: 'MaxOperator',
  fullMerge(_key, existing, operands) {
    let max = existing ?? EMPTY;
    for (const op of operands) if (compareBytes(max, op) < 0) max = op;
    return max.slice();
  },
};

const EMPTY = new Uint8Array(0);
