/**
 * The Walrus preset: the three blob-info tables every honest Walrus storage node holds
 * identically at an epoch boundary, and Walrus's four merge operators (a real checkpoint holds
 * unmerged operands: Walrus's partial merge returns nothing).
 *
 * `aggregate_blob_info` is left out by design, as Walrus's own snapshot leaves it out: it holds
 * node-local state (`is_metadata_stored`) and its deletions depend on garbage-collection timing.
 * Its operator ("merge blob info") is still provided, so `--tables` can name it on purpose.
 */
import type { MergeOperator } from '../../sources/merge-operator.js';
import { walrusMergeOperators } from './merge.js';
import { loadWalrusSchemas, type WalrusSchemas } from './schema.js';

/**
 * The preset's tables with ids equal to Walrus's snapshot section tags (blob_info_snapshot.rs),
 * so our catalog order is Walrus's section order.
 */
export const WALRUS_TABLES: readonly { readonly id: number; readonly name: string }[] = [
  { id: 1, name: 'per_object_blob_info' },
  { id: 2, name: 'storage_pool_info' },
  { id: 3, name: 'per_object_pooled_blob_info' },
];

export interface WalrusPreset {
  readonly name: 'walrus';
  readonly tables: readonly { readonly id: number; readonly name: string }[];
  readonly mergeOperators: readonly MergeOperator[];
  readonly schemas: WalrusSchemas;
}

/** Loads the preset (and @mysten/bcs, on first use). */
export async function loadWalrusPreset(): Promise<WalrusPreset> {
  const schemas = await loadWalrusSchemas();
  return { name: 'walrus', tables: WALRUS_TABLES, mergeOperators: walrusMergeOperators(schemas), schemas };
}

export { WALRUS_OPERATOR_NAMES, WalrusMergePanic, mergeBlobInfo, emptyV1, emptyV2 } from './merge.js';
export { loadWalrusSchemas, UnknownVariantError, type WalrusSchemas } from './schema.js';
