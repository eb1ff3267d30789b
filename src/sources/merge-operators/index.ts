/**
 * RocksDB's built-in merge operators that are well defined, each as data (a name and a full
 * merge), and the table that finds one by any name RocksDB accepts or records for it
 * (utilities/merge_operators.cc: the class name that OPTIONS and table properties record, and
 * the nickname `MergeOperator::CreateFromString` also takes). Checked against Debian's RocksDB
 * 7.8.3 (test/sources/rocksdb/merge-operators.test.ts); their code is unchanged up to 10.x.
 */
import type { MergeOperator } from '../merge-operator.js';
import { bytesXorOperator } from './bytes-xor.js';
import { maxOperator } from './max.js';
import { putOperator } from './put.js';
import { stringAppendOperator } from './string-append.js';
import { uint64AddOperator } from './uint64-add.js';

export { bytesXorOperator, maxOperator, putOperator, stringAppendOperator, uint64AddOperator };

/** A merge operator as a checkpoint records it for a column family. */
export interface RecordedOperator {
  /** The id: OPTIONS' `merge_operator=ID` or `{id=ID;…}`, or the table files' `rocksdb.merge.operator`. */
  readonly id: string;
  /** Its options (`{id=ID;delimiter=…;}`), unescaped, as bytes. */
  readonly options: ReadonlyMap<string, Uint8Array>;
  /**
   * Whether an absent option means the empty value: RocksDB ≥ 6.24 writes every non-empty option
   * of a configurable operator into OPTIONS (and leaves out empty ones); older OPTIONS files and
   * table properties record the name only.
   */
  readonly optionsComplete: boolean;
}

interface Builtin {
  /** Every name RocksDB accepts or records for it. */
  readonly names: readonly string[];
  /** The operator, or why it cannot be applied exactly. */
  readonly create: (recorded: RecordedOperator) => MergeOperator | string;
}

const fixed = (op: MergeOperator) => (recorded: RecordedOperator): MergeOperator | string =>
  recorded.options.size === 0 ? op : `${op.name} takes no options, but ${[...recorded.options.keys()].join(', ')} ${recorded.options.size === 1 ? 'is' : 'are'} recorded`;

const withDelimiter = (name: string) => (recorded: RecordedOperator): MergeOperator | string => {
  const unknown = [...recorded.options.keys()].filter((k) => k !== 'delimiter');
  if (unknown.length > 0) return `${name} takes only a delimiter, but ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} recorded`;
  const delimiter = recorded.options.get('delimiter') ?? (recorded.optionsComplete ? new Uint8Array(0) : undefined);
  if (delimiter === undefined) {
    return `the checkpoint records ${name} without its delimiter (only RocksDB ≥ 6.24 writes it into OPTIONS)`;
  }
  return stringAppendOperator(delimiter, name);
};

/** The built-ins, by every name RocksDB accepts or records for them. */
const BUILTINS: readonly Builtin[] = [
  { names: ['UInt64AddOperator', 'uint64add'], create: fixed(uint64AddOperator) },
  { names: ['StringAppendOperator', 'stringappend'], create: withDelimiter('StringAppendOperator') },
  { names: ['StringAppendTESTOperator', 'stringappendtest'], create: withDelimiter('StringAppendTESTOperator') },
  { names: ['MaxOperator', 'max'], create: fixed(maxOperator) },
  { names: ['PutOperator', 'put', 'put_v1'], create: fixed(putOperator) },
  { names: ['BytesXOR', 'bytesxor'], create: fixed(bytesXorOperator) },
  {
    // Registered, but its full merge is not well defined: it parses operands as comma-separated
    // ints reading past their end (until a NUL), ignores the existing value, and is undefined
    // for an empty result (sortlist.cc).
    names: ['MergeSortOperator', 'sortlist'],
    create: () => 'RocksDB\'s MergeSortOperator (sortlist) is not well defined (it reads operands past their end), so it is not built in',
  },
];

const BY_NAME = new Map(BUILTINS.flatMap((b) => b.names.map((n) => [n, b] as const)));

/** Every name a built-in answers to. */
export const BUILTIN_MERGE_OPERATOR_NAMES: readonly string[] = [...BY_NAME.keys()];

/**
 * The built-in merge operator a checkpoint records: the operator, a string saying why it cannot
 * be applied exactly, or undefined when the name is not one of RocksDB's built-ins.
 */
export function builtinMergeOperator(recorded: RecordedOperator): MergeOperator | string | undefined {
  return BY_NAME.get(recorded.id)?.create(recorded);
}
