import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { compareBytes } from '../../format/bytes.js';
import { SnapshotError } from '../../format/errors.js';
import { openRegularFile, statRegularFile } from '../../format/regular-file.js';
import type { Entry, Source, TableInfo } from '../source.js';
import { parseHexLine } from './hex-line.js';

/** A dump directory holds one `<table>.hex` file per table in `ldb scan --hex` format. */
export const DUMP_SUFFIX = '.hex';

/** Longest line accepted: a 64 KiB key and 64 MiB value in hex, plus separators. */
const MAX_LINE_CHARS = 2 * (64 * 1024 + 64 * 1024 * 1024) + 16;
const BATCH = 4096;

/** True when `dir` holds at least one `*.hex` file. */
export async function isDumpDirectory(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).some((f) => f.endsWith(DUMP_SUFFIX));
  } catch {
    return false;
  }
}

/**
 * The portable source: any store can produce it, and it is the fallback when a native reader
 * cannot open a database. Lines must be in strictly ascending key order (as `ldb scan` prints
 * them); the source checks this rather than sorting, so memory stays constant.
 */
export async function openDumpDirectory(dir: string): Promise<Source> {
  const names = (await readdir(dir)).filter((f) => f.endsWith(DUMP_SUFFIX)).sort();
  const tables = new Map(names.map((f) => [f.slice(0, -DUMP_SUFFIX.length), join(dir, f)]));
  // A FIFO or device named like a table is refused now, before anything is read.
  for (const path of tables.values()) await statRegularFile(path);
  return {
    kind: 'dump',
    async listTables(): Promise<readonly TableInfo[]> {
      const out: TableInfo[] = [];
      for (const [name, path] of tables) out.push({ name, estimatedEntries: await estimateLines(path) });
      return out;
    },
    entries(table: string): AsyncIterable<readonly Entry[]> {
      const path = tables.get(table);
      if (path === undefined) {
        throw new SnapshotError('UNKNOWN_TABLE', `no ${table}${DUMP_SUFFIX} in ${dir} (tables: ${[...tables.keys()].join(', ') || 'none'})`, { file: dir });
      }
      return readDumpFile(path);
    },
    async close() {},
  };
}

async function estimateLines(path: string): Promise<number | undefined> {
  // Cheap: size divided by the length of the first line; good enough to choose tables.
  const { handle, size } = await openRegularFile(path);
  let head: string;
  try {
    if (size === 0) return 0;
    const buf = new Uint8Array(Math.min(size, 65536));
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    head = Buffer.from(buf.subarray(0, bytesRead)).toString('latin1');
  } finally {
    await handle.close();
  }
  const firstLine = head.indexOf('\n');
  return firstLine <= 0 ? 1 : Math.round(size / (firstLine + 1));
}

async function* readDumpFile(path: string): AsyncGenerator<readonly Entry[]> {
  let batch: Entry[] = [];
  let previous: Uint8Array | undefined;
  let offset = 0; // byte offset of the current line's start
  let rest = '';
  const { handle } = await openRegularFile(path); // never blocks on a FIFO
  const stream = handle.createReadStream({ encoding: 'latin1', highWaterMark: 1 << 20 });
  const takeLine = (line: string): void => {
    const entry = parseHexLine(line, path, offset);
    offset += line.length + 1;
    if (entry === undefined) return;
    if (previous !== undefined && compareBytes(previous, entry.key) >= 0) {
      throw new SnapshotError('UNSORTED_KEYS', 'keys are not strictly ascending (dump lines must be in ldb scan order)', { file: path, offset: offset - line.length - 1 });
    }
    previous = entry.key;
    batch.push(entry);
  };
  try {
    for await (const piece of stream) {
      const text = rest + (piece as string);
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        takeLine(text.slice(start, nl));
        start = nl + 1;
      }
      rest = text.slice(start);
      if (rest.length > MAX_LINE_CHARS) throw new SnapshotError('LIMIT_EXCEEDED', `a line longer than ${MAX_LINE_CHARS} characters`, { file: path, offset });
      if (batch.length >= BATCH) {
        yield batch;
        batch = [];
      }
    }
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    throw new SnapshotError('IO_ERROR', `cannot read ${path}: ${(e as Error).message}`, { file: path, cause: e });
  }
  if (rest.length > 0) takeLine(rest);
  if (batch.length > 0) yield batch;
}
