/**
 * The properties meta block (table/meta_blocks.cc ParsePropertiesBlock): sorted name → value
 * pairs; RocksDB's predefined numeric properties are varint64, the rest raw strings, and
 * user-collected properties are kept raw (the block-based index type is a fixed32 among them).
 */
import type { MetaEntry } from './block.js';
import { checksumTypeName } from './checksum.js';
import { corrupt } from './errors.js';
import { readFixed32, readFixed64, readVarint64, type VarintResult } from '../util/varint.js';

/** What a table's properties block says, plus the footer's format facts. */
export interface TableProperties {
  /** Point entries plus range deletions (RocksDB's num_entries). */
  readonly numEntries: number;
  readonly numDeletions?: number;
  readonly numMergeOperands?: number;
  readonly numRangeDeletions?: number;
  readonly numDataBlocks?: number;
  readonly dataSize?: number;
  readonly indexSize?: number;
  readonly indexPartitions?: number;
  readonly rawKeySize?: number;
  readonly rawValueSize?: number;
  readonly comparator?: string;
  /** "nullptr" when the column family had no merge operator. */
  readonly mergeOperator?: string;
  readonly columnFamilyId?: number;
  readonly columnFamilyName?: string;
  /** The compression name RocksDB recorded ("Snappy", "LZ4", "ZSTD", "NoCompression", ...). */
  readonly compression?: string;
  readonly compressionOptions?: string;
  readonly prefixExtractorName?: string;
  readonly filterPolicy?: string;
  /** Block-based table format_version, from the footer. */
  readonly formatVersion: number;
  /** ChecksumType from the footer (0 none, 1 crc32c, 2 xxHash, 3 xxHash64, 4 XXH3). */
  readonly checksumType: number;
  /** RocksDB's name of `checksumType`, e.g. "kXXH3". */
  readonly checksumName: string;
  /** rocksdb.block.based.table.index.type: 0 binary, 1 hash, 2 two-level, 3 binary with first key. */
  readonly indexType?: number;
  readonly indexKeyIsUserKey: boolean;
  readonly indexValueIsDeltaEncoded: boolean;
  /** Bytes of user-defined timestamp per key: 8 for a ".u64ts" comparator, else 0. */
  readonly userDefinedTimestampSize?: number;
  readonly userDefinedTimestampsPersisted?: number;
  /** rocksdb.external_sst_file.version: set for files made by SstFileWriter (ingested). */
  readonly externalSstFileVersion?: number;
  /** rocksdb.external_sst_file.global_seqno as stored (0 = "take it from the MANIFEST"). */
  readonly externalSstFileGlobalSeqno?: number;
  readonly separateKeyValueInDataBlock?: number;
  readonly originalFileNumber?: number;
  readonly dbId?: string;
  readonly dbSessionId?: string;
  readonly creationTime?: number;
  readonly fileCreationTime?: number;
  /** Every property as stored, by name. */
  readonly raw: ReadonlyMap<string, Uint8Array>;
}

const NUMERIC: Record<string, string> = {
  'rocksdb.num.entries': 'numEntries',
  'rocksdb.deleted.keys': 'numDeletions',
  'rocksdb.merge.operands': 'numMergeOperands',
  'rocksdb.num.range-deletions': 'numRangeDeletions',
  'rocksdb.num.data.blocks': 'numDataBlocks',
  'rocksdb.data.size': 'dataSize',
  'rocksdb.index.size': 'indexSize',
  'rocksdb.index.partitions': 'indexPartitions',
  'rocksdb.raw.key.size': 'rawKeySize',
  'rocksdb.raw.value.size': 'rawValueSize',
  'rocksdb.column.family.id': 'columnFamilyId',
  'rocksdb.index.key.is.user.key': 'indexKeyIsUserKey',
  'rocksdb.index.value.is.delta.encoded': 'indexValueIsDeltaEncoded',
  'rocksdb.user.defined.timestamps.persisted': 'userDefinedTimestampsPersisted',
  'rocksdb.separate.key.value.in.data.block': 'separateKeyValueInDataBlock',
  'rocksdb.original.file.number': 'originalFileNumber',
  'rocksdb.creation.time': 'creationTime',
  'rocksdb.file.creation.time': 'fileCreationTime',
};
const STRINGS: Record<string, string> = {
  'rocksdb.comparator': 'comparator',
  'rocksdb.merge.operator': 'mergeOperator',
  'rocksdb.column.family.name': 'columnFamilyName',
  'rocksdb.compression': 'compression',
  'rocksdb.compression_options': 'compressionOptions',
  'rocksdb.prefix.extractor.name': 'prefixExtractorName',
  'rocksdb.filter.policy': 'filterPolicy',
  'rocksdb.creating.db.identity': 'dbId',
  'rocksdb.creating.session.identity': 'dbSessionId',
};

const vr: VarintResult = { value: 0, pos: 0 };
const utf8 = new TextDecoder('utf-8');

/** Builds TableProperties from the entries of the properties block at `blockOffset`. */
export function parseProperties(
  file: string,
  blockOffset: number,
  entries: readonly MetaEntry[],
  formatVersion: number,
  checksumType: number,
): TableProperties {
  const out: Record<string, unknown> = {};
  const raw = new Map<string, Uint8Array>();
  for (const { key, value } of entries) {
    const name = utf8.decode(key);
    raw.set(name, value);
    const num = NUMERIC[name];
    if (num !== undefined) {
      readVarint64(value, 0, value.length, vr);
      // RocksDB skips malformed values too (it logs them); a missing num_entries is caught below.
      if (vr.pos >= 0) out[num] = vr.value;
      continue;
    }
    const str = STRINGS[name];
    if (str !== undefined) out[str] = utf8.decode(value);
  }
  const indexType = raw.get('rocksdb.block.based.table.index.type');
  if (indexType !== undefined && indexType.length >= 4) out['indexType'] = readFixed32(indexType, 0);
  const extVersion = raw.get('rocksdb.external_sst_file.version');
  if (extVersion !== undefined && extVersion.length >= 4) out['externalSstFileVersion'] = readFixed32(extVersion, 0);
  const extSeq = raw.get('rocksdb.external_sst_file.global_seqno');
  if (extSeq !== undefined && extSeq.length >= 8) {
    const v = readFixed64(extSeq, 0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(file, blockOffset, 'external file global seqno out of range');
    out['externalSstFileGlobalSeqno'] = Number(v);
  }
  if (typeof out['numEntries'] !== 'number') throw corrupt(file, blockOffset, 'properties block lacks rocksdb.num.entries');
  const comparator = out['comparator'];
  if (typeof comparator === 'string') out['userDefinedTimestampSize'] = comparator.endsWith('.u64ts') ? 8 : 0;
  return {
    ...(out as object),
    numEntries: out['numEntries'] as number,
    formatVersion,
    checksumType,
    checksumName: checksumTypeName(checksumType),
    indexKeyIsUserKey: out['indexKeyIsUserKey'] !== undefined && out['indexKeyIsUserKey'] !== 0,
    indexValueIsDeltaEncoded: out['indexValueIsDeltaEncoded'] !== undefined && out['indexValueIsDeltaEncoded'] !== 0,
    raw,
  } as TableProperties;
}
