// Issue 13, item 2: reading a snapshot near the hashing limit. Times, side by side in one run
// (interleaved, each command in a fresh process under /usr/bin/time), `xxh64sum FILE` against
// the CLI's `verify FILE`, `digest FILE` and `diff FILE COPY` on a small-entry snapshot (default
// 1.7M entries, 32 B keys, 90 B values: 223 MB, the issue's shape), and the same work in-process
// (library calls timed after start-up, in a fresh process each: what the reading itself costs).
// Writes bench/RESULTS-snapshot-read.md. Not part of the test suite; `npm run bench` runs it.
//
//   node bench/snapshot-read.mjs           (BENCH_READ_ENTRIES, default 1,700,000; BENCH_READ_RUNS, default 5)
//   BENCH_QUICK=1 node bench/snapshot-read.mjs   (200,000 entries, 2 runs: a smoke run, not a result)
//   BENCH_READ_BASE=/path/to/other/build node bench/snapshot-read.mjs   (its CLI and library rows
//     too, interleaved with ours: an A/B against an older build, e.g. a `git worktree` of it with dist/)
//   BENCH_KEEP_CA=1: children keep NODE_EXTRA_CA_CERTS (by default they run without it, see below)
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
const BASE = process.env.BENCH_READ_BASE;
// This machine's environment sets NODE_EXTRA_CA_CERTS, which makes every Node process parse the
// CA bundle at start-up (~85 ms, nothing to do with reading snapshots): the children run without
// it, both builds alike, unless BENCH_KEEP_CA=1.
if (process.env.BENCH_KEEP_CA !== '1') delete process.env.NODE_EXTRA_CA_CERTS;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// In-process mode (a child of the bench): `--inproc ROOT OP A B` times OP with ROOT's library
// after its start-up (module loading, hasher) and prints {"wall","cpu"} in seconds.
if (process.argv[2] === '--inproc') {
  const [, , , root, op, fa, fb] = process.argv;
  const lib = await import(join(root, 'dist', 'index.js'));
  await lib.loadHasher();
  const anchorOf = (s) => ({ epoch: s.recorded.epoch, cursor: s.recorded.cursor, maxChunkBytes: s.recorded.maxChunkBytes, tables: s.recorded.tables });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  if (op === 'verify') await lib.verifySnapshot(fa);
  if (op === 'digest') {
    const s = await lib.openCheckpoint([fa]);
    await lib.digestSource(s, { anchor: anchorOf(s) });
    await s.close();
  }
  if (op.startsWith('floor-')) {
    // The floor under verify: the same reads into the decode kernel's memory (what the reader
    // does), then one xxh64 pass over every byte, then both of the format's streams (chunk and
    // table digests) in the kernel's one-pass loop; no parsing.
    const { decodeKernel, HashStates, CHUNK_SLOT, TABLE_SLOT } = await import(join(root, 'dist', 'format', 'wasm', 'decode-kernel.js'));
    const { openSync, readSync, closeSync } = await import('node:fs');
    const k = decodeKernel();
    const states = new HashStates();
    k.reset(states, CHUNK_SLOT);
    k.reset(states, TABLE_SLOT);
    const buffer = k.takeReadBuffer();
    const fd = openSync(fa, 'r');
    // floor-diff: diff of two identical files reads the second beside the first and compares.
    const other = op === 'floor-diff' ? { fd: openSync(fb, 'r'), bytes: new Uint8Array(buffer.length) } : undefined;
    for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0; ) {
      if (op === 'floor-hash1') k.update(states, buffer, 0, -1, n);
      if (op === 'floor-hash2' || op === 'floor-diff') k.update(states, buffer, 0, 0, n);
      if (other !== undefined && (readSync(other.fd, other.bytes, 0, n, null) !== n || Buffer.compare(other.bytes.subarray(0, n), buffer.subarray(0, n)) !== 0)) throw new Error('the copies differ');
    }
    closeSync(fd);
    if (other !== undefined) closeSync(other.fd);
  }
  if (op === 'diff') {
    const a = await lib.openCheckpoint([fa]);
    const b = await lib.openCheckpoint([fb]);
    if (!(await lib.diffSources(a, b, {})).identical) throw new Error('the copies differ');
    await a.close();
    await b.close();
  }
  const c = process.cpuUsage(c0);
  console.log(JSON.stringify({ wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 }));
  process.exit(0);
}

function inProcess(root, op, a, b) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--inproc', root, op, a, b], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`in-process ${op} (${root}): exit ${r.status}\n${r.stderr.slice(-2000)}`);
  return { ...JSON.parse(r.stdout), rssMB: NaN };
}

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
  const builds = [['', join(HERE, '..')], ...(BASE !== undefined ? [['base: ', BASE]] : [])];
  const ops = [
    ['xxh64sum FILE', () => timed('xxh64sum', [a])],
    ['node -e 0 (Node start-up alone)', () => timed(process.execPath, ['-e', '0'])],
    ['floor, in-process: read FILE into the kernel memory', () => inProcess(join(HERE, '..'), 'floor-read', a, b)],
    ['floor, in-process: read + one xxh64 pass', () => inProcess(join(HERE, '..'), 'floor-hash1', a, b)],
    ['floor, in-process: read + both digest streams (one pass)', () => inProcess(join(HERE, '..'), 'floor-hash2', a, b)],
    ['floor, in-process: that + read COPY beside it and compare (diff)', () => inProcess(join(HERE, '..'), 'floor-diff', a, b)],
  ];
  for (const [tag, root] of builds) {
    const bin = join(root, 'bin', 'snapshot-verify');
    ops.push(
      [`${tag}snapshot-verify --version (start-up)`, () => timed(process.execPath, [bin, '--version'])],
      [`${tag}verify FILE`, () => timed(process.execPath, [bin, 'verify', a])],
      [`${tag}digest FILE --tables t`, () => timed(process.execPath, [bin, 'digest', a, '--tables', 't'])],
      [`${tag}diff FILE COPY (identical)`, () => timed(process.execPath, [bin, 'diff', a, b])],
      [`${tag}in-process verifySnapshot(FILE)`, () => inProcess(root, 'verify', a, b)],
      [`${tag}in-process digestSource(FILE, its anchor)`, () => inProcess(root, 'digest', a, b)],
      [`${tag}in-process diffSources(FILE, COPY)`, () => inProcess(root, 'diff', a, b)],
    );
  }
  const load = [loadavg()];
  const runs = new Map(ops.map(([label]) => [label, []]));
  for (const [, run] of ops) run(); // warm the page cache and the disk
  for (let i = 0; i < RUNS; i++) for (const [label, run] of ops) runs.get(label).push(run());
  load.push(loadavg());
  const med = (label, k) => median(runs.get(label).map((r) => r[k]));
  const base = { wall: med('xxh64sum FILE', 'wall'), cpu: med('xxh64sum FILE', 'cpu') };
  const md = [
    '# Reading a snapshot against xxh64sum (bench/snapshot-read.mjs)',
    '',
    `${ENTRIES.toLocaleString('en')} entries (32 B keys, 90 B values), ${(bytes / 1e6).toFixed(1)} MB, one table, unchunked; node ${process.version}, ${new Date().toISOString()}.`,
    `${RUNS} interleaved rounds (each command once per round, in a fresh process under /usr/bin/time), medians; the file is in the page cache.`,
    `Children ran ${process.env.NODE_EXTRA_CA_CERTS === undefined ? 'without' : 'with'} NODE_EXTRA_CA_CERTS (BENCH_KEEP_CA=1 keeps it). "floor" rows: what verify cannot go below in-process (reads into the decode kernel's memory, hashing without parsing).`,
    `Load average at start ${load[0].map((x) => x.toFixed(2)).join(' ')}, at end ${load[1].map((x) => x.toFixed(2)).join(' ')} (2 cores shared: wall clock is noisy, CPU seconds less so).`,
    'Speed vs xxh64sum = xxh64sum time / command time (goal, issue 13: verify >= 0.5x, digest and diff >= 0.25x). CLI rows: whole processes, start-up included (the --version row);',
    '"in-process" rows: the same work through the library, timed after module loading in a fresh process (no RSS: the process includes the bench harness).',
    ...(BASE !== undefined ? [`"base:" rows: the build at ${BASE}, interleaved with ours (A/B).`] : []),
    '',
    '| command | wall s | CPU s | peak RSS MB | speed vs xxh64sum (wall) | (CPU) | wall runs |',
    '|---|---|---|---|---|---|---|',
    ...ops.map(([label]) => {
      const rss = med(label, 'rssMB');
      const w = med(label, 'wall');
      const c = med(label, 'cpu');
      return `| ${label} | ${w.toFixed(3)} | ${c.toFixed(3)} | ${Number.isNaN(rss) ? '—' : rss.toFixed(0)} | ${(base.wall / w).toFixed(3)}x | ${base.cpu > 0 && c > 0 ? `${(base.cpu / c).toFixed(3)}x` : '—'} | ${runs.get(label).map((r) => r.wall.toFixed(2)).join(', ')} |`;
    }),
    '',
  ];
  writeFileSync(join(HERE, 'RESULTS-snapshot-read.md'), md.join('\n'));
  console.log(md.join('\n'));
} finally {
  rmSync(OUT, { recursive: true, force: true });
}
