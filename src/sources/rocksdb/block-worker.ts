/**
 * Worker-thread side of off-thread block reading (see block-fetch-pool.ts): reads a run of
 * physically contiguous data blocks of a table file, verifies each block's checksum and
 * decompresses it, and sends the contents back in one transferred buffer, so the main thread
 * receives them without copying and only parses entries. (Decoding entries here too was
 * measured slower on 2 cores: with the main thread and this one both busy, the GC threads and
 * other processes compete for the cores.) Files are opened read-only ('r') and
 * only ever pread, as by the table reader itself.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { SnapshotError } from '../../format/errors.js';
import { loadChecksums } from './table/checksum.js';
import { preadExact, readRunBlocks, type RunRequest } from './table/table-reader.js';

/** A request from the main thread. */
export type BlockWorkerRequest =
  | ({ readonly op: 'run'; readonly id: number } & RunRequest)
  | { readonly op: 'release'; readonly path: string };

/** A run's block contents, concatenated (see readRunBlocks in table/table-reader.ts). */
export type FetchedRun = ReturnType<typeof readRunBlocks>;

/** A reply to a run request: the entries, or the error as plain data (SnapshotError fields kept). */
export type BlockWorkerReply =
  | { readonly id: number; readonly ok: true; readonly value: FetchedRun }
  | { readonly id: number; readonly ok: false; readonly error: { code?: string; message: string; file?: string; offset?: number } };

const files = new Map<string, Promise<FileHandle>>();
const port = parentPort;

if (port !== null) {
  // One request at a time, in order: a release follows the runs of its file.
  let chain = Promise.resolve();
  port.on('message', (req: BlockWorkerRequest) => {
    chain = chain.then(() => handle(req));
  });
}

async function handle(req: BlockWorkerRequest): Promise<void> {
  if (req.op === 'release') {
    const fh = files.get(req.path);
    files.delete(req.path);
    await fh?.then((f) => f.close()).catch(() => undefined);
    return;
  }
  try {
    await loadChecksums();
    let fh = files.get(req.path);
    if (fh === undefined) {
      fh = open(req.path, 'r');
      files.set(req.path, fh);
    }
    const buf = await preadExact(await fh, req.path, req.start, req.end - req.start, req.fileSize);
    const run = readRunBlocks(req, buf);
    port!.postMessage({ id: req.id, ok: true, value: run } satisfies BlockWorkerReply, [run.data.buffer, run.bounds.buffer] as ArrayBuffer[]);
  } catch (e) {
    const error = e instanceof SnapshotError
      ? { code: e.code, message: e.message, ...(e.file === undefined ? {} : { file: e.file }), ...(e.offset === undefined ? {} : { offset: e.offset }) }
      : { message: e instanceof Error ? e.message : String(e), file: req.path };
    port!.postMessage({ id: req.id, ok: false, error } satisfies BlockWorkerReply);
  }
}
