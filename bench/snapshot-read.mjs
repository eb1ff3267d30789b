// Issue 13, item 2: reading a snapshot near the hashing limit. Times, side by side in one run
// (interleaved, each command in a fresh process under /usr/bin/time), `xxh64sum FILE` against
// the CLI's `verify FILE`, `digest FILE` and `diff FILE COPY` on a small-entry snapshot (default
// 1.7M entries, 32 B keys, 90 B values: 223 MB, the issue's shape). Writes
// bench/RESULTS-snapshot-read.md. Not part of the test suite; `npm run bench` runs it.
//
//   node bench/snapshot-read.mjs           (BENCH_READ_ENTRIES, default 1,700,000; BENCH_READ_RUNS, default 5)
//   BENCH_QUICK=1 node bench/snapshot-read.mjs   (200,000 entries, 2 runs: a smoke run, not a result)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileSink } from '../dist/index.js';
import { valuePool, writeTable } from './lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const BIN = join(HERE, '..', 'bin', 'snapshot-verify');
const OUT = join(HERE, 'out', `snapshot-read-${process.pid}`);
const QUICK = process.env.BENCH_QUICK === '1';
const ENTRIES = QUICK ? 200_000 : Number(process.env.BENCH_READ_ENTRIES ?? 1_700_000);
const RUNS = QUICK ? 2 : Number(process.env.BENCH_READ_RUNS ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timed(cmd, args) {
  const r = spawnSync('/usr/bin/time', ['-f', 'time=%e %U %S %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const m = /time=([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (r.status !== 0 || m === null) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr.slice(-2000)}`);
  return { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]), rssMB: Number(m[4]) / 1024 };
}

mkdirSync(OUT, { recursive: true });
const a = join(OUT, 'a.snap');
const b = join(OUT, 'b.snap');
try {
  await writeTable(fileSink(a), { entries: ENTRIES, values: valuePool(64, 90) });
  copyFileSync(a, b);
  const bytes = statSync(a).size;
  const ops = [
    ['xxh64sum FILE', 'xxh64sum', [a]],
    ['snapshot-verify --version (start-up)', process.execPath, [BIN, '--version']],
    ['verify FILE', process.execPath, [BIN, 'verify', a]],
    ['digest FILE --tables t', process.execPath, [BIN, 'digest', a, '--tables', 't']],
    ['diff FILE COPY (identical)', process.execPath, [BIN, 'diff', a, b]],
  ];
  const load = [loadavg()];
  const runs = new Map(ops.map(([label]) => [label, []]));
  for (const [, cmd, args] of ops) timed(cmd, args); // warm the page cache and the disk
  for (let i = 0; i < RUNS; i++) for (const [label, cmd, args] of ops) runs.get(label).push(timed(cmd, args));
  load.push(loadavg());
  const med = (label, k) => median(runs.get(label).map((r) => r[k]));
  const base = { wall: med('xxh64sum FILE', 'wall'), cpu: med('xxh64sum FILE', 'cpu') };
  const md = [
    '# Reading a snapshot against xxh64sum (bench/snapshot-read.mjs)',
    '',
    `${ENTRIES.toLocaleString('en')} entries (32 B keys, 90 B values), ${(bytes / 1e6).toFixed(1)} MB, one table, unchunked; node ${process.version}, ${new Date().toISOString()}.`,
    `${RUNS} interleaved rounds (each command once per round, in a fresh process under /usr/bin/time), medians; the file is in the page cache.`,
    `Load average at start ${load[0].map((x) => x.toFixed(2)).join(' ')}, at end ${load[1].map((x) => x.toFixed(2)).join(' ')} (2 cores shared: wall clock is noisy, CPU seconds less so).`,
    'Speed vs xxh64sum = xxh64sum time / command time (goal, issue 13: verify >= 0.5x, digest and diff >= 0.25x). Whole processes, start-up included (row 2).',
    '',
    '| command | wall s | CPU s | peak RSS MB | speed vs xxh64sum (wall) | (CPU) | wall runs |',
    '|---|---|---|---|---|---|---|',
    ...ops.map(([label]) => {
      const w = med(label, 'wall');
      const c = med(label, 'cpu');
      return `| ${label} | ${w.toFixed(3)} | ${c.toFixed(3)} | ${med(label, 'rssMB').toFixed(0)} | ${(base.wall / w).toFixed(3)}x | ${base.cpu > 0 && c > 0 ? `${(base.cpu / c).toFixed(3)}x` : '—'} | ${runs.get(label).map((r) => r.wall.toFixed(2)).join(', ')} |`;
    }),
    '',
  ];
  writeFileSync(join(HERE, 'RESULTS-snapshot-read.md'), md.join('\n'));
  console.log(md.join('\n'));
} finally {
  rmSync(OUT, { recursive: true, force: true });
}
