/**
 * The OPTIONS file of a restored database (options/options_parser.cc format): RocksDB does not
 * need it to open the database, but tools that load the latest options (ldb
 * --try_load_options, LoadLatestOptions) find the column families and the table format there.
 * Only options that differ from RocksDB's defaults or describe the written files are listed.
 */
import { DEFAULT_COLUMN_FAMILY } from './column-families.js';

/** EscapeOptionString (util/string_util.cc): backslash before \\ # : and CR/LF as \r \n. */
export function escapeOptionString(s: string): string {
  return s.replace(/[\\#:\r\n]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\${c}`));
}

/** The text of OPTIONS-<n> for the families `names` ("default" is added first if absent). */
export function renderOptionsFile(names: readonly string[], compression: 'none' | 'zlib'): string {
  const families = [DEFAULT_COLUMN_FAMILY, ...names.filter((n) => n !== DEFAULT_COLUMN_FAMILY)];
  const lines = [
    '# RocksDB options file written by snapshot-verify restore.',
    '',
    '[Version]',
    '  rocksdb_version=7.8.3',
    '  options_file_version=1.1',
    '',
    '[DBOptions]',
    '  create_if_missing=false',
    '  create_missing_column_families=false',
    '',
  ];
  for (const name of families) {
    const quoted = escapeOptionString(name);
    lines.push(
      `[CFOptions "${quoted}"]`,
      '  comparator=leveldb.BytewiseComparator',
      '  merge_operator=nullptr',
      '  num_levels=7',
      `  compression=${compression === 'zlib' ? 'kZlibCompression' : 'kNoCompression'}`,
      '',
      `[TableOptions/BlockBasedTable "${quoted}"]`,
      '  format_version=5',
      '  checksum=kCRC32c',
      '  index_type=kBinarySearch',
      '  block_size=4096',
      '  block_restart_interval=16',
      '',
    );
  }
  return lines.join('\n');
}
