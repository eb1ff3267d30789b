/**
 * A live database is never digested silently. A real RocksDB process holds the LOCK (ldb load,
 * which keeps the database open while it reads its standard input): digest and verify refuse with
 * LIVE_DATABASE (exit 5) and say to take a checkpoint; --allow-live reads it and the report
 * records it. A POSIX lock taken the way RocksDB takes it (fcntl F_SETLK, python3 fcntl.lockf)
 * is found too; waiters and other files in /proc/locks are not mistaken for holders.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { openCheckpoint } from '../../../src/sources/open.js';
import { findLockHolder } from '../../../src/sources/rocksdb/live.js';
import { runCli } from '../../helpers/cli.js';
import { cleanup, FIXTURES, HAVE_LDB, LDB, ldb, snapshotErrorOf, tempDir } from './helpers.js';

const root = tempDir('sv-live-');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  cleanup(root);
});

/** Resolves once /proc/locks shows a lock on `<dir>/LOCK`. */
async function lockShown(dir: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await findLockHolder(dir)) !== undefined) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no lock on ${dir}/LOCK appeared in /proc/locks`);
}

function hold(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'ignore'] });
  children.push(child);
  return child;
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((r) => child.on('exit', r));
}

describe.skipIf(!HAVE_LDB)('a database whose LOCK a RocksDB process holds', () => {
  test('digest and verify refuse with LIVE_DATABASE (exit 5); --allow-live reads it and says so; once closed it reads as usual', async () => {
    const db = join(root, 'db');
    ldb(db, '--create_if_missing', 'batchput', 'a', '1', 'b', '2');
    const holder = hold(LDB, [`--db=${db}`, 'load']); // open until its stdin ends
    await lockShown(db);

    const e = await snapshotErrorOf(() => openCheckpoint([db]));
    expect([e.code, e.file]).toEqual(['LIVE_DATABASE', join(db, 'LOCK')]);
    expect(e.message).toContain(`process ${holder.pid}`);
    expect(e.message).toContain('checkpoint');

    const refused = await runCli(['digest', db, '--tables', 'default', '--epoch', '1']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('LIVE_DATABASE');
    expect((await runCli(['verify', db])).code).toBe(5);

    const allowed = await runCli(['digest', db, '--tables', 'default', '--epoch', '1', '--allow-live', '--json']);
    expect(allowed.code).toBe(0);
    const report = JSON.parse(allowed.stdout) as { entries: string; node: { live?: boolean } };
    expect([report.entries, report.node.live]).toEqual(['2', true]);
    const text = await runCli(['digest', db, '--tables', 'default', '--epoch', '1', '--allow-live']);
    expect(text.stdout).toContain('warning LIVE_DATABASE');

    holder.stdin!.end('c ==> 3\n');
    await exited(holder);
    const after = await runCli(['digest', db, '--tables', 'default', '--epoch', '1', '--json']);
    expect(after.code).toBe(0);
    const closed = JSON.parse(after.stdout) as { entries: string; node: { live?: boolean } };
    expect([closed.entries, closed.node.live]).toEqual(['3', undefined]);
  }, 60_000);
});

describe('the lock check', () => {
  test('a POSIX lock taken as RocksDB takes it (fcntl F_SETLK via python3 lockf) marks a checkpoint copy live', async () => {
    const dir = join(root, 'cp');
    cpSync(join(FIXTURES, 'checkpoints', 'ldb-three-families'), dir, { recursive: true });
    writeFileSync(join(dir, 'LOCK'), '');
    expect(await findLockHolder(dir)).toBeUndefined();
    const py = hold('python3', ['-c', 'import fcntl,sys; f=open(sys.argv[1],"r+"); fcntl.lockf(f, fcntl.LOCK_EX|fcntl.LOCK_NB); sys.stdin.read()', join(dir, 'LOCK')]);
    await lockShown(dir);
    expect(await findLockHolder(dir)).toEqual({ file: join(dir, 'LOCK'), pid: py.pid, kind: 'POSIX' });
    expect((await snapshotErrorOf(() => openCheckpoint([dir]))).code).toBe('LIVE_DATABASE');
    const source = await openCheckpoint([dir], { allowLive: true });
    expect(source.live).toBe(true);
    await source.close();
    py.stdin!.end();
    await exited(py);
    expect(await findLockHolder(dir)).toBeUndefined();
  }, 30_000);

  test('/proc/locks lines: the holder of LOCK\'s device and inode counts; waiters ("->") and other inodes do not', async () => {
    const dir = join(root, 'parse');
    cpSync(join(FIXTURES, 'checkpoints', 'wal-only'), dir, { recursive: true });
    writeFileSync(join(dir, 'LOCK'), '');
    const s = statSync(join(dir, 'LOCK'), { bigint: true });
    const major = ((s.dev >> 8n) & 0xfffn) | ((s.dev >> 32n) & ~0xfffn);
    const minor = (s.dev & 0xffn) | ((s.dev >> 12n) & ~0xffn);
    const dev = `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
    const locks = join(root, 'proc-locks');
    const other = `1: POSIX  ADVISORY  WRITE 111 ${dev}:${s.ino + 1n} 0 EOF\n`;
    const waiter = `2: -> POSIX  ADVISORY  WRITE 222 ${dev}:${s.ino} 0 EOF\n`;
    const holder = `3: FLOCK  ADVISORY  WRITE 333 ${dev}:${s.ino} 0 EOF\n`;
    writeFileSync(locks, other + waiter);
    expect(await findLockHolder(dir, locks)).toBeUndefined();
    writeFileSync(locks, other + waiter + holder);
    expect(await findLockHolder(dir, locks)).toEqual({ file: join(dir, 'LOCK'), pid: 333, kind: 'FLOCK' });
    // Without /proc/locks (not Linux) the check cannot be made, and says nothing.
    expect(await findLockHolder(dir, join(root, 'no-such-file'))).toBeUndefined();
  });
});
