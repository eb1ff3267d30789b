import { execFileSync, spawn } from 'node:child_process';
import { copyFile, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, REPO, runCli } from '../helpers/cli.js';

// The library as users import it (dist/), to check what the CLI left on disk without a spawn each.
const lib = (await import(join(REPO, 'dist', 'index.js'))) as typeof import('../../src/index.js');

const DUMP = join(REPO, 'examples', 'dump', 'checkpoint_epoch_42');
const OLD = ['--tables', 'aggregate_blob_info', '--max-chunk-bytes', '64KiB'];
const NEW = ['--tables', 'aggregate_blob_info,per_object_blob_info', '--max-chunk-bytes', '64KiB'];

/** The digest of what `path` names now (a snapshot file or a chunk set), or the error code. */
async function readBack(path: string): Promise<string> {
  try {
    return lib.formatDigest((await lib.verifySnapshot(await lib.snapshotFiles(path))).digest);
  } catch (e) {
    return `error ${(e as { code?: string }).code ?? String(e)}`;
  }
}

async function digestOf(args: readonly string[], out: string): Promise<string> {
  const r = await runCli(['digest', DUMP, ...args, '--json', '--out', out, '--chunk-files']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).digest as string;
}

/**
 * Runs a chunked digest under strace, which kills it (SIGKILL) at its `n`-th call of `syscall`:
 * of every rename, or with `paths`, of the openat or write calls on those files only (strace -P:
 * the new set's chunk files, whose names a reference run gave). strace counts calls per thread:
 * chunk files are opened, written and renamed on the main thread, and libuv gets one worker
 * thread, so the n-th is the n-th overall.
 */
function killAt(syscall: 'rename' | 'openat' | 'write', args: readonly string[], out: string, n: number, paths: readonly string[] = []): Promise<number | null> {
  const calls = syscall === 'rename' ? 'rename,renameat,renameat2' : syscall;
  const filter = paths.flatMap((p) => ['-P', p]);
  return new Promise((resolve) => {
    const child = spawn('strace', ['-f', '-qq', '-o', '/dev/null', ...filter, '-e', `trace=${calls}`, '-e', `inject=${calls}:signal=SIGKILL:when=${n}`, process.execPath, BIN, 'digest', DUMP, ...args, '--out', out, '--chunk-files'], { stdio: 'ignore', env: { ...process.env, UV_THREADPOOL_SIZE: '1' } });
    child.on('close', (code, signal) => resolve(signal === null ? code : 128 + 9));
  });
}

/** The files of `dir` other than `out` and the chunk files `out` names: leftovers. */
async function leftovers(dir: string, out: string): Promise<string[]> {
  const named = new Set((await lib.snapshotFiles(out)).map((f) => f.slice(dir.length + 1)));
  return (await readdir(dir)).filter((f) => f !== 'p.snap' && !named.has(f) && !f.startsWith('ref-'));
}

/** A tiny deterministic PRNG (mulberry32): the same delays on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('chunk sets are replaced atomically; killed runs leave nothing that lasts', () => {
  it('kill -9 at every openat and write of a chunk file and at every rename leaves P naming the complete old or new set; the next run completes and leaves nothing else (more, then fewer chunks)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sv-kill-'));
    const out = join(root, 'p.snap');
    // Reference sets in directories of their own, under the same name: their chunk file names are the ones written at `out`.
    const ref = async (args: readonly string[], name: string): Promise<{ digest: string; files: string[] }> => {
      await mkdir(join(root, name));
      const digest = await digestOf(args, join(root, name, 'p.snap'));
      return { digest, files: (await lib.snapshotFiles(join(root, name, 'p.snap'))).map((f) => join(root, basename(f))) };
    };
    const [olds, news] = [await ref(OLD, 'ref-old'), await ref(NEW, 'ref-new')];
    expect(news.files.length).toBeGreaterThan(olds.files.length);
    for (const [from, to, fromSet, toSet] of [
      [OLD, NEW, olds, news],
      [NEW, OLD, news, olds],
    ] as const) {
      const outcomes = new Set<string>();
      // Small chunks: one openat and one write per chunk file (created under its final name, no rename);
      // one rename: the set file, the commit. The last n of each is never reached.
      for (const [syscall, calls, paths] of [
        ['openat', toSet.files.length, toSet.files],
        ['write', toSet.files.length, toSet.files],
        ['rename', 1, []],
      ] as const) {
        for (let n = 1; n <= calls + 1; n++) {
          await digestOf(from, out); // the old set, committed; the previous kill's leftovers removed
          expect(await leftovers(root, out)).toEqual([]);
          const code = await killAt(syscall, to, out, n, paths);
          const now = await readBack(out);
          expect([fromSet.digest, toSet.digest], `killed at ${syscall} ${n} (exit ${code})`).toContain(now);
          expect(code, `${syscall} ${n}`).toBe(n <= calls ? 137 : 0);
          outcomes.add(now === fromSet.digest ? 'old' : 'new');
          if (code === 137) expect(now, `${syscall} ${n}: killed before the commit`).toBe(fromSet.digest);
          // The next run over what the kill left (chunk files complete, or empty under a final name): the new set, nothing else.
          expect(await digestOf(to, out)).toBe(toSet.digest);
          expect(await readBack(out)).toBe(toSet.digest);
          expect(await leftovers(root, out), `after ${syscall} ${n}`).toEqual([]);
          expect((await lib.snapshotFiles(out)).sort()).toEqual([...toSet.files].sort());
        }
      }
      expect([...outcomes].sort()).toEqual(['new', 'old']);
    }
  }, 600_000);

  it('SIGKILL at seeded random moments: P is always the old or the new set; the next run removes the leftovers', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sv-kill-random-'));
    const out = join(root, 'p.snap');
    const oldDigest = await digestOf(OLD, out);
    const newDigest = await digestOf(NEW, join(await mkdtemp(join(tmpdir(), 'sv-kill-ref-')), 'p.snap'));
    const random = prng(8);
    for (let i = 0; i < 6; i++) {
      const child = spawn(process.execPath, [BIN, 'digest', DUMP, ...NEW, '--out', out, '--chunk-files'], { stdio: 'ignore' });
      setTimeout(() => child.kill('SIGKILL'), 200 + random() * 1500);
      await new Promise((r) => child.on('close', r));
      expect([oldDigest, newDigest]).toContain(await readBack(out));
    }
    // A foreign file, a temporary-looking file of a live process, and a directory stay.
    await writeFile(join(root, '.p.snap.tmp-notours'), 'x');
    await writeFile(join(root, `.p.snap.tmp-${process.pid}-0123456789ab`), 'live');
    await mkdir(join(root, '.p.snap.tmp-1-0123456789ab'));
    await writeFile(join(root, 'p.snap.0123456789abcdef.000000.keep'), 'x');
    expect(await digestOf(NEW, out)).toBe(newDigest);
    const left = (await readdir(root)).sort();
    const set = (await lib.snapshotFiles(out)).map((f) => f.slice(root.length + 1));
    expect(left).toEqual(['.p.snap.tmp-1-0123456789ab', `.p.snap.tmp-${process.pid}-0123456789ab`, '.p.snap.tmp-notours', 'p.snap', 'p.snap.0123456789abcdef.000000.keep', ...set].sort());
    expect(await readBack(out)).toBe(newDigest);
  }, 300_000);

  it('the set file names each chunk by its own chunk digest (the last by the snapshot digest); a malformed set file is BAD_CHUNK_SET; the earlier P.NNNNNN layout still reads', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sv-set-'));
    const out = join(root, 'p.snap');
    const r = await runCli(['digest', DUMP, ...OLD, '--json', '--out', out, '--chunk-files']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { digest: string; chunks: { index: number; digest: string }[] };
    const digest = report.digest;
    const text = await readFile(out, 'utf8');
    const files = await lib.snapshotFiles(out);
    expect(report.chunks.length).toBeGreaterThan(2);
    expect(report.chunks.at(-1)!.digest).toBe(digest);
    const names = report.chunks.map((c) => `p.snap.${c.digest}.${String(c.index).padStart(6, '0')}`);
    expect(text).toBe([lib.CHUNK_SET_MAGIC, `digest ${digest}`, `chunks ${files.length}`, ...names, ''].join('\n'));
    // Each name's digest is its file's trailer (the last 8 bytes, little-endian): the report and the bytes agree.
    for (const [i, f] of files.entries()) expect((await readFile(f)).readBigUInt64LE((await stat(f)).size - 8).toString(16).padStart(16, '0')).toBe(report.chunks[i]!.digest);
    for (const [bad, offset] of [
      [text.replace(`chunks ${files.length}`, `chunks ${files.length + 1}`), text.length],
      [text.replace(names[1]!, '../etc/passwd'), text.indexOf(names[1]!)],
      [`${text}extra\n`, text.length],
    ] as const) {
      await writeFile(join(root, 'bad.snap'), bad);
      const r = await runCli(['verify', join(root, 'bad.snap'), '--json']);
      expect(r.code).toBe(3);
      expect(JSON.parse(r.stdout).results[0].error).toMatchObject({ code: 'BAD_CHUNK_SET', offset });
    }
    const legacy = join(root, 'legacy.snap');
    for (const [i, f] of files.entries()) await copyFile(f, lib.chunkFileName(legacy, i));
    expect(await readBack(legacy)).toBe(digest);
  }, 120_000);
});

describe('outputs never replace what is not theirs', () => {
  it('refuses devices, FIFOs, directories and symbolic links as outputs, and outputs that are inputs or each other (exit 64), without opening them', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sv-refuse-'));
    const target = join(root, 'target');
    await writeFile(target, 'mine');
    await symlink(target, join(root, 'link'));
    execFileSync('mkfifo', [join(root, 'fifo')]);
    await mkdir(join(root, 'dir'));
    const snap = join(root, 's.snap');
    expect((await runCli(['digest', DUMP, '--tables', 'storage_pool_info', '--out', snap])).code).toBe(0);
    const cases: [string[], RegExp][] = [
      [['--out', '/dev/null'], /character device/],
      [['--out', join(root, 'fifo')], /FIFO/],
      [['--out', join(root, 'dir')], /directory/],
      [['--out', join(root, 'link')], /symbolic link/],
      [['--prom-textfile', join(root, 'link')], /symbolic link/],
      [['--out', join(root, 'fifo'), '--chunk-files'], /FIFO/],
      [['--out', join(root, 'x'), '--prom-textfile', join(root, 'x')], /also given to --out/],
      [['--out', join(DUMP, 'x.snap')], /lies inside the input/],
    ];
    for (const [args, why] of cases) {
      const r = await runCli(['digest', DUMP, '--tables', 'storage_pool_info', ...args]);
      expect(r.code, args.join(' ')).toBe(64);
      expect(r.stderr).toMatch(/^snapshot-verify: INVALID_ARGUMENT in /);
      expect(r.stderr).toMatch(why);
    }
    const same = await runCli(['digest', snap, '--out', snap]);
    expect(same.code).toBe(64);
    expect(same.stderr).toMatch(/is the input/);
    expect((await stat('/dev/null')).isCharacterDevice()).toBe(true);
    expect((await lstat(join(root, 'fifo'))).isFIFO()).toBe(true);
    expect(await readlink(join(root, 'link'))).toBe(target);
    expect(await readFile(target, 'utf8')).toBe('mine');
    expect((await readdir(root)).sort()).toEqual(['dir', 'fifo', 'link', 's.snap', 'target']);
    expect(await readdir(DUMP)).not.toContain('x.snap');
    expect(await readBack(snap)).toMatch(/^[0-9a-f]{16}$/);
  }, 120_000);
});

describe('disk full', () => {
  const mount = join(tmpdir(), `sv-enospc-${process.pid}`);
  beforeAll(async () => {
    await mkdir(mount, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]);
  });
  afterAll(async () => {
    execFileSync('umount', [mount]);
    await rm(mount, { recursive: true, force: true });
  });

  it('ENOSPC on --out, --chunk-files and --prom-textfile is "IO_ERROR in FILE", exit 74; the destination keeps its content; no temporary file is left', async () => {
    const out = join(mount, 'out.snap');
    await writeFile(out, 'previous');
    for (const args of [['--out', out], ['--out', out, '--chunk-files', '--max-chunk-bytes', '8KiB']]) {
      for (const json of [false, true]) {
        const r = await runCli(['digest', DUMP, '--tables', 'aggregate_blob_info', ...args, ...(json ? ['--json'] : [])]);
        expect(r.code).toBe(74);
        expect(r.stderr).toMatch(new RegExp(`^snapshot-verify: IO_ERROR in ${out}: .*ENOSPC`));
        expect(r.stderr).not.toMatch(/internal/i);
        if (json) expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'IO_ERROR', file: out });
        expect(await readFile(out, 'utf8')).toBe('previous');
        expect(await readdir(mount)).toEqual(['out.snap']);
      }
    }
    // Fill the disk, then a small file cannot be written either.
    await writeFile(join(mount, 'filler'), Buffer.alloc(60 << 10)).catch(() => undefined);
    const prom = join(mount, 'metrics.prom');
    await writeFile(prom, 'old metrics').catch(() => undefined);
    const before = await readFile(prom, 'utf8').catch(() => undefined);
    const r = await runCli(['digest', DUMP, '--tables', 'storage_pool_info', '--prom-textfile', prom]);
    expect(r.code).toBe(74);
    expect(r.stderr).toMatch(new RegExp(`^snapshot-verify: IO_ERROR in ${prom}: `));
    expect(await readFile(prom, 'utf8').catch(() => undefined)).toBe(before);
    expect((await readdir(mount)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  }, 120_000);
});
