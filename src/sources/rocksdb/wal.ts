/**
 * Replays the write-ahead log files a checkpoint holds into per-column-family memtables.
 *
 * Each WAL record is a WriteBatch (db/write_batch.cc): `sequence u64 | count u32 | records`,
 * each record a type byte, a varint32 column family id for the `ColumnFamily*` variants, and
 * length-prefixed key (and value). Every put, deletion, single deletion, range deletion and
 * merge takes the next sequence number, whether or not its column family is replayed.
 *
 * Stricter than RocksDB's default recovery (kPointInTimeRecovery), which silently stops
 * replaying at the first damaged record: a checksum mismatch or a malformed batch here is
 * CORRUPT_CHECKPOINT, because a digest over a silently shortened WAL would be wrong. Only a
 * torn tail of the newest WAL (a write that was never acknowledged) may end it early, and
 * never silently (WalRecoveryMode).
 *
 * Memory: a memtable is held in memory, sorted. This is what RocksDB itself does on recovery,
 * and it is bounded in practice by write_buffer_size × max_write_buffer_number: data older than
 * that has been flushed to table files. Keys and values are views into the record buffers.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { compareBytes } from '../../format/bytes.js';
import { corrupt, SliceReader, unsupported } from './codec.js';
import { statRegularFile } from '../../format/regular-file.js';
import { ioError, specialFileIsCorrupt } from './file-io.js';
import { readLogRecords, type DroppedTail, type LogRecord } from './log-reader.js';
import type { ManifestVersion } from './manifest.js';
import type { SourceWarning } from '../source.js';
import { ValueType } from './table/value-type.js';

/** Value types as stored in internal keys: the same enum the table reader uses (db/dbformat.h). */
export { ValueType };

const BatchTag = {
  Deletion: 0x0,
  Value: 0x1,
  Merge: 0x2,
  LogData: 0x3,
  ColumnFamilyDeletion: 0x4,
  ColumnFamilyValue: 0x5,
  ColumnFamilyMerge: 0x6,
  SingleDeletion: 0x7,
  ColumnFamilySingleDeletion: 0x8,
  BeginPrepareXID: 0x9,
  EndPrepareXID: 0xa,
  CommitXID: 0xb,
  RollbackXID: 0xc,
  Noop: 0xd,
  ColumnFamilyRangeDeletion: 0xe,
  RangeDeletion: 0xf,
  ColumnFamilyBlobIndex: 0x10,
  BlobIndex: 0x11,
  BeginPersistedPrepareXID: 0x12,
  BeginUnprepareXID: 0x13,
  CommitXIDAndTimestamp: 0x15,
  WideColumnEntity: 0x16,
  ColumnFamilyWideColumnEntity: 0x17,
  ValuePreferredSeqno: 0x18,
  ColumnFamilyValuePreferredSeqno: 0x19,
} as const;

/** A WriteBatch record larger than this is refused before its fragments are joined. */
const MAX_WAL_RECORD_BYTES = 256 * 1024 * 1024;
const WAL_FILE = /^(\d{1,20})\.log$/;
const BATCH_HEADER_BYTES = 12;

/** One point entry with its sequence number and value type. */
export interface MemEntry {
  readonly userKey: Uint8Array;
  readonly sequence: number;
  readonly type: number;
  readonly value: Uint8Array;
}

/** A range deletion `[start, end)` written at `sequence`. */
export interface MemRangeTombstone {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
  readonly sequence: number;
}

/** What the WAL holds for one column family that its table files do not. */
export interface MemTable {
  /** Sorted by user key ascending, then sequence descending (internal-key order). */
  readonly entries: MemEntry[];
  readonly rangeTombstones: MemRangeTombstone[];
}

/** A WAL file of the checkpoint. */
export interface WalFile {
  readonly number: number;
  readonly path: string;
}

/** The WAL files in `dir`, ascending by number. A `*.log` name held by a FIFO, socket or device is refused. */
export async function listWalFiles(dir: string): Promise<WalFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw ioError(dir, e);
  }
  const files: WalFile[] = [];
  for (const name of names) {
    const m = WAL_FILE.exec(name);
    if (m === null) continue;
    const path = join(dir, name);
    let s;
    try {
      s = await statRegularFile(path);
    } catch (e) {
      throw specialFileIsCorrupt(e);
    }
    // Listed but not there: a dangling symbolic link is damage in the checkpoint, as a missing table file is.
    if (s === undefined) throw corrupt(path, 0, `WAL file ${name} is listed in the directory but cannot be opened (a dangling symbolic link?)`);
    files.push({ number: Number(m[1]), path });
  }
  return files.sort((a, b) => a.number - b.number);
}

/**
 * How a torn WAL tail is treated, after RocksDB's WALRecoveryMode. 'tolerate-tail' (the default,
 * kTolerateCorruptedTailRecords made strict): damage anywhere is CORRUPT_CHECKPOINT, but the last
 * WAL may end with a record a crash left incomplete or zero-filled, which is dropped and
 * reported. 'absolute' (kAbsoluteConsistency): a torn tail is CORRUPT_CHECKPOINT too.
 */
export type WalRecoveryMode = 'tolerate-tail' | 'absolute';
export const WAL_RECOVERY_MODES: readonly WalRecoveryMode[] = ['tolerate-tail', 'absolute'];

/** A torn tail dropped from a WAL file. */
export interface WalTailDropped extends DroppedTail {
  readonly file: string;
}

/** Options of {@link replayWal}. */
export interface WalReplayOptions {
  readonly recovery: WalRecoveryMode;
  /** The number of the checkpoint's newest WAL file: the only one whose tail may be torn. */
  readonly lastWalNumber: number;
  /** Told of every tail dropped (with 'tolerate-tail'). */
  readonly onTailDropped?: (dropped: WalTailDropped) => void;
  /** Told of every sequence gap between two WAL files (with 'tolerate-tail'; 'absolute' refuses one). */
  readonly onSequenceGap?: (gap: WalSequenceGap) => void;
}

/** Sequence numbers no WAL file holds, between the end of one WAL file and the start of the next. */
export interface WalSequenceGap {
  /** The WAL file after the gap, and the offset of its first record. */
  readonly file: string;
  readonly offset: number;
  readonly previousFile: string;
  /** The sequence the next file should have started at, and the one it starts at. */
  readonly expected: bigint;
  readonly found: bigint;
}

/** The report's warning for a dropped tail. */
export function tailWarning(d: WalTailDropped): SourceWarning {
  return {
    code: 'WAL_TAIL_DROPPED',
    file: d.file,
    offset: d.offset,
    bytes: d.bytes,
    message: `${d.reason}: ${d.bytes} bytes from offset ${d.offset} dropped, as RocksDB's recovery would (--wal-recovery absolute refuses this)`,
  };
}

/** What a sequence gap means, for its warning and its refusal. */
function gapText(g: WalSequenceGap): string {
  return `this WAL starts at sequence ${g.found}, but ${g.previousFile} ends before sequence ${g.expected}: ${g.found - g.expected} sequence number(s) have no WAL record, either a WAL file between them is missing from the checkpoint (its writes are not in this digest) or they were written without the WAL (disableWAL, ingested files)`;
}

/** The report's warning for a sequence gap. */
export function gapWarning(g: WalSequenceGap): SourceWarning {
  return { code: 'WAL_SEQUENCE_GAP', file: g.file, offset: g.offset, bytes: 0, message: `${gapText(g)}; --wal-recovery absolute refuses this` };
}

/**
 * The WAL files recovery reads: from the oldest log number of any live family on (and the
 * legacy "previous log"); older files were fully flushed. Every family's files are read (and so
 * checked), whichever families are asked for.
 */
export function walsToReplay(version: ManifestVersion, wals: readonly WalFile[]): WalFile[] {
  const min = Math.min(...version.columnFamilies.map((cf) => cf.logNumber));
  const prev = version.prevLogNumber;
  return wals.filter((w) => w.number >= min || (prev !== 0 && w.number === prev));
}

/**
 * Replays `wals` (ascending) for the column families in `logNumbers` (id → the family's log
 * number from the MANIFEST; records in WAL files numbered below it were already flushed).
 * Records for other families are skipped, like RocksDB skips families dropped since.
 */
export async function replayWal(
  wals: readonly WalFile[],
  logNumbers: ReadonlyMap<number, number>,
  options: WalReplayOptions,
): Promise<Map<number, MemTable>> {
  const tables = new Map<number, MemTable>();
  for (const id of logNumbers.keys()) tables.set(id, { entries: [], rangeTombstones: [] });
  // WAL files hold consecutive sequence numbers: the first batch of each follows the last batch
  // of the file before. A gap means a WAL file is missing (deleted from the checkpoint), whose
  // writes would be lost silently, or writes made without the WAL (disableWAL, ingested files),
  // which RocksDB's recovery accepts: so a gap is reported (refused with 'absolute'), never
  // silent; a file starting before the previous one ended cannot come from RocksDB and is refused.
  let previous: { file: string; next: bigint } | undefined;
  for (const wal of wals) {
    const tolerate = options.recovery === 'tolerate-tail' && wal.number === options.lastWalNumber;
    let first = true;
    for await (const record of readLogRecords(wal.path, {
      logNumber: wal.number,
      maxRecordBytes: MAX_WAL_RECORD_BYTES,
      tail: tolerate ? 'tolerate' : 'error',
      tailRefused: options.recovery === 'absolute' ? 'with --wal-recovery absolute' : 'in a WAL older than the newest (only the newest was being written at a crash)',
      onTailDropped: (d) => options.onTailDropped?.({ ...d, file: wal.path }),
    })) {
      const r = new SliceReader(record.data, wal.path, record.locate);
      const header = batchHeader(r);
      if (first && previous !== undefined && header.sequence !== previous.next) {
        sequenceGap({ file: wal.path, offset: record.offset, previousFile: previous.file, expected: previous.next, found: header.sequence }, record, options);
      }
      first = false;
      previous = { file: wal.path, next: header.sequence + BigInt(header.count) };
      decodeWriteBatch(r, header, wal.number, logNumbers, tables);
    }
  }
  for (const t of tables.values()) {
    t.entries.sort((a, b) => compareBytes(a.userKey, b.userKey) || b.sequence - a.sequence);
  }
  return tables;
}

/** A gap is reported, or refused ('absolute', or nobody to report it to); an overlap is always refused. */
function sequenceGap(gap: WalSequenceGap, record: LogRecord, options: WalReplayOptions): void {
  if (gap.found > gap.expected && options.recovery !== 'absolute' && options.onSequenceGap !== undefined) {
    options.onSequenceGap(gap);
    return;
  }
  throw new SliceReader(record.data, gap.file, record.locate).error(
    gap.found < gap.expected
      ? `this WAL starts at sequence ${gap.found}, before ${gap.previousFile} ends (sequence ${gap.expected}): WAL files that overlap`
      : `${gapText(gap)} (refused ${options.recovery === 'absolute' ? 'with --wal-recovery absolute' : 'here: this reader reports no gaps'})`,
  );
}

/** A WriteBatch's header: its first sequence number and how many it uses. */
function batchHeader(r: SliceReader): { sequence: bigint; count: number } {
  if (r.remaining < BATCH_HEADER_BYTES) throw r.error('WriteBatch shorter than its header');
  return { sequence: r.u64('WriteBatch sequence'), count: r.u32('WriteBatch count') };
}

/** The batch's records after its header (`r` just past it). */
function decodeWriteBatch(
  r: SliceReader,
  header: { sequence: bigint; count: number },
  walNumber: number,
  logNumbers: ReadonlyMap<number, number>,
  tables: Map<number, MemTable>,
): void {
  const { sequence: seq64, count } = header;
  if (seq64 + BigInt(count) > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw unsupported(r.file, `sequence number ${seq64} is above 2^53-1, which this reader does not handle`, r.offsetOf(0));
  }
  let sequence = Number(seq64);
  let found = 0;
  while (!r.atEnd) {
    const recordAt = r.pos;
    const tag = r.u8('WriteBatch record type');
    let cf = 0;
    switch (tag) {
      case BatchTag.ColumnFamilyValue:
      case BatchTag.ColumnFamilyDeletion:
      case BatchTag.ColumnFamilySingleDeletion:
      case BatchTag.ColumnFamilyRangeDeletion:
      case BatchTag.ColumnFamilyMerge:
      case BatchTag.ColumnFamilyBlobIndex:
      case BatchTag.ColumnFamilyWideColumnEntity:
      case BatchTag.ColumnFamilyValuePreferredSeqno:
        cf = r.varint32('column family id');
        break;
      case BatchTag.LogData:
        // Application blobs carried in the WAL only; they take no sequence number.
        r.lengthPrefixed('log data');
        continue;
      case BatchTag.Noop:
      case BatchTag.BeginPrepareXID:
      case BatchTag.EndPrepareXID:
      case BatchTag.CommitXID:
      case BatchTag.RollbackXID:
      case BatchTag.BeginPersistedPrepareXID:
      case BatchTag.BeginUnprepareXID:
      case BatchTag.CommitXIDAndTimestamp:
        throw unsupported(r.file, 'two-phase-commit transaction markers in the WAL are not supported', r.offsetOf(recordAt));
    }
    let type: number;
    let hasValue = true;
    switch (tag) {
      case BatchTag.Value:
      case BatchTag.ColumnFamilyValue:
        type = ValueType.Value;
        break;
      case BatchTag.Deletion:
      case BatchTag.ColumnFamilyDeletion:
        type = ValueType.Deletion;
        hasValue = false;
        break;
      case BatchTag.SingleDeletion:
      case BatchTag.ColumnFamilySingleDeletion:
        type = ValueType.SingleDeletion;
        hasValue = false;
        break;
      case BatchTag.RangeDeletion:
      case BatchTag.ColumnFamilyRangeDeletion:
        type = ValueType.RangeDeletion;
        break;
      case BatchTag.Merge:
      case BatchTag.ColumnFamilyMerge:
        type = ValueType.Merge;
        break;
      case BatchTag.BlobIndex:
      case BatchTag.ColumnFamilyBlobIndex:
        type = ValueType.BlobIndex;
        break;
      case BatchTag.WideColumnEntity:
      case BatchTag.ColumnFamilyWideColumnEntity:
        type = ValueType.WideColumnEntity;
        break;
      case BatchTag.ValuePreferredSeqno:
      case BatchTag.ColumnFamilyValuePreferredSeqno:
        type = ValueType.ValuePreferredSeqno;
        break;
      default:
        r.pos = recordAt;
        throw r.error(`unknown WriteBatch record type ${tag}`);
    }
    const key = r.lengthPrefixed('key');
    const value = hasValue ? r.lengthPrefixed('value') : EMPTY;
    found++;
    const seq = sequence++;
    const logNumber = logNumbers.get(cf);
    // Families not live in the MANIFEST were dropped; files below the family's log number
    // were flushed into its table files already.
    if (logNumber === undefined || walNumber < logNumber) continue;
    // Merge operands, blob references and wide-column entities go to the memtable as stored:
    // as for table files (passThroughUnsupportedTypes, see range-merger.ts), the merge refuses them with UNSUPPORTED_FEATURE only
    // when one is the visible version of its key.
    const table = tables.get(cf)!;
    if (type === ValueType.RangeDeletion) {
      table.rangeTombstones.push({ start: key, end: value, sequence: seq });
    } else if (type === ValueType.ValuePreferredSeqno) {
      // TimedPut: the value is packed with an 8-byte write time (PackValueAndWriteTime);
      // readers see the value without it, exactly as a Value.
      if (value.length < 8) {
        r.pos = recordAt;
        throw r.error('TimedPut value shorter than its 8-byte write time');
      }
      table.entries.push({ userKey: key, sequence: seq, type: ValueType.Value, value: value.subarray(0, value.length - 8) });
    } else {
      table.entries.push({ userKey: key, sequence: seq, type, value });
    }
  }
  if (found !== count) {
    throw new SliceReader(r.buf, r.file, r.offsetOf(0)).error(`WriteBatch says ${count} records but holds ${found}`);
  }
}

const EMPTY = new Uint8Array(0);

