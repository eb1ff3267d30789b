/** The snapshot repository (spec/REPOSITORY.md): layout, publish, compare input, fetch, prune over one storage interface. */
export { anchorId, anchorText, chunkKey, encodeNodeName, parseKey, reportKey, reportKeyOf, type ParsedKey } from './layout.js';
export { fetchSnapshot, type FetchOptions, type FetchResult } from './fetch.js';
export { isRepositoryUrl, openRepositoryStore } from './open.js';
export { pruneRepository, type PruneOptions, type PruneResult } from './prune.js';
export { publishSnapshot, type PublishOptions, type PublishResult } from './publish.js';
export { loadRepositoryReports, readStoredReport, type RepositoryReports } from './reports.js';
export type { S3Options } from './s3-store.js';
export type { ListedObject, ObjectStore, PutBody } from './store.js';
