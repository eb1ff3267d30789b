import { unpackEntries, type PackedEntries } from '../../format/packed.js';
import { readSnapshot, readSnapshotPacked, scanSnapshot, type PackedEntriesEvent, type SnapshotEvent } from '../../format/reader.js';
import { SnapshotError } from '../../format/errors.js';
import type { FileList } from '../../format/file-list.js';
import type { SnapshotSummary } from '../../format/encoder.js';
import type { ChunkHeader } from '../../format/header.js';
import type { Entry, Source, TableInfo } from '../source.js';
import { sameSnapshotBytes } from './same-bytes.js';

/**
 * A snapshot file (or its chunk files, in order) as a source: verified while it is read, so a
 * corrupt snapshot fails with its code and offset. Tables read in catalog order share one pass;
 * a table asked out of order costs a fresh pass from the start. Offers packed entries: the
 * records go to the writer (or diff) as they are, no object per entry.
 */
export async function openSnapshotFiles(files: FileList): Promise<Source> {
  const header = await readFirstHeader(files);
  const summaries = new Map<string, TableInfo>();
  let pass: { events: AsyncGenerator<Exclude<SnapshotEvent, { kind: 'entries' }> | PackedEntriesEvent>; nextTable: number } | undefined;
  let verified: SnapshotSummary | undefined;

  /** The pass's next event; its end event (the whole snapshot verified) is kept. */
  async function next(events: NonNullable<typeof pass>['events']) {
    const r = await events.next();
    if (r.done !== true && r.value.kind === 'end') verified = r.value.summary;
    return r;
  }

  /** Reads the pass to its end: every later table and trailer is verified. */
  async function drain(events: NonNullable<typeof pass>['events']): Promise<void> {
    for (;;) if ((await next(events)).done === true) return;
  }

  /** The table's entries as the pass yields them, as records valid until the next is asked for. */
  async function* tableEvents(tableIndex: number): AsyncGenerator<PackedEntries> {
    if (pass === undefined || pass.nextTable > tableIndex) {
      await pass?.events.return(undefined);
      pass = { events: readSnapshotPacked(files), nextTable: 0 };
    }
    const current = pass;
    for (;;) {
      const r = await next(current.events);
      if (r.done === true) throw new SnapshotError('TRUNCATED', 'the snapshot ended before the table did', { file: files.at(-1) });
      const ev = r.value;
      if (ev.kind === 'packed' && ev.tableIndex === tableIndex) yield ev.packed;
      if (ev.kind === 'tableEnd') {
        current.nextTable = header.tables.findIndex((t) => t.id === ev.table.id) + 1;
        summaries.set(ev.table.name, { name: ev.table.name, estimatedEntries: Number(ev.table.entries) });
        if (current.nextTable > tableIndex) {
          if (current.nextTable === header.tables.length) await drain(current.events); // verify the trailer too
          return;
        }
      }
    }
  }

  function tableIndexOf(table: string): number {
    const index = header.tables.findIndex((t) => t.name === table);
    if (index < 0) {
      throw new SnapshotError('UNKNOWN_TABLE', `the snapshot has no table "${table}" (tables: ${header.tables.map((t) => t.name).join(', ') || 'none'})`, { file: files.at(0) });
    }
    return index;
  }

  async function* tableEntries(tableIndex: number): AsyncGenerator<readonly Entry[]> {
    // Entries must outlive the batch: their records are copied out of the reused read buffers.
    for await (const p of tableEvents(tableIndex)) yield unpackEntries({ bytes: p.bytes.slice(), count: p.count });
  }

  const source: Source = {
    kind: 'snapshot',
    recorded: {
      epoch: header.epoch,
      cursor: header.cursor,
      maxChunkBytes: header.maxChunkBytes,
      tables: header.tables,
    },
    async listTables() {
      return [...header.tables].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((t) => summaries.get(t.name) ?? { name: t.name });
    },
    entries(table: string) {
      return tableEntries(tableIndexOf(table));
    },
    packedEntries(table: string) {
      return tableEvents(tableIndexOf(table));
    },
    async complete() {
      // Tables not selected and the trailers after them must still verify: a digest of a
      // snapshot never vouches for bytes it did not check.
      if (pass === undefined) pass = { events: readSnapshotPacked(files), nextTable: 0 };
      await drain(pass.events);
    },
    verifiedSummary() {
      return verified;
    },
    async verifyWhole(onProgress?: (entries: bigint, table: string) => void) {
      await pass?.events.return(undefined);
      pass = undefined;
      // Counted per run of records, reported once per piece read: no object or event per entry.
      let entries = 0;
      let table = -1;
      const count = (tableIndex: number, n: number): void => {
        entries += n;
        table = tableIndex;
      };
      const events = onProgress === undefined ? {} : { entryRecords: (t: number, _r: Uint8Array, n: number) => count(t, n), entry: (t: number) => count(t, 1) };
      const progress = onProgress === undefined ? undefined : () => void (table >= 0 && onProgress(BigInt(entries), header.tables[table]!.name));
      verified = await scanSnapshot(files, events, {}, progress);
      return verified;
    },
    async sameBytesAs(other: Source) {
      const otherFiles = filesOf.get(other);
      return otherFiles === undefined ? undefined : sameSnapshotBytes(files, otherFiles);
    },
    async close() {
      await pass?.events.return(undefined);
    },
  };
  filesOf.set(source, files);
  return source;
}

/** The files of each snapshot source, for sameBytesAs. */
const filesOf = new WeakMap<Source, FileList>();

async function readFirstHeader(files: FileList): Promise<ChunkHeader> {
  // Packed: the entries of the first read come as runs of records, not an object each.
  const events = readSnapshotPacked(files);
  try {
    for await (const ev of events) if (ev.kind === 'header') return ev.header;
  } finally {
    await events.return(undefined);
  }
  throw new SnapshotError('TRUNCATED', 'the snapshot has no complete header', { file: files.at(0), offset: 0 });
}
