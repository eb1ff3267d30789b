/**
 * One writer per output at a time (src/format/output-lock.ts): two overlapping writes of one
 * destination (a cron run that outlived its period) made the first's cleanup remove chunk files
 * the second was about to name. The second now refuses with OUTPUT_BUSY and leaves everything
 * as it was; a lock left by a killed run is taken over; nothing but regular files is touched.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeSnapshot, type Entry, type SnapshotAnchor } from '../../src/format/index.js';
import { lockName } from '../../src/format/output-lock.js';
import { verifySnapshot } from '../../src/format/reader.js';
import { fileSink } from '../../src/format/sinks.js';
import { writeSnapshot } from '../../src/format/writer.js';
import { snapshotFiles } from '../../src/sources/open.js';

const root = mkdtempSync(join(tmpdir(), 'sv-output-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const anchor: SnapshotAnchor = { epoch: 1n, cursor: { index: 0n }, maxChunkBytes: 2048n, tables: [{ id: 0, name: 't' }] };
const content = (count: number, fill: number): Entry[] =>
  Array.from({ length: count }, (_, i) => ({ key: Buffer.from(`k${String(i).padStart(6, '0')}`), value: Buffer.alloc(160, (i + fill) & 0xff) }));
const write = (out: string, entries: Entry[], chunkFiles = true) => writeSnapshot(fileSink(out, { chunkFiles }), anchor, [entries]);
const freshDir = (name: string): string => {
  const dir = join(root, name);
  rmSync(dir, { recursive: true, force: true });
  spawnSync('mkdir', ['-p', dir]);
  return dir;
};
/** A process id no process has now: a child that has exited. */
const deadPid = (): number => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);

describe('one write per output at a time', () => {
  it('of two overlapping writes to one destination, the second refuses (OUTPUT_BUSY) and the first commits; P names a complete set; no lock is left', async () => {
    const a = content(300, 0);
    const b = content(120, 7);
    const digests = [(await encodeSnapshot(anchor, [a])).summary.digest, (await encodeSnapshot(anchor, [b])).summary.digest];
    const dir = freshDir('two');
    const out = join(dir, 'p.snap');
    for (let round = 0; round < 6; round++) {
      const [first, second] = round % 2 === 0 ? [a, b] : [b, a];
      const results = await Promise.allSettled([write(out, first, round % 3 !== 2), write(out, second)]);
      expect(results[0].status).toBe('fulfilled');
      expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: 'OUTPUT_BUSY' } });
      const summary = await verifySnapshot(await snapshotFiles(out));
      expect(summary.digest).toBe(digests[first === a ? 0 : 1]);
      expect(existsSync(lockName(out))).toBe(false);
      expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]); // no temporary file either
    }
  });

  it('a lock left by a process that is gone is taken over; one without a process id only once it is 10 s old', async () => {
    const dir = freshDir('stale');
    const out = join(dir, 'p.snap');
    writeFileSync(lockName(out), `${deadPid()}\n`);
    await write(out, content(50, 1));
    expect(existsSync(lockName(out))).toBe(false);
    writeFileSync(lockName(out), ''); // a writer killed between creating and filling its lock, or one doing so now
    await expect(write(out, content(50, 2))).rejects.toMatchObject({ code: 'OUTPUT_BUSY' });
    utimesSync(lockName(out), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    await write(out, content(50, 2));
    expect((await verifySnapshot(await snapshotFiles(out))).digest).toBe((await encodeSnapshot(anchor, [content(50, 2)])).summary.digest);
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('a live holder in another process: refused, its lock and the destination untouched; a symbolic link or FIFO as the lock is refused, not followed', async () => {
    const dir = freshDir('live');
    const out = join(dir, 'p.snap');
    await write(out, content(40, 3));
    const before = readFileSync(out);
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      writeFileSync(lockName(out), `${holder.pid}\n`);
      await expect(write(out, content(80, 4))).rejects.toMatchObject({ code: 'OUTPUT_BUSY', message: expect.stringContaining(`process ${holder.pid}`) });
      expect(readFileSync(lockName(out), 'latin1')).toBe(`${holder.pid}\n`);
      expect(readFileSync(out)).toEqual(before);
    } finally {
      holder.kill();
    }
    rmSync(lockName(out));
    const target = join(dir, 'target');
    writeFileSync(target, 'not a lock');
    symlinkSync(target, lockName(out));
    await expect(write(out, content(80, 4))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(readFileSync(target, 'latin1')).toBe('not a lock');
    rmSync(lockName(out));
    spawnSync('mkfifo', [lockName(out)]);
    await expect(write(out, content(80, 4))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(readFileSync(out)).toEqual(before);
  });
});
