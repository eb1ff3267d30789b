import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile, mkdir, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { snapshotDigest, type Rows } from './oracle.js';

const DUMP = 'examples/dump/checkpoint_epoch_42';
const ROCKS = 'examples/checkpoint_epoch_42';
/** The example's deterministic tables, as the README's Quick start digests them (aggregate_blob_info is node-local). */
const DETERMINISTIC = ['per_object_blob_info', 'per_object_pooled_blob_info', 'storage_pool_info'] as const;
const TABLES = DETERMINISTIC.join(',');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sv-cli-'));
});

/** The same content recomputed without our code: the ENTRY records of a dump, hashed by xxh64sum. */
function independentTableDigest(hexFile: string): string {
  const text = execFileSync('cat', [hexFile]).toString();
  const records = text.split('\n').filter((l) => l.length > 0).map((l) => {
    const [k, v] = l.split(' : ').map((s) => Buffer.from(s.slice(2), 'hex')) as [Buffer, Buffer];
    const prefix = Buffer.alloc(9);
    prefix[0] = 1;
    prefix.writeUInt32LE(k.length, 1);
    prefix.writeUInt32LE(v.length, 5);
    return Buffer.concat([prefix, k, v]);
  });
  return execFileSync('xxh64sum', ['-'], { input: Buffer.concat(records) }).toString().split(/\s/)[0]!;
}

/** A column family of the example RocksDB checkpoint as real RocksDB reads it (`ldb scan --hex`, on a copy: ldb writes to the DB it opens). */
function ldbRows(checkpoint: string, table: string): Rows {
  const copy = execFileSync('mktemp', ['-d']).toString().trim();
  try {
    execFileSync('cp', ['-r', `${checkpoint}/.`, copy]);
    const text = execFileSync('ldb', [`--db=${copy}`, `--column_family=${table}`, 'scan', '--hex'], { maxBuffer: 1 << 28 }).toString();
    return text.split('\n').filter((l) => l.startsWith('0x')).map((l) => {
      const [k, v] = l.split(' : ').map((s) => new Uint8Array(Buffer.from(s.slice(2), 'hex'))) as [Uint8Array, Uint8Array];
      return [k, v] as const;
    });
  } finally {
    execFileSync('rm', ['-rf', copy]);
  }
}

describe('snapshot-verify digest', () => {
  it('prints one summary line, then a line per table, with table digests an independent hash agrees with', async () => {
    const r = await runCli(['digest', DUMP, '--tables', TABLES, '--node', 'n1']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^epoch 42 digest [0-9a-f]{16} entries 2499 node n1 \(/);
    DETERMINISTIC.forEach((t, i) => expect(lines[i + 1]).toContain(`digest ${independentTableDigest(`${DUMP}/${t}.hex`)}`));
  });

  it('the README Quick start digest of the example checkpoint is what ldb scan and xxh64sum give for the three deterministic tables', async () => {
    const r = await runCli(['digest', ROCKS, '--tables', TABLES, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    const tables = DETERMINISTIC.map((name, id) => ({ id, name, rows: ldbRows(ROCKS, name) }));
    expect(report.digest).toBe(snapshotDigest(42n, 0n, tables));
    expect(report.tables.map((t: { name: string }) => t.name)).toEqual([...DETERMINISTIC]);
    expect(report.tables.map((t: { name: string }) => t.name)).not.toContain('aggregate_blob_info');
    // README's Quick start and CI (which runs exactly the Quick start) digest these three tables.
    const quickStart = `npm install && ./bin/snapshot-verify digest ${ROCKS} --tables ${TABLES}`;
    expect(await readFile('README.md', 'utf8')).toContain(`${quickStart}\n`);
    expect(await readFile('.ci/run', 'utf8')).toContain(`${quickStart} || exit 1\n`);
  });

  it('a RocksDB checkpoint and its ldb dump give the same digest', async () => {
    const a = JSON.parse((await runCli(['digest', DUMP, '--tables', TABLES, '--json'])).stdout);
    const b = JSON.parse((await runCli(['digest', ROCKS, '--tables', TABLES, '--json'])).stdout);
    expect(b.digest).toBe(a.digest);
    expect(b.node.sourceKind).toBe('rocksdb');
    expect(a.node.sourceKind).toBe('dump');
  });

  it('--json prints one report with the schema compare reads, node-local facts under node', async () => {
    const r = await runCli(['digest', DUMP, '--tables', TABLES, '--json', '--node', 'alpha', '--cursor', '77:abcd']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report).sort()).toEqual(['bytes', 'chunks', 'cursor', 'digest', 'entries', 'epoch', 'formatVersion', 'maxChunkBytes', 'node', 'rangesPerTable', 'schemaVersion', 'tables'].sort());
    expect(report).toMatchObject({ schemaVersion: 1, formatVersion: 1, epoch: '42', cursor: { index: '77', eventIdHex: 'abcd' }, maxChunkBytes: '0' });
    expect(report.node).toMatchObject({ name: 'alpha', source: DUMP, sourceKind: 'dump' });
    expect(report.tables.map((t: { id: number; name: string }) => [t.id, t.name])).toEqual(DETERMINISTIC.map((name, id) => [id, name]));
  });

  it('table order on the command line does not matter; explicit ids do', async () => {
    const a = JSON.parse((await runCli(['digest', DUMP, '--tables', TABLES, '--json'])).stdout);
    const b = JSON.parse((await runCli(['digest', DUMP, '--tables', 'storage_pool_info,per_object_blob_info,per_object_pooled_blob_info', '--json'])).stdout);
    const c = JSON.parse((await runCli(['digest', DUMP, '--tables', '5=storage_pool_info,7=per_object_pooled_blob_info,9=per_object_blob_info', '--json'])).stdout);
    expect(b.digest).toBe(a.digest);
    expect(c.digest).not.toBe(a.digest);
    expect(c.tables.map((t: { name: string; digest: string }) => t.digest)).toEqual([a.tables[2].digest, a.tables[1].digest, a.tables[0].digest]);
  });

  it('the epoch comes from the checkpoint_epoch_<N> name unless --epoch is given; no epoch is a usage error', async () => {
    const named = JSON.parse((await runCli(['digest', DUMP, '--tables', TABLES, '--json'])).stdout);
    expect(named.epoch).toBe('42');
    const given = JSON.parse((await runCli(['digest', DUMP, '--tables', TABLES, '--json', '--epoch', '43'])).stdout);
    expect(given.epoch).toBe('43');
    expect(given.digest).not.toBe(named.digest);
    const plain = join(dir, 'plain');
    await cp(DUMP, plain, { recursive: true });
    const r = await runCli(['digest', plain, '--tables', TABLES]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--epoch');
    expect(r.stdout).toBe('');
  });

  it('--out writes the snapshot atomically; verify and digest of that file agree with the report', async () => {
    const out = join(dir, 'e42.snap');
    const r = JSON.parse((await runCli(['digest', DUMP, '--tables', TABLES, '--json', '--out', out])).stdout);
    const v = await runCli(['verify', out]);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain(r.digest);
    const again = JSON.parse((await runCli(['digest', out, '--json'])).stdout);
    expect(again.digest).toBe(r.digest);
    expect(again.epoch).toBe('42');
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('digest of a snapshot file verifies all of it, even tables it does not select', async () => {
    const { goldenBytes, loadManifest } = await import('../helpers/golden.js');
    const c = loadManifest('v1').cases.find((x) => x.name === 'blob-info')!;
    const bytes = Buffer.from(goldenBytes('v1', c));
    bytes[6000]! ^= 1; // inside the second table
    const f = join(dir, 'corrupt-second-table.snap');
    await writeFile(f, bytes);
    const r = await runCli(['digest', f, '--tables', '1=aggregate_blob_info']); // a table of the golden case, not of the example
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/CHECKSUM_MISMATCH/);
    const intact = await runCli(['digest', join('golden', 'v1', c.file), '--json']);
    expect(JSON.parse(intact.stdout).digest).toBe(c.digest);
  });

  it('--max-chunk-bytes with --chunk-files writes verifiable chunk files; the chunk set digests like the report', async () => {
    const out = join(dir, 'chunked.snap');
    const r = JSON.parse((await runCli(['digest', DUMP, '--tables', TABLES, '--json', '--max-chunk-bytes', '64KiB', '--out', out, '--chunk-files'])).stdout);
    const files = (await readdir(dir)).filter((f) => f.startsWith('chunked.snap.')).sort();
    expect(files.length).toBe(r.chunks.length);
    expect(r.chunks.length).toBeGreaterThan(5);
    for (const f of files) expect((await readFile(join(dir, f))).length).toBeLessThanOrEqual(65536);
    const v = await runCli(['verify', out]);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain(r.digest);
    const each = await runCli(['verify', '--each-chunk', ...files.map((f) => join(dir, f))]);
    expect(each.code).toBe(0);
    const swapped = await runCli(['verify', '--chunks', join(dir, files[1]!), join(dir, files[0]!), ...files.slice(2).map((f) => join(dir, f))]);
    expect(swapped.code).toBe(3);
    expect(swapped.stdout).toContain('CHUNK_SEQUENCE');
  });

  it('--ranges digests fixed key ranges; a changed value changes exactly one range digest', async () => {
    const changed = join(dir, 'changed', 'checkpoint_epoch_42');
    await mkdir(changed, { recursive: true });
    await cp(DUMP, changed, { recursive: true });
    const file = join(changed, 'per_object_blob_info.hex');
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[700] = lines[700]!.replace(/ : 0x(..)/, (_, b: string) => ` : 0x${b === '00' ? '01' : '00'}`);
    await writeFile(file, lines.join('\n'));
    const a = JSON.parse((await runCli(['digest', DUMP, '--tables', TABLES, '--json', '--ranges', '16'])).stdout);
    const b = JSON.parse((await runCli(['digest', changed, '--tables', TABLES, '--json', '--ranges', '16'])).stdout);
    expect(a.rangesPerTable).toBe(16);
    expect(a.tables[0].digest).not.toBe(b.tables[0].digest);
    expect(a.tables.slice(1).map((t: { digest: string }) => t.digest)).toEqual(b.tables.slice(1).map((t: { digest: string }) => t.digest));
    const differing = a.tables[0].ranges.filter((g: { digest: string }, i: number) => g.digest !== b.tables[0].ranges[i].digest);
    expect(differing).toHaveLength(1);
    const key = lines[700]!.slice(2, 10);
    expect(differing[0].start <= key && (differing[0].end === '' || key < differing[0].end)).toBe(true);
    const sum = a.tables[0].ranges.reduce((n: number, g: { entries: string }) => n + Number(g.entries), 0);
    expect(sum).toBe(Number(a.tables[0].entries));
  });

  it('--prom-textfile writes node_exporter metrics with the digest as an info metric', async () => {
    const prom = join(dir, 'sv.prom');
    const r = JSON.parse((await runCli(['digest', DUMP, '--tables', TABLES, '--json', '--node', 'n7', '--prom-textfile', prom])).stdout);
    const text = await readFile(prom, 'utf8');
    expect(text).toContain(`snapshot_verify_digest_info{epoch="42",node="n7",digest="${r.digest}"`);
    expect(text).toMatch(/^snapshot_verify_entries\{epoch="42",node="n7"\} 2499$/m);
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) expect(line).toMatch(/^[a-z_]+\{[^}]*\} [0-9.]+$/);
  });

  it('without --tables it lists the tables found and exits with the usage code', async () => {
    const r = await runCli(['digest', DUMP]);
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('');
    for (const t of [...DETERMINISTIC, 'aggregate_blob_info']) expect(r.stderr).toMatch(new RegExp(`${t}\\s+~[\\d,]+ entries`));
  });

  it('errors: missing input 2, unknown table 2, bad dump 3, usage 64; one line on stderr, never a stack trace', async () => {
    const missing = await runCli(['digest', join(dir, 'nope'), '--tables', 'a']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^snapshot-verify: NOT_FOUND/);
    const unknown = await runCli(['digest', DUMP, '--tables', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/UNKNOWN_TABLE/);
    const bad = join(dir, 'bad', 'checkpoint_epoch_1');
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, 't.hex'), '0x00 : 0x01\n0xZZ : 0x02\n');
    const b = await runCli(['digest', bad, '--tables', 't', '--json']);
    expect(b.code).toBe(3);
    expect(JSON.parse(b.stdout).error).toMatchObject({ code: 'BAD_DUMP', offset: 12 });
    await writeFile(join(bad, 't.hex'), '0x02 : 0x01\n0x01 : 0x02\n');
    const unsorted = await runCli(['digest', bad, '--tables', 't']);
    expect(unsorted.code).toBe(3);
    expect(unsorted.stderr).toContain('UNSORTED_KEYS');
    for (const args of [['digest'], ['digest', DUMP, '--tables', TABLES, '--cursor', 'x'], ['digest', DUMP, '--tables', TABLES, '--max-chunk-bytes', '10'], ['nonsense']]) {
      const u = await runCli(args);
      expect(u.code, args.join(' ')).toBe(64);
      expect(u.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
