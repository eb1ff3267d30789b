/**
 * Chunk files named by their own chunk digest (spec/FORMAT.md section 12): an identical rewrite
 * keeps every chunk file as it is (same inode, not written), a file under a chunk's final name
 * that is not that chunk's bytes is replaced, a symbolic link or FIFO there is refused without
 * being followed or opened for reading, a rewrite with other content removes the old set's files,
 * and a set of the earlier naming (the snapshot digest in every name) still reads and is replaced.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, lstat, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, REPO, runCli } from '../helpers/cli.js';

const lib = (await import(join(REPO, 'dist', 'index.js'))) as typeof import('../../src/index.js');

const DUMP = join(REPO, 'examples', 'dump', 'checkpoint_epoch_42');
const A = ['--tables', 'aggregate_blob_info,per_object_blob_info', '--max-chunk-bytes', '16KiB'];
const B = ['--tables', 'aggregate_blob_info', '--max-chunk-bytes', '16KiB'];

async function write(args: readonly string[], out: string): Promise<string> {
  const r = await runCli(['digest', DUMP, ...args, '--json', '--out', out, '--chunk-files']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).digest as string;
}

/** What the set at `out` reads back to: its digest, checked by the reader over every chunk. */
async function readBack(out: string): Promise<string> {
  return lib.formatDigest((await lib.verifySnapshot(await lib.snapshotFiles(out))).digest);
}

/** Inode, size and modification time (ns) of each file of `dir`. */
async function identities(dir: string): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for (const f of await readdir(dir)) {
    const s = await stat(join(dir, f), { bigint: true });
    m.set(f, `${s.ino}:${s.size}:${s.mtimeNs}`);
  }
  return m;
}

/**
 * A reference set of `args` at <ref>/p.snap, in a directory of its own: its chunk file names
 * (basenames) are those a set at <dir>/p.snap gets, and its files hold the right bytes.
 */
async function reference(args: readonly string[]): Promise<{ digest: string; names: string[]; ref: string }> {
  const ref = await mkdtemp(join(tmpdir(), 'sv-reuse-ref-'));
  const digest = await write(args, join(ref, 'p.snap'));
  return { digest, names: (await lib.snapshotFiles(join(ref, 'p.snap'))).map((f) => basename(f)), ref };
}

describe('chunk files named by their chunk digest: kept, replaced or refused', () => {
  it('an identical rewrite keeps every chunk file (same inode, size and mtime: nothing written) and commits a new set file; the set verifies', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sv-reuse-'));
    const out = join(dir, 'p.snap');
    const digest = await write(A, out);
    const before = await identities(dir);
    expect(before.size).toBeGreaterThan(20);
    await new Promise((r) => setTimeout(r, 20)); // a rewritten file would show a later mtime
    expect(await write(A, out)).toBe(digest);
    const after = await identities(dir);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [f, id] of before) if (f !== 'p.snap') expect(after.get(f), f).toBe(id);
    expect(after.get('p.snap')).not.toBe(before.get('p.snap')); // the commit is a new set file, renamed into place
    expect(await readBack(out)).toBe(digest);
  }, 60_000);

  it('a truncated, an altered (same size) and an empty file under chunk names are replaced, the others created; the set verifies; nothing else is left', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sv-replace-'));
    const out = join(dir, 'p.snap');
    const { digest, names, ref } = await reference(A);
    // The right bytes, from the reference run, damaged under the names this run will use.
    await copyFile(join(ref, names[1]!), join(dir, names[1]!));
    await truncate(join(dir, names[1]!), 1000);
    const altered = await readFile(join(ref, names[4]!));
    altered[100] = altered[100]! ^ 1;
    await writeFile(join(dir, names[4]!), altered);
    await writeFile(join(dir, names.at(-1)!), '');
    await copyFile(join(ref, names[2]!), join(dir, names[2]!)); // intact: kept
    const kept = (await stat(join(dir, names[2]!))).ino;
    expect(await write(A, out)).toBe(digest);
    expect(await readBack(out)).toBe(digest);
    for (const i of [1, 4, names.length - 1]) expect(await readFile(join(dir, names[i]!)), names[i]).toEqual(await readFile(join(ref, names[i]!)));
    expect((await stat(join(dir, names[2]!))).ino).toBe(kept);
    expect((await readdir(dir)).sort()).toEqual(['p.snap', ...names].sort());
  }, 60_000);

  it('a symbolic link (to a copy of the right bytes, or to /dev/zero) or a FIFO under a chunk name is refused (exit 64), never followed nor opened for reading; nothing is left', async () => {
    const { names, ref } = await reference(A);
    for (const [what, make] of [
      ['symbolic link', (p: string) => symlink(join(ref, basename(p)), p)],
      ['symbolic link', (p: string) => symlink('/dev/zero', p)],
      ['FIFO', async (p: string) => void execFileSync('mkfifo', [p])],
    ] as const) {
      const dir = await mkdtemp(join(tmpdir(), 'sv-refuse-'));
      const out = join(dir, 'p.snap');
      await writeFile(out, 'previous');
      const target = join(dir, names[3]!);
      await make(target);
      // Every open of that name, traced (by name: strace -P would resolve the link): the only one must be the creating one (O_EXCL), which fails.
      const log = join(dir, '..', `${basename(dir)}.strace`);
      const r = spawnSync('strace', ['-f', '-qq', '-o', log, '-e', 'trace=openat,open,openat2', process.execPath, BIN, 'digest', DUMP, ...A, '--out', out, '--chunk-files'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(64);
      expect(r.stderr).toMatch(new RegExp(`^snapshot-verify: INVALID_ARGUMENT in .*${what}`));
      const opens = (await readFile(log, 'utf8')).split('\n').filter((l) => l.includes(`"${target}"`));
      await rm(log);
      expect(opens, opens.join('\n')).toHaveLength(1);
      expect(opens[0]).toMatch(/O_WRONLY\|O_CREAT\|O_EXCL.*EEXIST/);
      expect(await readFile(out, 'utf8')).toBe('previous');
      const s = await lstat(target);
      expect(what === 'FIFO' ? s.isFIFO() : s.isSymbolicLink()).toBe(true);
      if (s.isSymbolicLink()) expect(await readlink(target)).toMatch(/^\/dev\/zero$|sv-reuse-ref-/);
      expect((await readdir(dir)).sort()).toEqual([basename(target), 'p.snap'].sort()); // the chunks created before it are removed
    }
  }, 60_000);

  it('a rewrite with other content removes the files of the set it replaces, after its commit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sv-other-'));
    const out = join(dir, 'p.snap');
    await write(A, out);
    const old = (await lib.snapshotFiles(out)).map((f) => basename(f));
    const { digest, names } = await reference(B);
    expect(names.filter((n) => old.includes(n))).toEqual([]);
    expect(await write(B, out)).toBe(digest);
    expect((await readdir(dir)).sort()).toEqual(['p.snap', ...names].sort());
    expect(await readBack(out)).toBe(digest);
  }, 60_000);

  it('a set of the earlier naming (the snapshot digest in every name) reads, and an identical rewrite replaces it: its last file (same name) is kept, the others removed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sv-legacy-'));
    const out = join(dir, 'p.snap');
    const { digest, names, ref } = await reference(A);
    // Made by hand as spec/FORMAT.md section 12 described it before: P.<snapshot digest>.<i>, then P naming them.
    const legacy = names.map((_, i) => `p.snap.${digest}.${String(i).padStart(6, '0')}`);
    for (const [i, n] of names.entries()) await copyFile(join(ref, n), join(dir, legacy[i]!));
    await writeFile(out, [lib.CHUNK_SET_MAGIC, `digest ${digest}`, `chunks ${legacy.length}`, ...legacy, ''].join('\n'));
    expect(await readBack(out)).toBe(digest);
    const verify = await runCli(['verify', out]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(legacy.at(-1)).toBe(names.at(-1)); // the last chunk's digest is the snapshot digest
    const last = (await stat(join(dir, names.at(-1)!))).ino;
    expect(await write(A, out)).toBe(digest);
    expect((await readdir(dir)).sort()).toEqual(['p.snap', ...names].sort());
    expect((await stat(join(dir, names.at(-1)!))).ino).toBe(last);
    expect(await readBack(out)).toBe(digest);
  }, 60_000);
});
