import { closeSync, readSync } from 'node:fs';
import type { Entry } from './entry.js';
import { SnapshotDecoder, type DecoderEvents, type DecoderOptions } from './decoder.js';
import { loadHasher } from './digest.js';
import type { ChunkSummary, SnapshotSummary, TableSummary } from './encoder.js';
import { SnapshotError } from './errors.js';
import type { ChunkHeader } from './header.js';
import { ENTRY_PREFIX_BYTES } from './constants.js';
import { writeEntryPrefix, type PackedEntries } from './packed.js';
import { openCheckedFileSync, openRegularFileSync, regularFileSize, wasChecked } from './regular-file.js';
import { decodeKernel, READ_BUFFER_BYTES } from './wasm/decode-kernel.js';
import { isFileList, type FileList } from './file-list.js';

/** What `readSnapshot` yields, in stream order. */
export type SnapshotEvent =
  | { readonly kind: 'header'; readonly header: ChunkHeader }
  | { readonly kind: 'entries'; readonly tableIndex: number; readonly entries: readonly Entry[] }
  | { readonly kind: 'tableEnd'; readonly table: TableSummary }
  | { readonly kind: 'chunkEnd'; readonly chunk: ChunkSummary; readonly last: boolean }
  | { readonly kind: 'end'; readonly summary: SnapshotSummary };

/** Bytes to read: files read in order as one stream (chunk files or one file), or any byte stream. */
export type SnapshotInput = string | FileList | AsyncIterable<Uint8Array>;

/**
 * Bytes asked of the file system per read: large enough to amortize a call, small enough that the
 * buffer stays in the L2 cache while it is decoded and hashed (1 MiB reads cost 3x the CPU of
 * 128 KiB ones on a 223 MB file: the copy from the page cache and the decoding missed the cache).
 */
const READ_BYTES = READ_BUFFER_BYTES;

/**
 * Reads and verifies a snapshot as a stream of events. Everything is validated; a SnapshotError
 * carries the code, the file and the offset within that file. Entries of a chunk are yielded
 * before its trailer is checked: only the final `end` event means the whole snapshot verified.
 */
export function readSnapshot(input: SnapshotInput, options: DecoderOptions = {}): AsyncGenerator<SnapshotEvent> {
  return readEvents(input, options, false) as AsyncGenerator<SnapshotEvent>;
}

/** A run of entries as ENTRY records (packed.ts): what `readSnapshotPacked` yields instead of `entries` events. */
export type PackedEntriesEvent = { readonly kind: 'packed'; readonly tableIndex: number; readonly packed: PackedEntries };

/**
 * `readSnapshot` with every entry as ENTRY records (packed.ts), for a consumer that copies or
 * compares records as they are (a writer's `addPacked`, diff): no object per entry, and the file
 * is read into a few reused buffers. Records are valid only until the next event is requested.
 */
export function readSnapshotPacked(input: SnapshotInput, options: DecoderOptions = {}): AsyncGenerator<Exclude<SnapshotEvent, { kind: 'entries' }> | PackedEntriesEvent> {
  return readEvents(input, options, true) as AsyncGenerator<Exclude<SnapshotEvent, { kind: 'entries' }> | PackedEntriesEvent>;
}

async function* readEvents(input: SnapshotInput, options: DecoderOptions, packed: boolean): AsyncGenerator<SnapshotEvent | PackedEntriesEvent> {
  await loadHasher();
  const files = typeof input === 'string' ? [input] : isFileList(input) ? input : undefined;
  const spans = fileSpans(files);
  let events: (SnapshotEvent | PackedEntriesEvent)[] = [];
  let batch: Entry[] = [];
  let batchTable = -1;
  // Packed: entries outside the decoder's bulk runs (records spanning pieces) are copied here as
  // records; a push's records share it, so it is reused only once every event was taken.
  const loose = packed ? new LooseRecords() : undefined;
  const flushBatch = (): void => {
    if (loose !== undefined) {
      const records = loose.take();
      if (records !== undefined) events.push({ kind: 'packed', tableIndex: batchTable, packed: records });
      return;
    }
    if (batch.length > 0) events.push({ kind: 'entries', tableIndex: batchTable, entries: batch });
    batch = [];
  };
  const pool = packed ? new BufferPool(READ_BYTES) : undefined;
  const decoder = new SnapshotDecoder(
    {
      header: (header) => {
        flushBatch();
        events.push({ kind: 'header', header });
      },
      entry: (tableIndex, key, value) => {
        if (tableIndex !== batchTable) flushBatch();
        batchTable = tableIndex;
        if (loose !== undefined) loose.push(key, value);
        else batch.push({ key, value });
      },
      ...(packed
        ? {
            entryRecords: (tableIndex: number, records: Uint8Array, count: number) => {
              flushBatch();
              events.push({ kind: 'packed', tableIndex, packed: { bytes: records, count } });
            },
          }
        : {}),
      tableEnd: (table) => {
        flushBatch();
        events.push({ kind: 'tableEnd', table });
      },
      chunkEnd: (chunk, last) => {
        flushBatch();
        events.push({ kind: 'chunkEnd', chunk, last });
      },
    },
    pool === undefined ? options : { ...options, transientEntries: true, onPieceConsumed: (piece) => pool.release(piece) },
  );
  const located = (e: unknown, total: number): unknown => locate(e, spans, total);
  let total = 0;
  try {
    const pieces = files !== undefined ? readFiles(files, spans, pool) : (input as AsyncIterable<Uint8Array>);
    for await (const piece of pieces) {
      total += piece.length;
      loose?.reset();
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
  } finally {
    pool?.close();
  }
}

/** ENTRY records appended to one reused buffer; `take` hands over those since the last take. */
class LooseRecords {
  #buf = new Uint8Array(4096);
  #from = 0;
  #pos = 0;
  #count = 0;

  /** Starts over: every view handed out before is no longer in use. */
  reset(): void {
    this.#from = this.#pos = this.#count = 0;
  }

  push(key: Uint8Array, value: Uint8Array): void {
    const size = ENTRY_PREFIX_BYTES + key.length + value.length;
    if (this.#pos + size > this.#buf.length) {
      // Views already taken keep the old buffer; the records not yet taken move along.
      const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#pos - this.#from + size));
      next.set(this.#buf.subarray(this.#from, this.#pos));
      this.#buf = next;
      this.#pos -= this.#from;
      this.#from = 0;
    }
    const k = writeEntryPrefix(this.#buf, this.#pos, key.length, value.length);
    this.#buf.set(key, k);
    this.#buf.set(value, k + key.length);
    this.#pos += size;
    this.#count++;
  }

  take(): PackedEntries | undefined {
    if (this.#count === 0) return undefined;
    const out = { bytes: this.#buf.subarray(this.#from, this.#pos), count: this.#count };
    this.#from = this.#pos;
    this.#count = 0;
    return out;
  }
}

/**
 * Reads and verifies a whole snapshot, returning its summary (digest, counts, chunks). It hands
 * no entry to anyone, so file reads go into a few reused buffers: memory stays flat whatever the
 * size, instead of one garbage buffer per MiB read.
 */
export async function verifySnapshot(input: SnapshotInput, options: DecoderOptions = {}): Promise<SnapshotSummary> {
  return scanSnapshot(input, {}, options);
}

/**
 * Like verifySnapshot, but hands every event to `events` as it is decoded: entries as views valid
 * until `afterPiece` is next called (copy what you keep longer; restore relies on this to hand over
 * runs of records at once), no batching, no object per entry. `afterPiece` runs
 * after each piece of input is decoded; the promise it may return is awaited before the next read
 * (backpressure for a consumer that writes what it receives). The summary returned means the
 * whole snapshot verified; events before it are not yet verified.
 */
export async function scanSnapshot(
  input: SnapshotInput,
  events: DecoderEvents,
  options: DecoderOptions = {},
  afterPiece?: () => Promise<void> | undefined,
): Promise<SnapshotSummary> {
  await loadHasher();
  const files = typeof input === 'string' ? [input] : isFileList(input) ? input : undefined;
  const spans = fileSpans(files);
  const pool = new BufferPool(READ_BYTES);
  const consumed = options.onPieceConsumed;
  const decoder = new SnapshotDecoder(events, {
    ...options,
    transientEntries: true,
    onPieceConsumed: (piece) => {
      consumed?.(piece); // the caller's look at the piece comes before the buffer is reused
      pool.release(piece);
    },
  });
  let total = 0;
  const filePieces = files !== undefined ? new FilePieces(files, spans, pool) : undefined;
  const decode = (piece: Uint8Array): Promise<void> | undefined => {
    total += piece.length;
    decoder.push(piece);
    return afterPiece?.();
  };
  try {
    if (filePieces !== undefined) {
      // Files: a plain loop, awaiting only what afterPiece returns.
      for (let piece, wait; (piece = filePieces.next()) !== undefined; ) if ((wait = decode(piece)) !== undefined) await wait;
    } else {
      for await (const piece of input as AsyncIterable<Uint8Array>) {
        const wait = decode(piece);
        if (wait !== undefined) await wait;
      }
    }
    return decoder.end();
  } catch (e) {
    throw locate(e, spans, total);
  } finally {
    filePieces?.close();
    pool.close();
  }
}

/**
 * A few equal-sized buffers, reused once the decoder has consumed what was read into them: the
 * decode kernel's read buffers first (a piece read there is scanned and hashed in place, with no
 * copy), then buffers of its own when those are all in use (other readers, records spanning many
 * pieces). A kernel buffer is reused only by the reader that took it, until `close` (or, for a
 * reader abandoned without it, the pool's collection) gives it back: records from it handed to a
 * consumer stay valid until that reader reads again, as they did with buffers of its own.
 */
class BufferPool {
  readonly #size: number;
  readonly #free: ArrayBuffer[] = [];
  readonly #owned = new WeakSet<ArrayBufferLike>();
  readonly #kernel = decodeKernel();
  /** Every kernel buffer this pool holds, and those of them free for its next read. */
  readonly #inKernel = new Set<Uint8Array>();
  readonly #kernelFree: Uint8Array[] = [];

  constructor(size: number) {
    this.#size = size;
    if (size === READ_BUFFER_BYTES) giveBack.register(this, this.#inKernel, this);
  }

  take(): Uint8Array {
    if (this.#size === READ_BUFFER_BYTES) {
      const inKernel = this.#kernelFree.pop() ?? this.#kernel.takeReadBuffer();
      if (inKernel !== undefined) {
        this.#inKernel.add(inKernel);
        return inKernel;
      }
    }
    const buffer = this.#free.pop();
    if (buffer !== undefined) return new Uint8Array(buffer);
    const fresh = new Uint8Array(this.#size);
    this.#owned.add(fresh.buffer);
    return fresh;
  }

  release(piece: Uint8Array): void {
    const whole = this.#kernel.readBufferOf(piece);
    if (whole !== undefined) {
      if (this.#inKernel.has(whole) && !this.#kernelFree.includes(whole)) this.#kernelFree.push(whole);
      return;
    }
    if (this.#owned.has(piece.buffer) && this.#free.length < 4 && !this.#free.includes(piece.buffer as ArrayBuffer)) this.#free.push(piece.buffer as ArrayBuffer);
  }

  /** Gives the kernel buffers back: nothing read into them is used any more. */
  close(): void {
    giveBack.unregister(this);
    releaseAll(this.#inKernel);
    this.#kernelFree.length = 0;
  }
}

function releaseAll(buffers: Set<Uint8Array>): void {
  const kernel = decodeKernel();
  for (const b of buffers) kernel.releaseReadBuffer(b);
  buffers.clear();
}

const giveBack = new FinalizationRegistry(releaseAll);

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

/**
 * The files' bytes in order, several small files packed into one piece: a piece per 4 KiB chunk
 * file made the per-piece and per-file costs dominate. Each file is stat'ed, opened non-blocking
 * and fstat'ed (regular files only: a FIFO or device is refused, never waited on) and read with
 * synchronous calls, which cost microseconds on cached files where the async ones cost a thread
 * pool round trip each. Files of a list checkRegularFilesSync returned were checked before: each
 * is opened and read until a read returns less than asked (the end of a regular file), so a
 * 4 KiB chunk file costs an open, a read and a close; one that fills the buffer (a long file, or
 * a device put in its place since) is fstat'ed as above. With a pool, reads go into its buffers
 * (the consumer releases them); without, each piece is a fresh buffer the consumer may keep.
 * Read-only: never creates, truncates or locks. A file that cannot be opened or read fails only
 * after the bytes before it were handed on, so an error in those bytes is reported first, as when
 * files were read one by one.
 *
 * Pulled a piece at a time with `next` (undefined at the end), not an async generator: a verify
 * reads 1,700 pieces of a 223 MB file, and the generator's promise per piece, and V8 optimising
 * the generator and its caller, cost ~35 ms of CPU in a 0.2 s run (bench/snapshot-read.mjs).
 */
class FilePieces {
  readonly #files: FileList;
  readonly #spans: FileSpans;
  readonly #pool: BufferPool | undefined;
  readonly #checked: boolean;
  #index = 0;
  #file = '';
  #fd: number | undefined;
  // Bytes left to read in the open file: the size fstat gave (a file that grew since is read as
  // it was then; one that shrank ends where a read returns 0), or undefined for a checked file
  // not fstat'ed.
  #left: number | undefined;
  #fileRead = 0;
  #start = 0;
  #buffer: Uint8Array | undefined;
  #filled = 0;
  // The largest file read so far: a piece is handed on before a file that may not fit in what is
  // left of it, so that a chunk file lies whole in one piece (the decoder's chunk pass reads whole
  // chunks of a piece; one cut across two is read step by step).
  #largest = 0;
  /** A failure to throw once the bytes read before it were handed on. */
  #failure: { error: unknown } | undefined;

  constructor(files: FileList, spans: FileSpans, pool?: BufferPool) {
    this.#files = files;
    this.#spans = spans;
    this.#pool = pool;
    this.#checked = wasChecked(files);
  }

  /** The next piece, or undefined after the last; throws a file's failure after the bytes before it. */
  next(): Uint8Array | undefined {
    if (this.#failure !== undefined) throw this.#failure.error;
    for (;;) {
      if (this.#fd === undefined) {
        if (this.#index === this.#files.length) return this.#rest();
        if (this.#buffer !== undefined && this.#filled > 0 && this.#buffer.length - this.#filled < this.#largest) {
          const piece = this.#buffer.subarray(0, this.#filled);
          this.#buffer = undefined;
          return piece;
        }
        const file = (this.#file = this.#files.at(this.#index++)!);
        try {
          if (this.#checked) {
            this.#fd = openCheckedFileSync(file);
            this.#left = undefined;
          } else ({ fd: this.#fd, size: this.#left } = openRegularFileSync(file));
        } catch (e) {
          return this.#fail(e);
        }
        this.#spans.starts.push(this.#start);
        this.#fileRead = 0;
      }
      const piece = this.#readSome();
      if (piece !== undefined) return piece;
    }
  }

  /** Reads the open file until the buffer is full (returned) or the file ends (closed; undefined). */
  #readSome(): Uint8Array | undefined {
    const fd = this.#fd!;
    while (this.#left === undefined || this.#left > 0) {
      if (this.#buffer === undefined) {
        // Unpooled, a single file gets a buffer of its size, a file list full ones (files are packed).
        this.#buffer = this.#pool?.take() ?? new Uint8Array(this.#files.length === 1 ? Math.min(READ_BYTES, this.#left ?? READ_BYTES) : READ_BYTES);
        this.#filled = 0;
      }
      const buffer = this.#buffer;
      const want = this.#left === undefined ? buffer.length - this.#filled : Math.min(buffer.length - this.#filled, this.#left);
      let bytesRead: number;
      try {
        bytesRead = readSync(fd, buffer, this.#filled, want, null);
      } catch (e) {
        this.close();
        return this.#fail(new SnapshotError('IO_ERROR', `cannot read ${this.#file}: ${(e as Error).message}`, { file: this.#file, cause: e }));
      }
      if (bytesRead === 0) break;
      this.#filled += bytesRead;
      this.#fileRead += bytesRead;
      this.#start += bytesRead;
      if (this.#left !== undefined) this.#left -= bytesRead;
      else if (bytesRead < want) break; // a checked regular file ended
      else this.#left = Math.max(0, regularFileSize(this.#file, fd) - this.#fileRead); // it filled the buffer: fstat it
      if (this.#filled === buffer.length) {
        this.#buffer = undefined;
        return buffer;
      }
    }
    if (this.#fileRead > this.#largest) this.#largest = this.#fileRead;
    this.close();
    return undefined;
  }

  /** Keeps `error` for the next call and hands on the bytes read before it, if any. */
  #fail(error: unknown): Uint8Array | undefined {
    this.#failure = { error };
    const partial = this.#buffer !== undefined && this.#filled > 0 ? this.#buffer.subarray(0, this.#filled) : undefined;
    this.#buffer = undefined;
    if (partial === undefined) throw error;
    return partial;
  }

  /** After the last file: the bytes of a buffer not filled, or undefined. */
  #rest(): Uint8Array | undefined {
    const buffer = this.#buffer;
    this.#buffer = undefined;
    if (buffer === undefined) return undefined;
    if (this.#filled > 0) return buffer.subarray(0, this.#filled);
    this.#pool?.release(buffer);
    return undefined;
  }

  /** Closes the open file, if any (the reader stopped early, or the file ended). */
  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** `FilePieces` as an async iterable, for readers that hand each piece's events on. */
async function* readFiles(files: FileList, spans: FileSpans, pool?: BufferPool): AsyncGenerator<Uint8Array> {
  const pieces = new FilePieces(files, spans, pool);
  try {
    for (let piece; (piece = pieces.next()) !== undefined; ) yield piece;
  } finally {
    pieces.close();
  }
}

/** Where each file opened so far starts in the stream (files[i] at starts[i]): numbers, no object per file. */
interface FileSpans {
  readonly files: FileList;
  readonly starts: number[];
}

function fileSpans(files: FileList | undefined): FileSpans {
  return { files: files ?? [], starts: [] };
}

/** Turns a stream offset into a file and an offset within it. */
function locate(e: unknown, spans: FileSpans, total: number): unknown {
  if (!(e instanceof SnapshotError) || e.offset === undefined || e.file !== undefined || spans.starts.length === 0) return e;
  const offset = Math.min(e.offset, total);
  let span = 0;
  for (let i = 0; i < spans.starts.length; i++) if (spans.starts[i]! <= offset) span = i;
  // An offset at a file's very end (TRUNCATED) belongs to that file, not the next empty one.
  return new SnapshotError(e.code, e.message, { offset: offset - spans.starts[span]!, file: spans.files.at(span)!, cause: e.cause });
}
