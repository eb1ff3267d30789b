/**
 * A BackupEngine backup of a Walrus-shaped database, taken by a process holding Walrus's merge
 * operators (play-walrus, the fixture of test/interop/walrus-rocksdb.test.ts, with BACKUP_DIR):
 * bases and unmerged operands in two L0 files and the WAL (not flushed before the backup). Digested
 * in place with --preset walrus, it must give the values Walrus's own unit tests expect (our writer
 * over expected.json is the oracle) and the digest of the database it was taken from.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDigest } from '../../../src/format/digest.js';
import { digestSnapshot } from '../../../src/format/writer.js';
import { REPO, runCli } from '../../helpers/cli.js';
import { cleanup, fingerprint, tempDir } from '../rocksdb/helpers.js';

const FIXTURES = join(REPO, 'test', 'fixtures', 'rocksdb');
const WALRUS = join(FIXTURES, 'walrus');
const TABLES = ['aggregate_blob_info', 'per_object_blob_info', 'per_object_pooled_blob_info', 'storage_pool_info'];
const expected = JSON.parse(readFileSync(join(WALRUS, 'expected.json'), 'utf8')) as { tables: Record<string, { key: string; value: string }[]> };

describe('a BackupEngine backup of a Walrus database, digested in place with --preset walrus', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('sv-walrus-backup-');
    const play = execFileSync('sh', [join(FIXTURES, 'build.sh'), 'walrus/play-walrus.cc'], { encoding: 'utf8' }).trim().split('\n').pop()!;
    execFileSync(play, [join(dir, 'db'), join(WALRUS, 'script.txt'), join(dir, 'backup')], { stdio: ['ignore', 'pipe', 'pipe'] });
  }, 120_000);
  afterAll(() => cleanup(dir));

  it('equals the oracle of expected.json and the source database; the WAL is in the backup; nothing in it changes', async () => {
    const backup = join(dir, 'backup');
    const before = fingerprint(backup);
    const privateFiles = Object.keys(before).filter((p) => p.startsWith(join(backup, 'private')));
    expect(privateFiles.some((p) => p.endsWith('.log')), `the backup keeps the WAL: ${privateFiles.join(', ')}`).toBe(true);
    const entriesOf = (t: string) => expected.tables[t]!.map((e) => ({ key: Buffer.from(e.key, 'hex'), value: Buffer.from(e.value, 'hex') }));
    const oracle = await digestSnapshot({ epoch: 7n, cursor: { index: 0n }, maxChunkBytes: 0n, tables: TABLES.map((name, id) => ({ id, name })) }, TABLES.map(entriesOf));
    const digest = async (path: string) => {
      const r = await runCli(['digest', path, '--preset', 'walrus', '--tables', TABLES.join(','), '--epoch', '7', '--json']);
      expect(r.stderr, path).toBe('');
      expect(r.code, path).toBe(0);
      return JSON.parse(r.stdout) as { digest: string; sourceKind?: string; tables: { name: string; digest: string }[] };
    };
    const fromBackup = await digest(backup);
    expect(fromBackup.tables.map((t) => [t.name, t.digest])).toEqual(oracle.tables.map((t) => [t.name, formatDigest(t.digest)]));
    expect(fromBackup.digest).toBe(formatDigest(oracle.digest));
    expect((await digest(join(dir, 'db'))).digest).toBe(fromBackup.digest);
    expect(fingerprint(backup)).toEqual(before);
  });

  it('without the preset, the operands in the backup are UNSUPPORTED_FEATURE naming Walrus\'s operator (exit 4)', async () => {
    const r = await runCli(['digest', join(dir, 'backup'), '--tables', 'storage_pool_info', '--epoch', '7']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/merge storage pool info/);
  });
});
