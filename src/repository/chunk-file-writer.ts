import type { FileHandle } from 'node:fs/promises';

/**
 * Bytes of arrived pieces held while a write is in flight before the network reader waits for it:
 * enough that a slow write never stalls the socket, bounded so memory does not follow the chunk
 * size. Defaults to 1 MiB.
 */
export const WRITE_BACKLOG_BYTES = 1 << 20;

/**
 * Writes the pieces of a download to a file in order, without making the download wait for each
 * write: pieces arriving while a write is in flight are gathered and written together by the next
 * `writev` (as `fs.WriteStream` does for `pipeline`), so a 16 MiB chunk takes a few dozen system
 * calls and thread-pool round trips instead of one per 64 KiB socket read. The caller must not
 * modify a piece after `add`.
 */
export class ChunkFileWriter {
  readonly #handle: FileHandle;
  readonly #onError: (e: unknown) => unknown;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #position = 0;
  #writing: Promise<void> | undefined;
  #failure: { error: unknown } | undefined;

  /** `onError` turns a write's error into the one to throw (one that names the file). */
  constructor(handle: FileHandle, onError: (e: unknown) => unknown) {
    this.#handle = handle;
    this.#onError = onError;
  }

  /** Bytes written so far. */
  get position(): number {
    return this.#position;
  }

  /** Queues a piece; waits only while more than WRITE_BACKLOG_BYTES wait to be written. */
  async add(piece: Uint8Array): Promise<void> {
    this.#throwIfFailed();
    if (piece.length === 0) return;
    this.#pending.push(piece);
    this.#pendingBytes += piece.length;
    this.#kick();
    while (this.#pendingBytes > WRITE_BACKLOG_BYTES && this.#writing !== undefined) await this.#writing;
    this.#throwIfFailed();
  }

  /** Waits until every piece added is written; throws the first write error. */
  async flush(): Promise<void> {
    for (this.#kick(); this.#writing !== undefined; this.#kick()) await this.#writing;
    this.#throwIfFailed();
  }

  /** Waits for a write in flight, ignoring its outcome (before closing the handle on a failure). */
  async settle(): Promise<void> {
    this.#pending = [];
    this.#pendingBytes = 0;
    while (this.#writing !== undefined) await this.#writing;
  }

  /** Starts writing what is pending unless a write is in flight (or one failed). */
  #kick(): void {
    if (this.#writing !== undefined || this.#pending.length === 0 || this.#failure !== undefined) return;
    // Cleared in a later microtask, never before the assignment, even when #drain fails at once.
    this.#writing = this.#drain().finally(() => {
      this.#writing = undefined;
      this.#kick(); // pieces added between the last write and this
    });
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  /** Writes batches until none is pending; never rejects (a failure is kept for add/flush). */
  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0 && this.#failure === undefined) {
        let batch = this.#pending;
        let left = this.#pendingBytes;
        this.#pending = [];
        this.#pendingBytes = 0;
        while (left > 0) {
          const { bytesWritten } = await this.#handle.writev(batch, this.#position);
          this.#position += bytesWritten;
          left -= bytesWritten;
          if (left > 0) batch = rest(batch, bytesWritten); // a short write: the rest goes next
        }
      }
    } catch (e) {
      this.#failure = { error: this.#onError(e) };
    }
  }
}

/** The pieces after the first `skip` bytes. */
function rest(pieces: readonly Uint8Array[], skip: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const p of pieces) {
    if (skip >= p.length) {
      skip -= p.length;
      continue;
    }
    out.push(skip > 0 ? p.subarray(skip) : p);
    skip = 0;
  }
  return out;
}
