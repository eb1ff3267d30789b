import { readSnapshot, type SnapshotEvent } from '../../format/reader.js';
import { SnapshotError } from '../../format/errors.js';
import type { ChunkHeader } from '../../format/header.js';
import type { Entry, Source, TableInfo } from '../source.js';

/**
 * A snapshot file (or its chunk files, in order) as a source: verified while it is read, so a
 * corrupt snapshot fails with its code and offset. Tables read in catalog order share one pass;
 * a table asked out of order costs a fresh pass from the start.
 */
export async function openSnapshotFiles(files: readonly string[]): Promise<Source> {
  const header = await readFirstHeader(files);
  const summaries = new Map<string, TableInfo>();
  let pass: { events: AsyncGenerator<SnapshotEvent>; nextTable: number } | undefined;

  async function* tableEntries(tableIndex: number): AsyncGenerator<readonly Entry[]> {
    if (pass === undefined || pass.nextTable > tableIndex) {
      await pass?.events.return(undefined);
      pass = { events: readSnapshot(files), nextTable: 0 };
    }
    const current = pass;
    for (;;) {
      const r = await current.events.next();
      if (r.done === true) throw new SnapshotError('TRUNCATED', 'the snapshot ended before the table did', { file: files[files.length - 1] });
      const ev = r.value;
      if (ev.kind === 'entries' && ev.tableIndex === tableIndex) yield ev.entries;
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

  return {
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
      const index = header.tables.findIndex((t) => t.name === table);
      if (index < 0) {
        throw new SnapshotError('UNKNOWN_TABLE', `the snapshot has no table "${table}" (tables: ${header.tables.map((t) => t.name).join(', ') || 'none'})`, { file: files[0] });
      }
      return tableEntries(index);
    },
    async complete() {
      // Tables not selected and the trailers after them must still verify: a digest of a
      // snapshot never vouches for bytes it did not check.
      if (pass === undefined) pass = { events: readSnapshot(files), nextTable: 0 };
      await drain(pass.events);
    },
    async close() {
      await pass?.events.return(undefined);
    },
  };
}

async function readFirstHeader(files: readonly string[]): Promise<ChunkHeader> {
  const events = readSnapshot(files);
  try {
    for await (const ev of events) if (ev.kind === 'header') return ev.header;
  } finally {
    await events.return(undefined);
  }
  throw new SnapshotError('TRUNCATED', 'the snapshot has no complete header', { file: files[0], offset: 0 });
}

async function drain(events: AsyncGenerator<SnapshotEvent>): Promise<void> {
  for (;;) if ((await events.next()).done === true) return;
}
