/**
 * A RocksDB BackupEngine directory read in place (docs/BACKUP.md): `meta/<id>` lists a backup's
 * files, kept in `private/<id>/` (CURRENT, MANIFEST, OPTIONS, WALs, and table files when they are
 * not shared), `shared/<name>` or `shared_checksum/<number>_<…>.<type>`. Every listed file is
 * checked against its meta line (regular file, size, whole-file crc32c) before anything is read
 * as a database; then the private directory is the checkpoint, and its table files are looked up
 * by their database names among the backup's files. Nothing is copied, created or locked.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SnapshotError } from '../../format/errors.js';
import { fileKind, isSpecialFile, openRegularFile } from '../../format/regular-file.js';
import { corrupt } from '../rocksdb/codec.js';
import { ioError, readSmallFile, specialFileIsCorrupt } from '../rocksdb/file-io.js';
import { crc32cExtend } from '../rocksdb/util/crc32c.js';
import { parseBackupMeta, type BackupFileEntry, type BackupMeta } from './meta-file.js';

/** A meta file lists files, one short line each; a million files fit well under this. */
const MAX_META_BYTES = 256 << 20;
/** Backup ids are RocksDB's BackupID, a uint32; 0 is not an id. */
const BACKUP_ID = /^[1-9][0-9]{0,9}$/;
const MAX_BACKUP_ID = 0xffff_ffff;
/** Bytes read at a time while checksumming a file. */
const READ_BYTES = 1 << 20;

/** One backup as `backups` lists it. */
export interface BackupSummary {
  readonly id: number;
  /** Seconds since the Unix epoch. */
  readonly timestamp: bigint;
  /** The database's last sequence number at the backup. */
  readonly sequence: bigint;
  /** Files the meta file lists. */
  readonly files: number;
  /** Their total size in bytes, as found on disk (the sizes are checked, not the checksums). */
  readonly bytes: number;
  /** Set when the backup cannot be read: its error. */
  readonly problem?: SnapshotError;
}

/** The backup ids `meta/` holds, ascending (temporary `.<id>.tmp` files of unfinished backups are not backups). */
export async function backupIds(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(join(dir, 'meta'));
  } catch (e) {
    throw ioError(join(dir, 'meta'), e);
  }
  return names
    .filter((n) => BACKUP_ID.test(n) && Number(n) <= MAX_BACKUP_ID)
    .map(Number)
    .sort((a, b) => a - b);
}

/** Reads and parses `meta/<id>`; NOT_FOUND names the backups there are. */
export async function readBackupMeta(dir: string, id: number): Promise<BackupMeta> {
  const file = join(dir, 'meta', String(id));
  let bytes: Uint8Array;
  try {
    bytes = await readSmallFile(file, MAX_META_BYTES, (size) => corrupt(file, MAX_META_BYTES, `${file} is ${size} bytes; a meta file is a short list`));
  } catch (e) {
    if (e instanceof SnapshotError && e.code === 'NOT_FOUND') {
      const ids = await backupIds(dir);
      throw new SnapshotError('NOT_FOUND', `${dir} has no backup ${id}; its backups: ${ids.length === 0 ? 'none' : ids.join(', ')}`, { file });
    }
    throw e;
  }
  return parseBackupMeta(bytes, id, file);
}

/** Every backup of `dir`, oldest first, each with its size on disk or the reason it cannot be read. */
export async function listBackups(dir: string): Promise<BackupSummary[]> {
  const out: BackupSummary[] = [];
  for (const id of await backupIds(dir)) {
    try {
      const meta = await readBackupMeta(dir, id);
      let bytes = 0;
      for (const f of meta.files) bytes += (await checkedStat(dir, f)).size;
      out.push({ id, timestamp: meta.timestamp, sequence: meta.sequence, files: meta.files.length, bytes });
    } catch (e) {
      if (!(e instanceof SnapshotError)) throw e;
      out.push({ id, timestamp: 0n, sequence: 0n, files: 0, bytes: 0, problem: e });
    }
  }
  return out;
}

/** A backup whose files were all verified: where its checkpoint is, and where its table files are. */
export interface VerifiedBackup {
  readonly id: number;
  readonly meta: BackupMeta;
  /** `private/<id>`: CURRENT, MANIFEST, OPTIONS and WALs, read as a checkpoint directory. */
  readonly privateDir: string;
  /** A table file's path by its database name (000012.sst), wherever the backup keeps it. */
  tableFilePath(name: string): string;
}

/**
 * Picks backup `id` (default: the newest), checks that its private directory holds exactly the
 * files its meta file lists, and verifies every listed file: a regular file (special files are
 * refused from their stat, never opened), of the recorded size, whose crc32c is the recorded one.
 */
export async function openBackup(dir: string, id?: number): Promise<VerifiedBackup> {
  const ids = await backupIds(dir);
  const chosen = id ?? ids[ids.length - 1];
  if (chosen === undefined) throw new SnapshotError('NOT_FOUND', `${dir} holds no backup (meta/ has no <id> file)`, { file: join(dir, 'meta') });
  const meta = await readBackupMeta(dir, chosen);
  const privateDir = join(dir, 'private', String(chosen));
  await checkPrivateDir(dir, privateDir, chosen, meta);
  const buffer = new Uint8Array(READ_BYTES);
  for (const f of meta.files) await verifyFile(dir, f, buffer);
  const tables = new Map(meta.files.map((f) => [f.dbName, join(dir, f.path)]));
  return { id: chosen, meta, privateDir, tableFilePath: (name) => tables.get(name) ?? join(privateDir, name) };
}

/**
 * The private directory is read as a checkpoint, so it must hold nothing the meta file does not
 * list: a stray WAL or OPTIONS file there would be read without having been verified.
 */
async function checkPrivateDir(dir: string, privateDir: string, id: number, meta: BackupMeta): Promise<void> {
  let names: string[];
  try {
    names = await readdir(privateDir);
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') throw corrupt(privateDir, 0, `backup ${id} has no private directory ${privateDir}`);
    throw ioError(privateDir, e);
  }
  const listed = new Set(meta.files.filter((f) => f.path.startsWith('private/')).map((f) => f.dbName));
  for (const name of names.sort()) {
    if (!listed.has(name)) throw corrupt(join(privateDir, name), 0, `${join(privateDir, name)} is not listed in ${join(dir, 'meta', String(id))}; a backup holds only the files its meta file lists`);
  }
}

/** Stats a listed file: it must exist, be a regular file (never opened otherwise) and have the recorded size. */
async function checkedStat(dir: string, f: BackupFileEntry): Promise<{ path: string; size: number }> {
  const path = join(dir, f.path);
  let s;
  try {
    s = await stat(path);
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') throw corrupt(path, 0, `${f.path}, listed in the backup's meta file, is missing`);
    throw ioError(path, e);
  }
  if (!s.isFile()) {
    throw corrupt(path, 0, `${path} is not a regular file (it is ${isSpecialFile(s) ? fileKind(s) : 'a directory'}); refused without opening it`);
  }
  if (f.size !== undefined && s.size !== f.size) {
    throw corrupt(path, Math.min(s.size, f.size), `${f.path} is ${s.size} bytes; the backup records ${f.size}`);
  }
  return { path, size: s.size };
}

/** Checks a listed file's size and whole-file crc32c against its meta line. */
async function verifyFile(dir: string, f: BackupFileEntry, buffer: Uint8Array): Promise<void> {
  const { path } = await checkedStat(dir, f);
  let opened;
  try {
    opened = await openRegularFile(path);
  } catch (e) {
    throw specialFileIsCorrupt(e);
  }
  const { handle, size } = opened;
  let crc = 0;
  try {
    if (f.size !== undefined && size !== f.size) throw corrupt(path, Math.min(size, f.size), `${f.path} is ${size} bytes; the backup records ${f.size}`);
    // One buffer for every file: checksumming a backup allocates nothing per file.
    for (let at = 0; at < size; ) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - at), at);
      if (bytesRead === 0) throw new SnapshotError('IO_ERROR', `${path} shrank while being read`, { file: path, offset: at });
      crc = crc32cExtend(crc, buffer, 0, bytesRead);
      at += bytesRead;
    }
  } catch (e) {
    throw e instanceof SnapshotError ? e : ioError(path, e);
  } finally {
    await handle.close().catch(() => undefined);
  }
  if (f.nameCrc32c !== undefined && f.nameCrc32c !== f.crc32c) {
    throw corrupt(path, 0, `${f.path}: its name says crc32c ${f.nameCrc32c}, the meta file ${f.crc32c}`);
  }
  if (crc !== f.crc32c) throw await checksumMismatch(path, f, crc);
}

/**
 * A whole-file checksum says only that something changed. For a table file, the table reader's
 * block checksums usually say where: the error then carries that offset.
 */
async function checksumMismatch(path: string, f: BackupFileEntry, crc: number): Promise<SnapshotError> {
  const message = `${f.path} has crc32c ${crc}; the backup records ${f.crc32c}: the file changed after the backup was taken`;
  if (f.dbName.endsWith('.sst')) {
    const { TableReader } = await import('../rocksdb/table/index.js');
    try {
      const t = await TableReader.open(path, { passThroughUnsupportedTypes: true });
      try {
        for await (const cols of t.columns()) void cols;
        await t.rangeTombstones();
      } finally {
        await t.close();
      }
    } catch (e) {
      if (e instanceof SnapshotError && e.offset !== undefined) {
        return corrupt(path, e.offset, `${message} (at offset ${e.offset}: ${e.message})`);
      }
    }
  }
  return corrupt(path, 0, message);
}
