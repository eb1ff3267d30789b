import { SnapshotError } from '../format/errors.js';

/**
 * The one storage interface of the repository (spec/REPOSITORY.md): get with a byte limit,
 * put-if-absent, list by prefix, delete. The layout, publish, fetch and prune logic sits above it
 * and never knows which store it talks to. Keys are `/`-separated, relative to the repository
 * prefix.
 */
export interface ObjectStore {
  /** The repository URL as given, for messages. */
  readonly url: string;
  /** Where a key lives, for messages: `s3://bucket/prefix/key` or a file path. */
  where(key: string): string;
  /**
   * The object's bytes as a stream, or undefined when it does not exist. More than `maxBytes`
   * bytes fail with LIMIT_EXCEEDED before they are buffered.
   */
  read(key: string, maxBytes: number): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** Writes the object unless the key exists: 'created', or 'exists' (nothing written). */
  putIfAbsent(key: string, body: PutBody, options?: PutOptions): Promise<'created' | 'exists'>;
  /**
   * Every object whose key starts with `prefix`, streamed page by page (order unspecified).
   * Flat on purpose: delimiter listings differ between S3-compatible stores.
   */
  list(prefix: string): AsyncIterable<ListedObject>;
  /** Deletes an object; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Releases connections. */
  close(): void;
}

/** What a put writes: bytes in memory, or a byte range of a local file (streamed). */
export type PutBody = { readonly bytes: Uint8Array } | { readonly file: string; readonly start: number; readonly length: number };

export type PutOptions = Readonly<
  Partial<{
    /**
     * The caller listed the key's prefix (once, for many keys) and the key was not there: a
     * store that cannot refuse an overwrite itself skips its own check before the put (the
     * same check-then-put race, with a longer window; spec/REPOSITORY.md 5). Defaults to false.
     */
    listedAbsent: boolean;
  }>
>;

export interface ListedObject {
  readonly key: string;
  /** Bytes; -1 for something that is not a regular object (a symbolic link in a file:// repository). */
  readonly size: number;
  readonly kind: 'object' | 'special';
}

/** Reads a whole (small) object into memory, at most `maxBytes`; undefined when absent. */
export async function getObject(store: ObjectStore, key: string, maxBytes: number): Promise<Uint8Array | undefined> {
  const body = await store.read(key, maxBytes);
  if (body === undefined) return undefined;
  const pieces: Uint8Array[] = [];
  let size = 0;
  for await (const piece of body) {
    size += piece.length;
    if (size > maxBytes) throw tooLarge(store.where(key), maxBytes);
    pieces.push(piece);
  }
  return new Uint8Array(Buffer.concat(pieces));
}

export function tooLarge(where: string, maxBytes: number): SnapshotError {
  return new SnapshotError('LIMIT_EXCEEDED', `object is larger than the ${maxBytes} bytes it may hold`, { file: where });
}

/** Runs `work` on every item with at most `limit` in flight; the first failure stops new work and is thrown. */
export async function forEachLimited<T>(items: AsyncIterable<T> | Iterable<T>, limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  for await (const item of items) {
    if (failure !== undefined) break;
    const p: Promise<void> = work(item).then(
      () => void running.delete(p),
      (error: unknown) => {
        running.delete(p);
        failure ??= { error };
      },
    );
    running.add(p);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure.error;
}
