/**
 * Worker-thread side of off-thread table decoding (see worker-tables.ts). Each message names a
 * table file and an operation; decoded entries go back packed into a few transferable buffers
 * (one byte slab, boundaries, sequences, types), so the main thread receives them without
 * copying and builds views into one slab per batch.
 */
import { parentPort } from 'node:worker_threads';
import { SnapshotError } from '../../format/errors.js';
import { TableReader } from './table/index.js';

/** A request from the main thread. */
export type WorkerRequest =
  | { readonly op: 'open'; readonly id: number; readonly path: string; readonly largestSequence?: number }
  | { readonly op: 'tombstones'; readonly id: number }
  | { readonly op: 'next'; readonly id: number; readonly maxBytes: number }
  | { readonly op: 'close'; readonly id: number };

/** Entries packed for transfer: entry i's key is slab[bounds[2i], bounds[2i+1]), its value ends at bounds[2i+2]. */
export interface PackedBatch {
  readonly slab: Uint8Array;
  readonly bounds: Uint32Array;
  readonly sequences: Float64Array;
  readonly types: Uint8Array;
}

/** A reply: `ok` with a payload, or the error as plain data (SnapshotError fields kept). */
export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | {
      readonly id: number;
      readonly ok: false;
      readonly error: { code?: string; message: string; file?: string; offset?: number };
    };

interface OpenTable {
  readonly reader: TableReader;
  readonly it: AsyncIterator<readonly { userKey: Uint8Array; sequence: number; type: number; value: Uint8Array }[]>;
  pending: readonly { userKey: Uint8Array; sequence: number; type: number; value: Uint8Array }[];
  pendingAt: number;
}

const tables = new Map<number, OpenTable>();
const port = parentPort;

if (port !== null) {
  // Requests for one table arrive one at a time (the main side waits for each reply), but
  // requests for different tables interleave; each is handled to completion in order.
  let chain = Promise.resolve();
  port.on('message', (req: WorkerRequest) => {
    chain = chain.then(() => handle(req));
  });
}

async function handle(req: WorkerRequest): Promise<void> {
  try {
    switch (req.op) {
      case 'open': {
        // As openTableFile (table-port.ts): unsupported types are passed through to the merge.
        const reader = await TableReader.open(req.path, {
          ...(req.largestSequence === undefined ? {} : { largestSequence: req.largestSequence }),
          passThroughUnsupportedTypes: true,
        });
        tables.set(req.id, { reader, it: reader.entries()[Symbol.asyncIterator](), pending: [], pendingAt: 0 });
        reply({ id: req.id, ok: true, value: reader.properties });
        return;
      }
      case 'tombstones': {
        const t = get(req.id);
        reply({ id: req.id, ok: true, value: (await t.reader.rangeTombstones()).map((r) => ({ ...r, sequence: Number(r.sequence) })) });
        return;
      }
      case 'next': {
        const batch = await pack(get(req.id), req.maxBytes);
        const transfer = batch === null ? [] : [batch.slab.buffer, batch.bounds.buffer, batch.sequences.buffer, batch.types.buffer];
        port!.postMessage({ id: req.id, ok: true, value: batch } satisfies WorkerReply, transfer as ArrayBuffer[]);
        return;
      }
      case 'close': {
        const t = tables.get(req.id);
        tables.delete(req.id);
        await t?.reader.close();
        reply({ id: req.id, ok: true, value: null });
        return;
      }
    }
  } catch (e) {
    const err = e instanceof SnapshotError
      ? { code: e.code, message: e.message, ...(e.file === undefined ? {} : { file: e.file }), ...(e.offset === undefined ? {} : { offset: e.offset }) }
      : { message: e instanceof Error ? e.message : String(e) };
    reply({ id: req.id, ok: false, error: err });
  }
}

function reply(r: WorkerReply): void {
  port!.postMessage(r);
}

function get(id: number): OpenTable {
  const t = tables.get(id);
  if (t === undefined) throw new Error(`no open table ${id}`);
  return t;
}

/** Packs decoded entries until about `maxBytes` of keys and values; null at the end. */
async function pack(t: OpenTable, maxBytes: number): Promise<PackedBatch | null> {
  const picked: { userKey: Uint8Array; sequence: number; type: number; value: Uint8Array }[] = [];
  let bytes = 0;
  while (bytes < maxBytes) {
    if (t.pendingAt >= t.pending.length) {
      const r = await t.it.next();
      if (r.done === true) break;
      t.pending = r.value;
      t.pendingAt = 0;
      continue;
    }
    const e = t.pending[t.pendingAt++]!;
    picked.push(e);
    bytes += e.userKey.length + e.value.length;
  }
  if (picked.length === 0) return null;
  const slab = new Uint8Array(bytes);
  const bounds = new Uint32Array(picked.length * 2 + 1);
  const sequences = new Float64Array(picked.length);
  const types = new Uint8Array(picked.length);
  let at = 0;
  for (let i = 0; i < picked.length; i++) {
    const e = picked[i]!;
    bounds[2 * i] = at;
    slab.set(e.userKey, at);
    at += e.userKey.length;
    bounds[2 * i + 1] = at;
    slab.set(e.value, at);
    at += e.value.length;
    sequences[i] = Number(e.sequence);
    types[i] = e.type;
  }
  bounds[2 * picked.length] = at;
  return { slab, bounds, sequences, types };
}
