/**
 * Placing runs of data blocks ahead on a second thread (place-worker.ts) while the main thread
 * merges and hashes: the worker reads each run (positional reads on the main thread's open file
 * descriptor), verifies its checksums, decompresses it and lays it out; the main thread copies the
 * placed blocks into its kernel's memory, one copy instead of a copy, a checksum and a
 * decompression. A run the worker's kernel declines comes back as read, and the JavaScript path
 * places it and reports its error (run-placer.ts); a run the worker could not read is read again
 * by the table reader, which reports the read error. So results and errors are the same as
 * placing on the main thread; only where the work runs differs.
 *
 * One worker per process, started by the first large family (its start-up overlaps planning);
 * until it is ready, runs are placed on the main thread. It is unref'd while idle, so it never
 * keeps the process alive. On by default with two or more cores (rocksdb-source.ts
 * defaultPlaceAheadBytes): the calling thread does ~20% less work, the process 0.25–0.4 CPU-s
 * more (the worker's start, messages, a copy out and in per run) with ~16 MB more RSS; on a quiet
 * 2-core machine the digest takes 0.95 s instead of 1.10 s wall (bench/RESULTS.md).
 */
import { isMainThread, Worker } from 'node:worker_threads';
import type { RunFetch } from '../table/index.js';
import { kernelVerifies } from './run-placer.js';

/** A run to read and place (main thread to worker). `back` returns a placed buffer for reuse. */
export interface PlaceRequest {
  readonly id: number;
  readonly fd: number;
  readonly start: number;
  readonly length: number;
  /** Per block (offset in the run, size without trailer). */
  readonly handles: Uint32Array;
  readonly checksumType: number;
  readonly baseContextChecksum: number;
  readonly back?: ArrayBuffer;
}

/** The worker's answer: ready (id 0, once), the placed run, the run as read (declined), or failed (not read). */
export type PlaceAnswer =
  | { readonly id: number; readonly kind: 'ready' }
  | { readonly id: number; readonly kind: 'failed' }
  | { readonly id: number; readonly kind: 'raw'; readonly buffer: ArrayBuffer; readonly length: number }
  | { readonly id: number; readonly kind: 'placed'; readonly buffer: ArrayBuffer; readonly length: number; readonly list: Int32Array };

/** Placed buffers kept to be given back to the worker with its next requests. */
const MAX_BACK = 8;

export class PlaceAhead {
  /** Runs the worker placed, and runs it gave back as read, over the process (tests check the worker did the work). */
  static runsPlaced = 0;
  static runsDeclined = 0;
  private static instance: PlaceAhead | undefined | null;

  private readonly worker: Worker;
  private ready = false;
  /** Settles once the worker is ready (or failed to start). */
  readonly started: Promise<void>;
  private onStarted!: () => void;
  private broken = false;
  private nextId = 1;
  private readonly pending = new Map<number, (a: PlaceAnswer | undefined) => void>();
  private readonly back: ArrayBuffer[] = [];

  /**
   * The process's place worker, started on first use; undefined off the main thread (merge
   * workers place their own runs) or when running from TypeScript sources (workers run
   * compiled code).
   */
  static get(): PlaceAhead | undefined {
    if (PlaceAhead.instance === undefined) {
      const url = new URL('./place-worker.js', import.meta.url);
      const off = !isMainThread || !import.meta.url.endsWith('.js');
      try {
        PlaceAhead.instance = off ? null : new PlaceAhead(url);
      } catch {
        PlaceAhead.instance = null;
      }
    }
    return PlaceAhead.instance ?? undefined;
  }

  private constructor(url: URL) {
    this.started = new Promise((resolve) => (this.onStarted = resolve));
    this.worker = new Worker(url);
    this.worker.on('message', (a: PlaceAnswer) => {
      if (a.id === 0) {
        this.ready = true;
        this.onStarted();
        return;
      }
      const resolve = this.pending.get(a.id);
      this.pending.delete(a.id);
      if (this.pending.size === 0) this.worker.unref();
      resolve?.(a);
    });
    const fail = () => {
      this.broken = true;
      this.onStarted();
      for (const resolve of this.pending.values()) resolve(undefined);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', fail);
    // Only after the listeners: adding a 'message' listener refs the worker's port again, and a
    // run that ended before its first fetch (an error before the worker was ready) then hung.
    this.worker.unref();
  }

  /** rangeRawRuns' fetch: the run placed by the worker, or as read, or undefined (read it here). */
  readonly fetch: RunFetch = (fd, start, length, handles, reader) => {
    const { checksumType, baseContextChecksum } = reader.blockChecksum;
    if (!this.ready || this.broken || !kernelVerifies(checksumType)) return Promise.resolve(undefined);
    const id = this.nextId++;
    const words = new Uint32Array(2 * handles.length);
    for (let k = 0; k < handles.length; k++) {
      words[2 * k] = handles[k]!.offset - start;
      words[2 * k + 1] = handles[k]!.size;
    }
    const back = this.back.pop();
    const m: PlaceRequest = { id, fd, start, length, handles: words, checksumType, baseContextChecksum, ...(back && { back }) };
    if (this.pending.size === 0) this.worker.ref(); // an answer is awaited: keep the process alive
    const answer = new Promise<PlaceAnswer | undefined>((resolve) => this.pending.set(id, resolve));
    this.worker.postMessage(m, back === undefined ? [words.buffer] : [words.buffer, back]);
    return answer.then((a) => {
      if (a === undefined || a.kind === 'failed' || a.kind === 'ready') return undefined;
      const bytes = new Uint8Array(a.buffer, 0, a.length);
      if (a.kind === 'raw') {
        PlaceAhead.runsDeclined++;
        return { buf: bytes };
      }
      PlaceAhead.runsPlaced++;
      const buffer = a.buffer;
      return {
        buf: new Uint8Array(0),
        placed: { bytes, list: a.list, done: () => void (this.back.length < MAX_BACK && this.back.push(buffer)) },
      };
    });
  };
}
