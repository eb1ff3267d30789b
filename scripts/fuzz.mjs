#!/usr/bin/env node
// The fault-injection campaign of issue 8 (test/fuzz/harness.mjs): runs every class with fresh
// seeds until the time (or the input count) is up, then prints inputs tried and outcomes per
// class, with the codes of the rejected inputs. Needs dist/ (npm run build) and, for the enospc
// class, root (it mounts a 64 KiB tmpfs, unmounted at the end).
//
//   npm run fuzz -- --minutes 10 [--classes kills,enospc] [--seed 1] [--trials N] [--in-process-share 0.5]
//
// Time, not turns, is shared: the in-process classes together get --in-process-share of the
// time (default 0.5) and the spawning classes (special files, kill -9, a full disk: their subject
// is the process) the rest, split evenly within each group, so every class gets a meaningful share
// and a cheap input never waits for an expensive one. Trial k of class C uses seed (--seed + k);
// every failure is printed with its class and seed, which replays it:
// `npm run fuzz -- --classes C --seed SEED --trials 1`.
import { parseArgs } from 'node:util';
import { CLASSES, OUTCOMES, runTrial, tinyDisk } from '../test/fuzz/harness.mjs';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    classes: { type: 'string' },
    seed: { type: 'string', default: String(Date.now() % 1e9) },
    trials: { type: 'string' },
    'in-process-share': { type: 'string', default: '0.5' },
  },
});
const names = values.classes?.split(',') ?? Object.keys(CLASSES);
for (const n of names) if (!(n in CLASSES)) throw new Error(`unknown class ${n}; classes: ${Object.keys(CLASSES).join(', ')}`);
const deadline = Date.now() + Number(values.minutes) * 60_000;
const maxTrials = values.trials === undefined ? Infinity : Number(values.trials);
const share = Number(values['in-process-share']);
const firstSeed = Number(values.seed);
const tally = Object.fromEntries(names.map((n) => [n, Object.fromEntries(OUTCOMES.map((o) => [o, 0]))]));
const codes = Object.fromEntries(names.map((n) => [n, new Map()]));
const spentMs = Object.fromEntries(names.map((n) => [n, 0]));
const tried = Object.fromEntries(names.map((n) => [n, 0]));
const failures = [];
const disk = names.some((n) => CLASSES[n].needsTinyDisk) ? tinyDisk() : undefined;
let trials = 0;
const started = Date.now();
const fast = names.filter((n) => !CLASSES[n].cli);
const slow = names.filter((n) => CLASSES[n].cli);
const groupMs = (g) => g.reduce((s, n) => s + spentMs[n], 0);
let lastProgress = Date.now();
let stopped = false;
// Ctrl-C or kill: stop after the current input, print the table, unmount, remove the scratch copies.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => (stopped = true));
try {
  while (Date.now() < deadline && trials < maxTrials && !stopped) {
    // The group behind its share of the time, then its class that has had the least time.
    const total = groupMs(fast) + groupMs(slow);
    const group = slow.length === 0 || (fast.length > 0 && groupMs(fast) <= share * total) ? fast : slow;
    const name = group.reduce((a, b) => (spentMs[b] < spentMs[a] ? b : a));
    const seed = firstSeed + tried[name];
    const t0 = performance.now();
    const r = await runTrial(name, seed, { tinyDisk: disk?.dir });
    spentMs[name] += performance.now() - t0;
    tried[name]++;
    trials++;
    tally[name][r.outcome]++;
    if (r.outcome === 'rejected' || r.outcome === 'accepted' || r.outcome === 'reported') {
      const key = `${r.outcome}${r.detail ? ` ${r.detail}` : ''}`;
      codes[name].set(key, (codes[name].get(key) ?? 0) + 1);
    } else {
      failures.push({ name, seed, ...r });
      console.log(`FAIL ${name} seed ${seed}: ${r.outcome} ${r.detail ?? ''}`);
    }
    if (Date.now() - lastProgress > 60_000) {
      lastProgress = Date.now();
      console.log(`… ${trials} inputs in ${((Date.now() - started) / 1000).toFixed(0)} s: ${names.map((n) => `${n} ${tried[n]}`).join(', ')}`);
    }
  }
} finally {
  disk?.unmount();
}
const pad = (s, n) => String(s).padEnd(n);
console.log(`\n${trials} inputs in ${((Date.now() - started) / 1000).toFixed(0)} s, first seed ${firstSeed}`);
console.log(`${pad('class', 19)}${pad('tried', 9)}${pad('wall-s', 7)}${OUTCOMES.map((o) => pad(o, 12)).join('')}`);
for (const n of names) {
  const t = tally[n];
  console.log(`${pad(n, 19)}${pad(tried[n], 9)}${pad((spentMs[n] / 1000).toFixed(0), 7)}${OUTCOMES.map((o) => pad(t[o], 12)).join('')}`);
  const all = [...codes[n]].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ×${v}`);
  if (all.length > 0) console.log(`${pad('', 19)}${all.join('; ')}`);
}
process.exitCode = failures.length > 0 ? 1 : 0;
