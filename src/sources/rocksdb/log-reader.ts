/**
 * RocksDB's log format, shared by the MANIFEST and the WAL (db/log_format.h).
 *
 * The file is a sequence of 32 KiB blocks. A block holds physical records
 * `crc32c(4, masked) | length(2) | type(1) | [log number(4) if recyclable] | payload`; a logical
 * record too large for the rest of a block is split into FIRST/MIDDLE/LAST fragments. Block
 * tails shorter than a header are zero padding. The CRC covers the type byte, the log number
 * of recyclable records, and the payload.
 */
import { corrupt, crc32c, readU32, unmaskCrc, unsupported } from './codec.js';
import { crc32cExtendJs } from './util/crc32c.js';
import { ReadOnlyFile } from './file-io.js';

/** The log format's block size; records never straddle a block boundary. */
export const LOG_BLOCK_SIZE = 32768;
const HEADER_SIZE = 7;
const RECYCLABLE_HEADER_SIZE = 11;
/** Blocks read per I/O; a multiple of the block size so that blocks are never split. */
const READ_BLOCKS = 32;

const enum RecordType {
  Zero = 0,
  Full = 1,
  First = 2,
  Middle = 3,
  Last = 4,
  RecyclableFull = 5,
  RecyclableFirst = 6,
  RecyclableMiddle = 7,
  RecyclableLast = 8,
  SetCompressionType = 9,
  UserDefinedTimestampSize = 10,
  RecyclableUserDefinedTimestampSize = 11,
  PredecessorWalInfo = 130,
  RecyclablePredecessorWalInfo = 131,
}
/** Types with this bit set that we do not know may be skipped (as RocksDB does). */
const SAFE_IGNORE_MASK = 0x80;

/** One logical record and where it lies in its file. */
export interface LogRecord {
  readonly data: Uint8Array;
  /** File offset of its (first fragment's) header. */
  readonly offset: number;
  /** File offset of the record's byte `pos` (fragments are not contiguous in the file). */
  readonly locate: (pos: number) => number;
}

/** Record position → file offset for a record whose payload pieces start at `starts`. */
function locator(starts: readonly number[], lengths: readonly number[]): (pos: number) => number {
  return (pos) => {
    let p = pos;
    for (let i = 0; i < starts.length; i++) {
      if (p < lengths[i]! || i === starts.length - 1) return starts[i]! + p;
      p -= lengths[i]!;
    }
    return starts[0]! + pos;
  };
}

/** An incomplete record at the end of a log that the reader tolerated: what was dropped. */
export interface DroppedTail {
  /** File offset of the first dropped byte (the incomplete record's first header). */
  readonly offset: number;
  /** Bytes from `offset` to the end of the file. */
  readonly bytes: number;
  /** Why the tail is incomplete, in words. */
  readonly reason: string;
}

export type LogReaderOptions = Readonly<{
  /** The file's number (MANIFEST-000005 → 5); recyclable records must carry its low 32 bits. */
  logNumber: number;
  /** Largest logical record accepted, checked before fragments are joined. */
  maxRecordBytes: number;
  /**
   * What a torn tail means: the file ending inside a record (its header, its payload, or a
   * fragmented record), or zero-filled from some offset to its end, which is what a crash leaves.
   * 'error': CORRUPT_CHECKPOINT (the MANIFEST, which a checkpoint copies to an exact size; WAL
   * files before the last; any WAL with `--wal-recovery absolute`). 'tolerate': the log ends
   * before the torn record, and `onTailDropped` is told what was dropped.
   */
  tail: 'error' | 'tolerate';
  onTailDropped?: (dropped: DroppedTail) => void;
  /** With tail 'error': why a torn tail is not tolerated here, for the message. */
  tailRefused?: string;
}>;

/**
 * Yields the logical records of one log file in order. Throws CORRUPT_CHECKPOINT (with the
 * file offset) on a checksum mismatch, a length its 32 KiB block cannot hold, a fragment out of
 * sequence, an unknown record type, data after a zero-filled region (a gap), or a torn tail
 * unless `tail` is 'tolerate'; UNSUPPORTED_FEATURE for WAL compression and user-defined timestamps.
 *
 * Stricter than RocksDB's log::Reader (db/log_reader.cc), which skips a zero header's block and
 * carries on, and under kTolerateCorruptedTailRecords ends a recycled log at a checksum mismatch:
 * here a record is either verified or the reason the log ends, and only a provable torn tail
 * (one that runs into the physical end of the file) may end it early.
 */
export async function* readLogRecords(path: string, options: LogReaderOptions): AsyncGenerator<LogRecord> {
  const file = await ReadOnlyFile.open(path);
  try {
    const size = file.size;
    const logNumberLow = options.logNumber % 2 ** 32;
    let fragments: Uint8Array[] | undefined; // set while inside a FIRST..LAST sequence
    let fragmentStarts: number[] = [];
    let fragmentBytes = 0;
    let recordOffset = 0;
    let ended = false; // the log ended before the file did (a recycled log's stale records, a torn tail)
    let zeroFrom: number | undefined; // set once a zero header was met: the rest must be zero too

    /** Ends the log at a torn tail starting at `at` (or at the fragmented record it is inside). */
    const tornTail = (at: number, reason: string): void => {
      const offset = fragments !== undefined ? recordOffset : at;
      if (options.tail !== 'tolerate') throw corrupt(path, offset, `${reason}: a torn tail, refused ${options.tailRefused ?? 'here'}`);
      options.onTailDropped?.({ offset, bytes: size - offset, reason });
      fragments = undefined;
      ended = true;
    };

    for (let chunkStart = 0; chunkStart < size && !ended; chunkStart += LOG_BLOCK_SIZE * READ_BLOCKS) {
      const chunk = await file.read(chunkStart, Math.min(LOG_BLOCK_SIZE * READ_BLOCKS, size - chunkStart));
      for (let blockStart = 0; blockStart < chunk.length && !ended; blockStart += LOG_BLOCK_SIZE) {
        const blockEnd = Math.min(blockStart + LOG_BLOCK_SIZE, chunk.length);
        // Reads are whole blocks, so only the file's last block can be partial.
        const partial = blockEnd - blockStart < LOG_BLOCK_SIZE;
        const fileOffsetOf = (p: number) => chunkStart + p;
        if (zeroFrom !== undefined) {
          checkZeroTail(path, chunk, blockStart, blockEnd, zeroFrom, chunkStart);
          continue;
        }
        let pos = blockStart;
        while (pos < blockEnd) {
          const left = blockEnd - pos;
          const room = blockStart + LOG_BLOCK_SIZE - pos;
          const type = left >= HEADER_SIZE ? chunk[pos + 6]! : -1;
          const recyclable =
            (type >= RecordType.RecyclableFull && type <= RecordType.RecyclableLast) ||
            type === RecordType.RecyclableUserDefinedTimestampSize ||
            type === RecordType.RecyclablePredecessorWalInfo;
          const headerSize = recyclable ? RECYCLABLE_HEADER_SIZE : HEADER_SIZE;
          if (left < headerSize) {
            if (partial) {
              tornTail(fileOffsetOf(pos), 'the file ends inside a log record header');
              break;
            }
            // A block tail too short for a header is zero padding written by the log writer.
            if (isZero(chunk, pos, blockEnd)) break;
            throw corrupt(path, fileOffsetOf(pos), 'non-zero bytes in a block trailer too short for a log record header');
          }
          const length = chunk[pos + 4]! | (chunk[pos + 5]! << 8);
          if (type === RecordType.Zero && length === 0) {
            // Zeros where a header belongs: a crash's zero fill (or preallocated space, which
            // RocksDB no longer writes). Only a tail: data after it would be a gap in the log.
            zeroFrom = fileOffsetOf(pos);
            checkZeroTail(path, chunk, pos, blockEnd, zeroFrom, chunkStart);
            break;
          }
          if (headerSize + length > room) {
            throw corrupt(path, fileOffsetOf(pos), `log record length ${length} cannot fit in its 32 KiB block (${room - headerSize} bytes left)`);
          }
          const at = fileOffsetOf(pos);
          if (recyclable && readU32(chunk, pos + 7) !== logNumberLow) {
            // A record left over from the file's previous life as another log ends ours, but
            // only an intact one: a damaged log number must not end the log quietly.
            if (headerSize + length <= left && crcMatches(chunk, pos, headerSize, length)) {
              ended = true;
              break;
            }
            throw corrupt(path, at, `log record of log ${readU32(chunk, pos + 7)} in log ${logNumberLow} with a bad checksum`);
          }
          if (headerSize + length > left) {
            // The record runs past the end of the file. A torn write, unless its length field
            // was damaged: then a shorter prefix (its true length) carries the checksum.
            const shorter = checksummedPrefix(chunk, pos, headerSize, left - headerSize);
            if (shorter !== undefined) {
              throw corrupt(path, at, `log record length ${length} is damaged: its checksum matches ${shorter} bytes`);
            }
            tornTail(at, 'the file ends inside a log record');
            break;
          }
          if (!crcMatches(chunk, pos, headerSize, length)) {
            // The last record, its payload zero from some byte to the end of the file: a crash's
            // zero fill that began inside the record (the header and the start were written).
            const end = pos + headerSize + length;
            if (chunkStart + chunk.length === size && length > 0 && chunk[end - 1] === 0 && isZero(chunk, end, chunk.length)) {
              tornTail(at, 'the file is zero-filled from inside its last log record to its end');
              break;
            }
            throw corrupt(path, at, 'log record checksum mismatch');
          }

          const payload = chunk.subarray(pos + headerSize, pos + headerSize + length);
          pos += headerSize + length;
          switch (type) {
            case RecordType.Full:
            case RecordType.RecyclableFull:
              if (fragments !== undefined) throw corrupt(path, at, 'full log record inside a fragmented record');
              {
                const start = at + headerSize;
                yield { data: payload, offset: at, locate: (p) => start + p };
              }
              break;
            case RecordType.First:
            case RecordType.RecyclableFirst:
              if (fragments !== undefined) throw corrupt(path, at, 'first fragment inside a fragmented record');
              checkSize(path, at, payload.length, options.maxRecordBytes);
              fragments = [payload];
              fragmentStarts = [at + headerSize];
              fragmentBytes = payload.length;
              recordOffset = at;
              break;
            case RecordType.Middle:
            case RecordType.RecyclableMiddle:
            case RecordType.Last:
            case RecordType.RecyclableLast: {
              if (fragments === undefined) throw corrupt(path, at, 'log fragment without a first fragment');
              fragmentBytes += payload.length;
              checkSize(path, recordOffset, fragmentBytes, options.maxRecordBytes);
              fragments.push(payload);
              fragmentStarts.push(at + headerSize);
              if (type === RecordType.Last || type === RecordType.RecyclableLast) {
                const data = concat(fragments, fragmentBytes);
                const locate = locator(fragmentStarts, fragments.map((f) => f.length));
                fragments = undefined;
                yield { data, offset: recordOffset, locate };
              }
              break;
            }
            case RecordType.SetCompressionType:
              // The payload names the compression of all following records; 0 is "none".
              if (!isZero(payload, 0, payload.length)) {
                throw unsupported(path, 'WAL compression (wal_compression) is not supported', at);
              }
              break;
            case RecordType.UserDefinedTimestampSize:
            case RecordType.RecyclableUserDefinedTimestampSize:
              checkTimestampSizes(path, at, payload);
              break;
            default:
              if ((type & SAFE_IGNORE_MASK) === 0) {
                throw corrupt(path, at, `unknown log record type ${type}`);
              }
          }
        }
      }
    }
    // A fragmented record the log ends inside was never completely written; zeros to the end
    // of the file are a crash's zero fill.
    if (!ended && zeroFrom !== undefined) tornTail(zeroFrom, 'the file is zero-filled to its end');
    else if (!ended && fragments !== undefined) tornTail(recordOffset, 'the file ends inside a fragmented log record');
  } finally {
    await file.close();
  }
}

/** Whether the record at `pos` carries its checksum (which covers the type, log number and payload). */
function crcMatches(chunk: Uint8Array, pos: number, headerSize: number, length: number): boolean {
  return unmaskCrc(readU32(chunk, pos)) === crc32c(chunk, pos + 6, pos + headerSize + length);
}

/**
 * The first payload length in [0, available] for which the record's checksum holds, if any: a
 * record whose length field overshoots the end of the file but whose bytes are all there.
 */
function checksummedPrefix(chunk: Uint8Array, pos: number, headerSize: number, available: number): number | undefined {
  const expected = unmaskCrc(readU32(chunk, pos));
  let crc = crc32cExtendJs(0, chunk, pos + 6, pos + headerSize);
  for (let n = 0; ; n++) {
    if (crc === expected) return n;
    if (n === available) return undefined;
    crc = crc32cExtendJs(crc, chunk, pos + headerSize + n, pos + headerSize + n + 1);
  }
}

/** After a zero header, everything up to the end of the file must be zero: data would be a gap. */
function checkZeroTail(path: string, chunk: Uint8Array, from: number, to: number, zeroFrom: number, chunkStart: number): void {
  for (let i = from; i < to; i++) {
    if (chunk[i] !== 0) {
      throw corrupt(path, zeroFrom, `zero-filled log region followed by data at offset ${chunkStart + i}: a gap in the log`);
    }
  }
}

function isZero(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i] !== 0) return false;
  return true;
}

function checkSize(path: string, offset: number, bytes: number, max: number): void {
  if (bytes > max) throw corrupt(path, offset, `log record larger than ${max} bytes`);
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The record lists (column family id u32, timestamp size u16) pairs; any non-zero size is UDT. */
function checkTimestampSizes(path: string, at: number, payload: Uint8Array): void {
  if (payload.length % 6 !== 0) throw corrupt(path, at, 'malformed timestamp size record');
  for (let i = 0; i < payload.length; i += 6) {
    if ((payload[i + 4]! | (payload[i + 5]! << 8)) !== 0) {
      throw unsupported(path, 'user-defined timestamps are not supported', at);
    }
  }
}
