import { execFileSync, spawn } from 'node:child_process';
import { copyFile, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
 * Runs a chunked digest under strace, which kills it (SIGKILL) at its `n`-th rename. strace
 * counts calls per thread, so libuv gets one worker thread: then the n-th is the n-th overall.
 */
function killAtRename(args: readonly string[], out: string, n: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn('strace', ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=rename,renameat,renameat2', '-e', `inject=rename,renameat,renameat2:signal=SIGKILL:when=${n}`, process.execPath, BIN, 'digest', DUMP, ...args, '--out', out, '--chunk-files'], { stdio: 'ignore', env: { ...process.env, UV_THREADPOOL_SIZE: '1' } });
    child.on('close', (code, signal) => resolve(signal === null ? code : 128 + 9));
  });
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
  it('kill -9 at every rename of --chunk-files leaves P naming the complete old or new set (more, then fewer chunks)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sv-kill-'));
    const out = join(root, 'p.snap');
    const oldDigest = await digestOf(OLD, join(root, 'ref-old'));
    const newDigest = await digestOf(NEW, join(root, 'ref-new'));
    const chunks = async (name: string): Promise<number> => (await lib.snapshotFiles(join(root, name))).length;
    const [oldChunks, newChunks] = [await chunks('ref-old'), await chunks('ref-new')];
    expect(newChunks).toBeGreaterThan(oldChunks);
    for (const [from, to, fromDigest, toDigest, renames] of [
      [OLD, NEW, oldDigest, newDigest, newChunks + 1],
      [NEW, OLD, newDigest, oldDigest, oldChunks + 1],
    ] as const) {
      await digestOf(from, out);
      const outcomes = new Set<string>();
      // One rename per chunk file, then the set file: the commit. Renames after it only move stale
      // chunks aside to remove them (sinks.ts removeUnnamedSetFiles), so a kill there leaves the new set.
      for (let n = 1; n <= renames + 1; n++) {
        const code = await killAtRename(to, out, n);
        const now = await readBack(out);
        expect([fromDigest, toDigest], `killed at rename ${n} (exit ${code})`).toContain(now);
        if (n <= renames) expect(code).toBe(137);
        else expect(now, `killed after the commit (exit ${code})`).toBe(toDigest);
        outcomes.add(now === fromDigest ? 'old' : 'new');
        if (now === toDigest) await digestOf(from, out); // back to the old set for the next kill
      }
      expect([...outcomes].sort()).toEqual(['new', 'old']);
    }
  }, 300_000);

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

  it('the set file names its chunks by digest; a malformed set file is BAD_CHUNK_SET; the earlier P.NNNNNN layout still reads', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sv-set-'));
    const out = join(root, 'p.snap');
    const digest = await digestOf(OLD, out);
    const text = await readFile(out, 'utf8');
    const files = await lib.snapshotFiles(out);
    expect(text).toBe([lib.CHUNK_SET_MAGIC, `digest ${digest}`, `chunks ${files.length}`, ...files.map((_, i) => `p.snap.${digest}.${String(i).padStart(6, '0')}`), ''].join('\n'));
    for (const [bad, offset] of [
      [text.replace(`chunks ${files.length}`, `chunks ${files.length + 1}`), text.length],
      [text.replace(`p.snap.${digest}.000001`, '../etc/passwd'), text.indexOf(`p.snap.${digest}.000001`)],
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
