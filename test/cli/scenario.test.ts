import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveXxh64sum, rangeOfKey, snapshotDigest, tableDigest, type Rows } from './oracle.js';
import { runCli } from '../helpers/cli.js';

/**
 * The epoch-boundary runbook on seven simulated nodes, with REAL RocksDB databases made by
 * Debian's `ldb`, checkpointed (`ldb checkpoint`) and dumped with `ldb scan --hex`:
 *
 *   node-1  epoch 12  rows loaded in ascending order, then compacted
 *   node-2  epoch 12  rows loaded in reverse order in three batches, never compacted
 *   node-3  epoch 12  stale values and extra rows first, then overwrites, deletes and a range delete
 *   node-4  epoch 12  as node-3, then compacted (tombstones dropped)
 *   node-5  epoch 12  as node-1, but ONE value of table `objects` differs by one bit
 *   node-6  epoch 13  same content as node-1, one epoch later: incomparable
 *   node-7  epoch 12  its report is cut short in transfer: corrupt
 *
 * Every node also holds node-local state (the default column family) that --tables leaves out.
 * Expected digests come from the independent oracle (./oracle.ts: spec framing + xxh64sum).
 */

const LDB = '/usr/bin/ldb';
const RANGES = 16;
const TABLES = 'blob_info,objects';
const haveTools = existsSync(LDB) && haveXxh64sum();

const sha = (s: string): Buffer => createHash('sha256').update(s).digest();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The logical content every honest node holds at epoch 12: keys spread over the key space. */
function rowsOf(prefix: string, n: number, keyBytes: number): [Buffer, Buffer][] {
  const rows: [Buffer, Buffer][] = [];
  for (let i = 0; i < n; i++) {
    const key = sha(`${prefix}-key-${i}`).subarray(0, keyBytes);
    const len = 8 + ((i * 37) % 113); // 8 … 120 bytes: some longer than the 64-byte preview
    const value = Buffer.concat([sha(`${prefix}-val-${i}`), sha(`${prefix}-val2-${i}`), sha(`${prefix}-val3-${i}`), sha(`${prefix}-val4-${i}`)]).subarray(0, len);
    rows.push([key, value]);
  }
  return rows.sort((x, y) => Buffer.compare(x[0], y[0]));
}

const BLOB_INFO = rowsOf('blob', 240, 32).filter(([k]) => !(k[0] === 0xff && k[1] === 0xff));
const OBJECTS = rowsOf('obj', 80, 16).filter(([k]) => !(k[0] === 0xff && k[1] === 0xff));
/** The single changed value of node-5: a key in the middle of `objects`, last value byte flipped. */
const CHANGED = OBJECTS[40]!;
const CHANGED_VALUE = Buffer.from(CHANGED[1]);
CHANGED_VALUE[CHANGED_VALUE.length - 1]! ^= 0x01;
const OBJECTS_5: [Buffer, Buffer][] = OBJECTS.map(([k, v]) => [k, k === CHANGED[0] ? CHANGED_VALUE : v]);

let dir: string;
const node = (n: number): string => join(dir, `node-${n}`);
const report = (n: number): string => join(dir, 'reports', `node-${n}.json`);
const dumpDir = (n: number, epoch: number): string => join(node(n), 'dump', `checkpoint_epoch_${epoch}`);

function ldb(db: string, args: string[], input?: string): string {
  const r = spawnSync(LDB, [`--db=${db}`, ...args], { input: input ?? '', encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ldb ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** `ldb load` input: one `0xKEY ==> 0xVALUE` line per row. */
function loadLines(rows: Rows): string {
  return rows.map(([k, v]) => `0x${hex(k)} ==> 0x${hex(v)}\n`).join('');
}
function load(db: string, cf: string, rows: Rows): void {
  ldb(db, [`--column_family=${cf}`, '--hex', 'load'], loadLines(rows));
}

/** A fresh database with its node-local default column family and the two replicated ones. */
function create(db: string, name: string): void {
  mkdirSync(db, { recursive: true });
  ldb(db, ['--create_if_missing', '--hex', 'put', `0x${hex(Buffer.from('node_name'))}`, `0x${hex(Buffer.from(name))}`]);
  ldb(db, ['--hex', 'put', `0x${hex(Buffer.from('last_gc_ms'))}`, `0x${hex(Buffer.from(String(name.length * 1234)))}`]);
  ldb(db, ['create_column_family', 'blob_info']);
  ldb(db, ['create_column_family', 'objects']);
}

/** The epoch boundary: a RocksDB checkpoint `checkpoint_epoch_<N>`, then `ldb scan --hex` per column family. */
function checkpointAndDump(n: number, db: string, epoch: number): void {
  const checkpoint = join(node(n), `checkpoint_epoch_${epoch}`);
  ldb(db, ['checkpoint', `--checkpoint_dir=${checkpoint}`]);
  const out = dumpDir(n, epoch);
  mkdirSync(out, { recursive: true });
  for (const cf of ['default', 'blob_info', 'objects']) writeFileSync(join(out, `${cf}.hex`), ldb(checkpoint, [`--column_family=${cf}`, 'scan', '--hex']));
}

function buildNodes(): void {
  const stale = (rows: Rows): [Buffer, Buffer][] => rows.map(([k, v]) => [Buffer.from(k), Buffer.concat([Buffer.from(v), Buffer.from('stale')])]);
  // Extra rows that honest nodes 3 and 4 write and then delete: most under prefix ff ff (range delete), two one by one.
  const extras = (p: string): [Buffer, Buffer][] => Array.from({ length: 10 }, (_, i) => [Buffer.concat([Buffer.from([0xff, 0xff, i]), sha(`${p}-x-${i}`).subarray(0, 8)]), Buffer.from('gone')] as [Buffer, Buffer]);
  const loose = (p: string): [Buffer, Buffer][] => [0, 1].map((i) => [sha(`${p}-loose-${i}`).subarray(0, 20), Buffer.from('gone')] as [Buffer, Buffer]);

  for (const n of [1, 5, 6, 7]) {
    const db = join(node(n), 'db');
    create(db, `node-${n}`);
    load(db, 'blob_info', BLOB_INFO);
    load(db, 'objects', OBJECTS);
    if (n === 5) ldb(db, ['--column_family=objects', '--hex', 'put', `0x${hex(CHANGED[0])}`, `0x${hex(CHANGED_VALUE)}`]);
    if (n !== 7) {
      ldb(db, ['--column_family=blob_info', 'compact']);
      ldb(db, ['--column_family=objects', 'compact']);
    }
    checkpointAndDump(n, db, n === 6 ? 13 : 12);
  }
  {
    const db = join(node(2), 'db');
    create(db, 'node-2');
    const rev = [...BLOB_INFO].reverse();
    for (let i = 0; i < 3; i++) load(db, 'blob_info', rev.slice(i * 80, (i + 1) * 80));
    load(db, 'objects', [...OBJECTS].reverse());
    checkpointAndDump(2, db, 12);
  }
  for (const n of [3, 4]) {
    const db = join(node(n), 'db');
    create(db, `node-${n}`);
    load(db, 'blob_info', [...stale(BLOB_INFO), ...extras('b'), ...loose('b')]);
    load(db, 'objects', [...stale(OBJECTS), ...extras('o')]);
    ldb(db, ['--column_family=blob_info', 'compact']); // the stale values reach an SST first
    load(db, 'blob_info', BLOB_INFO);
    load(db, 'objects', OBJECTS);
    ldb(db, ['--column_family=blob_info', '--hex', 'deleterange', '0xFFFF', '0xFFFFFF']);
    ldb(db, ['--column_family=objects', '--hex', 'deleterange', '0xFFFF', '0xFFFFFF']);
    for (const [k] of loose('b')) ldb(db, ['--column_family=blob_info', '--hex', 'delete', `0x${hex(k)}`]);
    if (n === 4) {
      ldb(db, ['--column_family=blob_info', 'compact']);
      ldb(db, ['--column_family=objects', 'compact']);
    }
    checkpointAndDump(n, db, 12);
  }
}

/** The SST files of a checkpoint with their sizes: the physical layout. */
function physical(n: number, epoch = 12): string {
  const d = join(node(n), `checkpoint_epoch_${epoch}`);
  return readdirSync(d).filter((f) => f.endsWith('.sst') || f.endsWith('.log')).sort().map((f) => `${f}:${statSync(join(d, f)).size}`).join(' ');
}

const catalog = (objects: Rows) => [
  { id: 0, name: 'blob_info', rows: BLOB_INFO },
  { id: 1, name: 'objects', rows: objects },
];

describe.skipIf(!haveTools)('scenario: seven nodes at an epoch boundary (real RocksDB via ldb)', () => {
  let expected: { snapshot: string; blobInfo: string; objects: string; objects5: string; snapshot5: string };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sv-scenario-'));
    buildNodes();
    mkdirSync(join(dir, 'reports'));
    const runs = [1, 2, 3, 4, 5, 6, 7].map(async (n) => {
      const epoch = n === 6 ? 13 : 12;
      const out = n === 1 || n === 5 ? ['--out', join(dir, `node-${n}.snap`)] : [];
      const r = await runCli(['digest', dumpDir(n, epoch), '--tables', TABLES, '--json', '--node', `node-${n}`, '--ranges', String(RANGES), ...out]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      writeFileSync(report(n), r.stdout);
    });
    await Promise.all(runs);
    // node-7's report is cut short on its way to the operator.
    const text = readFileSync(report(7), 'utf8');
    writeFileSync(report(7), text.slice(0, Math.floor(text.length / 2)));
    expected = {
      snapshot: snapshotDigest(12n, 0n, catalog(OBJECTS)),
      blobInfo: tableDigest(BLOB_INFO),
      objects: tableDigest(OBJECTS),
      objects5: tableDigest(OBJECTS_5),
      snapshot5: snapshotDigest(12n, 0n, catalog(OBJECTS_5)),
    };
  }, 60_000);

  // SV_KEEP_SCENARIO=1 keeps the nodes, checkpoints, dumps and reports to look at by hand.
  afterAll(() => {
    if (process.env['SV_KEEP_SCENARIO'] === '1') console.log(`scenario kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  });

  it('the databases are physically different but their dumps of the replicated tables are identical', () => {
    expect(new Set([1, 2, 3, 4].map((n) => physical(n))).size).toBeGreaterThan(1);
    expect(physical(1)).not.toBe(physical(3));
    for (const cf of ['blob_info', 'objects']) {
      const first = readFileSync(join(dumpDir(1, 12), `${cf}.hex`));
      for (const n of [2, 3, 4]) expect(readFileSync(join(dumpDir(n, 12), `${cf}.hex`)).equals(first), `node-${n} ${cf}`).toBe(true);
    }
    // …while the node-local default column family differs, and stays out of the digest.
    expect(readFileSync(join(dumpDir(1, 12), 'default.hex'), 'utf8')).not.toBe(readFileSync(join(dumpDir(2, 12), 'default.hex'), 'utf8'));
  });

  it('digest of every honest node equals the independently computed digest', () => {
    for (const n of [1, 2, 3, 4]) {
      const r = JSON.parse(readFileSync(report(n), 'utf8')) as { digest: string; tables: { name: string; digest: string; entries: string }[] };
      expect(r.digest, `node-${n}`).toBe(expected.snapshot);
      expect(r.tables.map((t) => [t.name, t.digest, t.entries])).toEqual([
        ['blob_info', expected.blobInfo, String(BLOB_INFO.length)],
        ['objects', expected.objects, String(OBJECTS.length)],
      ]);
    }
    const odd = JSON.parse(readFileSync(report(5), 'utf8')) as { digest: string; tables: { digest: string }[] };
    expect(odd.digest).toBe(expected.snapshot5);
    expect(odd.tables.map((t) => t.digest)).toEqual([expected.blobInfo, expected.objects5]);
    expect(expected.snapshot5).not.toBe(expected.snapshot);
  });

  it('compare over all reports: DIVERGENCE (exit 1) naming node-5, table objects and its key range; node-6 incomparable; node-7 corrupt', async () => {
    const r = await runCli(['compare', join(dir, 'reports')]);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`DIVERGENCE at epoch 12: 4 of 5 nodes agree on ${expected.snapshot}; minority: node-5 (${report(5)}); not compared: 1 incomparable report, 1 corrupt report`);
    const range = rangeOfKey(CHANGED[0], RANGES);
    const start = ((BigInt(range) << 32n) / BigInt(RANGES)).toString(16).padStart(8, '0');
    const end = ((BigInt(range + 1) << 32n) / BigInt(RANGES)).toString(16).padStart(8, '0');
    expect(r.stdout).toContain(`    table objects (id 1): digest ${expected.objects5}, expected ${expected.objects}; entries ${OBJECTS.length}, expected ${OBJECTS.length}\n      range ${range} [${start}, ${end}): entries`);
    expect(r.stdout).not.toContain('table blob_info (id 0): digest');
    expect(r.stdout).toContain(`node-6 (${report(6)}): epoch 13 (compared: 12)`);
    expect(r.stdout).toMatch(/node-7\.json: BAD_REPORT at offset 0: truncated JSON/);
    expect(r.stderr).toMatch(/^snapshot-verify: BAD_REPORT in .*node-7\.json at offset 0/);
  });

  it('compare --json says the same for automation', async () => {
    const r = await runCli(['compare', join(dir, 'reports'), '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as Record<string, any>;
    expect(doc['verdict']).toBe('DIVERGENCE');
    expect(doc['authoritativeDigest']).toBe(expected.snapshot);
    expect(doc['minority']).toEqual([
      {
        node: 'node-5',
        file: report(5),
        digest: expected.snapshot5,
        tables: [{ id: 1, name: 'objects', digest: expected.objects5, expected: expected.objects, entries: String(OBJECTS.length), expectedEntries: String(OBJECTS.length), ranges: [expect.objectContaining({ index: rangeOfKey(CHANGED[0], RANGES) })] }],
      },
    ]);
    expect(doc['incomparable']).toEqual([{ node: 'node-6', file: report(6), differences: [{ field: 'epoch', value: '13', compared: '12' }] }]);
    expect(doc['errors'].map((e: any) => [e.file, e.code])).toEqual([[report(7), 'BAD_REPORT']]);
  });

  it('compare of the honest nodes only: AGREE (exit 0); with node-6 added: INCOMPARABLE (exit 2); with node-7: CORRUPT REPORT (exit 3)', async () => {
    const honest = [1, 2, 3, 4].map(report);
    const agree = await runCli(['compare', ...honest]);
    expect(agree.code).toBe(0);
    expect(agree.stdout.split('\n')[0]).toBe(`AGREE at epoch 12: all 4 nodes agree on ${expected.snapshot}`);
    const late = await runCli(['compare', ...honest, report(6)]);
    expect(late.code).toBe(2);
    expect(late.stdout.split('\n')[0]).toBe(`INCOMPARABLE: 1 report at another anchor (node-6 (${report(6)}): epoch 13); the 4 compared nodes agree at epoch 12 on ${expected.snapshot}`);
    const corrupt = await runCli(['compare', ...honest, report(7)]);
    expect(corrupt.code).toBe(3);
    expect(corrupt.stdout.split('\n')[0]).toBe(`CORRUPT REPORT: ${report(7)} (BAD_REPORT); the 4 compared nodes agree at epoch 12 on ${expected.snapshot}`);
  });

  it('diff of node-1 and node-5 (dumps, then snapshots from digest --out) shows the one changed key', async () => {
    for (const [a, b] of [
      [dumpDir(1, 12), dumpDir(5, 12)],
      [join(dir, 'node-1.snap'), join(dir, 'node-5.snap')],
    ] as const) {
      const r = await runCli(['diff', a, b, '--tables', TABLES]);
      expect(r.code, r.stderr).toBe(1);
      const lines = r.stdout.split('\n');
      expect(lines[0]).toBe(`DIFFERENT: 1 key difference(s) in 1 of 2 table(s); first: table objects key 0x${hex(CHANGED[0])} (changed)`);
      // The changed value is shown around its last byte, where it differs: 16 bytes before it, with their offset.
      const at = CHANGED_VALUE.length - 1;
      const from = Math.max(0, at - 16);
      const show = (v: Buffer): string => `${from > 0 ? '…' : ''}0x${hex(v.subarray(from))}`;
      expect(r.stdout).toContain(`  ~ objects 0x${hex(CHANGED[0])}  values differ from byte ${at} (a ${CHANGED[1].length} bytes, b ${CHANGED_VALUE.length} bytes)\n      a @${from}: ${show(CHANGED[1])}\n      b @${from}: ${show(CHANGED_VALUE)}\n`);
      expect(r.stdout).toContain(`table blob_info  identical (${BLOB_INFO.length} entries)`);
    }
  });

  it('digest read straight from each RocksDB checkpoint equals the digest of its ldb dump, and diff finds the key there too', async () => {
    const fromCheckpoints = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => runCli(['digest', join(node(n), 'checkpoint_epoch_12'), '--tables', TABLES, '--json', '--node', `node-${n}`])),
    );
    fromCheckpoints.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(0);
      const fromDump = JSON.parse(readFileSync(report(i + 1), 'utf8')) as { digest: string };
      expect((JSON.parse(r.stdout) as { digest: string }).digest, `node-${i + 1}`).toBe(fromDump.digest);
    });
    const d = await runCli(['diff', join(node(1), 'checkpoint_epoch_12'), join(node(5), 'checkpoint_epoch_12'), '--tables', TABLES, '--json']);
    expect(d.code, d.stderr).toBe(1);
    expect(JSON.parse(d.stdout)).toMatchObject({ totalDifferences: '1', first: { table: 'objects', kind: 'changed', key: hex(CHANGED[0]) } });
  });

  it('diff of physically different but logically identical nodes is IDENTICAL (exit 0)', async () => {
    const r = await runCli(['diff', dumpDir(1, 12), dumpDir(3, 12), '--tables', TABLES]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`IDENTICAL: 2 table(s), ${BLOB_INFO.length + OBJECTS.length} entries, same keys and values`);
  });
});
