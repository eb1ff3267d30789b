import type { Entry } from './entry.js';
import { SnapshotEncoder, type ChunkSummary, type EncoderOptions, type SnapshotSummary, type TableSummary } from './encoder.js';
import { loadHasher } from './digest.js';
import { SnapshotError } from './errors.js';
import type { SnapshotAnchor } from './header.js';
import { nullSink, type SnapshotSink } from './sinks.js';
import type { PackedEntries } from './packed.js';

type Pending = { bytes: Uint8Array } | { chunk: ChunkSummary; last: boolean };

/** Bytes a writer may queue for the sink before `add` makes the caller wait. */
const HIGH_WATER_BYTES = 8 << 20;

/**
 * The streaming writer: the encoder's bytes flow to a sink, with backpressure. A background pump
 * hands queued bytes to the sink while encoding goes on, so hashing and I/O overlap; `add`
 * returns a promise only when the queue is over its high-water mark, and awaiting it is always
 * correct. On any error, call `abort()` so that a file sink removes its temporary files.
 */
export class SnapshotWriter {
  readonly #encoder: SnapshotEncoder;
  readonly #sink: SnapshotSink;
  #pending: Pending[] = [];
  #pendingBytes = 0;
  #pump: Promise<void> | undefined;
  #failure: unknown;

  private constructor(sink: SnapshotSink, anchor: SnapshotAnchor, options: EncoderOptions) {
    this.#sink = sink;
    this.#encoder = new SnapshotEncoder(
      anchor,
      {
        data: (bytes) => {
          this.#pending.push({ bytes });
          this.#pendingBytes += bytes.length;
        },
        chunkEnd: (chunk, last) => {
          this.#pending.push({ chunk, last });
        },
      },
      { discardBytes: sink.ignoresBytes === true, ...options },
    );
  }

  /** Starts a snapshot: the first chunk header is written at once. */
  static async create(sink: SnapshotSink, anchor: SnapshotAnchor, options: EncoderOptions = {}): Promise<SnapshotWriter> {
    await loadHasher();
    return new SnapshotWriter(sink, anchor, options);
  }

  /** Appends an entry to the current table (keys strictly ascending). */
  add(key: Uint8Array, value: Uint8Array): void | Promise<void> {
    this.#encoder.add(key, value);
    if (this.#pending.length > 0) return this.#afterWrite();
  }

  /** Appends a batch of entries to the current table. */
  addBatch(entries: readonly Entry[]): void | Promise<void> {
    for (const e of entries) this.#encoder.add(e.key, e.value);
    if (this.#pending.length > 0) return this.#afterWrite();
  }

  /** Appends a packed batch (packed.ts) to the current table: one copy, no object per entry. */
  addPacked(packed: PackedEntries): void | Promise<void> {
    this.#encoder.addPacked(packed);
    if (this.#pending.length > 0) return this.#afterWrite();
  }

  /** The current table's last key so far (a view, valid until the next entry), or undefined before its first. */
  get lastKey(): Uint8Array | undefined {
    return this.#encoder.lastKey;
  }

  /** Ends the current table and returns its count and digest. */
  endTable(): TableSummary {
    return this.#encoder.endTable();
  }

  /** Ends the snapshot, flushes everything to the sink and closes it (atomic rename for files). */
  async finish(): Promise<SnapshotSummary> {
    const summary = this.#encoder.finish();
    this.#startPump();
    while (this.#pump !== undefined) await this.#pump;
    this.#throwIfFailed();
    await this.#sink.close();
    return summary;
  }

  /** Discards the output. */
  async abort(): Promise<void> {
    this.#pending = [];
    this.#pendingBytes = 0;
    await this.#pump?.catch(() => undefined);
    await this.#sink.abort();
  }

  /** Keeps the pump running; makes the caller wait only while the queue is over its mark. */
  #afterWrite(): void | Promise<void> {
    this.#throwIfFailed();
    this.#startPump();
    if (this.#pendingBytes >= HIGH_WATER_BYTES) return this.#waitForRoom();
  }

  async #waitForRoom(): Promise<void> {
    while (this.#pendingBytes >= HIGH_WATER_BYTES && this.#pump !== undefined) await this.#pump;
    this.#throwIfFailed();
  }

  #startPump(): void {
    if (this.#pump !== undefined || this.#pending.length === 0) return;
    this.#pump = (async () => {
      try {
        while (this.#pending.length > 0) {
          const batch = this.#pending;
          this.#pending = [];
          for (const p of batch) {
            if ('bytes' in p) {
              await this.#sink.write(p.bytes);
              this.#pendingBytes -= p.bytes.length;
              if (this.#sink.doneWithBytesOnWrite === true) this.#encoder.release(p.bytes);
            } else {
              await this.#sink.endChunk?.(p.chunk, p.last);
            }
          }
        }
      } catch (e) {
        this.#failure ??= e;
      } finally {
        this.#pump = undefined;
      }
    })();
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }
}

/** One table's content for `writeSnapshot`: entries or batches of entries, sync or async. */
export type TableContent = Iterable<Entry | readonly Entry[]> | AsyncIterable<Entry | readonly Entry[]>;

/**
 * Writes a whole snapshot: `tables[i]` is the content of `anchor.tables[i]`, in key order.
 * The sink is aborted when anything fails, so no partial output survives.
 */
export async function writeSnapshot(
  sink: SnapshotSink,
  anchor: SnapshotAnchor,
  tables: readonly TableContent[],
  options: EncoderOptions = {},
): Promise<SnapshotSummary> {
  if (tables.length !== anchor.tables.length) {
    throw new SnapshotError('INVALID_ARGUMENT', `${tables.length} table contents given for a catalog of ${anchor.tables.length}`);
  }
  const writer = await SnapshotWriter.create(sink, anchor, options);
  try {
    for (const content of tables) {
      for await (const item of content as AsyncIterable<Entry | readonly Entry[]>) {
        const r = Array.isArray(item) ? writer.addBatch(item as readonly Entry[]) : writer.add((item as Entry).key, (item as Entry).value);
        if (r !== undefined) await r;
      }
      writer.endTable();
    }
    return await writer.finish();
  } catch (e) {
    await writer.abort();
    throw e;
  }
}

/** The digest (and summary) of content without keeping its bytes: `writeSnapshot` to nowhere. */
export async function digestSnapshot(anchor: SnapshotAnchor, tables: readonly TableContent[], options: EncoderOptions = {}): Promise<SnapshotSummary> {
  return writeSnapshot(nullSink(), anchor, tables, options);
}
