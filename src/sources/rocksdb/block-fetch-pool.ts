/**
 * Off-thread block reading: worker threads (block-worker.ts) read runs of data blocks, verify
 * their checksums and decompress them, while the main thread parses entries, merges and
 * encodes. Nothing is copied per entry (decoding whole tables off-thread was measured slower on
 * 2 cores for that reason): a run's blocks come back in one transferred buffer. The table
 * reader keeps one run in flight ahead of the one it parses, so memory stays at two runs
 * (~2 × 256 KiB compressed) per open table.
 *
 * Used by default when the compiled worker module is next to this one; from TypeScript sources
 * (under a test runner) reading stays in-thread.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SnapshotError, type ErrorCode } from '../../format/errors.js';
import type { BlockWorkerReply, BlockWorkerRequest, FetchedRun } from './block-worker.js';
import type { BlockFetcher, RunRequest } from './table/table-reader.js';

type Pending = { resolve: (v: Uint8Array[]) => void; reject: (e: unknown) => void };

export class BlockFetchPool implements BlockFetcher {
  private readonly workers: Worker[] = [];
  private readonly inFlight: number[] = [];
  private readonly pending = new Map<number, Pending>();
  /** The worker each open file's runs go to (a file's runs stay on one worker, in order). */
  private readonly owner = new Map<string, number>();
  private nextId = 1;
  private closed = false;
  private failure: SnapshotError | undefined;

  private constructor(url: URL, threads: number, execArgv: string[]) {
    for (let i = 0; i < threads; i++) {
      const w = new Worker(url, { execArgv });
      w.unref(); // referenced only while a request is outstanding
      w.on('message', (r: BlockWorkerReply) => this.onReply(i, r));
      w.on('error', (e) => this.fail(new SnapshotError('IO_ERROR', `block reading worker failed: ${e.message}`, { cause: e })));
      w.on('exit', (code) => {
        if (!this.closed) this.fail(new SnapshotError('IO_ERROR', `block reading worker exited with code ${code}`));
      });
      this.workers.push(w);
      this.inFlight.push(0);
    }
  }

  /** A pool of `threads` workers, or undefined when threads < 1 or the compiled worker is absent. */
  static create(threads: number): BlockFetchPool | undefined {
    const url = new URL('./block-worker.js', import.meta.url);
    if (threads < 1 || url.protocol !== 'file:' || !existsSync(fileURLToPath(url))) return undefined;
    return workerPool((execArgv) => new BlockFetchPool(url, threads, execArgv));
  }

  fetchRun(req: RunRequest): Promise<Uint8Array[]> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new SnapshotError('IO_ERROR', 'block reading pool is closed'));
    let w = this.owner.get(req.path);
    if (w === undefined) {
      w = 0;
      for (let i = 1; i < this.workers.length; i++) if (this.inFlight[i]! < this.inFlight[w]!) w = i;
      this.owner.set(req.path, w);
    }
    const id = this.nextId++;
    const msg: BlockWorkerRequest = { op: 'run', id, ...req };
    return new Promise<Uint8Array[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.inFlight[w]!++ === 0) this.workers[w]!.ref();
      this.workers[w]!.postMessage(msg);
    });
  }

  release(path: string): void {
    const w = this.owner.get(path);
    this.owner.delete(path);
    if (w !== undefined && !this.closed) this.workers[w]!.postMessage({ op: 'release', path } satisfies BlockWorkerRequest);
  }

  private onReply(worker: number, r: BlockWorkerReply): void {
    if (--this.inFlight[worker]! === 0) this.workers[worker]!.unref();
    const p = this.pending.get(r.id);
    if (p === undefined) return;
    this.pending.delete(r.id);
    if (r.ok) {
      p.resolve(split(r.value));
    } else {
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

  /** Terminates the workers (their open files close with them). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new SnapshotError('IO_ERROR', 'block reading pool is closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function split(run: FetchedRun): Uint8Array[] {
  const out: Uint8Array[] = new Array(run.bounds.length - 1);
  for (let i = 0; i + 1 < run.bounds.length; i++) out[i] = run.data.subarray(run.bounds[i]!, run.bounds[i + 1]!);
  return out;
}

/**
 * Creates a pool with the parent's Node flags minus those that break workers (`--input-type` of
 * `node -e`, `--cpu-prof`); if Node still refuses them (V8 flags such as `--expose-gc` throw
 * ERR_WORKER_INVALID_EXEC_ARGV), with no flags; if that fails too, undefined: read in-thread.
 */
export function workerPool<T>(make: (execArgv: string[]) => T): T | undefined {
  const inherited = process.execArgv.filter((a) => !a.startsWith('--input-type') && !a.startsWith('--cpu-prof'));
  for (const execArgv of [inherited, []]) {
    try {
      return make(execArgv);
    } catch {
      // try the next set of flags
    }
  }
  return undefined;
}
