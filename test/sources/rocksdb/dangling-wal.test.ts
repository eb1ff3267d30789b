/**
 * A `*.log` name in a checkpoint that cannot be opened (a dangling symbolic link) is damage in
 * the checkpoint, as a missing table file is: CORRUPT_CHECKPOINT naming it, exit 3. Found by the
 * hostile campaign of issue #8 run from outside: it was NOT_FOUND, exit 2 ("a missing input"),
 * for the WAL being replayed, an older one, and an unreferenced one alike.
 */
import { cpSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { REPO, runCli } from '../../helpers/cli.js';
import { cleanup, tempDir } from './helpers.js';

const FIXTURE = join(REPO, 'test', 'fixtures', 'rocksdb', 'checkpoints', 'ldb-three-families');
const root = tempDir('sv-dangling-wal-');
afterAll(() => cleanup(root));

describe('a dangling symbolic link in place of a WAL', () => {
  test.each([
    ['the WAL replayed', '000053.log'],
    ['an unreferenced, older WAL name', '000001.log'],
  ])('%s: digest, verify and diff say CORRUPT_CHECKPOINT, exit 3', async (_what, name) => {
    const dir = join(root, name, 'checkpoint_epoch_1');
    mkdirSync(join(root, name));
    cpSync(FIXTURE, dir, { recursive: true });
    rmSync(join(dir, name), { force: true });
    symlinkSync(join(root, 'nowhere'), join(dir, name));
    for (const args of [['digest', dir, '--tables', 'meta'], ['verify', dir], ['diff', dir, FIXTURE, '--tables', 'meta']]) {
      const r = await runCli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toContain(`CORRUPT_CHECKPOINT in ${join(dir, name)}`);
    }
  }, 60_000);
});
