// Merge operands' cost (issue 15): `snapshot-verify digest` of a checkpoint where 10% of the keys
// carry a merge operand (RocksDB's StringAppendOperator, operands in an L0 file over bases in L1
// and L0) against the same checkpoint without the operands. Target: at least half the speed.
// Part of `npm run bench` (run.mjs calls it after rocksdb.mjs); alone after `npm run build`:
//
//   node bench/merge-operands.mjs               # generate, measure, update bench/RESULTS.md
//   BENCH_QUICK=1 node bench/merge-operands.mjs # a tenth of the size (smoke run, not a result)
//
// Needs the fixture generator (test/fixtures/rocksdb/build.sh) and /usr/bin/time. Only the section
// between the merge-bench markers of RESULTS.md is rewritten.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { have, median, timedCommand, writeSection } from './rocksdb.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const QUICK = process.env.BENCH_QUICK === '1';
const CLI = join(ROOT, 'bin', 'snapshot-verify');
const KEYS = QUICK ? 56_700 : 567_000;
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 5));
const TARGET = 0.5;
export const MERGE_MARKERS = {
  begin: '<!-- merge-bench:begin (written by bench/merge-operands.mjs) -->',
  end: '<!-- merge-bench:end -->',
};

/** The generator's options; the checkpoint with operands adds `--merge-every 10`. */
function generatorArgs(db, checkpoint, withOperands) {
  return [
    '--db', db, '--checkpoint', checkpoint, '--keys', String(KEYS), '--key-size', '32', '--value-size', '100', '--hashed-keys',
    '--rounds', '4', '--compact-after', '1', '--deletes', '97', '--compression', 'snappy',
    '--merge-operator', 'stringappend',
    ...(withOperands ? ['--merge-every', '10'] : []),
  ];
}

/** Measures and returns the RESULTS.md section (markdown), or undefined when skipped. */
export async function runMergeBench({ log = console.log } = {}) {
  const missing = ['g++'].filter((c) => !have(c));
  if (!existsSync('/usr/bin/time')) missing.push('/usr/bin/time');
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) missing.push('dist/ (npm run build)');
  if (missing.length > 0) {
    log(`merge-operands benchmark skipped: missing ${missing.join(', ')}`);
    return undefined;
  }
  const started = new Date();
  const loadStart = loadavg();
  const work = join(HERE, 'out', `merge-${process.pid}`);
  mkdirSync(work, { recursive: true });
  try {
    const mf = execFileSync('sh', [join(ROOT, 'test', 'fixtures', 'rocksdb', 'build.sh')], { encoding: 'utf8' }).trim().split('\n').pop();
    const cps = {};
    for (const [name, withOperands] of [['plain', false], ['operands', true]]) {
      log(`merge-operands: generating the checkpoint ${name}…`);
      cps[name] = join(work, `checkpoint_epoch_1_${name}`);
      execFileSync(mf, generatorArgs(join(work, `db-${name}`), cps[name], withOperands), { stdio: 'ignore' });
      rmSync(join(work, `db-${name}`), { recursive: true, force: true });
    }
    const runs = { plain: [], operands: [] };
    for (let i = -1; i < RUNS; i++) {
      for (const name of ['plain', 'operands']) {
        const t = timedCommand([process.execPath, CLI, 'digest', cps[name], '--tables', 'default', '--epoch', '1', '--json']);
        const r = JSON.parse(t.stdout);
        const row = { wall: t.wall, cpu: t.user + t.sys, entries: Number(r.entries), digest: r.digest };
        if (i >= 0) runs[name].push(row);
        log(`merge-operands run ${i < 0 ? 'warm-up' : i + 1} ${name}: ${row.wall.toFixed(2)} s wall, ${row.cpu.toFixed(2)} s CPU, ${row.entries} entries`);
      }
    }
    const md = section({ started, loadStart, loadEnd: loadavg(), runs });
    log(md);
    return md;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function section({ started, loadStart, loadEnd, runs }) {
  const load = (l) => l.map((x) => x.toFixed(2)).join(' / ');
  const m = (name, f) => median(runs[name].map(f));
  const wall = { plain: m('plain', (r) => r.wall), operands: m('operands', (r) => r.wall) };
  const cpu = { plain: m('plain', (r) => r.cpu), operands: m('operands', (r) => r.cpu) };
  const entries = runs.plain[0].entries;
  const ratioWall = wall.plain / wall.operands;
  const ratioCpu = cpu.plain / cpu.operands;
  const status = ratioWall >= TARGET ? 'PASS' : ratioCpu >= TARGET ? 'FAIL on wall clock, PASS per CPU-second' : 'FAIL';
  return [
    MERGE_MARKERS.begin,
    '## Merge operands: 10% of keys with an operand vs none (issue 15)',
    '',
    'Written by `bench/merge-operands.mjs` (also run by `npm run bench`); do not edit by hand. Reproduce:',
    '',
    '```sh',
    'npm run build && node bench/merge-operands.mjs',
    '```',
    '',
    `- Date: ${started.toISOString()}; Node ${process.version}; ${cpus().length} cores (shared with other jobs); load average`,
    `  (1 / 5 / 15 min) at the start ${load(loadStart)}, at the end ${load(loadEnd)}.${QUICK ? ' **QUICK mode: a tenth of the size, not a result.**' : ''}`,
    `- Checkpoints: \`make-fixture ${generatorArgs('DB', 'CHECKPOINT', false).join(' ')}\`, and the same with`,
    '  `--merge-every 10`: a StringAppendOperator operand (4 bytes) on every 10th key, flushed into an L0 file of its own,',
    '  over bases in L1 (rounds 0–1) and L0 (rounds 2–3); an operand on a deleted key brings it back (a few more entries).',
    `- \`node bin/snapshot-verify digest CHECKPOINT --tables default --epoch 1 --json\`, a fresh process per run, ${RUNS} runs`,
    '  after a warm-up, the two checkpoints interleaved; medians. Operands are merged by the WebAssembly kernel (merge',
    '  groups) and the operator in JavaScript.',
    '',
    '| checkpoint | entries | wall s | CPU s | entries/s (wall) |',
    '|---|---|---|---|---|',
    `| no operands | ${entries.toLocaleString('en')} | ${wall.plain.toFixed(2)} | ${cpu.plain.toFixed(2)} | ${(entries / wall.plain / 1e6).toFixed(2)} M/s |`,
    `| 10% of keys with an operand | ${runs.operands[0].entries.toLocaleString('en')} | ${wall.operands.toFixed(2)} | ${cpu.operands.toFixed(2)} | ${(entries / wall.operands / 1e6).toFixed(2)} M/s |`,
    '',
    `| target | wall clock | per CPU-second | status |`,
    '|---|---|---|---|',
    `| speed with operands ≥ ${TARGET * 100}% of without | ${(ratioWall * 100).toFixed(0)}% | ${(ratioCpu * 100).toFixed(0)}% | ${status} |`,
    '',
    MERGE_MARKERS.end,
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const md = await runMergeBench();
  if (md !== undefined) writeSection(md, join(HERE, 'RESULTS.md'), MERGE_MARKERS);
}
