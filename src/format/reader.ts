import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Entry } from '../sources/source.js';
import { SnapshotDecoder, type DecoderOptions } from './decoder.js';
import { loadHasher } from './digest.js';
import type { ChunkSummary, SnapshotSummary, TableSummary } from './encoder.js';
import { SnapshotError } from './errors.js';
import type { ChunkHeader } from './header.js';

/** What `readSnapshot` yields, in stream order. */
export type SnapshotEvent =
  | { readonly kind: 'header'; readonly header: ChunkHeader }
  | { readonly kind: 'entries'; readonly tableIndex: number; readonly entries: readonly Entry[] }
  | { readonly kind: 'tableEnd'; readonly table: TableSummary }
  | { readonly kind: 'chunkEnd'; readonly chunk: ChunkSummary; readonly last: boolean }
  | { readonly kind: 'end'; readonly summary: SnapshotSummary };

/** Bytes to read: files read in order as one stream (chunk files or one file), or any byte stream. */
export type SnapshotInput = string | readonly string[] | AsyncIterable<Uint8Array>;

/** Bytes asked of the file system per read: large reads keep throughput near disk speed. */
const READ_BYTES = 1 << 20;

/**
 * Reads and verifies a snapshot as a stream of events. Everything is validated; a SnapshotError
 * carries the code, the file and the offset within that file. Entries of a chunk are yielded
 * before its trailer is checked: only the final `end` event means the whole snapshot verified.
 */
export async function* readSnapshot(input: SnapshotInput, options: DecoderOptions = {}): AsyncGenerator<SnapshotEvent> {
  await loadHasher();
  const files = typeof input === 'string' ? [input] : isFileList(input) ? input : undefined;
  const spans: { file: string; start: number }[] = [];
  let events: SnapshotEvent[] = [];
  let batch: Entry[] = [];
  let batchTable = -1;
  const flushBatch = (): void => {
    if (batch.length > 0) events.push({ kind: 'entries', tableIndex: batchTable, entries: batch });
    batch = [];
  };
  const decoder = new SnapshotDecoder(
    {
      header: (header) => {
        flushBatch();
        events.push({ kind: 'header', header });
      },
      entry: (tableIndex, key, value) => {
        if (tableIndex !== batchTable) flushBatch();
        batchTable = tableIndex;
        batch.push({ key, value });
      },
      tableEnd: (table) => {
        flushBatch();
        events.push({ kind: 'tableEnd', table });
      },
      chunkEnd: (chunk, last) => {
        flushBatch();
        events.push({ kind: 'chunkEnd', chunk, last });
      },
    },
    options,
  );
  const located = (e: unknown, total: number): unknown => locate(e, spans, total);
  let total = 0;
  try {
    const pieces = files !== undefined ? readFiles(files, spans) : (input as AsyncIterable<Uint8Array>);
    for await (const piece of pieces) {
      total += piece.length;
      decoder.push(piece);
      flushBatch();
      if (events.length > 0) {
        const out = events;
        events = [];
        yield* out;
      }
    }
    const summary = decoder.end();
    yield { kind: 'end', summary };
  } catch (e) {
    throw located(e, total);
  }
}

/** Reads and verifies a whole snapshot, returning its summary (digest, counts, chunks). */
export async function verifySnapshot(input: SnapshotInput, options: DecoderOptions = {}): Promise<SnapshotSummary> {
  for await (const event of readSnapshot(input, options)) {
    if (event.kind === 'end') return event.summary;
  }
  throw new SnapshotError('TRUNCATED', 'the input ended early');
}

/** A snapshot held in memory: for tests and small snapshots only. */
export interface SnapshotContent {
  readonly summary: SnapshotSummary;
  readonly tables: readonly { readonly id: number; readonly name: string; readonly entries: readonly Entry[] }[];
}

/** Reads a whole snapshot into memory (verified). Use `readSnapshot` for anything large. */
export async function readSnapshotContent(input: SnapshotInput, options: DecoderOptions = {}): Promise<SnapshotContent> {
  let tables: { id: number; name: string; entries: Entry[] }[] | undefined;
  for await (const event of readSnapshot(input, options)) {
    if (event.kind === 'header' && tables === undefined) {
      tables = event.header.tables.map((t) => ({ id: t.id, name: t.name, entries: [] }));
    } else if (event.kind === 'entries') {
      for (const e of event.entries) tables![event.tableIndex]!.entries.push(e);
    } else if (event.kind === 'end') {
      return { summary: event.summary, tables: tables ?? [] };
    }
  }
  throw new SnapshotError('TRUNCATED', 'the input ended early');
}

function isFileList(input: SnapshotInput): input is readonly string[] {
  return Array.isArray(input);
}

async function* readFiles(files: readonly string[], spans: { file: string; start: number }[]): AsyncGenerator<Uint8Array> {
  let start = 0;
  for (const file of files) {
    let size: number;
    try {
      const s = await stat(file);
      if (!s.isFile()) throw new SnapshotError('NOT_FOUND', `${file} is not a regular file`, { file });
      size = s.size;
    } catch (e) {
      if (e instanceof SnapshotError) throw e;
      throw new SnapshotError('NOT_FOUND', `cannot read ${file}: ${(e as Error).message}`, { file, cause: e });
    }
    spans.push({ file, start });
    // Read-only: 'r' never creates, truncates or locks.
    const stream = createReadStream(file, { flags: 'r', highWaterMark: READ_BYTES });
    try {
      for await (const piece of stream) yield piece as Buffer;
    } catch (e) {
      throw new SnapshotError('IO_ERROR', `cannot read ${file}: ${(e as Error).message}`, { file, cause: e });
    }
    start += size;
  }
}

/** Turns a stream offset into a file and an offset within it. */
function locate(e: unknown, spans: readonly { file: string; start: number }[], total: number): unknown {
  if (!(e instanceof SnapshotError) || e.offset === undefined || e.file !== undefined || spans.length === 0) return e;
  const offset = Math.min(e.offset, total);
  let span = spans[0]!;
  for (const s of spans) if (s.start <= offset) span = s;
  // An offset at a file's very end (TRUNCATED) belongs to that file, not the next empty one.
  return new SnapshotError(e.code, e.message, { offset: offset - span.start, file: span.file, cause: e.cause });
}
