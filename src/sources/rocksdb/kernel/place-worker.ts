/**
 * The place worker (place-ahead.ts): reads runs of data blocks from the main thread's open table
 * files (by file descriptor: positional reads, nothing else) straight into its own kernel's
 * memory, and places them there (run-placer.ts placeStaged: checksum, decompression, block
 * layout). It answers each request, in order, with the placed blocks (a transferred copy), or
 * the run's bytes when the kernel declines it, or a failure when the read did not give every byte
 * (the main thread then reads the run itself and reports what is wrong).
 */
import { readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { MergeKernel } from './kernel-merger.js';
import { handlesAt } from './run-placer.js';
import type { PlaceAnswer, PlaceRequest } from './place-ahead.js';

const port = parentPort!;
const kernel = new MergeKernel();
/** Buffers the main thread gave back (spares allocating and faulting in a fresh one per run). */
const free: ArrayBuffer[] = [];

function copyOut(from: number, length: number): ArrayBuffer {
  let buffer = free.pop();
  while (buffer !== undefined && buffer.byteLength < length) buffer = free.pop();
  buffer ??= new ArrayBuffer(Math.max(length, 1 << 20));
  new Uint8Array(buffer, 0, length).set(new Uint8Array(kernel.buffer, from, length));
  return buffer;
}

function answer(m: PlaceRequest): { a: PlaceAnswer; transfer: ArrayBuffer[] } {
  const { id, fd, start, length, handles, checksumType, baseContextChecksum } = m;
  const n = handles.length / 2;
  kernel.reset();
  const placer = kernel.placer;
  const stage = placer.stage(length, n);
  try {
    const into = new Uint8Array(kernel.buffer, stage, length);
    let done = 0;
    while (done < length) {
      const got = readSync(fd, into, done, length - done, start + done);
      if (got === 0) break;
      done += got;
    }
    if (done < length) return { a: { id, kind: 'failed' }, transfer: [] };
  } catch {
    return { a: { id, kind: 'failed' }, transfer: [] };
  }
  new Uint32Array(kernel.buffer, handlesAt(stage, length), 2 * n).set(handles);
  const region = { at: 0, cap: 0 };
  if (placer.placeStaged(region, n, length, start, checksumType, baseContextChecksum) === undefined) {
    const raw = copyOut(stage, length);
    return { a: { id, kind: 'raw', buffer: raw, length }, transfer: [raw] };
  }
  const first = region.at + 8 * n;
  const list = new Int32Array(kernel.buffer, region.at, 2 * n).map((at) => at - first);
  const bytes = copyOut(first, placer.placedBytes);
  return { a: { id, kind: 'placed', buffer: bytes, length: placer.placedBytes, list }, transfer: [bytes, list.buffer] };
}

port.postMessage({ id: 0, kind: 'ready' } satisfies PlaceAnswer);
port.on('message', (m: PlaceRequest) => {
  if (m.back !== undefined) free.push(m.back);
  const { a, transfer } = answer(m);
  port.postMessage(a, transfer);
});
