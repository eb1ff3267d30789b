/**
 * snapshot-verify: deterministic snapshots of replicated state, and the means to prove that
 * nodes hold identical state. The format knows nothing of sources; sources know nothing of the CLI.
 */
export * from './format/index.js';
export type { Entry, Source, TableInfo } from './sources/source.js';
