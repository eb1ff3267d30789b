import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SnapshotError } from '../format/errors.js';
import { parseTrustFile, trustSetFromKeyFiles, type TrustSet } from '../report/identity/trust-set.js';

/** Largest trust file or key file read. Defaults to 16 MiB. */
const MAX_TRUST_BYTES = 16 * 1024 * 1024;

/**
 * Reads `--trust PATH`: a directory of `<node-name>.pub` files (every weight 1) or a JSON trust
 * file. Only regular files are read (a FIFO named like a key never blocks the tool).
 */
export async function loadTrust(path: string): Promise<TrustSet> {
  const s = await stat(path).catch((e: NodeJS.ErrnoException) => e);
  if (s instanceof Error) {
    if (s.code === 'ENOENT' || s.code === 'ENOTDIR') throw new SnapshotError('NOT_FOUND', `trust set ${path} does not exist`, { file: path });
    throw new SnapshotError('IO_ERROR', `cannot read ${path}: ${s.message}`, { file: path, cause: s });
  }
  if (s.isDirectory()) {
    const names = (await readdir(path)).filter((n) => n.endsWith('.pub') && n.length > 4).sort();
    if (names.length === 0) throw new SnapshotError('BAD_TRUST', `no <node-name>.pub key in directory ${path}`, { file: path });
    const files = [];
    for (const fileName of names) files.push({ fileName, text: await readSmallFile(join(path, fileName), 'BAD_KEY') });
    return trustSetFromKeyFiles(files, path);
  }
  return parseTrustFile(await readSmallFile(path, 'BAD_TRUST'), path);
}

/** A small regular file as UTF-8 text (keys, trust files, certificates), bounded before reading. */
export async function readSmallFile(file: string, code: 'BAD_TRUST' | 'BAD_KEY' | 'BAD_CERTIFICATE', max = MAX_TRUST_BYTES): Promise<string> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new SnapshotError(code, `${file} is not a regular file`, { file });
    if (s.size > max) throw new SnapshotError(code, `${file} is ${s.size} bytes, more than ${max}`, { file });
    return await readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new SnapshotError('NOT_FOUND', `${file} does not exist`, { file });
    throw new SnapshotError('IO_ERROR', `cannot read ${file}: ${err.message}`, { file, cause: e });
  }
}
