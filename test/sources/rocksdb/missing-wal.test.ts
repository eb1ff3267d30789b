/**
 * A WAL file missing from between two others is never a silent digest without its writes: it is
 * reported (WAL_SEQUENCE_GAP), and refused with --wal-recovery absolute. Not refused by default:
 * writes made without the WAL (disableWAL, ingested files) leave the same gap in a sound
 * checkpoint, which RocksDB's recovery accepts. Found by the hostile campaign of issue #8 run from outside: deleting the middle WAL of
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

  test('removing any WAL but the oldest and the newest: never silent. By default the digest and verify report WAL_SEQUENCE_GAP naming the next file (text and JSON); --wal-recovery absolute refuses it, CORRUPT_CHECKPOINT, exit 3', async () => {
    const tables = ['--tables', 'default,second,third'];
    const intact = JSON.parse((await runCli(['digest', checkpoint, ...tables, '--json'])).stdout) as { digest: string; warnings?: unknown[] };
    expect(intact.warnings ?? []).toEqual([]);
    for (const [i, name] of wals.entries()) {
      if (i === 0 || i === wals.length - 1) continue;
      const dir = join(root, name, 'checkpoint_epoch_7');
      cpSync(checkpoint, dir, { recursive: true });
      rmSync(join(dir, name));
      const next = join(dir, wals[i + 1]!);
      const json = await runCli(['digest', dir, ...tables, '--json']);
      expect(json.code, `${name}: ${json.stderr}`).toBe(0);
      const report = JSON.parse(json.stdout) as { digest: string; warnings: { code: string; file: string; offset: number; bytes: number; message: string }[] };
      expect(report.digest).not.toBe(intact.digest); // the missing file's writes are not in it: hence the warning
      expect(report.warnings).toEqual([expect.objectContaining({ code: 'WAL_SEQUENCE_GAP', file: next, bytes: 0 })]);
      expect(report.warnings[0]!.message).toMatch(/a WAL file between them is missing/);
      const text = await runCli(['digest', dir, ...tables]);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain(`warning WAL_SEQUENCE_GAP in ${next}`);
      const verify = await runCli(['verify', dir]);
      expect(verify.code, verify.stderr).toBe(0);
      expect(verify.stdout).toContain(`warning WAL_SEQUENCE_GAP in ${next}`);
      for (const args of [['digest', dir, ...tables], ['verify', dir]]) {
        const r = await runCli([...args, '--wal-recovery', 'absolute']);
        expect(r.code, `${name}: ${args[0]}: ${r.stderr}`).toBe(3);
        expect(r.stderr).toContain(`CORRUPT_CHECKPOINT in ${next}`);
        expect(r.stderr).toMatch(/a WAL file between them is missing.*refused with --wal-recovery absolute/);
      }
    }
  }, 120_000);
});
