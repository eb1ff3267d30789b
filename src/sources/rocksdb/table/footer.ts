/**
 * The table footer (table/format.cc Footer::DecodeFrom): the last 53 bytes of a block-based
 * table with format_version >= 1. Part 1 is the checksum type; part 2 holds the metaindex and
 * index handles (format_version <= 5) or, from format_version 6, an extended magic, a footer
 * checksum, the base context checksum and the metaindex size; part 3 is format_version + magic.
 */
import { type BlockHandle, BLOCK_TRAILER_SIZE, decodeBlockHandle } from './block-handle.js';
import { ChecksumType, computeChecksum, contextModifier } from './checksum.js';
import { corrupt, unsupported } from './errors.js';
import { readFixed32 } from '../util/varint.js';

/** Footer size for format_version >= 1 (1 + 2 * 20 + 4 + 8). */
export const FOOTER_SIZE = 53;
/** Footer size of legacy (format_version 0) tables: 2 * 20 + 8. */
export const LEGACY_FOOTER_SIZE = 48;

/** kBlockBasedTableMagicNumber: the last 8 bytes of a block-based table (format_version >= 1). */
export const MAGIC_BLOCK_BASED = 0x88e241b785f4cff7n;
const MAGIC_LEGACY_BLOCK_BASED = 0xdb4775248b80fb57n;
const MAGIC_PLAIN = 0x8242229663bf9564n;
const MAGIC_LEGACY_PLAIN = 0x4f3418eb7a8f13b8n;
const MAGIC_CUCKOO = 0x926789d0c5f17873n;

/** Lowest and highest block-based format_version we read. */
export const MIN_FORMAT_VERSION = 2;
export const MAX_FORMAT_VERSION = 7;

export interface Footer {
  readonly formatVersion: number;
  readonly checksumType: ChecksumType;
  /** 0 below format_version 6. */
  readonly baseContextChecksum: number;
  readonly metaindex: BlockHandle;
  /** Undefined from format_version 6: the index handle is in the metaindex ("rocksdb.index"). */
  readonly index: BlockHandle | undefined;
}

function magicAt(buf: Uint8Array, pos: number): bigint {
  return (BigInt(readFixed32(buf, pos + 4)) << 32n) | BigInt(readFixed32(buf, pos));
}

/**
 * Decodes the footer from `tail`, the last min(FOOTER_SIZE, fileSize) bytes of the file that
 * starts at file offset `tailOffset`. Checksums must be loaded (loadChecksums).
 */
export function decodeFooter(file: string, tail: Uint8Array, tailOffset: number): Footer {
  if (tail.length < LEGACY_FOOTER_SIZE) {
    throw corrupt(file, tailOffset, `file too short for a table footer (${tail.length} bytes)`);
  }
  const magicPos = tail.length - 8;
  const magic = magicAt(tail, magicPos);
  const magicOffset = tailOffset + magicPos;
  if (magic === MAGIC_PLAIN || magic === MAGIC_LEGACY_PLAIN) {
    throw unsupported(file, magicOffset, 'plain table SST files are not supported (only block-based tables)');
  }
  if (magic === MAGIC_CUCKOO) {
    throw unsupported(file, magicOffset, 'cuckoo table SST files are not supported (only block-based tables)');
  }
  if (magic === MAGIC_LEGACY_BLOCK_BASED) {
    throw unsupported(file, magicOffset, 'legacy block-based table (format_version 0/1, RocksDB < 4.6) is not supported');
  }
  if (magic !== MAGIC_BLOCK_BASED) {
    throw corrupt(file, magicOffset, `bad table magic number 0x${magic.toString(16)}`);
  }
  if (tail.length < FOOTER_SIZE) throw corrupt(file, tailOffset, 'file too short for a table footer');
  const p = tail.length - FOOTER_SIZE; // footer start within tail
  const footerOffset = tailOffset + p;
  const formatVersion = readFixed32(tail, magicPos - 4);
  if (formatVersion < MIN_FORMAT_VERSION || formatVersion > MAX_FORMAT_VERSION) {
    const msg = `block-based table format_version ${formatVersion} is not supported (${MIN_FORMAT_VERSION}..${MAX_FORMAT_VERSION})`;
    // Versions just above the supported range are real RocksDB features; wild values are corruption.
    throw formatVersion < 16 ? unsupported(file, magicOffset - 4, msg) : corrupt(file, magicOffset - 4, msg);
  }
  const checksumType = tail[p]!;
  if (checksumType > ChecksumType.XXH3) {
    throw corrupt(file, footerOffset, `unknown checksum type ${checksumType}`);
  }
  if (formatVersion >= 6) {
    const x = p + 1;
    if (tail[x] !== 0x3e || tail[x + 1] !== 0x00 || tail[x + 2] !== 0x7a || tail[x + 3] !== 0x00) {
      throw corrupt(file, footerOffset + 1, 'bad extended magic in format_version 6 footer');
    }
    const stored = readFixed32(tail, x + 4);
    const base = readFixed32(tail, x + 8);
    const metaindexSize = readFixed32(tail, x + 12);
    if (contextModifier(base, 0) === 0) throw corrupt(file, footerOffset + 9, 'invalid base context checksum');
    // As RocksDB: with kNoChecksum the computed checksum is 0, so the field holds the modifier.
    const copy = tail.slice(p, p + FOOTER_SIZE);
    copy.fill(0, 5, 9); // the checksum field counts as zeros
    const computed = (computeChecksum(checksumType, copy, 0, FOOTER_SIZE) + contextModifier(base, footerOffset)) >>> 0;
    if (computed !== stored) throw corrupt(file, footerOffset, 'footer checksum mismatch');
    // Part 2 is 40 bytes from x: 4 magic, 4 checksum, 4 base, 4 size, 16 unchecked, 8 must-be-zero.
    for (let i = x + 32; i < x + 40; i++) {
      if (tail[i] !== 0) throw unsupported(file, tailOffset + i, 'format_version 6 footer uses a future feature (reserved bytes set)');
    }
    const metaindexEnd = footerOffset - BLOCK_TRAILER_SIZE;
    if (metaindexSize > metaindexEnd) throw corrupt(file, footerOffset + 13, 'metaindex size larger than the file');
    return {
      formatVersion,
      checksumType: checksumType as ChecksumType,
      baseContextChecksum: base,
      metaindex: { offset: metaindexEnd - metaindexSize, size: metaindexSize },
      index: undefined,
    };
  }
  const pos = { pos: 0 };
  const metaindex = decodeBlockHandle(tail, p + 1, magicPos - 4, pos);
  const index = metaindex && decodeBlockHandle(tail, pos.pos, magicPos - 4, pos);
  if (metaindex === undefined || index === undefined) throw corrupt(file, footerOffset + 1, 'bad block handle in footer');
  return { formatVersion, checksumType: checksumType as ChecksumType, baseContextChecksum: 0, metaindex, index };
}

