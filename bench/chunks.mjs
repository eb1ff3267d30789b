// Issue 8, item 6: time and peak memory must not grow with the number of chunks. Runs the CLI as
// operators do (digest, --out, --chunk-files, verify, diff) on one dump with chunk sizes
// unchunked, 16 KiB and 4 KiB, each command in a fresh process under /usr/bin/time (wall clock,
// user+system CPU, max RSS). Writes bench/RESULTS-chunks.md. Not part of the test suite.
//
//   node bench/chunks.mjs              (BENCH_CHUNK_ENTRIES entries, default 1,000,000)
//   BENCH_QUICK=1 node bench/chunks.mjs   (100,000 entries: a smoke run, not a result)
//   BENCH_RUNS=3 BENCH_BASE=/path/to/other/checkout node bench/chunks.mjs
//     each command BENCH_RUNS times (medians), alternating with the other checkout's build on
//     the same files (A/B interleaved: on a shared machine both see the same load)
// The commands run without NODE_EXTRA_CA_CERTS (set on some machines, it makes every Node
// process parse a CA bundle at start-up, ~85 ms here): the rows measure the tool, not that.
import { spawnSync } from 'node:child_process';
import { copyFileSync, createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const BIN = join(HERE, '..', 'bin', 'snapshot-verify');
const FLOOR = join(HERE, 'set-read-floor.mjs');
const OUT = join(HERE, 'out', `chunks-${process.pid}`);
const ENTRIES = process.env.BENCH_QUICK === '1' ? 100_000 : Number(process.env.BENCH_CHUNK_ENTRIES ?? 1_000_000);
const SIZES = [['unchunked', undefined], ['16 KiB', '16KiB'], ['4 KiB', '4KiB']];
const RUNS = Number(process.env.BENCH_RUNS ?? 1);
const BASE = process.env.BENCH_BASE === undefined ? undefined : join(process.env.BENCH_BASE, 'bin', 'snapshot-verify');
const { NODE_EXTRA_CA_CERTS: _, ...ENV } = process.env;

/** A dump directory with one table of ENTRIES entries: 8-byte keys, 100-byte values (blob-info-like). */
async function makeDump(dir) {
  mkdirSync(dir, { recursive: true });
  const stream = createWriteStream(join(dir, 't.hex'));
  for (let i = 0; i < ENTRIES; i++) {
    const line = `0x${i.toString(16).padStart(16, '0')} : 0x${((i * 2654435761) >>> 0).toString(16).padStart(8, '0').repeat(25)}\n`;
    if (!stream.write(line)) await new Promise((r) => stream.once('drain', r));
  }
  await new Promise((r) => stream.end(r));
}

function run(args, bin = BIN) {
  // The floor row runs the same script for both builds: it measures the file system, not the tool.
  const script = args[0] === FLOOR ? FLOOR : bin;
  const r = spawnSync('/usr/bin/time', ['-f', 'time=%e %U %S %M', process.execPath, script, ...(script === FLOOR ? args.slice(1) : args)], { encoding: 'utf8', maxBuffer: 1 << 30, env: ENV });
  const m = /time=([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (r.status !== 0 || m === null) throw new Error(`${args.join(' ')}: exit ${r.status}\n${r.stderr.slice(-2000)}`);
  return { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]), rssMB: Number(m[4]) / 1024 };
}

/** Copies the chunk-set file `from` and the chunk files it names to `to` (renamed as `to`'s set would name them). */
function copyChunkSet(from, to) {
  mkdirSync(dirname(to), { recursive: true });
  const lines = readFileSync(from, 'latin1').split('\n');
  const names = lines.slice(3, -1);
  const stem = basename(from);
  const renamed = names.map((n) => basename(to) + n.slice(stem.length));
  names.forEach((n, i) => copyFileSync(join(dirname(from), n), join(dirname(to), renamed[i])));
  writeFileSync(to, [...lines.slice(0, 3), ...renamed, ''].join('\n'));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * The command RUNS times (alternating with the base build when given): medians of each. `args`
 * may depend on the side ('mine' or 'base'); `before(side)` runs untimed before each run.
 */
function measure(args, before = () => undefined) {
  const argsOf = (side) => (typeof args === 'function' ? args(side) : args);
  const mine = [];
  const base = [];
  for (let i = 0; i < RUNS; i++) {
    if (BASE !== undefined) {
      before('base');
      base.push(run(argsOf('base'), BASE));
    }
    before('mine');
    mine.push(run(argsOf('mine')));
  }
  const med = (rs) => ({ wall: median(rs.map((r) => r.wall)), cpu: median(rs.map((r) => r.cpu)), rssMB: median(rs.map((r) => r.rssMB)) });
  return { ...med(mine), ...(BASE !== undefined ? { base: med(base) } : {}) };
}

const dump = join(OUT, 'checkpoint_epoch_1');
await makeDump(dump);
const load = [loadavg()];
const rows = [];
for (const [label, size] of SIZES) {
  const chunk = size === undefined ? [] : ['--max-chunk-bytes', size];
  const base = ['digest', dump, '--tables', 't', ...chunk];
  const a = join(OUT, `a-${label.replace(' ', '')}.snap`);
  let b = join(OUT, `b-${label.replace(' ', '')}.snap`);
  // Each build writes its chunk sets to a directory of its own (b.snap in set-<label>-<side>): the
  // "over the previous set" rows then rewrite the set that build wrote, the same content (an
  // identical rewrite, as a node re-running the same epoch does); the "fresh" rows start from an
  // empty directory (the previous set removed and the removal synced before the timed run).
  // With chunks, b is the set this build wrote.
  const setOf = (side) => join(OUT, `set-${label.replace(' ', '')}-${side}`, 'b.snap');
  if (size !== undefined) b = setOf('mine');
  const chunked = (side) => [...base, '--out', setOf(side), '--chunk-files'];
  const empty = (side) => {
    rmSync(dirname(setOf(side)), { recursive: true, force: true });
    mkdirSync(dirname(setOf(side)), { recursive: true });
    spawnSync('sync');
    // ext4 without a journal (this machine's) skips inodes freed in the last 5 s (longer while
    // their inode table is dirty: hence the sync) when it allocates one: creating a set just
    // after removing one costs ~0.7 ms per file, for either build. A fresh set is measured after.
    spawnSync('sleep', ['6']);
  };
  const ops = [
    ['digest', base],
    ['digest --out', [...base, '--out', a]],
    ...(size === undefined
      ? [['digest --out (again)', [...base, '--out', b]]]
      : [
          ['digest --out --chunk-files (fresh)', chunked, empty],
          ['digest --out --chunk-files (over the previous set)', chunked],
        ]),
    ['verify (--out file)', ['verify', a]],
    ...(size === undefined ? [] : [['verify (chunk set)', ['verify', b]], ['floor: open, read, close each file of the set', [FLOOR, b]]]),
    ['diff a b (identical)', ['diff', a, b]],
  ];
  for (const [op, args, before] of ops) {
    rows.push({ label, op, ...measure(args, before) });
    console.log(rows.at(-1));
  }
  if (size !== undefined) {
    // Two chunk sets of the same snapshot: a copy of b's set file and chunk files in a directory of its own.
    const c = join(OUT, `c-${label.replace(' ', '')}`, 'c.snap');
    copyChunkSet(b, c);
    rows.push({ label, op: 'diff b c (two chunk sets)', ...measure(['diff', b, c]) });
    console.log(rows.at(-1));
    // Two chunked files (--out, no --chunk-files): a copy of a.
    const a2 = join(OUT, `a2-${label.replace(' ', '')}.snap`);
    copyFileSync(a, a2);
    rows.push({ label, op: 'diff a a2 (two --out files)', ...measure(['diff', a, a2]) });
    console.log(rows.at(-1));
  }
}
load.push(loadavg());
rmSync(OUT, { recursive: true, force: true });

const baseOf = (op) => rows.find((r) => r.label === 'unchunked' && r.op === op.replace(' --chunk-files (fresh)', '').replace(' --chunk-files (over the previous set)', '').replace('(chunk set)', '(--out file)').replace('floor: open, read, close each file of the set', 'verify (--out file)').replace('b c (two chunk sets)', 'a b (identical)').replace('a a2 (two --out files)', 'a b (identical)'));
const md = [
  '# Chunk-count benchmark (bench/chunks.mjs)',
  '',
  `${ENTRIES.toLocaleString('en')} entries (8 B keys, 100 B values), node ${process.version}, ${new Date().toISOString()}.`,
  `Load average at start ${load[0].map((x) => x.toFixed(2)).join(' ')}, at end ${load[1].map((x) => x.toFixed(2)).join(' ')} (2 cores shared with other jobs: wall clock is noisy, CPU seconds less so).`,
  'Goal (issue 8): with 4 KiB chunks, peak RSS within 20% and time within 2x of unchunked.',
  'Every command ran without NODE_EXTRA_CA_CERTS (a CA bundle parsed at each start-up is not the tool\'s time).',
  `Medians of ${RUNS} run(s) per command${BASE !== undefined ? `, alternating with the build at ${process.env.BENCH_BASE} (columns "base")` : ''}.`,
  '',
  `| chunks | command | wall s | CPU s | peak RSS MB | RSS vs unchunked | wall vs unchunked | CPU vs unchunked |${BASE !== undefined ? ' base wall s | base CPU s | base RSS MB | base CPU vs unchunked |' : ''}`,
  `|---|---|---|---|---|---|---|---|${BASE !== undefined ? '---|---|---|---|' : ''}`,
  ...rows.map((r) => {
    const u = baseOf(r.op);
    const ratio = (x, y) => (u === undefined ? '—' : `${(x / y).toFixed(2)}x`);
    const b = r.base === undefined ? '' : ` ${r.base.wall.toFixed(2)} | ${r.base.cpu.toFixed(2)} | ${r.base.rssMB.toFixed(0)} | ${u?.base ? ratio(r.base.cpu, u.base.cpu) : '—'} |`;
    return `| ${r.label} | ${r.op} | ${r.wall.toFixed(2)} | ${r.cpu.toFixed(2)} | ${r.rssMB.toFixed(0)} | ${ratio(r.rssMB, u?.rssMB)} | ${ratio(r.wall, u?.wall)} | ${ratio(r.cpu, u?.cpu)} |${b}`;
  }),
  '',
  'With chunks, `b` is a chunk set (`--chunk-files`), so `diff a b` reads a file and a set, and `diff b c` two sets (`c` a copy of `b`). `--chunk-files` and chunk-set rows compare with unchunked `--out` and `verify` of a file. Each build writes its sets to a directory of its own: "fresh" starts from an empty directory, "over the previous set" rewrites the same content over the set that build wrote in the run before (since chunk files are named by their own chunk digest, this build keeps every unchanged file: it reads and compares each instead of creating one; the base build may rename a new file over each). One file per 4 KiB chunk costs the file system a create (and in the base build a rename) and, at the end, a sync. Above a few thousand files that sync is `sync --file-system`, which also flushes what other processes left dirty on the same file system: on a shared machine the `--chunk-files` rows measure their neighbours\' writes too (a fresh 4 KiB set of 200k entries took 1.7 CPU-s alone, 5.5 with other jobs writing).',
  '',
  'The "floor" row (bench/set-read-floor.mjs) is a Node process that only opens, reads and closes each file of the set, decoding nothing, compared with verify of the unchunked file: the file system\'s cost per file alone. A reader of the set needs at least that plus the decoding of the same chunks from one file (the "verify (--out file)" row of the same chunk size).',
  '',
];
writeFileSync(join(HERE, 'RESULTS-chunks.md'), md.join('\n'));
console.log(md.join('\n'));
