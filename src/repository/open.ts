import { SnapshotError } from '../format/errors.js';
import { openFileStore } from './file-store.js';
import type { S3Options } from './s3-store.js';
import type { ObjectStore } from './store.js';

/** True for the repository URLs the tool reads: `s3://…` and `file://…`. */
export function isRepositoryUrl(text: string): boolean {
  return /^(s3|file):\/\//i.test(text);
}

/** Opens a repository by URL. The S3 client is loaded only here, and only for s3:// URLs. */
export async function openRepositoryStore(url: string, options: S3Options = {}): Promise<ObjectStore> {
  if (/^file:\/\//i.test(url)) return openFileStore(url);
  if (/^s3:\/\//i.test(url)) {
    const { openS3Store } = await import('./s3-store.js');
    return openS3Store(url, options);
  }
  throw new SnapshotError('INVALID_ARGUMENT', `not a repository URL: ${url} (s3://BUCKET/PREFIX or file:///PATH)`);
}
