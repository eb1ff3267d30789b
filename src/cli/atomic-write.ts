import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { SnapshotError } from '../format/errors.js';
import { checkDestination, fileSink } from '../format/sinks.js';
import { outputPath } from './parse.js';

/** Writes a small text file atomically (temporary file, fsync, rename), as `--out` does. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const sink = fileSink(path);
  try {
    await sink.write(new TextEncoder().encode(text));
    await sink.close();
  } catch (e) {
    await sink.abort();
    throw e;
  }
}

/**
 * Refuses, before any work, outputs that would replace what is not theirs: a destination that
 * exists and is not a regular file (a device, FIFO, socket, directory or symbolic link), an
 * output that is one of the inputs or lies inside an input directory (nothing the tool reads is
 * modified), and two outputs with the same path. `named` are files an input names rather than
 * is (the chunks of a chunk set, named by `named.by`): compared by path, as they may not exist
 * yet when read later.
 * `fileSink` checks the destination again when it renames.
 */
export async function checkOutputs(
  inputs: readonly string[],
  outputs: readonly { option: string; path: string }[],
  named: { readonly by: string; readonly files: readonly string[] } = { by: '', files: [] },
): Promise<void> {
  const seen = new Map<string, string>();
  const members = new Set<string>();
  const dirs = new Map<string, string>();
  for (const f of named.files) {
    const dir = dirname(resolve(f));
    let real = dirs.get(dir);
    if (real === undefined) dirs.set(dir, (real = await realpath(dir).catch(() => dir)));
    members.add(join(real, basename(f)));
  }
  for (const { option, path } of outputs) {
    outputPath(path, option);
    await checkDestination(path);
    const where = await canonical(path);
    const other = seen.get(where);
    if (other !== undefined) throw new SnapshotError('INVALID_ARGUMENT', `${option} ${path} is also given to ${other}: each output needs its own path`, { file: path });
    seen.set(where, option);
    const out = await stat(path).catch(() => undefined);
    for (const input of inputs) {
      const s = await stat(input).catch(() => undefined);
      if (s === undefined) continue;
      const same = out !== undefined && out.dev === s.dev && out.ino === s.ino;
      const inside = s.isDirectory() && (where + sep).startsWith((await realpath(input)) + sep);
      if (same || inside) {
        throw new SnapshotError('INVALID_ARGUMENT', `${option} ${path} ${same ? 'is' : 'lies inside'} the input ${input}: an output never replaces or adds to what is read`, { file: path });
      }
    }
    if (members.has(where)) throw new SnapshotError('INVALID_ARGUMENT', `${option} ${path} is a file the input ${named.by} names: an output never replaces or adds to what is read`, { file: path });
  }
}

/** The path with its directory resolved through symbolic links (the file itself need not exist). */
async function canonical(path: string): Promise<string> {
  const dir = await realpath(dirname(resolve(path))).catch(() => dirname(resolve(path)));
  return join(dir, basename(path));
}
