/**
 * Encodes the properties meta block (table/meta_blocks.cc PropertyBlockBuilder): name → value
 * pairs sorted by name, numbers as varint64, names as raw strings, the block-based index type
 * as a fixed32, the ingestion properties of SstFileWriter files as fixed32/fixed64.
 * properties.ts parses what this writes (the tests read every written table back).
 */
import { BlockBuilder } from './block-builder.js';
import { compareBytes } from '../../../../format/bytes.js';
import { encode } from './byte-writer.js';

const utf8 = new TextEncoder();

/** TablePropertiesCollectorFactory::Context::kUnknownColumnFamily (SstFileWriter without a family). */
export const UNKNOWN_COLUMN_FAMILY = 0x7fffffff;
/** ExternalSstFilePropertyNames::kVersion value of files with a global seqno field. */
export const EXTERNAL_SST_FILE_VERSION = 2;
/** The comparator every snapshot table is ordered by. */
export const BYTEWISE_COMPARATOR = 'leveldb.BytewiseComparator';

/** Property values: a number is a varint64, a string raw UTF-8, bytes as they are. */
export type PropertyValue = number | string | Uint8Array;

/** Numbers and strings a table builder knows when it finishes. */
export interface TablePropertyValues {
  readonly numEntries: number;
  readonly numDataBlocks: number;
  readonly dataSize: number;
  readonly indexSize: number;
  readonly rawKeySize: number;
  readonly rawValueSize: number;
  readonly columnFamilyId: number;
  readonly columnFamilyName: string;
  readonly compressionName: string;
  readonly dbId: string;
  readonly dbSessionId: string;
  readonly originalFileNumber: number;
  /** Adds rocksdb.external_sst_file.version 2 and global_seqno 0, as SstFileWriter does. */
  readonly external: boolean;
}

/**
 * Every property we write. Times are 0 ("unknown" to RocksDB) so that a restore's bytes depend
 * only on the snapshot; the filter, merge and prefix fields say "none".
 */
export function tableProperties(p: TablePropertyValues): Map<string, PropertyValue> {
  const m = new Map<string, PropertyValue>([
    ['rocksdb.block.based.table.index.type', encode((w) => w.fixed32(0))], // kBinarySearch
    ['rocksdb.block.based.table.prefix.filtering', '0'],
    ['rocksdb.block.based.table.whole.key.filtering', '1'],
    ['rocksdb.column.family.id', p.columnFamilyId],
    ['rocksdb.column.family.name', p.columnFamilyName],
    ['rocksdb.comparator', BYTEWISE_COMPARATOR],
    ['rocksdb.compression', p.compressionName],
    ['rocksdb.compression_options', 'window_bits=-14; level=32767; strategy=0; max_dict_bytes=0; zstd_max_train_bytes=0; enabled=0; max_dict_buffer_bytes=0; use_zstd_dict_trainer=1; '],
    ['rocksdb.creating.db.identity', p.dbId],
    ['rocksdb.creating.session.identity', p.dbSessionId],
    ['rocksdb.creation.time', 0],
    ['rocksdb.data.size', p.dataSize],
    ['rocksdb.deleted.keys', 0],
    ['rocksdb.file.creation.time', 0],
    ['rocksdb.filter.size', 0],
    ['rocksdb.fixed.key.length', 0],
    ['rocksdb.format.version', 0],
    ['rocksdb.index.key.is.user.key', 0],
    ['rocksdb.index.size', p.indexSize],
    ['rocksdb.index.value.is.delta.encoded', 0],
    ['rocksdb.merge.operands', 0],
    ['rocksdb.merge.operator', 'nullptr'],
    ['rocksdb.num.data.blocks', p.numDataBlocks],
    ['rocksdb.num.entries', p.numEntries],
    ['rocksdb.num.filter_entries', 0],
    ['rocksdb.num.range-deletions', 0],
    ['rocksdb.oldest.key.time', 0],
    ['rocksdb.original.file.number', p.originalFileNumber],
    ['rocksdb.prefix.extractor.name', 'nullptr'],
    ['rocksdb.property.collectors', '[]'],
    ['rocksdb.raw.key.size', p.rawKeySize],
    ['rocksdb.raw.value.size', p.rawValueSize],
  ]);
  if (p.external) {
    m.set('rocksdb.external_sst_file.version', encode((w) => w.fixed32(EXTERNAL_SST_FILE_VERSION)));
    m.set('rocksdb.external_sst_file.global_seqno', encode((w) => w.fixed64(0n)));
  }
  return m;
}

/** The properties block contents: entries sorted bytewise by name, restart interval 1 as RocksDB. */
export function encodePropertiesBlock(props: ReadonlyMap<string, PropertyValue>): Uint8Array {
  const entries = [...props].map(([name, v]) => {
    const value = typeof v === 'number' ? encode((w) => w.varint(v)) : typeof v === 'string' ? utf8.encode(v) : v;
    return { key: utf8.encode(name), value };
  });
  return encodeMetaBlock(entries);
}

/** A meta block (properties, metaindex): sorted keys, every entry a restart point. */
export function encodeMetaBlock(entries: readonly { key: Uint8Array; value: Uint8Array }[]): Uint8Array {
  const sorted = [...entries].sort((a, b) => compareBytes(a.key, b.key));
  const b = new BlockBuilder(1);
  for (const e of sorted) b.add(e.key, e.value);
  return b.finish().slice();
}
