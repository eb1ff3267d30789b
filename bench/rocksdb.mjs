// The RocksDB checkpoint benchmark (issues 4 and 13): `snapshot-verify digest <checkpoint> --tables …`
// (plain and with `--ranges 64`, side by side) end to end against the baseline `ldb scan --hex --column_family=CF | xxh64sum` over the same
// column families, on a checkpoint shaped like a storage node's blob-info tables at mainnet
// scale. Part of `npm run bench` (run.mjs calls it last); runnable alone after `npm run build`:
//
//   node bench/rocksdb.mjs                      # generate, measure, update bench/RESULTS.md
//   BENCH_QUICK=1 node bench/rocksdb.mjs        # a tenth of the size (smoke run, not a result)
//   BENCH_ROCKSDB_CHECKPOINT=DIR node bench/rocksdb.mjs   # reuse a checkpoint (not deleted)
//   BENCH_KEEP=1 …                              # keep the generated checkpoint under bench/out/
//   BENCH_CLI=path/to/bin/snapshot-verify …     # measure another build (before/after comparisons)
//   BENCH_CHECKSUM=xxh3 …                       # generate with kXXH3 block checksums (RocksDB >= 8's default)
//
// It needs the fixture generator (test/fixtures/rocksdb/build.sh: g++, librocksdb-dev), Debian's
// ldb (rocksdb-tools), xxh64sum (xxhash) and /usr/bin/time; without them it says so and skips.
// Only the section between the rocksdb-bench markers of RESULTS.md is rewritten.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const QUICK = process.env.BENCH_QUICK === '1';
const CLI = process.env.BENCH_CLI ?? join(ROOT, 'bin', 'snapshot-verify');

/** Keys written per column family in round 0 (4 families are written, 3 are selected). */
const KEYS_PER_CF = QUICK ? 56_700 : 567_000;
const SELECTED = ['blob_info', 'per_object_blob_info', 'event_blob_info'];
const EPOCH = 1000;
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 5));
const TARGET_SPEEDUP = 3;
/** Issue 13: the digest at 6× the baseline, and `--ranges 64` within 15% of a plain digest (time and memory). */
const TARGET_SPEEDUP_13 = 6;
const RANGES = 64;
/** The opt-in merge workers (src/sources/rocksdb/parallel), measured beside the default of none. */
const MERGE_WORKERS = 2;
/** Block checksums of the generated checkpoint (the generator's --checksum; RocksDB 7.8's default crc32c). */
const CHECKSUM = process.env.BENCH_CHECKSUM ?? 'crc32c';
const TARGET_RANGES_OVERHEAD = 1.15;
const TARGET_RATE = 1e6; // entries/s end to end
const TARGET_RSS = 300e6; // bytes
const BEGIN = '<!-- rocksdb-bench:begin (written by bench/rocksdb.mjs) -->';
const END = '<!-- rocksdb-bench:end -->';

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes) => (bytes / 1e6).toFixed(1);
const rate = (n) => `${(n / 1e6).toFixed(2)} M/s`;

/** The generator's options: documented in RESULTS.md as they are (bench/codecs.mjs uses fewer keys). */
export function generatorArgs(db, checkpoint, keysPerCf = KEYS_PER_CF) {
  return [
    '--db', db, '--checkpoint', checkpoint,
    '--keys', String(keysPerCf), '--key-size', '32', '--value-size', '100',
    // A storage node's keys are blob ids, i.e. hashes: spread uniformly, no shared prefixes.
    // BENCH_SEQUENTIAL_KEYS=1 writes index-ordered keys instead (a 5-byte shared prefix).
    ...(process.env.BENCH_SEQUENTIAL_KEYS === '1' ? [] : ['--hashed-keys']),
    // Round 0 puts every key; rounds 1–3 overwrite every 2nd/3rd/4th key and delete every 97th
    // of those; after round 1 a CompactRange pushes rounds 0–1 to L1; rounds 2–3 stay in L0.
    '--rounds', '4', '--compact-after', '1', '--deletes', '97',
    // RocksDB 7.8 defaults otherwise: format_version 5, crc32c, 4 KiB blocks, binary index.
    '--compression', 'snappy',
    '--cf', 'blob_info', '--cf', 'per_object_blob_info', '--cf', 'event_blob_info:lz4',
    ...(CHECKSUM === 'crc32c' ? [] : ['--checksum', CHECKSUM]),
  ];
}

export function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** Runs `argv` under /usr/bin/time; returns wall, user, system seconds and max RSS bytes. */
export function timedCommand(argv, { env, outFile } = {}) {
  const timeFile = join(HERE, 'out', `time-${process.pid}.txt`);
  const r = spawnSync('/usr/bin/time', ['-o', timeFile, '-f', '%e %U %S %M', ...argv], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  const [wall, user, sys, kib] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  rmSync(timeFile, { force: true });
  if (outFile) writeFileSync(outFile, r.stdout);
  return { wall, user, sys, timeMaxRssBytes: kib * 1024, stdout: r.stdout };
}

/**
 * Our CLI, end to end, in a fresh process started as operators start it (the executable, which
 * starts Node without NODE_EXTRA_CA_CERTS for this command); peak RSS from the process's own
 * VmHWM (peak-hook.mjs, through NODE_OPTIONS).
 */
function runOurs(checkpoint, extra = [], env = {}) {
  const peakFile = join(HERE, 'out', `peak-${process.pid}.json`);
  rmSync(peakFile, { force: true });
  const t = timedCommand(
    [CLI, 'digest', checkpoint, '--tables', SELECTED.join(','), '--json', ...extra],
    { env: { SNAPSHOT_VERIFY_MERGE_WORKERS: '0', ...env, BENCH_PEAK_FILE: peakFile, NODE_OPTIONS: `--import ${pathToFileURL(join(HERE, 'peak-hook.mjs')).href}` } },
  );
  const peak = JSON.parse(readFileSync(peakFile, 'utf8'));
  rmSync(peakFile, { force: true });
  const report = JSON.parse(t.stdout);
  return { ...t, maxRssBytes: peak.maxRssBytes, rssSource: peak.source, entries: Number(report.entries), digest: report.digest, report };
}

/** The baseline for one column family, on a fresh copy of the checkpoint (ldb opens read-write). */
function runBaseline(checkpoint, copy, cf) {
  rmSync(copy, { recursive: true, force: true });
  cpSync(checkpoint, copy, { recursive: true });
  // --try_load_options=false: the checkpoint's OPTIONS file (make-fixture's) has error_if_exists;
  // --auto_compaction=false: no background compaction competes with the scan (favours ldb).
  const t = timedCommand(['sh', '-c', `ldb --db='${copy}' --try_load_options=false --auto_compaction=false scan --hex --column_family=${cf} | xxh64sum`]);
  return { ...t, hash: t.stdout.trim().split(/\s+/)[0] };
}

/**
 * Entry-for-entry check at full scale (untimed): the xxh64 of `ldb scan --hex` lines rebuilt
 * from our source's entries must equal the baseline's xxh64sum of ldb's real output.
 */
async function crossCheck(checkpoint, baselineHashes) {
  const { openRocksDbCheckpoint } = await import(pathToFileURL(join(ROOT, 'dist', 'sources', 'rocksdb', 'index.js')).href);
  const { default: xxhash } = await import('xxhash-wasm');
  const { create64 } = await xxhash();
  const source = await openRocksDbCheckpoint(checkpoint);
  const out = {};
  try {
    for (const cf of SELECTED) {
      const h = create64(0n);
      let n = 0;
      for await (const batch of source.entries(cf)) {
        let s = '';
        for (const e of batch) {
          s += `0x${Buffer.from(e.key).toString('hex').toUpperCase()} : 0x${Buffer.from(e.value).toString('hex').toUpperCase()}\n`;
        }
        h.update(s);
        n += batch.length;
      }
      const hex = h.digest().toString(16).padStart(16, '0');
      out[cf] = { entries: n, match: hex === baselineHashes[cf], ours: hex, ldb: baselineHashes[cf] };
    }
  } finally {
    await source.close();
  }
  return out;
}

function layout(checkpoint) {
  // File count and sizes per level, from ldb's MANIFEST dump (on a copy: read-only for us).
  const files = readdirSync(checkpoint);
  const sst = files.filter((f) => f.endsWith('.sst'));
  const bytes = sst.reduce((n, f) => n + statSync(join(checkpoint, f)).size, 0);
  return { sstFiles: sst.length, sstBytes: bytes, walFiles: files.filter((f) => f.endsWith('.log')).length };
}

function gitState() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bench'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty ? `commit ${head} plus uncommitted changes under src/ and bench/` : `commit ${head}`;
  } catch {
    return 'unknown commit';
  }
}

/** Measures and returns the RESULTS.md section (markdown), or undefined when skipped. */
export async function runRocksDbBench({ log = console.log } = {}) {
  const missing = ['ldb', 'xxh64sum', 'g++'].filter((c) => !have(c));
  if (!existsSync('/usr/bin/time')) missing.push('/usr/bin/time');
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) missing.push('dist/ (npm run build)');
  if (missing.length > 0) {
    log(`rocksdb benchmark skipped: missing ${missing.join(', ')}`);
    return undefined;
  }
  const started = new Date();
  const loadStart = loadavg();
  const work = join(HERE, 'out', `rocksdb-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const reuse = process.env.BENCH_ROCKSDB_CHECKPOINT;
  const checkpoint = reuse ?? join(work, `checkpoint_epoch_${EPOCH}`);
  const copy = join(work, 'ldb-copy');
  try {
    let genSeconds;
    if (reuse === undefined) {
      const mf = execFileSync('sh', [join(ROOT, 'test', 'fixtures', 'rocksdb', 'build.sh')], { encoding: 'utf8' }).trim().split('\n').pop();
      log('rocksdb: generating the checkpoint…');
      const t0 = performance.now();
      execFileSync(mf, generatorArgs(join(work, 'db'), checkpoint), { stdio: 'ignore' });
      genSeconds = (performance.now() - t0) / 1000;
      rmSync(join(work, 'db'), { recursive: true, force: true }); // the checkpoint's hard links stay valid
    }
    const shape = layout(checkpoint);

    // Warm-up (page cache, both sides), then RUNS interleaved timed runs.
    const ours = [];
    const ranged = [];
    const workers = [];
    const placing = [];
    const base = [];
    const baseHashes = {};
    for (let i = -1; i < RUNS; i++) {
      const o = runOurs(checkpoint);
      const g = runOurs(checkpoint, ['--ranges', String(RANGES)]);
      if (g.digest !== o.digest || g.report.tables.some((t) => t.ranges?.length !== RANGES)) throw new Error('digest --ranges gave another digest or no ranges');
      const w = runOurs(checkpoint, [], { SNAPSHOT_VERIFY_MERGE_WORKERS: String(MERGE_WORKERS) });
      if (w.digest !== o.digest) throw new Error('digest with merge workers gave another digest');
      const pw = runOurs(checkpoint, [], { SNAPSHOT_VERIFY_PLACE_WORKER: '0' });
      if (pw.digest !== o.digest) throw new Error('digest without the place worker gave another digest');
      const perCf = SELECTED.map((cf) => runBaseline(checkpoint, copy, cf));
      for (let k = 0; k < SELECTED.length; k++) baseHashes[SELECTED[k]] = perCf[k].hash;
      const b = {
        wall: perCf.reduce((n, x) => n + x.wall, 0),
        cpu: perCf.reduce((n, x) => n + x.user + x.sys, 0),
        timeMaxRssBytes: Math.max(...perCf.map((x) => x.timeMaxRssBytes)),
        perCf: perCf.map((x) => x.wall),
      };
      if (i >= 0) {
        ours.push(o);
        ranged.push(g);
        workers.push(w);
        placing.push(pw);
        base.push(b);
      }
      log(`rocksdb run ${i < 0 ? 'warm-up' : i + 1}: ours ${o.wall.toFixed(2)} s (cpu ${(o.user + o.sys).toFixed(2)} s, ${mb(o.maxRssBytes)} MB), --ranges ${RANGES} ${g.wall.toFixed(2)} s (cpu ${(g.user + g.sys).toFixed(2)} s, ${mb(g.maxRssBytes)} MB), ${MERGE_WORKERS} merge workers ${w.wall.toFixed(2)} s (cpu ${(w.user + w.sys).toFixed(2)} s, ${mb(w.maxRssBytes)} MB), without the place worker ${pw.wall.toFixed(2)} s (cpu ${(pw.user + pw.sys).toFixed(2)} s, ${mb(pw.maxRssBytes)} MB), ldb ${b.wall.toFixed(2)} s (cpu ${b.cpu.toFixed(2)} s)`);
    }
    rmSync(copy, { recursive: true, force: true });
    const check = await crossCheck(checkpoint, baseHashes);
    const entries = ours[0].entries;
    const oursWall = median(ours.map((o) => o.wall));
    const oursCpu = median(ours.map((o) => o.user + o.sys));
    const baseWall = median(base.map((b) => b.wall));
    const baseCpu = median(base.map((b) => b.cpu));
    const rss = median(ours.map((o) => o.maxRssBytes));
    const result = {
      started, loadStart, loadEnd: loadavg(), genSeconds, shape, entries, check,
      ours, base, oursWall, oursCpu, baseWall, baseCpu, rss,
      ranged,
      rangedWall: median(ranged.map((o) => o.wall)),
      rangedCpu: median(ranged.map((o) => o.user + o.sys)),
      rangedRss: median(ranged.map((o) => o.maxRssBytes)),
      workers,
      workersWall: median(workers.map((o) => o.wall)),
      workersCpu: median(workers.map((o) => o.user + o.sys)),
      workersRss: median(workers.map((o) => o.maxRssBytes)),
      placingWall: median(placing.map((o) => o.wall)),
      placingCpu: median(placing.map((o) => o.user + o.sys)),
      placingRss: median(placing.map((o) => o.maxRssBytes)),
      logicalBytes: Number(ours[0].report.tables.reduce((n, t) => n + Number(t.bytes), 0)),
      reused: reuse !== undefined,
    };
    const md = section(result);
    log(md);
    return md;
  } finally {
    // The work directory holds the generated checkpoint (unless reused) and ldb's copy.
    if (reuse !== undefined || process.env.BENCH_KEEP !== '1') rmSync(work, { recursive: true, force: true });
    else rmSync(copy, { recursive: true, force: true });
  }
}

function section(r) {
  const cpu = cpus();
  const load = (l) => l.map((x) => x.toFixed(2)).join(' / ');
  const speedWall = r.baseWall / r.oursWall;
  const speedCpu = r.baseCpu / r.oursCpu;
  const rateWall = r.entries / r.oursWall;
  const rateCpu = r.entries / r.oursCpu;
  const status = (wall, cpuOk) => (wall ? 'PASS' : cpuOk ? 'FAIL on wall clock, PASS per CPU-second' : 'FAIL');
  const allMatch = Object.values(r.check).every((c) => c.match);
  const lines = [
    BEGIN,
    '## RocksDB checkpoint digest vs `ldb scan | xxh64sum` (issue 4)',
    '',
    'Written by `bench/rocksdb.mjs` (also run by `npm run bench`); do not edit by hand. Reproduce:',
    '',
    '```sh',
    'npm run build && node bench/rocksdb.mjs     # or: npm run bench (all benchmarks)',
    '```',
    '',
    `- Date: ${r.started.toISOString()}; ${gitState()}; Node ${process.version}.${QUICK ? ' **QUICK mode: a tenth of the size, not a result.**' : ''}`,
    `- Machine: **${cpu.length} cores** (${cpu[0]?.model ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${platform()} ${release()};`,
    `  load average (1 / 5 / 15 min) at the start ${load(r.loadStart)}, at the end ${load(r.loadEnd)} (cores shared with other jobs:`,
    '  compare the per-CPU-second column too).',
    `- Checkpoint: \`make-fixture ${generatorArgs('DB', `checkpoint_epoch_${EPOCH}`).join(' ')}\``,
    `  (Debian RocksDB 7.8.3: format_version 5, ${CHECKSUM === 'crc32c' ? 'crc32c' : `${CHECKSUM} block checksums (BENCH_CHECKSUM)`}, 4 KiB blocks${r.genSeconds === undefined ? '' : `; generated in ${r.genSeconds.toFixed(0)} s`}${r.reused ? '; reused via BENCH_ROCKSDB_CHECKPOINT' : ''}).`,
    `  4 column families (default is written but not selected); per family one L1 file (rounds 0–1 after CompactRange) and`,
    `  L0 files for rounds 2–3 (overwrites of every 3rd / 4th key, ~1% deletions). ${r.shape.sstFiles} SST files, ${mb(r.shape.sstBytes)} MB on disk, ${r.shape.walFiles} WAL file(s).`,
    `- Selected: ${SELECTED.join(', ')}: **${r.entries.toLocaleString('en')} live entries**, 32-byte keys, 100-byte values,`,
    `  ${mb(r.logicalBytes)} MB of snapshot stream.`,
    `- Ours: \`${relative(ROOT, CLI)} digest <checkpoint> --tables ${SELECTED.join(',')} --json\`, a fresh process per run, the executable as operators run it (so Node starts without NODE_EXTRA_CA_CERTS)`,
    '  (startup, MANIFEST, merge, encoding, xxhash64 included). Peak RSS: the process\'s own VmHWM at exit (bench/peak-hook.mjs),',
    '  `/usr/bin/time -f %M` beside it. CPU: user + system of the process (all threads), from /usr/bin/time.',
    '- Baseline: for each selected family, on a fresh copy of the checkpoint (ldb opens read-write; copying is not timed),',
    '  `ldb --db=COPY --try_load_options=false --auto_compaction=false scan --hex --column_family=CF | xxh64sum`;',
    '  wall and CPU (ldb + xxh64sum + sh, from /usr/bin/time) summed over the families.',
    `- ${RUNS} timed runs after one warm-up run (page cache warm for both), ours (plain, then \`--ranges ${RANGES}\`, which must give`,
    '  the same digest) and the baseline interleaved; medians.',
    `- Correctness at scale (untimed): for each family, the xxh64 of \`ldb scan --hex\` lines rebuilt from our source's`,
    `  entries ${allMatch ? '**equals**' : '**DIFFERS FROM**'} ldb's: ${Object.entries(r.check).map(([cf, c]) => `${cf} ${c.entries.toLocaleString('en')} entries ${c.match ? 'match' : `MISMATCH (${c.ours} vs ${c.ldb})`}`).join('; ')}.`,
    '',
    '| | wall s (median) | CPU s (median) | entries/s (wall) | entries per CPU-s | peak RSS MB |',
    '|---|---|---|---|---|---|',
    `| ours: digest (default: the place worker with 2+ cores) | ${r.oursWall.toFixed(2)} | ${r.oursCpu.toFixed(2)} | ${rate(rateWall)} | ${rate(rateCpu)} | ${mb(r.rss)} (VmHWM); ${mb(median(r.ours.map((o) => o.timeMaxRssBytes)))} (time %M) |`,
    `| ours: digest --ranges ${RANGES} | ${r.rangedWall.toFixed(2)} | ${r.rangedCpu.toFixed(2)} | ${rate(r.entries / r.rangedWall)} | ${rate(r.entries / r.rangedCpu)} | ${mb(r.rangedRss)} (VmHWM) |`,
    `| ours: digest, ${MERGE_WORKERS} merge workers (SNAPSHOT_VERIFY_MERGE_WORKERS=${MERGE_WORKERS}) | ${r.workersWall.toFixed(2)} | ${r.workersCpu.toFixed(2)} | ${rate(r.entries / r.workersWall)} | ${rate(r.entries / r.workersCpu)} | ${mb(r.workersRss)} (VmHWM) |`,
    `| ours: digest, without the place worker (SNAPSHOT_VERIFY_PLACE_WORKER=0; one thread) | ${r.placingWall.toFixed(2)} | ${r.placingCpu.toFixed(2)} | ${rate(r.entries / r.placingWall)} | ${rate(r.entries / r.placingCpu)} | ${mb(r.placingRss)} (VmHWM) |`,
    `| baseline: ldb scan \\| xxh64sum, 3 families | ${r.baseWall.toFixed(2)} | ${r.baseCpu.toFixed(2)} | ${rate(r.entries / r.baseWall)} | ${rate(r.entries / r.baseCpu)} | ${mb(median(r.base.map((b) => b.timeMaxRssBytes)))} (largest process, time %M) |`,
    '',
    '| target | wall clock | per CPU-second | status |',
    '|---|---|---|---|',
    `| speedup ≥ ${TARGET_SPEEDUP}× | ${speedWall.toFixed(2)}× | ${speedCpu.toFixed(2)}× | ${status(speedWall >= TARGET_SPEEDUP, speedCpu >= TARGET_SPEEDUP)} |`,
    `| speedup ≥ ${TARGET_SPEEDUP_13}× (issue 13) | ${speedWall.toFixed(2)}× | ${speedCpu.toFixed(2)}× | ${status(speedWall >= TARGET_SPEEDUP_13, speedCpu >= TARGET_SPEEDUP_13)} |`,
    `| speedup ≥ ${TARGET_SPEEDUP_13}× with ${MERGE_WORKERS} merge workers (opt-in) | ${(r.baseWall / r.workersWall).toFixed(2)}× | ${(r.baseCpu / r.workersCpu).toFixed(2)}× | ${status(r.baseWall / r.workersWall >= TARGET_SPEEDUP_13, r.baseCpu / r.workersCpu >= TARGET_SPEEDUP_13)} |`,
    `| speedup ≥ ${TARGET_SPEEDUP_13}× without the place worker (one thread) | ${(r.baseWall / r.placingWall).toFixed(2)}× | ${(r.baseCpu / r.placingCpu).toFixed(2)}× | ${status(r.baseWall / r.placingWall >= TARGET_SPEEDUP_13, r.baseCpu / r.placingCpu >= TARGET_SPEEDUP_13)} |`,
    `| --ranges ${RANGES} time ≤ ${TARGET_RANGES_OVERHEAD}× plain (issue 13) | ${(r.rangedWall / r.oursWall).toFixed(2)}× | ${(r.rangedCpu / r.oursCpu).toFixed(2)}× | ${status(r.rangedWall <= TARGET_RANGES_OVERHEAD * r.oursWall, r.rangedCpu <= TARGET_RANGES_OVERHEAD * r.oursCpu)} |`,
    `| --ranges ${RANGES} memory ≤ ${TARGET_RANGES_OVERHEAD}× plain (issue 13) | ${(r.rangedRss / r.rss).toFixed(2)}× | — | ${r.rangedRss <= TARGET_RANGES_OVERHEAD * r.rss ? 'PASS' : 'FAIL'} |`,
    `| > 1 M entries/s end to end | ${rate(rateWall)} | ${rate(rateCpu)} | ${status(rateWall > TARGET_RATE, rateCpu > TARGET_RATE)} |`,
    `| peak RSS < 300 MB | ${mb(r.rss)} MB | — | ${r.rss < TARGET_RSS ? 'PASS' : 'FAIL'} |`,
    '',
    'Every run (seconds):',
    '',
    `| run | ours wall | ours CPU | ours VmHWM MB | --ranges ${RANGES} wall | CPU | VmHWM MB | ldb wall (per family) | ldb CPU |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...r.ours.map((o, i) => `| ${i + 1} | ${o.wall.toFixed(2)} | ${(o.user + o.sys).toFixed(2)} | ${mb(o.maxRssBytes)} | ${r.ranged[i].wall.toFixed(2)} | ${(r.ranged[i].user + r.ranged[i].sys).toFixed(2)} | ${mb(r.ranged[i].maxRssBytes)} | ${r.base[i].wall.toFixed(2)} (${r.base[i].perCf.map((x) => x.toFixed(2)).join(' + ')}) | ${r.base[i].cpu.toFixed(2)} |`),
    '',
    END,
  ];
  return lines.join('\n');
}

/** Replaces (or appends) a section of RESULTS.md between its markers (default: rocksdb's), leaving the rest as it is. */
export function writeSection(md, path = join(HERE, 'RESULTS.md'), markers = { begin: BEGIN, end: END, name: 'rocksdb' }) {
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const a = old.indexOf(markers.begin);
  const b = old.indexOf(markers.end);
  const next = a >= 0 && b > a ? `${old.slice(0, a)}${md}${old.slice(b + markers.end.length)}` : `${old.replace(/\n*$/, '\n\n')}${md}\n`;
  writeFileSync(path, next);
  console.log(`wrote the ${markers.name ?? markers.begin} section of ${relative(process.cwd(), path) || path}`);
}

/** The existing section (default: rocksdb's) of RESULTS.md, for run.mjs to keep when it rewrites the file. */
export function existingSection(path = join(HERE, 'RESULTS.md'), markers = { begin: BEGIN, end: END }) {
  if (!existsSync(path)) return undefined;
  const old = readFileSync(path, 'utf8');
  const a = old.indexOf(markers.begin);
  const b = old.indexOf(markers.end);
  return a >= 0 && b > a ? old.slice(a, b + markers.end.length) : undefined;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const md = await runRocksDbBench();
  if (md !== undefined) writeSection(md);
}
