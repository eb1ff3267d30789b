import type { Argv } from 'yargs';
import { SnapshotError } from '../format/errors.js';
import type { MergeOperator } from '../sources/merge-operator.js';

/** `--merge-operator NAME=PATH`, shared by the commands that open checkpoints. */
export function mergeOperatorOption<T>(y: Argv<T>): Argv<T> {
  return y.option('merge-operator', {
    type: 'string',
    array: true,
    describe:
      'NAME=PATH: a merge operator the checkpoint names but this tool does not build in, from a JavaScript module ' +
      '(default export { name, fullMerge }; docs/MERGE-OPERATORS.md); repeatable. A missing module exits 2, one that ' +
      'fails to load or is named otherwise exits 64',
  }) as unknown as Argv<T>;
}

/** Loads the operators `--merge-operator` names (none: no module is imported). */
export async function loadMergeOperators(specs: readonly string[] | undefined): Promise<MergeOperator[]> {
  if (specs === undefined || specs.length === 0) return [];
  const { loadMergeOperator, parseMergeOperatorSpec } = await import('../sources/merge-operators/plugin.js');
  const out: MergeOperator[] = [];
  for (const spec of specs) {
    const { name, path } = parseMergeOperatorSpec(spec);
    if (out.some((o) => o.name === name)) throw new SnapshotError('INVALID_ARGUMENT', `--merge-operator ${JSON.stringify(name)} is given twice`);
    out.push(await loadMergeOperator(name, path));
  }
  return out;
}
