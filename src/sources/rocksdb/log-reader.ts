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

export type LogReaderOptions = Readonly<{
  /** The file's number (MANIFEST-000005 → 5); recyclable records must carry its low 32 bits. */
  logNumber: number;
  /** Largest logical record accepted, checked before fragments are joined. */
  maxRecordBytes: number;
  /**
   * Whether a record cut off by the end of the file ends the log quietly. True for WAL files:
   * a writer that died mid-record never acknowledged that write, and RocksDB's recovery ignores
   * it too. False for the MANIFEST, which a checkpoint copies to an exact, complete size.
   */
  tolerateTruncatedTail: boolean;
}>;

/**
 * Yields the logical records of one log file in order. Throws CORRUPT_CHECKPOINT (with the
 * file offset) on a checksum mismatch, an impossible length, a fragment out of sequence or an
 * unknown record type; UNSUPPORTED_FEATURE for WAL compression and user-defined timestamps.
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
    let ended = false; // a recycled record from an earlier incarnation marks the true end

    for (let chunkStart = 0; chunkStart < size && !ended; chunkStart += LOG_BLOCK_SIZE * READ_BLOCKS) {
      const chunk = await file.read(chunkStart, Math.min(LOG_BLOCK_SIZE * READ_BLOCKS, size - chunkStart));
      for (let blockStart = 0; blockStart < chunk.length && !ended; blockStart += LOG_BLOCK_SIZE) {
        const blockEnd = Math.min(blockStart + LOG_BLOCK_SIZE, chunk.length);
        const lastBlock = chunkStart + blockEnd === size;
        const fileOffsetOf = (p: number) => chunkStart + p;
        let pos = blockStart;
        while (pos < blockEnd) {
          const left = blockEnd - pos;
          const type = left >= HEADER_SIZE ? chunk[pos + 6]! : -1;
          const recyclable =
            (type >= RecordType.RecyclableFull && type <= RecordType.RecyclableLast) ||
            type === RecordType.RecyclableUserDefinedTimestampSize ||
            type === RecordType.RecyclablePredecessorWalInfo;
          const headerSize = recyclable ? RECYCLABLE_HEADER_SIZE : HEADER_SIZE;
          if (left < headerSize) {
            // A block tail too short for a header is zero padding written by the log writer.
            if (isZero(chunk, pos, blockEnd)) break;
            if (lastBlock && blockEnd - blockStart < LOG_BLOCK_SIZE && options.tolerateTruncatedTail) {
              ended = true;
              break;
            }
            throw corrupt(path, fileOffsetOf(pos), 'truncated log record header');
          }
          const length = chunk[pos + 4]! | (chunk[pos + 5]! << 8);
          if (type === RecordType.Zero && length === 0) {
            // Preallocated, never-written space: RocksDB skips the rest of the block.
            break;
          }
          if (headerSize + length > left) {
            if (lastBlock && blockEnd - blockStart < LOG_BLOCK_SIZE && options.tolerateTruncatedTail) {
              ended = true;
              break;
            }
            throw corrupt(
              path,
              fileOffsetOf(pos),
              `log record length ${length} overruns its block (${left - headerSize} bytes left)`,
            );
          }
          if (recyclable && readU32(chunk, pos + 7) !== logNumberLow) {
            // A record left over from the file's previous life as another log: the end of ours.
            ended = true;
            break;
          }
          const expected = unmaskCrc(readU32(chunk, pos));
          const actual = crc32c(chunk, pos + 6, pos + headerSize + length);
          if (expected !== actual) throw corrupt(path, fileOffsetOf(pos), 'log record checksum mismatch');

          const payload = chunk.subarray(pos + headerSize, pos + headerSize + length);
          const at = fileOffsetOf(pos);
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
    // A fragmented record the log ends inside was never completely written.
    if (fragments !== undefined && !options.tolerateTruncatedTail) {
      throw corrupt(path, recordOffset, 'log ends inside a fragmented record');
    }
  } finally {
    await file.close();
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
