/**
 * The meta file parser alone (src/sources/rocksdb-backup/meta-file.ts), on the two schemas as
 * RocksDB's BackupEngine writes them (lines as in the backups the fixture tool makes) and on the
 * damage and future fields it must refuse, each at its byte offset.
 */
import { describe, expect, it } from 'vitest';
import { SnapshotError } from '../../../src/format/errors.js';
import { parseBackupMeta } from '../../../src/sources/rocksdb-backup/meta-file.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function errorOf(text: string, id = 3): SnapshotError {
  try {
    parseBackupMeta(enc(text), id, 'meta/3');
  } catch (e) {
    if (e instanceof SnapshotError) return e;
    throw e;
  }
  throw new Error('expected a SnapshotError');
}

describe('backup meta file', () => {
  it('schema 1: timestamp, sequence, application metadata, files with crc32; shared_checksum names give the database name and size', () => {
    const m = parseBackupMeta(
      enc('1796153442\n2310\nmetadata 6869\n4\nshared_checksum/000013_s9D4DPKH2PDA3ZE4JOZ5K_980.sst crc32 3983132657\nshared_checksum/000008_1852079126_980.sst crc32 1852079126\nshared/000009.sst crc32 1\nprivate/3/CURRENT crc32 993937570\n'),
      3,
      'meta/3',
    );
    expect(m).toMatchObject({ schemaVersion: 1, timestamp: 1796153442n, sequence: 2310n, appMetadata: enc('hi') });
    expect(m.files.map((f) => [f.path, f.dbName, f.crc32c, f.size])).toEqual([
      ['shared_checksum/000013_s9D4DPKH2PDA3ZE4JOZ5K_980.sst', '000013.sst', 3983132657, 980],
      ['shared_checksum/000008_1852079126_980.sst', '000008.sst', 1852079126, 980],
      ['shared/000009.sst', '000009.sst', 1, undefined],
      ['private/3/CURRENT', 'CURRENT', 993937570, undefined],
    ]);
  });

  it('schema 2: size and temperature fields, ignorable unknown fields and a footer are read; ni::excluded false is a file like any other', () => {
    const m = parseBackupMeta(enc('schema_version 2.1\n5\n6\nsome_field x\n2\nprivate/3/CURRENT crc32 7 size 16 temp kWarm future y\nshared/000004.sst crc32 8 ni::excluded false\n// FOOTER\nchecksum 12\n'), 3, 'meta/3');
    expect(m.schemaVersion).toBe(2);
    expect(m.files.map((f) => [f.path, f.size])).toEqual([['private/3/CURRENT', 16], ['shared/000004.sst', undefined]]);
  });

  it('refuses damage as CORRUPT_CHECKPOINT at the offset of the line', () => {
    const cases: [string, number][] = [
      ['1\n2\n3\nprivate/3/CURRENT crc32 1\n', 32], // announces 3, lists 1: at the end
      ['1\n2\n1\nprivate/3/CURRENT crc32 x\n', 30], // the checksum field
      ['1\n2\n1\nprivate/3/CURRENT crc32 4294967296\n', 30],
      ['1\n2\n1\n../etc/passwd crc32 1\n', 6], // not in private/<id>/, shared/ or shared_checksum/
      ['1\n2\n1\nprivate/4/CURRENT crc32 1\n', 6], // another backup's private file
      ['1\n2\n1\nshared_checksum/000008.sst crc32 1\n', 6], // not a checksum name
      ['1\n2\n1\nshared_checksum/000008_1_5.sst crc32 2\n', -1], // name and meta disagree on the checksum: caught when verified
      ['1\n2\n2\nshared/000008.sst crc32 1\nshared/000008.sst crc32 1\n', 32], // listed twice
      ['1\n2\n2\nshared/000008.sst crc32 1\nprivate/3/000008.sst crc32 1\n', 32], // one database file twice
      ['1\n2\nfield x\n0\n', 4], // schema 1 allows only metadata
      ['1\n\n0\n', 2], // empty line
      ['schema_version 2\n1\n2\n1\nshared_checksum/000001_s5_12.sst crc32 1 size 13\n', 23], // size disagrees with the name
    ];
    for (const [text, offset] of cases) {
      if (offset < 0) {
        expect(parseBackupMeta(enc(text), 3, 'meta/3').files[0]!.nameCrc32c).toBe(1);
        continue;
      }
      const e = errorOf(text);
      expect([text, e.code, e.offset]).toEqual([text, 'CORRUPT_CHECKPOINT', offset]);
    }
  });

  it('refuses what it does not read as UNSUPPORTED_FEATURE naming it: another schema, ni:: fields, excluded files, files without a checksum', () => {
    const cases: [string, string][] = [
      ['schema_version 3\n1\n2\n0\n', '"3"'],
      ['schema_version 2\n1\n2\nni::future x\n0\n', 'ni::future'],
      ['schema_version 2\n1\n2\n1\nshared/000001.sst crc32 1 ni::new y\n', 'ni::new'],
      ['schema_version 2\n1\n2\n1\nshared/000001.sst crc32 1 ni::excluded true\n', 'excluded'],
      ['schema_version 2\n1\n2\n1\nshared/000001.sst size 5\n', 'no crc32'],
      ['schema_version 2\n1\n2\n0\n// FOOTER\nni::sig z\n', 'ni::sig'],
    ];
    for (const [text, named] of cases) {
      const e = errorOf(text);
      expect(e.code).toBe('UNSUPPORTED_FEATURE');
      expect(e.message).toContain(named);
    }
  });
});
