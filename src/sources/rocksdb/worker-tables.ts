/**
 * Off-thread table decoding: a small pool of worker threads runs the table reader (block reads,
 * checksums, decompression, entry parsing) while the main thread only merges. Each open table
 * is pinned to one worker; its next batch is requested as soon as the previous one arrives, so
 * decoding overlaps merging. Memory stays bounded: at most two packed batches per open table.
 *
 * Opt-in (RocksDbSourceOptions.decodeThreads), because it did not pay where measured: on 2
 * cores, 1.7 M entries (32-byte keys, 100-byte values, snappy, 5 L0 files), in-thread decoding
 * took 1.7–2.0 s and 1–2 workers 2.3–3.7 s, with higher peak RSS (~300–335 MB vs 190–290 MB).
 * Packing (one copy per key and value) and per-batch messages add CPU that a 2-core machine,
 * whose main thread is busy merging, cannot hide. It should pay with more cores, or once the
 * table reader can decode straight into the packed form.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SnapshotError, type ErrorCode } from '../../format/errors.js';
import type { RawEntry } from './merge.js';
import type { OpenTable, TableLike, TablePropertiesLike, TableRangeTombstone } from './table-port.js';
import type { PackedBatch, WorkerReply, WorkerRequest } from './table-worker.js';
import { workerPool } from './block-fetch-pool.js';

/** Bytes of keys and values per packed batch: large enough to amortise a message. */
const BATCH_BYTES = 512 * 1024;

type Pending = { resolve: (v: unknown) => void; reject: (e: unknown) => void };

/** A pool of decoding workers; `openTable` plugs into the source's options. */
export class WorkerTablePool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private readonly inFlight: number[];
  private nextId = 1;
  private closed = false;
  private failure: SnapshotError | undefined;

  private constructor(url: URL, threads: number, execArgv: string[]) {
    this.workers = [];
    this.inFlight = [];
    for (let i = 0; i < threads; i++) {
      // Flags chosen by workerPool (block-fetch-pool.ts): --input-type (from `node -e`) and
      // V8 flags such as --expose-gc break workers.
      const w = new Worker(url, { execArgv });
      w.unref(); // referenced only while a request is outstanding (see send)
      w.on('message', (r: WorkerReply) => this.onReply(i, r));
      w.on('error', (e) => this.fail(new SnapshotError('IO_ERROR', `table decoding worker failed: ${e.message}`, { cause: e })));
      w.on('exit', (code) => {
        if (!this.closed) this.fail(new SnapshotError('IO_ERROR', `table decoding worker exited with code ${code}`));
      });
      this.workers.push(w);
      this.inFlight.push(0);
    }
  }

  /**
   * A pool of `threads` workers, or undefined when the compiled worker module is not next to
   * this one (running from TypeScript sources, e.g. under a test runner): callers then decode
   * in-thread.
   */
  static create(threads: number): WorkerTablePool | undefined {
    const url = new URL('./table-worker.js', import.meta.url);
    if (threads < 1 || url.protocol !== 'file:' || !existsSync(fileURLToPath(url))) return undefined;
    return workerPool((execArgv) => new WorkerTablePool(url, threads, execArgv));
  }

  /** Opens a table on the least busy worker. */
  readonly openTable: OpenTable = async (path, options = {}) => {
    let w = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.inFlight[i]! < this.inFlight[w]!) w = i;
    const id = this.nextId++;
    const properties = (await this.send(w, {
      op: 'open',
      id,
      path,
      ...(options.largestSequence === undefined ? {} : { largestSequence: options.largestSequence }),
    })) as TablePropertiesLike;
    return new WorkerTable(this, w, id, path, properties);
  };

  /** Sends one request and waits for its reply. One request per table id at a time. */
  send(worker: number, req: WorkerRequest): Promise<unknown> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new SnapshotError('IO_ERROR', 'table decoding pool is closed'));
    if (this.pending.has(req.id)) return Promise.reject(new Error(`table ${req.id} already has a request outstanding`));
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, { resolve, reject });
      if (this.inFlight[worker]!++ === 0) this.workers[worker]!.ref();
      this.workers[worker]!.postMessage(req);
    });
  }

  private onReply(worker: number, r: WorkerReply): void {
    if (--this.inFlight[worker]! === 0) this.workers[worker]!.unref();
    const p = this.pending.get(r.id);
    if (p === undefined) return;
    this.pending.delete(r.id);
    if (r.ok) p.resolve(r.value);
    else {
      const { code, message, file, offset } = r.error;
      p.reject(
        new SnapshotError((code as ErrorCode | undefined) ?? 'CORRUPT_CHECKPOINT', message, {
          ...(file === undefined ? {} : { file }),
          ...(offset === undefined ? {} : { offset }),
        }),
      );
    }
  }

  private fail(e: SnapshotError): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** Terminates the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new SnapshotError('IO_ERROR', 'table decoding pool is closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

class WorkerTable implements TableLike {
  private closed = false;
  private inflight: Promise<unknown> | undefined;

  constructor(
    private readonly pool: WorkerTablePool,
    private readonly worker: number,
    private readonly id: number,
    readonly path: string,
    readonly properties: TablePropertiesLike,
  ) {}

  async rangeTombstones(): Promise<readonly TableRangeTombstone[]> {
    return (await this.pool.send(this.worker, { op: 'tombstones', id: this.id })) as TableRangeTombstone[];
  }

  async *entries(): AsyncGenerator<readonly RawEntry[]> {
    const next = () => this.pool.send(this.worker, { op: 'next', id: this.id, maxBytes: BATCH_BYTES });
    this.inflight = next();
    for (;;) {
      const packed = (await this.inflight) as PackedBatch | null;
      if (packed === null) {
        this.inflight = undefined;
        return;
      }
      this.inflight = next(); // decode the next batch while this one is merged
      yield unpack(packed);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A prefetch may still be outstanding; the worker answers requests for a table in order.
    await this.inflight?.catch(() => undefined);
    await this.pool.send(this.worker, { op: 'close', id: this.id }).catch(() => undefined);
  }
}

function unpack(p: PackedBatch): RawEntry[] {
  const { slab, bounds, sequences, types } = p;
  const n = types.length;
  const out: RawEntry[] = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      userKey: slab.subarray(bounds[2 * i]!, bounds[2 * i + 1]!),
      sequence: sequences[i]!,
      type: types[i]!,
      value: slab.subarray(bounds[2 * i + 1]!, bounds[2 * i + 2]!),
    };
  }
  return out;
}
