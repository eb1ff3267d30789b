/**
 * snapshot-verify: deterministic snapshots of replicated state, and the means to prove that
 * nodes hold identical state. The format knows nothing of sources; sources know nothing of the CLI.
 */
export * from './format/index.js';
export type { Entry, Source, TableInfo } from './sources/source.js';
export * from './report/schema.js';
export { buildReport, digestSource, parseTableSelection, type DigestOptions } from './report/digest-source.js';
export { RangeDigester, MAX_RANGES } from './report/ranges.js';
export { renderPrometheus } from './report/prometheus.js';
export { compareReports, verdictOf } from './report/compare.js';
export { validateReport, reportValues } from './report/validate.js';
export * from './report/identity/index.js';
export { diffSources } from './report/diff.js';
export { openCheckpoint, snapshotFiles } from './sources/open.js';
export type { MergeOperator } from './sources/merge-operator.js';
export { bytesXorOperator, maxOperator, putOperator, stringAppendOperator, uint64AddOperator, BUILTIN_MERGE_OPERATOR_NAMES } from './sources/merge-operators/index.js';
export { loadMergeOperator } from './sources/merge-operators/plugin.js';
// Presets (the Walrus preset loads @mysten/bcs on first use) and Walrus's own snapshot bytes.
export { loadPreset, PRESET_NAMES, type Preset } from './presets/index.js';
export { loadWalrusPreset, emptyV1, emptyV2, WALRUS_TABLES, WALRUS_OPERATOR_NAMES, WalrusMergePanic, UnknownVariantError, loadWalrusSchemas, type WalrusPreset, type WalrusSchemas } from './presets/walrus/index.js';
export * from './interop/walrus/index.js';
