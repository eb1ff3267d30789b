import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';

async function fingerprint(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of (await readdir(dir)).sort()) {
    const p = join(dir, f);
    const s = await stat(p);
    out[f] = `${s.size}:${s.mtimeMs}:${s.mode}:${createHash('sha256').update(await readFile(p)).digest('hex')}`;
  }
  return out;
}

/** A dump large enough that writing its snapshot takes a while: ~600k entries. */
async function bigDump(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const stream = createWriteStream(join(dir, 'big.hex'));
  const value = 'ab'.repeat(100);
  for (let i = 0; i < 600_000; i++) {
    if (!stream.write(`0x${i.toString(16).padStart(16, '0')} : 0x${value}\n`)) await new Promise<void>((r) => stream.once('drain', () => r()));
  }
  await new Promise<void>((r) => stream.end(() => r()));
}

describe('outputs are atomic; inputs are never modified', () => {
  it('a digest killed while writing --out leaves no file under the final name', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sv-atomic-'));
    const dump = join(root, 'checkpoint_epoch_5');
    await bigDump(dump);
    const out = join(root, 'out.snap');
    const child = spawn(process.execPath, [BIN, 'digest', dump, '--tables', 'big', '--out', out], { stdio: 'ignore' });
    // Kill as soon as the temporary file exists and has grown: mid-write.
    for (let i = 0; i < 2000; i++) {
      const temps = (await readdir(root)).filter((f) => f.includes('.tmp-'));
      if (temps.length > 0 && (await stat(join(root, temps[0]!))).size > 1 << 20) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    expect((await readdir(root)).includes('out.snap')).toBe(false);
    // The same command left alone completes, and what it wrote verifies.
    const done = await runCli(['digest', dump, '--tables', 'big', '--out', out]);
    expect(done.code).toBe(0);
    expect((await runCli(['verify', out])).code).toBe(0);
  });

  it('digest, verify and inspect change no byte, size, mode or mtime of what they read', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sv-ro-'));
    const dump = join(import.meta.dirname, '..', '..', 'examples', 'dump', 'checkpoint_epoch_42');
    const before = await fingerprint(dump);
    const snap = join(root, 's.snap');
    expect((await runCli(['digest', dump, '--tables', 'per_object_blob_info', '--out', snap])).code).toBe(0);
    const snapBefore = await fingerprint(root);
    expect((await runCli(['verify', snap])).code).toBe(0);
    expect((await runCli(['inspect', snap])).code).toBe(0);
    expect((await runCli(['digest', snap])).code).toBe(0);
    expect(await fingerprint(dump)).toEqual(before);
    expect(await fingerprint(root)).toEqual(snapBefore);
  });
});
