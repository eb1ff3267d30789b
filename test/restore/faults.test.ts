/**
 * restore under faults: a disk that fills up mid-write, and a process killed (SIGKILL) at each
 * rename it makes. Either way no directory RocksDB could open is left: the target is absent (or,
 * killed after the rename, complete), and a full disk leaves nothing at all. The CLI is run as
 * operators run it; ldb and our digest judge what is left.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDigest } from '../../src/format/digest.js';
import type { SnapshotAnchor } from '../../src/format/header.js';
import { BIN, runCli } from '../helpers/cli.js';
import { LDB } from '../sources/rocksdb/helpers.js';
import { cleanup, digestOfDatabase, tempDir, writeSnapshotFile } from './helpers.js';

const ANCHOR: SnapshotAnchor = { epoch: 3n, cursor: { index: 0n }, maxChunkBytes: 0n, tables: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }] };
const PAGE = 4096;

let work: string;
let snap: string;
let digest: string;
beforeAll(async () => {
  work = tempDir('sv-restore-faults-');
  snap = join(work, 'in.snap');
  // About 150 KB of SST data in two tables.
  const table = (tag: string, n: number) => Array.from({ length: n }, (_, i) => ({ key: Buffer.from(`${tag}-${String(i).padStart(6, '0')}`), value: Buffer.alloc(40 + (i % 50), i & 0xff) }));
  digest = formatDigest((await writeSnapshotFile(snap, ANCHOR, [table('a', 1200), table('b', 800)])).digest);
});
afterAll(() => cleanup(work));

/** What a restore left in `parent` besides `keep`. */
const left = (parent: string, keep: readonly string[] = []): string[] => readdirSync(parent).filter((f) => !keep.includes(f));

describe('restore onto a full disk', () => {
  let fs: string;
  beforeAll(() => {
    fs = join(work, 'tiny');
    mkdirSync(fs);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', fs]);
  });
  afterAll(() => {
    execFileSync('umount', [fs]);
  });

  it('ENOSPC while writing SST files or the final MANIFEST/OPTIONS/IDENTITY/CURRENT: IO_ERROR naming the file, exit 74, nothing left', async () => {
    // The size of what a restore writes, measured on a roomy disk.
    const roomy = join(work, 'roomy');
    expect((await runCli(['restore', snap, '--to', roomy])).code).toBe(0);
    expect((await runCli(['restore', snap, '--to', join(work, 'roomy-sst'), '--sst-only'])).code).toBe(0);
    const files = readdirSync(roomy);
    const pages = files.reduce((s, f) => s + Math.ceil(statSync(join(roomy, f)).size / PAGE), 0);
    const sstPages = files.filter((f) => f.endsWith('.sst')).reduce((s, f) => s + Math.ceil(statSync(join(roomy, f)).size / PAGE), 0);
    expect(pages * PAGE).toBeLessThan(256 * 1024);
    const failedAt = new Set<string>();
    let completed = 0;
    // Free space from "not even the SSTs" to "everything fits", a page at a time.
    for (let free = sstPages - 3; free <= pages + 2; free++) {
      for (const sstOnly of [false, true]) {
        if (sstOnly && free > sstPages + 2) continue;
        rmSync(join(fs, 'filler'), { force: true });
        const capacity = 256 * 1024;
        writeFileSync(join(fs, 'filler'), Buffer.alloc(Math.max(0, capacity - free * PAGE)));
        const to = join(fs, 'db');
        const r = await runCli(['restore', snap, '--to', to, ...(sstOnly ? ['--sst-only'] : []), '--json']);
        if (r.code === 0) {
          completed++;
          // Complete, never silently short: the database's digest, or every SST file whole.
          if (!sstOnly) expect(formatDigest((await digestOfDatabase(to, ANCHOR)).digest)).toBe(digest);
          else for (const f of readdirSync(to)) expect(statSync(join(to, f)).size).toBe(statSync(join(work, 'roomy-sst', f)).size);
          rmSync(to, { recursive: true });
          continue;
        }
        expect(r.code, r.stderr).toBe(74);
        const error = JSON.parse(r.stdout).error as { code: string; file: string; message: string };
        expect(error.code).toBe('IO_ERROR');
        expect(error.message).toMatch(/ENOSPC/);
        expect(error.file.startsWith(fs)).toBe(true);
        failedAt.add(error.file.endsWith('.sst') ? 'sst' : error.file.split('/').pop()!.replace(/-\d+$/, ''));
        // Nothing left: no target, no temporary directory.
        expect(left(fs, ['filler'])).toEqual([]);
      }
    }
    // The free space swept both kinds of failure, and enough space restored completely.
    expect(failedAt.has('sst')).toBe(true);
    expect([...failedAt].some((f) => f !== 'sst'), [...failedAt].join(',')).toBe(true);
    expect(completed).toBeGreaterThan(0);
  }, 300_000);
});

/**
 * Runs a restore under strace, which kills it (SIGKILL) when it enters its `n`-th rename (0: no
 * kill, every rename logged to `log`). libuv gets one worker thread, so that strace's per-thread
 * count is the process's.
 */
function restoreUnderStrace(to: string, n: number, log = '/dev/null'): Promise<number | null> {
  const inject = n > 0 ? ['-e', `inject=rename,renameat,renameat2:signal=SIGKILL:when=${n}`] : [];
  return new Promise((resolve) => {
    const child = spawn('strace', ['-f', '-qq', '-o', log, '-e', 'trace=rename,renameat,renameat2', ...inject, process.execPath, BIN, 'restore', snap, '--to', to], { stdio: 'ignore', env: { ...process.env, UV_THREADPOOL_SIZE: '1' } });
    child.on('close', (code, signal) => resolve(signal === null ? code : 128 + 9));
  });
}

describe('restore killed (SIGKILL) at each rename', () => {
  it('leaves no target RocksDB opens, or the complete one; the next restore to it succeeds and removes the leftovers', async () => {
    const parent = join(work, 'kill');
    mkdirSync(parent);
    const log = join(work, 'renames.log');
    expect(await restoreUnderStrace(join(parent, 'count'), 0, log)).toBe(0);
    const renames = readFileSync(log, 'utf8').split('\n').filter((l) => /rename/.test(l) && !/resumed/.test(l)).length;
    expect(renames).toBeGreaterThanOrEqual(1);
    rmSync(join(parent, 'count'), { recursive: true });
    for (let n = 1; n <= renames; n++) {
      const to = join(parent, `db${n}`);
      const code = await restoreUnderStrace(to, n);
      expect(code).toBe(137);
      if (existsSync(to)) {
        // Killed after the directory's rename: it is the complete database.
        expect(formatDigest((await digestOfDatabase(to, ANCHOR)).digest)).toBe(digest);
      } else {
        // Before: RocksDB finds no database at the target (ldb exits 0 either way: read what it says).
        const r = spawnSync(LDB, [`--db=${to}`, 'list_column_families'], { encoding: 'utf8' });
        expect(`${r.stdout}${r.stderr}`).toMatch(/No such file or directory/);
        expect(`${r.stdout}${r.stderr}`).not.toMatch(/Column families in/);
      }
      rmSync(to, { recursive: true, force: true });
      // The next restore to the same target completes and removes the killed one's temporary directory.
      expect((await runCli(['restore', snap, '--to', to])).code).toBe(0);
      expect(formatDigest((await digestOfDatabase(to, ANCHOR)).digest)).toBe(digest);
      expect(left(parent).filter((f) => f.includes(`db${n}`))).toEqual([`db${n}`]);
    }
  }, 300_000);
});
