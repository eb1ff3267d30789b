/**
 * BackupEngine backups digested in place (src/sources/rocksdb-backup/), against real RocksDB:
 * backups made by `ldb backup` and by the fixture tool's BackupEngine (shared_checksum/ with
 * session and legacy names, shared/, private table files, meta schemas 1 and 2, several backups
 * sharing files, one deleted). Each digest must equal the digest of a checkpoint of the same
 * database state and the digest of its `ldb scan` dump (xxh64sum, no code of ours); nothing in
 * the backup directory may change; damage is CORRUPT_CHECKPOINT naming the file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32c } from '../../../src/sources/rocksdb/util/crc32c.js';
import { REPO, runCli } from '../../helpers/cli.js';
import { cleanup, fingerprint, makeFixture, snapshotErrorOf, tempDir } from '../rocksdb/helpers.js';
import { digestHere, digestOf, EPOCH, FAMILIES, ldbDigest, walrusShaped } from './fixtures.js';

let dir: string;
beforeAll(() => {
  dir = tempDir('sv-backup-');
});
afterAll(() => cleanup(dir));

/** A copy of a backup directory to damage. */
function copyOf(src: string, name: string): string {
  const to = join(dir, name);
  cpSync(src, to, { recursive: true });
  return to;
}

describe('ldb backup (Debian rocksdb-tools 7.8.3)', () => {
  it('digest of the newest ldb backup = digest of an ldb checkpoint of the same database = digest of its ldb scan dump', async () => {
    const db = join(dir, 'ldb-db');
    makeFixture(['--db', db, ...walrusShaped(11)]);
    // The fixture tool opens with error_if_exists, which its OPTIONS file records and ldb would
    // apply when it loads the options (keeping the merge operator it must know): turned off.
    for (const f of readdirSync(db).filter((n) => n.startsWith('OPTIONS-'))) {
      writeFileSync(join(db, f), readFileSync(join(db, f), 'utf8').replace('error_if_exists=true', 'error_if_exists=false'));
    }
    const backups = join(dir, 'ldb-backups');
    execFileSync('ldb', [`--db=${db}`, 'backup', `--backup_dir=${backups}`], { stdio: 'pipe' });
    // A second backup after more writes: the newest is the default.
    execFileSync('ldb', [`--db=${db}`, '--column_family=storage_pool_info', 'put', '--hex', '0x5A01', '0x0102'], { stdio: 'pipe' });
    execFileSync('ldb', [`--db=${db}`, 'backup', `--backup_dir=${backups}`], { stdio: 'pipe' });
    const checkpoint = join(dir, 'ldb-checkpoint');
    execFileSync('ldb', [`--db=${db}`, 'checkpoint', `--checkpoint_dir=${checkpoint}`], { stdio: 'pipe' });
    expect(readdirSync(join(backups, 'meta')).sort()).toEqual(['1', '2']);
    const before = fingerprint(backups);
    const latest = await digestOf(backups);
    expect(latest.node.sourceKind).toBe('rocksdb-backup');
    // The report says which backup it digested: the newest by default, the chosen one with --backup-id.
    expect(latest.node.backupId).toBe(2);
    expect(latest.digest).toBe(await digestHere(checkpoint));
    expect(latest.digest).toBe(ldbDigest(checkpoint));
    expect(await digestHere(backups, { backupId: 2 })).toBe(latest.digest);
    // Backup 1 predates the put into storage_pool_info: another digest, the same for the other two tables.
    const first = await digestOf(backups, FAMILIES, ['--backup-id', '1']);
    expect(first.digest).not.toBe(latest.digest);
    expect(first.node.backupId).toBe(1);
    const text = await runCli(['digest', backups, '--tables', FAMILIES.join(','), '--epoch', String(EPOCH), '--backup-id', '1']);
    expect(text.stderr).toBe('');
    expect(text.stdout).toContain(`  from backup 1 of ${backups}\n`);
    expect(first.tables.slice(0, 2)).toEqual(latest.tables.slice(0, 2));
    expect(fingerprint(backups)).toEqual(before);
  });
});

describe('BackupEngine backups made by the fixture tool', () => {
  /** Four backups (one per round, one after the merge workload and WAL writes), each beside a checkpoint of the same state; backup 2 deleted. */
  async function threeRounds(name: string, flags: string[]): Promise<{ backups: string; checkpoint: (id: number) => string }> {
    const backups = join(dir, `${name}-backups`);
    const ck = join(dir, `${name}-ck`);
    makeFixture(['--db', join(dir, `${name}-db`), ...walrusShaped(23), '--backup', backups, '--backup-every-round', '--checkpoint', ck, '--delete-backup', '2', ...flags]);
    return { backups, checkpoint: (id) => `${ck}-${id}` };
  }

  const layouts: [string, string[], RegExp][] = [
    ['shared_checksum/, session-id names, meta schema 1', [], /^shared_checksum\/\d+_s[0-9A-Z]+_\d+\.sst$/],
    ['shared_checksum/, legacy <crc32c>_<size> names, meta schema 2', ['--backup-naming', 'legacy', '--backup-schema', '2'], /^shared_checksum\/\d+_\d+_\d+\.sst$/],
    ['shared/ (share_files_with_checksum off)', ['--backup-share-checksum', '0'], /^shared\/\d+\.sst$/],
    ['table files in private/<id>/ (share_table_files off), meta schema 2', ['--backup-share-tables', '0', '--backup-schema', '2'], /^private\/\d+\/\d+\.sst$/],
  ];
  for (const [i, [title, flags, tableName]] of layouts.entries()) {
    it(`${title}: each remaining backup's digest = its checkpoint's = its ldb dump's; the deleted one is NOT_FOUND; nothing changes`, async () => {
      const { backups, checkpoint } = await threeRounds(`layout${i}`, flags);
      const meta = (id: number) => readFileSync(join(backups, 'meta', String(id)), 'utf8');
      expect(readdirSync(join(backups, 'meta')).sort()).toEqual(['1', '3', '4']);
      const tables4 = meta(4).split('\n').filter((l) => l.includes('.sst ')).map((l) => l.split(' ')[0]!);
      expect(tables4.length).toBeGreaterThan(0);
      for (const t of tables4) expect(t).toMatch(tableName);
      // The newest backup holds the WAL (merge operands and puts not flushed).
      expect(meta(4)).toMatch(/^private\/4\/\d+\.log crc32 /m);
      if (flags.includes('--backup-schema')) expect(meta(4)).toMatch(/^schema_version 2/);
      else expect(meta(4)).not.toMatch(/^schema_version/);
      if (!flags.includes('--backup-share-tables')) {
        // Backups share files: backup 1's table files are listed by backup 3 too (the merge workload compacts them away before 4).
        const tablesOf = (id: number) => meta(id).split('\n').filter((l) => l.includes('.sst ')).map((l) => l.split(' ')[0]!);
        expect(tablesOf(1).filter((t) => tablesOf(3).includes(t)).length).toBeGreaterThan(0);
      }
      const before = fingerprint(backups);
      // The newest through the CLI, against real RocksDB's reading of the checkpoint; the others in process.
      const newest = (await digestOf(backups)).digest;
      expect(newest).toBe(ldbDigest(checkpoint(4)));
      expect(newest).toBe(await digestHere(checkpoint(4)));
      expect(await digestHere(backups, { backupId: 3 })).toBe(await digestHere(checkpoint(3)));
      const first = await digestHere(backups, { backupId: 1 });
      expect(first).toBe(await digestHere(checkpoint(1)));
      expect(new Set([first, await digestHere(backups, { backupId: 3 }), newest]).size).toBe(3);
      const gone = await snapshotErrorOf(() => digestHere(backups, { backupId: 2 }));
      expect(gone.code).toBe('NOT_FOUND');
      expect(gone.message).toContain('its backups: 1, 3, 4');
      expect(fingerprint(backups)).toEqual(before);
    }, 60_000);
  }

  describe('damage and what is not read', () => {
    let backups: string;
    beforeAll(async () => {
      backups = (await threeRounds('damage', [])).backups;
    }, 60_000);

    /** The exit code and the one error line of `digest` of the newest backup of `b`. */
    async function failure(b: string): Promise<{ code: number | null; stderr: string; error: { code: string; file: string; offset: number | null } }> {
      const r = await runCli(['digest', b, '--tables', FAMILIES.join(','), '--epoch', String(EPOCH), '--json']);
      return { code: r.code, stderr: r.stderr, error: r.stdout === '' ? undefined : JSON.parse(r.stdout).error };
    }

    function sharedTable(b: string, id = 4): string {
      const line = readFileSync(join(b, 'meta', String(id)), 'utf8').split('\n').find((l) => l.startsWith('shared_checksum/'))!;
      return line.split(' ')[0]!;
    }

    it('a flipped byte in a shared SST is CORRUPT_CHECKPOINT naming the file, at the offset of the damaged block', async () => {
      const b = copyOf(backups, 'flip');
      const rel = sharedTable(b);
      const path = join(b, rel);
      const bytes = readFileSync(path);
      bytes[100] = bytes[100]! ^ 0x20; // inside the first data block
      writeFileSync(path, bytes);
      const before = fingerprint(b);
      const f = await failure(b);
      expect(f.code).toBe(3);
      expect(f.error.code).toBe('CORRUPT_CHECKPOINT');
      expect(f.error.file).toBe(path);
      expect(f.stderr).toContain('crc32c');
      // The table reader's block checksums locate it: the first data block starts at 0.
      expect(f.error.offset).toBe(0);
      const v = await runCli(['verify', b, '--json']);
      expect(v.code).toBe(3);
      expect(JSON.parse(v.stdout).results[0].error).toMatchObject({ code: 'CORRUPT_CHECKPOINT', file: path });
      expect(fingerprint(b)).toEqual(before);
    });

    it('verify BACKUP reads every block: a damaged block whose file crc32c the meta file was made to match is still CORRUPT_CHECKPOINT', async () => {
      const b = copyOf(backups, 'flip-recrc');
      const rel = sharedTable(b);
      const path = join(b, rel);
      const bytes = readFileSync(path);
      bytes[100] = bytes[100]! ^ 0x20;
      writeFileSync(path, bytes);
      const meta = join(b, 'meta', '4');
      writeFileSync(meta, readFileSync(meta, 'utf8').replace(new RegExp(`^(${rel} crc32 )\\d+`, 'm'), `$1${crc32c(bytes) >>> 0}`));
      const v = await runCli(['verify', b, '--json']);
      expect(v.code).toBe(3);
      const error = JSON.parse(v.stdout).results[0].error;
      expect(error).toMatchObject({ code: 'CORRUPT_CHECKPOINT', file: path, offset: 0 });
      expect(error.message).toMatch(/block/);
      expect(error.message).not.toMatch(/the backup records|meta file/); // not the file's crc32c: it matched
    });

    it('a shared SST of another size than its name and meta line record is CORRUPT_CHECKPOINT at the recorded end', async () => {
      const b = copyOf(backups, 'grown');
      const rel = sharedTable(b);
      const size = readFileSync(join(b, rel)).length;
      appendFileSync(join(b, rel), Buffer.of(0));
      const f = await failure(b);
      expect(f.code).toBe(3);
      expect(f.error).toMatchObject({ code: 'CORRUPT_CHECKPOINT', file: join(b, rel), offset: size });
    });

    it('a changed private file (the MANIFEST) is caught by its crc32c before anything is read', async () => {
      const b = copyOf(backups, 'manifest');
      const name = readdirSync(join(b, 'private', '4')).find((n) => n.startsWith('MANIFEST-'))!;
      const path = join(b, 'private', '4', name);
      const bytes = readFileSync(path);
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
      writeFileSync(path, bytes);
      const f = await failure(b);
      expect(f.code).toBe(3);
      expect(f.error).toMatchObject({ code: 'CORRUPT_CHECKPOINT', file: path });
    });

    it('a file in private/<id>/ that the meta file does not list is refused, never read', async () => {
      const b = copyOf(backups, 'stray');
      writeFileSync(join(b, 'private', '4', '999999.log'), 'x');
      const f = await failure(b);
      expect(f.code).toBe(3);
      expect(f.error).toMatchObject({ code: 'CORRUPT_CHECKPOINT', file: join(b, 'private', '4', '999999.log') });
    });

    it('a missing shared file is CORRUPT_CHECKPOINT naming it', async () => {
      const b = copyOf(backups, 'missing');
      const rel = sharedTable(b);
      rmSync(join(b, rel));
      const f = await failure(b);
      expect(f.code).toBe(3);
      expect(f.error).toMatchObject({ code: 'CORRUPT_CHECKPOINT', file: join(b, rel) });
    });

    it('a FIFO where a shared SST belongs is refused from its stat, never opened (no hang)', async () => {
      const b = copyOf(backups, 'fifo');
      const rel = sharedTable(b);
      rmSync(join(b, rel));
      expect(spawnSync('mkfifo', [join(b, rel)]).status).toBe(0);
      const f = await failure(b);
      expect(f.code).toBe(3);
      expect(f.error).toMatchObject({ code: 'CORRUPT_CHECKPOINT', file: join(b, rel), offset: 0 });
      expect(f.stderr).toContain('not a regular file');
    }, 10_000);

    it('a meta file announcing more files than it lists is CORRUPT_CHECKPOINT in the meta file', async () => {
      const b = copyOf(backups, 'count');
      const path = join(b, 'meta', '4');
      const lines = readFileSync(path, 'utf8').split('\n');
      lines[2] = String(Number(lines[2]) + 1);
      writeFileSync(path, lines.join('\n'));
      const f = await failure(b);
      expect(f.code).toBe(3);
      expect(f.error).toMatchObject({ code: 'CORRUPT_CHECKPOINT', file: path });
    });

    it('a non-ignorable field of a future schema and an unknown schema version are UNSUPPORTED_FEATURE naming them (exit 4)', async () => {
      for (const [name, edit] of [
        // schema 2: timestamp, sequence number, then fields before the number of files
        ['ni-field', (t: string) => { const l = t.split('\n'); l.splice(2, 0, 'ni::future x'); return `schema_version 2.1\n${l.join('\n')}`; }],
        ['schema-3', (t: string) => `schema_version 3\n${t}`],
      ] as const) {
        const b = copyOf(backups, name);
        const path = join(b, 'meta', '4');
        writeFileSync(path, edit(readFileSync(path, 'utf8')));
        const f = await failure(b);
        expect(f.code).toBe(4);
        expect(f.error.code).toBe('UNSUPPORTED_FEATURE');
        expect(f.stderr).toContain(name === 'ni-field' ? 'ni::future' : '"3"');
      }
    });
  });

  it('`backups` lists id, time, sequence number, files and bytes of each backup; --backup-id on a checkpoint is a usage error', async () => {
    const { backups, checkpoint } = await threeRounds('list', []);
    const r = await runCli(['backups', backups, '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { id: number; timestamp: string; sequence: string; files: number; bytes: number }[];
    expect(rows.map((x) => x.id)).toEqual([1, 3, 4]);
    for (const row of rows) {
      const lines = readFileSync(join(backups, 'meta', String(row.id)), 'utf8').split('\n');
      expect(row.timestamp).toBe(new Date(Number(lines[0]) * 1000).toISOString());
      expect(row.sequence).toBe(lines[1]);
      expect(row.files).toBe(Number(lines[2]));
      const sizes = lines.slice(3).filter((l) => l !== '').map((l) => readFileSync(join(backups, l.split(' ')[0]!)).length);
      expect(row.bytes).toBe(sizes.reduce((a, b) => a + b, 0));
    }
    const text = await runCli(['backups', backups]);
    expect(text.stdout).toMatch(/\n +1 +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +\d+ +\d+ +[\d,]+\n +3 .*\n +4 /);
    const usage = await runCli(['digest', checkpoint(3), '--backup-id', '1', '--tables', FAMILIES.join(','), '--epoch', '7']);
    expect(usage.code).toBe(64);
    expect(usage.stderr).toContain('--backup-id');
    // verify BACKUP: the listed files against the meta file, then every block and WAL record, as
    // verify <checkpoint> reads a checkpoint of the same state.
    for (const id of [3, 4]) {
      const v = await runCli(['verify', backups, '--backup-id', String(id), '--json']);
      expect(v.code, v.stderr).toBe(0);
      const c = await runCli(['verify', checkpoint(id), '--json']);
      expect(c.code, c.stderr).toBe(0);
      const [got, want] = [JSON.parse(v.stdout).results[0], JSON.parse(c.stdout).results[0]];
      expect(got.backupId).toBe(id);
      expect(got.checkpoint).toMatchObject({ columnFamilies: want.checkpoint.columnFamilies, tableEntries: want.checkpoint.tableEntries });
      expect(got.checkpoint.tableEntries).toBeGreaterThan(0);
    }
    expect((await runCli(['verify', backups])).stdout).toMatch(/^OK {3}.* {2}RocksDB backup 4: \d+ column families, \d+ table files/);
    expect((await runCli(['verify', backups, '--backup-id', '2'])).stderr).toContain('has no backup 2; its backups: 1, 3, 4');
    const verifyUsage = await runCli(['verify', checkpoint(3), '--backup-id', '1']);
    expect(verifyUsage.code).toBe(64);
    expect(verifyUsage.stderr).toContain('--backup-id');
  }, 60_000);

  it('digest --help, the README and the runbook show the backup path beside the checkpoint path', async () => {
    const help = await runCli(['digest', '--help']);
    expect(help.stdout).toContain('BackupEngine directory');
    expect(help.stdout).toContain('--backup-id');
    expect(help.stdout).toContain('metadata.json');
    const runbook = readFileSync(join(REPO, 'docs', 'RUNBOOK.md'), 'utf8');
    expect(runbook).toContain('snapshot-verify digest /var/lib/node/backups --backup-id 12');
    expect(readFileSync(join(REPO, 'README.md'), 'utf8')).toContain('| `backups <dir>` |');
  });
});
