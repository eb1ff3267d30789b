/**
 * Merge operands of one column family: which operator applies (by the name the checkpoint
 * records: plugins first, then RocksDB's built-ins), the full merge itself with its errors, and
 * the resolution of the merge groups the kernel writes.
 *
 * The operator's name comes from the newest OPTIONS file (`merge_operator` of the family's
 * `[CFOptions]` section: the options the database was last opened with, as RocksDB would reopen
 * it), else from the `rocksdb.merge.operator` property of the family's table files. Nothing is
 * refused until a merge operand is the visible version of a key: a family whose operands are all
 * hidden, or that has none, reads the same whatever its operator.
 */
import { toHex } from '../../format/bytes.js';
import { SnapshotError } from '../../format/errors.js';
import { TAG_ENTRY } from '../../format/constants.js';
import type { PackedEntries } from '../../format/packed.js';
import type { MergeOperator } from '../merge-operator.js';
import { builtinMergeOperator, type RecordedOperator } from '../merge-operators/index.js';
import { unsupported } from './codec.js';
import { MergeTag, type KernelBatch } from './kernel/kernel-merger.js';
import type { OptionsFile } from './options-file.js';

/**
 * How one column family resolves merge operands: its operator, or (when it has none this reader
 * can apply) the error for a visible operand found in `file`.
 */
export type FamilyMerge =
  | { readonly operator: MergeOperator }
  | { readonly operator: undefined; refuse(file: string): SnapshotError };

/** Where a family's operator can be named. */
export interface MergeOperatorSources {
  readonly table: string;
  /** The checkpoint's newest OPTIONS file, the error reading it, or undefined when it has none. */
  readonly options: OptionsFile | SnapshotError | undefined;
  /** The first `rocksdb.merge.operator` other than "nullptr" among the family's table files. */
  readonly tableFileOperator: string | undefined;
  /** Operators given by the caller (plugins, presets); they take precedence over built-ins. */
  readonly plugins: readonly MergeOperator[];
}

const howToSupply = (id: string) => `supply it with --merge-operator ${shellWord(`${id}=PATH`)} (a JavaScript module, docs/MERGE-OPERATORS.md)`;

/** The family's operator, or what to say when one of its operands is visible. */
export function resolveFamilyMerge(src: MergeOperatorSources): FamilyMerge {
  const where = `column family ${JSON.stringify(src.table)}`;
  const refuseWith = (message: string): FamilyMerge => ({ operator: undefined, refuse: (file) => unsupported(file, message) });
  if (src.options instanceof SnapshotError) {
    const e = src.options;
    return { operator: undefined, refuse: () => e };
  }
  let recorded: RecordedOperator | null | undefined;
  let source: string;
  if (src.options?.mergeOperators.has(src.table) === true) {
    recorded = src.options.mergeOperators.get(src.table);
    source = src.options.path;
  } else {
    const name = src.tableFileOperator;
    recorded = name === undefined ? undefined : { id: name, options: new Map(), optionsComplete: false };
    source = src.options === undefined ? 'its table files (the checkpoint has no OPTIONS file)' : `its table files (${src.options.path} does not list the family)`;
  }
  if (recorded === null || recorded === undefined) {
    return refuseWith(`merge operands in ${where} cannot be resolved: ${recorded === null ? `${source} sets merge_operator=nullptr` : 'the checkpoint records no merge operator for it'}`);
  }
  const id = recorded.id;
  const plugin = src.plugins.find((p) => p.name === id);
  if (plugin !== undefined) return { operator: plugin };
  const builtin = builtinMergeOperator(recorded);
  if (builtin === undefined) {
    return refuseWith(`merge operands in ${where} need merge operator ${JSON.stringify(id)} (named by ${source}), which is not built in; ${howToSupply(id)}`);
  }
  if (typeof builtin === 'string') {
    return refuseWith(`merge operands in ${where}: ${builtin}; ${howToSupply(id)}`);
  }
  return { operator: builtin };
}

/**
 * RocksDB's full merge of one key: `operands` newest first (as a read meets them) are passed to
 * the operator oldest first. Anything the operator throws, or a result that is not bytes, is
 * MERGE_FAILED naming the operator, the key (hex) and the file of the newest operand.
 */
export function fullMerge(
  operator: MergeOperator,
  table: string,
  file: string,
  key: Uint8Array,
  existing: Uint8Array | undefined,
  operandsNewestFirst: Uint8Array[],
): Uint8Array {
  const operands = operandsNewestFirst.reverse();
  let out: unknown;
  try {
    out = operator.fullMerge(key, existing, operands);
  } catch (e) {
    throw mergeFailed(operator, table, file, key, `it threw: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  if (!(out instanceof Uint8Array)) {
    throw mergeFailed(operator, table, file, key, `it returned ${out === null ? 'null' : typeof out}, not a Uint8Array`);
  }
  return out;
}

function mergeFailed(op: MergeOperator, table: string, file: string, key: Uint8Array, why: string, cause?: unknown): SnapshotError {
  const hex = key.length <= 64 ? toHex(key) : `${toHex(key.subarray(0, 64))}… (${key.length} bytes)`;
  return new SnapshotError(
    'MERGE_FAILED',
    `merge operator ${JSON.stringify(op.name)} failed on key 0x${hex} in column family ${JSON.stringify(table)} (newest operand in this file): ${why}`,
    { file, ...(cause === undefined ? {} : { cause }) },
  );
}

/**
 * A kernel batch with its merge groups (MergeTag) replaced by ENTRY records of the merged values.
 * Runs of plain records are copied as they are. Throws whatever fullMerge throws; the caller
 * lets the JavaScript merger redo the range, which reports it with the operand's file.
 */
export function resolveMergeGroups(batch: KernelBatch, operator: MergeOperator, table: string): KernelBatch {
  const b = batch.bytes;
  let out = new Uint8Array(b.length + 4096);
  let pos = 0;
  let count = 0;
  let lastRecord = 0;
  const room = (n: number) => {
    if (pos + n <= out.length) return;
    const next = new Uint8Array(Math.max(2 * out.length, pos + n));
    next.set(out.subarray(0, pos));
    out = next;
  };
  let runStart = 0;
  let p = 0;
  while (p < b.length) {
    if (b[p] === TAG_ENTRY) {
      lastRecord = pos + (p - runStart);
      p += 9 + u32(b, p + 1) + u32(b, p + 5);
      count++;
      continue;
    }
    // Copy the run of plain records before the group.
    room(p - runStart);
    out.set(b.subarray(runStart, p), pos);
    pos += p - runStart;
    const kl = u32(b, p + 1);
    const key = b.slice(p + 9, p + 9 + kl);
    const operands: Uint8Array[] = [];
    let existing: Uint8Array | undefined;
    for (;;) {
      const tag = b[p]!;
      const vl = u32(b, p + 5);
      const value = b.subarray(p + 9 + kl, p + 9 + kl + vl);
      p += 9 + kl + vl;
      if (tag === MergeTag.Operand) {
        operands.push(value.slice());
        continue;
      }
      if (tag === MergeTag.Base) existing = value.slice();
      break;
    }
    const merged = fullMerge(operator, table, '(merge kernel)', key, existing, operands);
    room(9 + kl + merged.length);
    lastRecord = pos;
    out[pos] = TAG_ENTRY;
    setU32(out, pos + 1, kl);
    setU32(out, pos + 5, merged.length);
    out.set(key, pos + 9);
    out.set(merged, pos + 9 + kl);
    pos += 9 + kl + merged.length;
    count++;
    runStart = p;
  }
  room(p - runStart);
  out.set(b.subarray(runStart, p), pos);
  pos += p - runStart;
  const packed: PackedEntries = { bytes: out.subarray(0, pos), count };
  return { ...packed, lastRecord, mergeGroups: 0 };
}

function u32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
}

function setU32(b: Uint8Array, p: number, v: number): void {
  b[p] = v;
  b[p + 1] = v >>> 8;
  b[p + 2] = v >>> 16;
  b[p + 3] = v >>> 24;
}

/** `name` quoted for a shell when it needs it (Walrus's operators have spaces in their names). */
function shellWord(name: string): string {
  return /^[A-Za-z0-9_.,:+=/-]+$/.test(name) ? name : `'${name.replace(/'/g, `'\\''`)}'`;
}
