/**
 * restore: a verified snapshot → RocksDB files. Streams the snapshot once: entries go into
 * table builders (one SST file at a time, cut at `maxSstBytes`) inside a temporary directory
 * while the reader verifies everything; only when the whole snapshot has verified (the reader's
 * `end` event) and the `beforeCommit` hook accepts its summary are the MANIFEST, CURRENT,
 * OPTIONS and IDENTITY written and the directory renamed into place. docs/RESTORE.md.
 */
import { crypto } from '../format/crypto.js';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { DecoderOptions } from '../format/decoder.js';
import type { SnapshotSummary } from '../format/encoder.js';
import { ENTRY_PREFIX_BYTES } from '../format/constants.js';
import { writeEntryPrefix } from '../format/packed.js';
import { SnapshotError } from '../format/errors.js';
import type { SnapshotAnchor } from '../format/header.js';
import { scanSnapshot, type SnapshotInput } from '../format/reader.js';
import { LogWriter } from '../sources/rocksdb/log-writer.js';
import { UNKNOWN_COLUMN_FAMILY, BYTEWISE_COMPARATOR } from '../sources/rocksdb/table/builder/properties-builder.js';
import { TableBuilder, type FinishedTable, type WriterCompression } from '../sources/rocksdb/table/builder/table-builder.js';
import { encodeVersionEdit, type NewFile } from '../sources/rocksdb/version-edit-encoder.js';
import { planColumnFamilies, type FamilyPlan } from './column-families.js';
import { renderOptionsFile } from './options-file.js';
import { checkTarget, commitDir, discardDir, fdatasync, fsync, ioError, makeTempDir, removeStaleTempDirs, writeAllSync, writeNewFile } from './output-dir.js';

/** RocksDB's default target_file_size_base: SST files are cut after this many bytes. */
export const DEFAULT_MAX_SST_BYTES = 64 * 1024 * 1024;
/** The level restored files go to: the last of RocksDB's default 7, where compaction leaves data. */
export const RESTORE_LEVEL = 6;
/** Bytes written to a table file between background fdatasyncs, so that its final sync has little left. */
const SYNC_EVERY_BYTES = 32 * 1024 * 1024;
/** Complete table files whose fsync may be outstanding while the next ones are built. */
const MAX_CLOSING = 2;
const MANIFEST_NUMBER = 1;
const OPTIONS_NUMBER = 2;
const FIRST_TABLE_FILE_NUMBER = 3;

export type RestoreOptions = Readonly<{
  /** The directory to create; it must not exist or be empty. */
  to: string;
  /** Write only SST files for IngestExternalFile instead of a database. Defaults to false. */
  sstOnly?: boolean;
  /** Names of the tables to restore. Defaults to every table of the snapshot. */
  tables?: readonly string[];
  /** Data block compression. Defaults to 'none'. */
  compression?: WriterCompression;
  /** SST files are cut once they reach this size. Defaults to 64 MiB. */
  maxSstBytes?: number;
  /**
   * Called with the verified snapshot's summary before anything is made visible; throwing
   * aborts the restore (e.g. a digest that a certificate does not certify). Defaults to none.
   */
  beforeCommit?: (summary: SnapshotSummary) => void | Promise<void>;
  /** Limits for reading the snapshot. Defaults to the reader's. */
  decoder?: DecoderOptions;
}>;

/** One file the restore wrote, relative to the output directory. */
export interface RestoredFile {
  readonly name: string;
  readonly bytes: number;
  /** For SST files: the table and how many entries the file holds. */
  readonly tableId?: number;
  readonly entries?: number;
}

/** One restored table. */
export interface RestoredTable {
  readonly id: number;
  readonly name: string;
  /** The column family id in the restored database (database mode). */
  readonly columnFamilyId?: number;
  readonly entries: number;
  /** Key and value bytes restored. */
  readonly keyValueBytes: number;
  /** Its SST files, in key order. */
  readonly files: readonly string[];
}

/** What a restore wrote. */
export interface RestoreReport {
  readonly mode: 'database' | 'sst';
  readonly dir: string;
  /** The verified snapshot. */
  readonly snapshot: { readonly digest: bigint; readonly entries: bigint; readonly anchor: SnapshotAnchor };
  readonly tables: readonly RestoredTable[];
  readonly files: readonly RestoredFile[];
  /** Bytes of all files written. */
  readonly bytes: number;
}

/** An SST file being built; its descriptor opens when its first output is written. */
interface TableFile {
  readonly name: string;
  readonly number: number;
  readonly builder: TableBuilder;
  readonly table: TableState;
  fd: number | undefined;
  written: number;
  /** Bytes written when the last background fdatasync started, and that sync. */
  syncedAt: number;
  syncing: Promise<void> | undefined;
  finished: FinishedTable | undefined;
  /** The final fsync and close, once the file is complete. */
  closing: Promise<void> | undefined;
}

interface TableState {
  readonly plan: FamilyPlan;
  readonly files: { name: string; number: number; table: FinishedTable }[];
}

/**
 * Restores `input` (a snapshot file, its chunk files in order, or a byte stream) into
 * `options.to`. Throws SnapshotError: the reader's codes for a bad snapshot, UNKNOWN_TABLE,
 * BAD_TABLE_NAME, OUTPUT_EXISTS, IO_ERROR; the target is untouched on any failure.
 */
export async function restoreSnapshot(input: SnapshotInput, options: RestoreOptions): Promise<RestoreReport> {
  const to = options.to;
  const sstOnly = options.sstOnly ?? false;
  const maxSst = options.maxSstBytes ?? DEFAULT_MAX_SST_BYTES;
  if (!(maxSst > 0)) throw new SnapshotError('INVALID_ARGUMENT', 'maxSstBytes must be positive');
  await checkTarget(to);
  await removeStaleTempDirs(to);
  const tmp = await makeTempDir(to);
  // RocksDB identities: unique per restore, as RocksDB makes them per database and session.
  const dbId = crypto().randomUUID();
  const dbSessionId = sessionId();
  let nextNumber = FIRST_TABLE_FILE_NUMBER;
  let tables: Map<number, TableState> | undefined;
  // Entries arrive in synchronous decoder callbacks; files are opened, written and closed
  // between input pieces (`flush`), in order. `pending` holds the files with output to write.
  const pending: TableFile[] = [];
  let current: TableFile | undefined;
  let currentIndex = -1;
  let currentTable: TableState | undefined;

  const startFile = (t: TableState): TableFile => {
    const number = nextNumber++;
    const part = t.files.length + pending.filter((f) => f.table === t).length + 1;
    const name = sstOnly ? `table-${t.plan.tableId}-${String(part).padStart(6, '0')}.sst` : `${String(number).padStart(6, '0')}.sst`;
    const builder = new TableBuilder({
      columnFamilyId: sstOnly ? UNKNOWN_COLUMN_FAMILY : t.plan.columnFamilyId,
      columnFamilyName: t.plan.name,
      fileNumber: number,
      dbId,
      dbSessionId,
      external: sstOnly,
      compression: options.compression ?? 'none',
      targetFileSize: maxSst,
    });
    const f: TableFile = { name, number, builder, table: t, fd: undefined, written: 0, syncedAt: 0, syncing: undefined, finished: undefined, closing: undefined };
    pending.push(f);
    return f;
  };
  const endFile = (): void => {
    if (current === undefined) return;
    current.finished = current.builder.finish();
    current = undefined;
  };
  // Writes are synchronous: on cached pages a write(2) costs microseconds, where an async one
  // costs a thread-pool round trip (several times the CPU, measured). Only the syncs, which wait
  // for the disk, run in the background: a complete file is fsynced and closed while the next is
  // built, and all are awaited before anything is made visible.
  const closing: TableFile[] = [];
  const flush = (): Promise<void> | undefined => {
    while (pending.length > 0) {
      const f = pending[0]!;
      const path = join(tmp, f.name);
      try {
        f.fd ??= openSync(path, 'wx');
        for (const bytes of f.builder.takeOutput()) {
          writeAllSync(f.fd, bytes, f.written);
          f.written += bytes.length;
        }
      } catch (e) {
        throw ioError(e, path, 'write');
      }
      if (f.finished === undefined) {
        // Write-back in the background, so that the final sync has little left.
        if (f.written - f.syncedAt >= SYNC_EVERY_BYTES && f.syncing === undefined) {
          f.syncedAt = f.written;
          f.syncing = fdatasync(f.fd).then(
            () => void (f.syncing = undefined),
            (e: unknown) => Promise.reject(ioError(e, path, 'sync')),
          );
          f.syncing.catch(() => undefined); // handled where it is awaited
        }
        return undefined; // still being built: the next piece adds to it
      }
      f.closing = closeFile(f, path);
      f.closing.catch(() => undefined); // handled where it is awaited
      closing.push(f);
      f.table.files.push({ name: f.name, number: f.number, table: f.finished });
      pending.shift();
    }
    return closing.length > MAX_CLOSING ? closed(MAX_CLOSING) : undefined;
  };
  /** Waits until at most `n` complete files wait for the disk. */
  const closed = async (n: number): Promise<void> => {
    while (closing.length > n) {
      await closing[0]!.closing;
      closing.shift();
    }
  };

  // Entries come mostly as runs of ENTRY records the decoder checked in bulk (`entryRecords`,
  // a view into the input piece): the table builder takes the records as they are, prefix
  // included, so no JavaScript runs and nothing is allocated per entry. The few entries outside
  // such runs (a record spanning two pieces, a chunk's first) come one by one (`entry`).
  const addRun = (t: TableState, src: Uint8Array, start: number, end: number, count: number): void => {
    let p = start;
    let added = 0;
    while (p < end) {
      // Files start lazily, so a cut at a table's end leaves no empty file.
      const f = current ?? (current = startFile(t));
      const before = f.builder.entries;
      p = f.builder.addRecords(src, p, end);
      added += f.builder.entries - before;
      if (f.builder.full) endFile();
    }
    // A run is exactly the records the decoder verified, or restore has a bug: never write it.
    if (added !== count || p !== end) throw new Error(`restore: a run of ${count} records was built as ${added}`);
  };
  const tableAt = (tableIndex: number): TableState | undefined => {
    if (tableIndex !== currentIndex) {
      currentIndex = tableIndex;
      currentTable = tables!.get(tableIndex);
    }
    return currentTable;
  };

  try {
    const summary = await scanSnapshot(
      input,
      {
        header: (h) => {
          tables ??= selectTables(h.tables, options.tables);
        },
        entryRecords: (tableIndex, records, count) => {
          const t = tableAt(tableIndex);
          if (t !== undefined) addRun(t, records, 0, records.length, count);
        },
        entry: (tableIndex, key, value) => {
          const t = tableAt(tableIndex);
          if (t !== undefined) addRun(t, entryRecord(key, value), 0, ENTRY_PREFIX_BYTES + key.length + value.length, 1);
        },
        tableEnd: endFile,
      },
      options.decoder,
      () => (pending.length > 0 || closing.length > MAX_CLOSING ? flush() : undefined),
    );
    endFile();
    await flush();
    if (tables === undefined) throw new SnapshotError('TRUNCATED', 'the snapshot ended early');
    await options.beforeCommit?.(summary);
    const states = [...tables.values()];
    const files: RestoredFile[] = [];
    for (const t of states) {
      for (const f of t.files) files.push({ name: f.name, bytes: f.table.fileSize, tableId: t.plan.tableId, entries: f.table.entries });
    }
    // The last SST syncs and the MANIFEST, OPTIONS and IDENTITY (their fsyncs waiting for the disk
    // together, not one after the other) all complete before CURRENT, written last: only then is
    // the hidden directory a database.
    const dbFiles = sstOnly ? [] : databaseFiles(states, nextNumber, dbId, options.compression ?? 'none');
    const current = dbFiles.pop();
    await settled([closed(0), ...dbFiles.map(([name, bytes]) => writeNewFile(join(tmp, name), bytes))]);
    if (current !== undefined) await writeNewFile(join(tmp, current[0]), current[1]);
    for (const [name, bytes] of current === undefined ? dbFiles : [...dbFiles, current]) files.push({ name, bytes: bytes.length });
    await commitDir(tmp, to);
    return {
      mode: sstOnly ? 'sst' : 'database',
      dir: to,
      snapshot: { digest: summary.digest, entries: summary.entries, anchor: summary.anchor },
      tables: states.map((t) => ({
        id: t.plan.tableId,
        name: t.plan.name,
        ...(sstOnly ? {} : { columnFamilyId: t.plan.columnFamilyId }),
        entries: t.files.reduce((n, f) => n + f.table.entries, 0),
        keyValueBytes: t.files.reduce((n, f) => n + f.table.keyValueBytes, 0),
        files: t.files.map((f) => f.name),
      })),
      files,
      bytes: files.reduce((s, f) => s + f.bytes, 0),
    };
  } catch (e) {
    // No descriptor is closed while a sync on it runs (its number could be reused meanwhile).
    for (const f of [...closing, ...pending]) {
      await f.closing?.catch(() => undefined);
      await f.syncing?.catch(() => undefined);
      if (f.fd !== undefined) closeSync(f.fd);
      f.fd = undefined;
    }
    await discardDir(tmp);
    throw e;
  }
}

/** Waits for all of `work` to finish (none left running), then throws the first failure in order. */
async function settled(work: readonly Promise<unknown>[]): Promise<void> {
  for (const r of await Promise.allSettled(work)) if (r.status === 'rejected') throw r.reason;
}

/** Syncs a complete file (after its background sync) and closes it. */
async function closeFile(f: TableFile, path: string): Promise<void> {
  await f.syncing;
  try {
    await fsync(f.fd!);
  } catch (e) {
    throw ioError(e, path, 'sync');
  }
  closeSync(f.fd!);
  f.fd = undefined;
}

/** The ENTRY record of one entry, for one whose bytes do not lie as a record in its buffer. */
function entryRecord(key: Uint8Array, value: Uint8Array): Uint8Array {
  const r = new Uint8Array(ENTRY_PREFIX_BYTES + key.length + value.length);
  const k = writeEntryPrefix(r, 0, key.length, value.length);
  r.set(key, k);
  r.set(value, k + key.length);
  return r;
}

/** The catalog entries to restore, by catalog index; UNKNOWN_TABLE for a name not in it. */
function selectTables(catalog: readonly { id: number; name: string }[], names: readonly string[] | undefined): Map<number, TableState> {
  const chosen = names === undefined ? catalog.map((_, i) => i) : names.map((n) => {
    const i = catalog.findIndex((t) => t.name === n);
    if (i < 0) throw new SnapshotError('UNKNOWN_TABLE', `the snapshot has no table ${JSON.stringify(n)} (it has ${catalog.map((t) => JSON.stringify(t.name)).join(', ')})`);
    return i;
  });
  const sorted = [...new Set(chosen)].sort((a, b) => a - b);
  const plans = planColumnFamilies(sorted.map((i) => ({ index: i, id: catalog[i]!.id, name: catalog[i]!.name })));
  return new Map(plans.map((p) => [p.tableIndex, { plan: p, files: [] }]));
}

/**
 * MANIFEST-000001 (as VersionSet::WriteCurrentStateToManifest: per family an edit adding it
 * with its comparator, then one with its files on the last level; finally the log number, next
 * file number, max column family and last sequence 0), CURRENT, OPTIONS-000002, IDENTITY.
 */
function databaseFiles(states: readonly TableState[], nextFileNumber: number, dbId: string, compression: WriterCompression): [string, Uint8Array][] {
  const log = new LogWriter();
  // The default family comes first; RocksDB never writes an "add" for it.
  log.add(encodeVersionEdit({ comparator: BYTEWISE_COMPARATOR }));
  const defaultState = states.find((t) => t.plan.columnFamilyId === 0);
  if (defaultState !== undefined) log.add(encodeVersionEdit({ logNumber: 0, newFiles: newFiles(defaultState) }));
  for (const t of states) {
    if (t.plan.columnFamilyId === 0) continue;
    log.add(encodeVersionEdit({ columnFamily: t.plan.columnFamilyId, columnFamilyAdd: t.plan.name, comparator: BYTEWISE_COMPARATOR }));
    log.add(encodeVersionEdit({ columnFamily: t.plan.columnFamilyId, logNumber: 0, newFiles: newFiles(t) }));
  }
  const maxColumnFamily = Math.max(0, ...states.map((t) => t.plan.columnFamilyId));
  log.add(encodeVersionEdit({ logNumber: 0, prevLogNumber: 0, nextFileNumber, maxColumnFamily, lastSequence: 0n }));
  const text = new TextEncoder();
  const manifest = `MANIFEST-${String(MANIFEST_NUMBER).padStart(6, '0')}`;
  return [
    [manifest, log.bytes()],
    [`OPTIONS-${String(OPTIONS_NUMBER).padStart(6, '0')}`, text.encode(renderOptionsFile(states.map((t) => t.plan.name), compression))],
    ['IDENTITY', text.encode(dbId)],
    ['CURRENT', text.encode(`${manifest}\n`)], // last: the directory is a database from here on
  ];
}

function newFiles(t: TableState): NewFile[] {
  return t.files.map((f) => ({
    level: RESTORE_LEVEL,
    number: f.number,
    fileSize: f.table.fileSize,
    smallest: f.table.smallest,
    largest: f.table.largest,
    smallestSeqno: 0n,
    largestSeqno: 0n,
  }));
}

/** A db_session_id as RocksDB makes them: 20 base-36 digits (upper case). */
function sessionId(): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return [...crypto().randomBytes(20)].map((b) => alphabet[b % 36]).join('');
}
