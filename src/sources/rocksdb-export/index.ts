/**
 * An exported column family (`Checkpoint::ExportColumnFamily`): a directory of SST files and the
 * metadata listing them (metadata.ts). The files are merged by level and sequence number as the
 * checkpoint reader merges a version (../rocksdb/), in place and read-only. docs/BACKUP.md.
 */
import { join } from 'node:path';
import type { PackedEntries } from '../../format/packed.js';
import { SnapshotError } from '../../format/errors.js';
import type { RocksDbSourceOptions } from '../rocksdb/index.js';
import type { Entry, Source, TableInfo } from '../source.js';
import { EXPORT_METADATA_FILE, parseExportMetadata, UNNAMED_TABLE, type ExportedFamily } from './metadata.js';

export { EXPORT_METADATA_FILE, parseExportMetadata, UNNAMED_TABLE, type ExportedFamily } from './metadata.js';

/** Metadata lists files, one short object each; far more than any export needs. */
const MAX_METADATA_BYTES = 64 << 20;

/**
 * Opens the export in `dir`: reads `metadata.json`, refuses special files in the directory, and
 * checks every listed table file (regular file, the listed size, a footer that decodes).
 * The table is the column family the metadata names; when it names none (RocksDB's own
 * ExportImportFilesMetaData leaves it empty), the first table asked for (`--tables NAME`) is it.
 */
export async function openRocksDbExport(dir: string, options: Omit<RocksDbSourceOptions, 'tableFilePath' | 'allowLive'> = {}): Promise<Source> {
  const { readSmallFile } = await import('../rocksdb/file-io.js');
  const { corrupt } = await import('../rocksdb/codec.js');
  const { checkLiveFiles, checkNoSpecialFiles } = await import('../rocksdb/structure.js');
  const file = join(dir, EXPORT_METADATA_FILE);
  await checkNoSpecialFiles(dir);
  const bytes = await readSmallFile(file, MAX_METADATA_BYTES, (size) => corrupt(file, MAX_METADATA_BYTES, `${file} is ${size} bytes`));
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw corrupt(file, 0, `${file} is not UTF-8 text`);
  }
  const family = parseExportMetadata(text, file);
  await checkLiveFiles(dir, family.version(family.name ?? UNNAMED_TABLE));
  return new ExportSource(dir, family, options);
}

/** The export as a source of one table. */
class ExportSource implements Source {
  readonly kind = 'rocksdb-export';
  private bound: { name: string; source: Source } | undefined;
  private readonly opened: Source[] = [];

  constructor(
    private readonly dir: string,
    private readonly family: ExportedFamily,
    private readonly options: Omit<RocksDbSourceOptions, 'tableFilePath' | 'allowLive'>,
  ) {}

  async listTables(): Promise<readonly TableInfo[]> {
    return (await this.source(this.family.name ?? UNNAMED_TABLE)).listTables();
  }

  entries(table: string): AsyncIterable<readonly Entry[]> {
    return this.lazy(table, (s) => s.entries(table));
  }

  packedEntries(table: string): AsyncIterable<PackedEntries> {
    return this.lazy(table, (s) => s.packedEntries!(table));
  }

  async close(): Promise<void> {
    await Promise.all(this.opened.map((s) => s.close()));
  }

  /** The source whose one family is named `name`: the metadata's name, or the first one asked for. */
  private async source(name: string): Promise<Source> {
    if (this.bound === undefined || (this.family.name === undefined && this.bound.name === UNNAMED_TABLE && name !== UNNAMED_TABLE)) {
      const { openRocksDbVersion } = await import('../rocksdb/index.js');
      const bind = this.family.name ?? name;
      const source = openRocksDbVersion(this.dir, this.family.version(bind), this.options);
      this.opened.push(source);
      this.bound = { name: bind, source };
    }
    if (name !== this.bound.name) {
      throw new SnapshotError('UNKNOWN_TABLE', `the export in ${this.dir} holds one table, ${JSON.stringify(this.bound.name)}${this.family.name === undefined ? ' (its metadata names no column family: the first name asked for is taken)' : ''}; not ${JSON.stringify(name)}`, { file: join(this.dir, EXPORT_METADATA_FILE) });
    }
    return this.bound.source;
  }

  private lazy<T>(table: string, read: (s: Source) => AsyncIterable<T>): AsyncIterable<T> {
    return {
      [Symbol.asyncIterator]: () => {
        let it: AsyncIterator<T> | undefined;
        return {
          next: async () => {
            it ??= read(await this.source(table))[Symbol.asyncIterator]();
            return it.next();
          },
          return: async () => {
            await it?.return?.();
            return { done: true, value: undefined };
          },
        };
      },
    };
  }
}
