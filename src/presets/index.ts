/**
 * Presets: named bundles of a table selection and the merge operators its checkpoints need.
 * Each is loaded on demand, so its dependencies load only when it is used.
 */
import { SnapshotError } from '../format/errors.js';
import type { MergeOperator } from '../sources/merge-operator.js';

export interface Preset {
  readonly name: string;
  /** The tables, with the ids the preset's system uses. */
  readonly tables: readonly { readonly id: number; readonly name: string }[];
  readonly mergeOperators: readonly MergeOperator[];
}

/** The names `--preset` accepts. */
export const PRESET_NAMES = ['walrus'] as const;

export async function loadPreset(name: string): Promise<Preset> {
  if (name === 'walrus') return (await import('./walrus/index.js')).loadWalrusPreset();
  throw new SnapshotError('INVALID_ARGUMENT', `unknown preset "${name}" (known: ${PRESET_NAMES.join(', ')})`);
}
