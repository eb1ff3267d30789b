#!/usr/bin/env node
// Restore benchmark (issue 12): `snapshot-verify restore` of a snapshot of small entries, next to
// `ldb load` of the same content (RocksDB's own bulk path through its memtables), and the peak
// RSS of restoring a 2 GB snapshot. Run by run.mjs after the other benchmarks, or alone:
//   node bench/restore.mjs                       # measure, update bench/RESULTS.md
//   BENCH_QUICK=1 node bench/restore.mjs         # smoke run with small sizes (not a result)
// Only the section between the restore-bench markers of RESULTS.md is rewritten.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const QUICK = process.env.BENCH_QUICK === '1';
const CLI = join(ROOT, 'bin', 'snapshot-verify');
const OUT = join(HERE, 'out', 'restore');
const SMALL_ENTRIES = QUICK ? 100_000 : 1_000_000;
const LARGE_BYTES = QUICK ? 100e6 : 2e9;
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 3));
const TARGET_RATE = 1e6; // entries/s
const TARGET_RSS = 200e6; // bytes, for the 2 GB snapshot
const BEGIN = '<!-- restore-bench:begin (written by bench/restore.mjs) -->';
const END = '<!-- restore-bench:end -->';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes) => (bytes / 1e6).toFixed(1);
const rate = (n) => `${(n / 1e6).toFixed(2)} M/s`;

/** Runs argv under /usr/bin/time (wall, user, sys, max RSS of the largest process). */
function timed(argv, env = {}) {
  const timeFile = join(OUT, `time-${process.pid}.txt`);
  const r = spawnSync('/usr/bin/time', ['-o', timeFile, '-f', '%e %U %S %M', ...argv], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  const [wall, user, sys, kib] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  rmSync(timeFile, { force: true });
  return { wall, cpu: user + sys, timeMaxRssBytes: kib * 1024, stdout: r.stdout };
}

/** Our restore in a fresh process, the executable as operators run it; peak RSS from its own VmHWM (peak-hook.mjs). */
function restore(snap, to) {
  rmSync(to, { recursive: true, force: true });
  const peakFile = join(OUT, `peak-${process.pid}.json`);
  const t = timed([CLI, 'restore', snap, '--to', to, '--json'], { BENCH_PEAK_FILE: peakFile, NODE_OPTIONS: `--import ${pathToFileURL(join(HERE, 'peak-hook.mjs')).href}` });
  const peak = JSON.parse(readFileSync(peakFile, 'utf8'));
  rmSync(peakFile, { force: true });
  return { ...t, maxRssBytes: peak.maxRssBytes, report: JSON.parse(t.stdout) };
}

/** Writes a one-table snapshot (table "default") with the library, and ldb load's input for it. */
async function makeSnapshot(path, entries, valueBytes, ldbInput) {
  const { writeSnapshot, fileSink } = await import(pathToFileURL(join(ROOT, 'dist', 'index.js')).href);
  const pool = Array.from({ length: 64 }, (_, i) => Buffer.from(Array.from({ length: valueBytes }, (_, j) => (i * 131 + j * 17) & 0xff)));
  const text = ldbInput === undefined ? undefined : createWriteStream(ldbInput);
  async function* batches() {
    for (let i = 0; i < entries; i += 4096) {
      const batch = [];
      const lines = [];
      for (let k = i; k < Math.min(entries, i + 4096); k++) {
        // 32-byte keys: a big-endian counter, then bytes derived from it (distinct, ascending).
        const key = Buffer.alloc(32);
        key.writeUInt32BE(Math.floor(k / 2 ** 32), 0);
        key.writeUInt32BE(k >>> 0, 4);
        for (let j = 8; j < 32; j++) key[j] = (k * 2654435761 + j * 97) & 0xff;
        batch.push({ key, value: pool[k & 63] });
        if (text !== undefined) lines.push(`0x${key.toString('hex')} ==> 0x${pool[k & 63].toString('hex')}\n`);
      }
      if (text !== undefined && !text.write(lines.join(''))) await new Promise((r) => text.once('drain', r));
      yield batch;
    }
  }
  const summary = await writeSnapshot(fileSink(path), { epoch: 1n, cursor: { index: 0n }, maxChunkBytes: 0n, tables: [{ id: 1, name: 'default' }] }, [batches()]);
  if (text !== undefined) await new Promise((r) => text.end(r));
  return summary;
}

export async function runRestoreBench() {
  if (spawnSync('sh', ['-c', 'command -v ldb']).status !== 0) {
    console.log('restore bench: ldb not installed, skipped');
    return undefined;
  }
  mkdirSync(OUT, { recursive: true });
  const loadStart = loadavg();
  const started = new Date().toISOString();
  const small = join(OUT, 'small.snap');
  const input = join(OUT, 'small.ldb.txt');
  const s = await makeSnapshot(small, SMALL_ENTRIES, 40, input);
  // The same command on a one-entry snapshot: the process's fixed cost (start-up, module loading,
  // the small files, fsyncs, rename), so that the work per entry can be told apart from it.
  const tiny = join(OUT, 'tiny.snap');
  await makeSnapshot(tiny, 1, 40);
  const ours = [];
  const fixed = [];
  const ldb = [];
  for (let i = -1; i < RUNS; i++) {
    const f = restore(tiny, join(OUT, 'tiny-db'));
    const o = restore(small, join(OUT, 'db'));
    rmSync(join(OUT, 'ldb-db'), { recursive: true, force: true });
    const l = timed(['sh', '-c', `ldb --db='${join(OUT, 'ldb-db')}' --create_if_missing --hex load --disable_wal --bulk_load < '${input}'`]);
    if (i >= 0) {
      ours.push(o);
      fixed.push(f);
      ldb.push(l);
    }
    console.log(`restore run ${i < 0 ? 'warm-up' : i + 1}: ours ${o.wall.toFixed(2)} s (cpu ${o.cpu.toFixed(2)} s, ${mb(o.maxRssBytes)} MB; 1 entry ${f.wall.toFixed(2)} s, cpu ${f.cpu.toFixed(2)} s), ldb load ${l.wall.toFixed(2)} s (cpu ${l.cpu.toFixed(2)} s)`);
  }
  // Same content: our digest of ldb's database equals the snapshot's.
  const check = spawnSync(process.execPath, [CLI, 'digest', join(OUT, 'ldb-db'), '--tables', '1=default', '--epoch', '1', '--json'], { encoding: 'utf8' });
  const ldbDigest = JSON.parse(check.stdout).digest;
  const large = join(OUT, 'large.snap');
  const l = await makeSnapshot(large, Math.round(LARGE_BYTES / 1100), 1024);
  const big = restore(large, join(OUT, 'large-db'));
  const bigBytes = statSync(large).size;
  const result = {
    started, loadStart, loadEnd: loadavg(), cpus: cpus().length, node: process.version,
    entries: SMALL_ENTRIES, snapshotBytes: statSync(small).size, digest: s.digest.toString(16).padStart(16, '0'), ldbDigest,
    ours, fixed, ldb, big, bigBytes, bigEntries: Number(l.entries),
  };
  rmSync(OUT, { recursive: true, force: true });
  return section(result);
}

function section(r) {
  const oWall = median(r.ours.map((x) => x.wall));
  const oCpu = median(r.ours.map((x) => x.cpu));
  const fWall = median(r.fixed.map((x) => x.wall));
  const fCpu = median(r.fixed.map((x) => x.cpu));
  const lWall = median(r.ldb.map((x) => x.wall));
  const lCpu = median(r.ldb.map((x) => x.cpu));
  const load = (l) => l.map((x) => x.toFixed(2)).join(' / ');
  const pass = (ok) => (ok ? 'pass' : 'FAIL');
  return [
    BEGIN,
    '## Restore: snapshot → RocksDB database vs `ldb load` (issue 12)',
    '',
    `- ${r.started}, Node ${r.node}, ${r.cpus} cores shared with other jobs: load average (1 / 5 / 15 min) at the start ${load(r.loadStart)}, at the end ${load(r.loadEnd)}.`,
    `- Content: one table, ${r.entries.toLocaleString('en')} entries, 32-byte keys, 40-byte values (snapshot ${mb(r.snapshotBytes)} MB, digest ${r.digest}).`,
    '- Ours: `snapshot-verify restore SNAP --to DIR --json` in a fresh process (verifies the whole snapshot, writes SSTs, MANIFEST, OPTIONS, fsyncs, renames).',
    '- Baseline: `ldb --db=DIR --create_if_missing --hex load --disable_wal --bulk_load < lines` (RocksDB 7.8.3, memtables and flushes; the text input is pre-generated, not timed).',
    `- Same content: our digest of ldb's database is ${r.ldbDigest === r.digest ? '**equal**' : `**DIFFERENT** (${r.ldbDigest})`} to the snapshot digest.`,
    `- Median of ${r.ours.length} runs after one warm-up, each run restoring the 1-entry snapshot, then the measured one, then ldb load; CPU = user + system of all processes.`,
    '',
    '| | wall s | CPU s | entries/s (wall) | entries/s (CPU) | peak RSS MB | target ≥ 1 M/s |',
    '|---|---|---|---|---|---|---|',
    `| restore | ${oWall.toFixed(2)} | ${oCpu.toFixed(2)} | ${rate(r.entries / oWall)} | ${rate(r.entries / oCpu)} | ${mb(median(r.ours.map((x) => x.maxRssBytes)))} (VmHWM) | wall ${pass(r.entries / oWall >= TARGET_RATE)}, CPU ${pass(r.entries / oCpu >= TARGET_RATE)} |`,
    `| restore of a 1-entry snapshot (the fixed cost: start-up, small files, fsyncs, rename) | ${fWall.toFixed(2)} | ${fCpu.toFixed(2)} | | | | |`,
    `| restore minus that fixed cost (the work per entry) | ${(oWall - fWall).toFixed(2)} | ${(oCpu - fCpu).toFixed(2)} | ${rate(r.entries / (oWall - fWall))} | ${rate(r.entries / (oCpu - fCpu))} | | |`,
    `| ldb load | ${lWall.toFixed(2)} | ${lCpu.toFixed(2)} | ${rate(r.entries / lWall)} | ${rate(r.entries / lCpu)} | ${mb(median(r.ldb.map((x) => x.timeMaxRssBytes)))} (time %M) | |`,
    '',
    `Speed-up over ldb load: ${(lWall / oWall).toFixed(2)}× wall, ${(lCpu / oCpu).toFixed(2)}× CPU.`,
    '',
    `Large snapshot: ${mb(r.bigBytes)} MB (${r.bigEntries.toLocaleString('en')} entries of 1 KiB values) restored in ${r.big.wall.toFixed(1)} s wall (${r.big.cpu.toFixed(1)} s CPU), peak RSS **${mb(r.big.maxRssBytes)} MB** (VmHWM; time %M ${mb(r.big.timeMaxRssBytes)} MB); target < ${mb(TARGET_RSS)} MB: ${pass(r.big.maxRssBytes < TARGET_RSS)}.`,
    END,
  ].join('\n');
}

/** Replaces (or appends) the restore section of RESULTS.md, leaving the rest as it is. */
export function writeRestoreSection(md, path = join(HERE, 'RESULTS.md')) {
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const a = old.indexOf(BEGIN);
  const b = old.indexOf(END);
  const next = a >= 0 && b > a ? `${old.slice(0, a)}${md}${old.slice(b + END.length)}` : `${old.replace(/\n*$/, '\n\n')}${md}\n`;
  writeFileSync(path, next);
  console.log(`wrote the restore section of ${relative(process.cwd(), path) || path}`);
}

/** The existing restore section of RESULTS.md, for run.mjs to keep when it rewrites the file. */
export function existingRestoreSection(path = join(HERE, 'RESULTS.md')) {
  if (!existsSync(path)) return undefined;
  const old = readFileSync(path, 'utf8');
  const a = old.indexOf(BEGIN);
  const b = old.indexOf(END);
  return a >= 0 && b > a ? old.slice(a, b + END.length) : undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const md = await runRestoreBench();
  if (md !== undefined) {
    console.log(md);
    if (!QUICK) writeRestoreSection(md);
  }
}
