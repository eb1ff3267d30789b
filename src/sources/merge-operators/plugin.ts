/**
 * Loads a merge operator plugin: a JavaScript module (ESM, or CommonJS through Node's interop)
 * whose default export is a MergeOperator, or that exports `name` and `fullMerge` itself.
 * Imported lazily, only when a caller names one.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SnapshotError } from '../../format/errors.js';
import type { MergeOperator } from '../merge-operator.js';
import { dynamicImport } from '../../format/dynamic-import.js';

/**
 * The operator `name` from the module at `path` (relative to the working directory). Throws
 * NOT_FOUND when the file does not exist, INVALID_ARGUMENT when it fails to load, exports no
 * operator, or exports one under another name.
 */
export async function loadMergeOperator(name: string, path: string): Promise<MergeOperator> {
  const file = resolve(path);
  const st = await stat(file).catch(() => undefined);
  if (st === undefined || !st.isFile()) {
    throw new SnapshotError('NOT_FOUND', `merge operator module ${path} does not exist`, { file: path });
  }
  let mod: Record<string, unknown>;
  try {
    mod = await dynamicImport<Record<string, unknown>>(pathToFileURL(file).href);
  } catch (e) {
    throw new SnapshotError('INVALID_ARGUMENT', `merge operator module ${path} failed to load: ${e instanceof Error ? e.message : String(e)}`, { file: path, cause: e });
  }
  const op = [mod.default, mod].find(isOperator);
  if (op === undefined) {
    throw new SnapshotError(
      'INVALID_ARGUMENT',
      `merge operator module ${path} exports no merge operator: its default export must be { name, fullMerge }, or it must export name and fullMerge`,
      { file: path },
    );
  }
  if (op.name !== name) {
    throw new SnapshotError('INVALID_ARGUMENT', `merge operator module ${path} is named ${JSON.stringify(op.name)}, not ${JSON.stringify(name)}`, { file: path });
  }
  // A plain object: the module namespace (or a class instance) stays out of the reader's hands.
  const fullMerge = op.fullMerge.bind(op);
  return { name: op.name, fullMerge };
}

function isOperator(x: unknown): x is MergeOperator {
  const o = x as Partial<MergeOperator> | null | undefined;
  return typeof o === 'object' && o !== null && typeof o.name === 'string' && typeof o.fullMerge === 'function';
}

/** `NAME=PATH` (as `--merge-operator` takes it): split at the last `=`, since names may hold one but paths rarely do. */
export function parseMergeOperatorSpec(spec: string): { name: string; path: string } {
  const eq = spec.lastIndexOf('=');
  if (eq <= 0 || eq === spec.length - 1) {
    throw new SnapshotError('INVALID_ARGUMENT', `--merge-operator must be NAME=PATH (the operator's name as the checkpoint records it, and a JavaScript module), got ${JSON.stringify(spec)}`);
  }
  return { name: spec.slice(0, eq), path: spec.slice(eq + 1) };
}
