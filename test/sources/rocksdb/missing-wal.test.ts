/**
 * A WAL file missing from between two others is CORRUPT_CHECKPOINT, never a digest without its
 * writes. Found by the hostile campaign of issue #8 run from outside: deleting the middle WAL of
 * five (a real RocksDB checkpoint, three families, memtables switched by a small write buffer)
 * gave exit 0 and a different digest, unreported. WAL files hold consecutive sequence numbers,
 * so the gap shows where the next file starts.
 */
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { cleanup, makeFixture, makeFixtureBinary, tempDir } from './helpers.js';

const root = tempDir('sv-missing-wal-');
const checkpoint = join(root, 'made', 'checkpoint_epoch_7');
afterAll(() => cleanup(root));

describe.runIf(makeFixtureBinary() !== null)('a WAL file missing between two others', () => {
  let wals: string[] = [];
  beforeAll(() => {
    mkdirSync(join(root, 'made'));
    makeFixture(['--db', join(root, 'db'), '--checkpoint', checkpoint, '--keys', '1200', '--rounds', '2', '--key-size', '16', '--value-size', '40',
      '--write-buffer-size', '65536', '--no-flush', '--cf', 'second', '--cf', 'third', '--wal-keys', '10']);
    wals = readdirSync(checkpoint).filter((n) => n.endsWith('.log')).sort();
  }, 120_000);

  test('the checkpoint has at least three WAL files, and digests intact', async () => {
    expect(wals.length).toBeGreaterThanOrEqual(3);
    expect((await runCli(['digest', checkpoint, '--tables', 'default,second,third'])).code).toBe(0);
  });

  test('removing any WAL but the oldest and the newest: digest and verify say CORRUPT_CHECKPOINT naming the next file, exit 3', async () => {
    for (const [i, name] of wals.entries()) {
      if (i === 0 || i === wals.length - 1) continue;
      const dir = join(root, name, 'checkpoint_epoch_7');
      cpSync(checkpoint, dir, { recursive: true });
      rmSync(join(dir, name));
      for (const args of [['digest', dir, '--tables', 'default,second,third'], ['verify', dir]]) {
        const r = await runCli(args);
        expect(r.code, `${name}: ${args[0]}: ${r.stderr}`).toBe(3);
        expect(r.stderr).toContain(`CORRUPT_CHECKPOINT in ${join(dir, wals[i + 1]!)}`);
        expect(r.stderr).toMatch(/a WAL file between them is missing/);
      }
    }
  }, 120_000);
});
