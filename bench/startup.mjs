// Start-up of the CLI (issue 13, item 4): how long `snapshot-verify digest` of a small checkpoint
// takes from process start to the first checkpoint byte read, and to its exit, against Node's own
// start-up (`node -e 0`), in fresh processes run interleaved. Part of `npm run bench`; alone:
//
//   node bench/startup.mjs                          # measure, update bench/RESULTS.md
//   BENCH_STARTUP_RUNS=40 node bench/startup.mjs    # runs per command (default 20)
//   BENCH_CLI_BASELINE=/other/bin/snapshot-verify node bench/startup.mjs   # also another build, interleaved
//   BENCH_CLI_BASELINE_NAME='main 52282b6' …                               # its name in the table
//
// Every process is started with `node --import bench/startup-probe.mjs`, which notes when the
// first file under the checkpoint is opened (its first byte is read right after) and when the
// process exits, in wall and CPU milliseconds since the process started. The wall clock from
// spawn to exit is measured here too. Medians and 90th percentiles are reported; with other jobs
// on the cores, the CPU figures are the steadier ones, and the ratio to `node -e 0` is the one
// to compare across machines. Only the section between the startup-bench markers is rewritten.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeSection } from './rocksdb.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? (process.env.BENCH_QUICK === '1' ? 5 : 20));
const PROBE = pathToFileURL(join(HERE, 'startup-probe.mjs')).href;
/** The Quick start command of the README: 2,499 entries in three tables. */
const CHECKPOINT = join(ROOT, 'examples', 'checkpoint_epoch_42');
const TABLES = 'per_object_blob_info,per_object_pooled_blob_info,storage_pool_info';
/** Milliseconds from process start to the first checkpoint byte (issue 13). */
const TARGET_FIRST_BYTE_MS = 100;

export const STARTUP_MARKERS = {
  begin: '<!-- startup-bench:begin (written by bench/startup.mjs) -->',
  end: '<!-- startup-bench:end -->',
  name: 'startup',
};

/**
 * The commands measured: Node alone (with and without NODE_EXTRA_CA_CERTS when it is set), then
 * the CLI as operators run it (the executable, which drops NODE_EXTRA_CA_CERTS unless an s3:// URL
 * is named), the CLI under `node bin/snapshot-verify` (which keeps it), and a baseline build.
 */
function commands() {
  const digest = [CHECKPOINT, '--tables', TABLES];
  const bin = join(ROOT, 'bin', 'snapshot-verify');
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  const list = [
    { name: 'node -e 0 (Node alone)', argv: ['-e', '0'] },
    ...(ca !== undefined ? [{ name: 'node -e 0, NODE_EXTRA_CA_CERTS unset', argv: ['-e', '0'], unsetCa: true }] : []),
    { name: 'bin/snapshot-verify digest (small checkpoint)', exec: bin, argv: ['digest', ...digest], probe: CHECKPOINT },
    { name: 'node bin/snapshot-verify digest', argv: [bin, 'digest', ...digest], probe: CHECKPOINT },
  ];
  const base = process.env.BENCH_CLI_BASELINE;
  if (base !== undefined) list.push({ name: `baseline: ${process.env.BENCH_CLI_BASELINE_NAME ?? base} digest`, exec: base, argv: ['digest', ...digest], probe: CHECKPOINT });
  return list;
}

/**
 * One fresh process; returns its wall time seen from here and the probe's own figures (ms). An
 * executable (`exec`) is started as a shell would and gets the probe through NODE_OPTIONS. The
 * first-byte time is counted from the spawn, so a launcher's own time is included.
 */
function runOnce(c, probeFile) {
  rmSync(probeFile, { force: true });
  const env = { ...process.env, BENCH_PROBE_FILE: probeFile, ...(c.probe !== undefined ? { BENCH_PROBE_PATH: c.probe } : {}) };
  if (c.unsetCa) delete env.NODE_EXTRA_CA_CERTS;
  if (c.exec !== undefined) env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import ${PROBE}`.trim();
  const spawnedAt = performance.timeOrigin + performance.now();
  const t0 = performance.now();
  const r = c.exec !== undefined
    ? spawnSync(c.exec, c.argv, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env })
    : spawnSync(process.execPath, ['--import', PROBE, ...c.argv], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${c.name} exited ${r.status}: ${r.stderr}`);
  const p = JSON.parse(readFileSync(probeFile, 'utf8'));
  if (c.probe !== undefined && p.firstOpen === undefined) throw new Error(`${c.name}: the probe saw no open under ${c.probe}`);
  const first = p.firstOpen === undefined ? undefined : p.firstOpen.epochMs - spawnedAt;
  return { wall, cpu: p.exit.cpuMs, firstWall: first, firstCpu: p.firstOpen?.cpuMs };
}

const quantile = (xs, q) => {
  const s = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
  return s.length === 0 ? undefined : s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/** Measures every command RUNS times, interleaved (one of each per round, order rotated). */
export function measureStartup({ runs = RUNS, log = console.log, list = commands() } = {}) {
  const probeFile = join(HERE, 'out', `startup-probe-${process.pid}.json`);
  spawnSync('mkdir', ['-p', join(HERE, 'out')]);
  const samples = list.map(() => []);
  for (let c = 0; c < list.length; c++) runOnce(list[c], probeFile); // warm-up: page cache
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < list.length; k++) {
      const c = (i + k) % list.length;
      samples[c].push(runOnce(list[c], probeFile));
    }
  }
  rmSync(probeFile, { force: true });
  return list.map((c, k) => {
    const s = samples[k];
    const stat = (f) => ({ median: quantile(s.map(f), 0.5), p90: quantile(s.map(f), 0.9) });
    const row = { name: c.name, runs: s.length, wall: stat((x) => x.wall), cpu: stat((x) => x.cpu), firstWall: stat((x) => x.firstWall), firstCpu: stat((x) => x.firstCpu) };
    log(`${c.name.padEnd(48)} ${fmtRow(row)}`);
    return row;
  });
}

/** The line every section of RESULTS.md starts with: when, which Node, how many cores, how loaded. */
export function machineLine(started, loadStart, loadEnd) {
  const load = (l) => l.map((x) => x.toFixed(2)).join(' / ');
  return `- ${started.toISOString()}, Node ${process.version}, ${cpus().length} cores; load average (1 / 5 / 15 min) ${load(loadStart)} at the start, ${load(loadEnd)} at the end.`;
}

const ms = (x) => (x === undefined ? '—' : `${x.toFixed(0)}`);
const pair = (s) => `${ms(s.median)} / ${ms(s.p90)}`;
const fmtRow = (r) => `wall ${pair(r.wall)} ms, CPU ${pair(r.cpu)} ms, first checkpoint open ${pair(r.firstWall)} ms (CPU ${pair(r.firstCpu)} ms)`;

/** Measures and returns the RESULTS.md section (markdown), or undefined when skipped. */
export async function runStartupBench({ log = console.log } = {}) {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    log('startup benchmark skipped: no dist/ (npm run build)');
    return undefined;
  }
  const loadStart = loadavg();
  const started = new Date();
  const rows = measureStartup({ log });
  const loadEnd = loadavg();
  // Node alone as the executable runs it: without NODE_EXTRA_CA_CERTS when the environment sets it.
  const node = rows.find((r) => r.name.includes('unset')) ?? rows[0];
  const digest = rows.find((r) => r.name.startsWith('bin/snapshot-verify'));
  const first = digest.firstWall.median;
  return [
    STARTUP_MARKERS.begin,
    '## Start-up: a small digest, process start to first checkpoint byte (issue 13)',
    '',
    'Reproduce: `node bench/startup.mjs` (part of `npm run bench`; `BENCH_STARTUP_RUNS=N`, `BENCH_CLI_BASELINE=other/bin/snapshot-verify`).',
    '',
    machineLine(started, loadStart, loadEnd),
    `- ${RUNS} fresh processes per command, interleaved; median / 90th percentile, milliseconds. "First checkpoint open" is the first`,
    '  open of a file under the checkpoint (bench/startup-probe.mjs), counted from the spawn (so the executable\'s shell line is included);',
    '  "CPU" is user + system time of all threads of the process up to that point (or to its exit).',
    `- Command: \`snapshot-verify digest examples/checkpoint_epoch_42 --tables ${TABLES}\` (2,499 entries).`,
    '',
    '| command | wall, spawn to exit | CPU to exit | first checkpoint open (wall) | first checkpoint open (CPU) |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${pair(r.wall)} | ${pair(r.cpu)} | ${pair(r.firstWall)} | ${pair(r.firstCpu)} |`),
    '',
    `First checkpoint byte at a median ${ms(first)} ms wall (${ms(digest.firstCpu.median)} ms CPU); target < ${TARGET_FIRST_BYTE_MS} ms: ` +
      `**${first < TARGET_FIRST_BYTE_MS ? 'PASS' : 'FAIL'}**. \`${node.name}\` exits at ${ms(node.cpu.median)} ms CPU; the digest process takes ` +
      `${(digest.cpu.median / node.cpu.median).toFixed(2)}× that to exit and ${(digest.firstCpu.median / node.cpu.median).toFixed(2)}× to its first checkpoint byte.`,
    STARTUP_MARKERS.end,
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const md = await runStartupBench();
  if (md !== undefined) writeSection(md, join(HERE, 'RESULTS.md'), STARTUP_MARKERS);
}
