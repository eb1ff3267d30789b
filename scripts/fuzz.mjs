#!/usr/bin/env node
// The fault-injection campaign of issue 8 (test/fuzz/harness.mjs): runs every class in turn with
// fresh seeds until the time is up, then prints inputs tried and outcomes per class. Needs dist/
// (npm run build) and, for the enospc class, root (it mounts a 64 KiB tmpfs, unmounted at the end).
//
//   npm run fuzz -- --minutes 10 [--classes kills,enospc] [--seed 1] [--in-process-share 0.9]
//
// In-process classes are ~1000x faster than CLI classes; --in-process-share is the fraction of
// the time given to them (default 0.5). Every failing trial is printed with its class and seed,
// which replays it: `npm run fuzz -- --classes NAME --seed SEED --trials 1`.
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
const failures = [];
const disk = names.includes('enospc') ? tinyDisk() : undefined;
let seed = firstSeed;
let trials = 0;
const started = Date.now();
const spent = { cli: 0, inProcess: 0 };
try {
  const fast = names.filter((n) => !CLASSES[n].cli);
  const slow = names.filter((n) => CLASSES[n].cli);
  while (Date.now() < deadline && trials < maxTrials) {
    // Give each kind its share of the time: run whichever is behind.
    const useFast = slow.length === 0 || (fast.length > 0 && spent.inProcess <= share * (spent.cli + spent.inProcess));
    const group = useFast ? fast : slow;
    const t0 = Date.now();
    for (const name of group) {
      if (Date.now() >= deadline || trials >= maxTrials) break;
      const r = await runTrial(name, seed, { tinyDisk: disk?.dir });
      trials++;
      tally[name][r.outcome]++;
      if (r.outcome === 'rejected' || r.outcome === 'accepted' || r.outcome === 'reported') {
        const key = `${r.outcome}${r.detail ? ` ${r.detail}` : ''}`;
        codes[name].set(key, (codes[name].get(key) ?? 0) + 1);
      } else {
        failures.push({ name, seed, ...r });
        console.log(`FAIL ${name} seed ${seed}: ${r.outcome} ${r.detail ?? ''}`);
      }
    }
    spent[useFast ? 'inProcess' : 'cli'] += Date.now() - t0;
    seed++;
  }
} finally {
  disk?.unmount();
}
const pad = (s, n) => String(s).padEnd(n);
console.log(`\n${trials} inputs in ${((Date.now() - started) / 1000).toFixed(0)} s, seeds ${firstSeed}..${seed}`);
console.log(`${pad('class', 20)}${pad('tried', 9)}${OUTCOMES.map((o) => pad(o, 12)).join('')}`);
for (const n of names) {
  const t = tally[n];
  const tried = OUTCOMES.reduce((s, o) => s + t[o], 0);
  console.log(`${pad(n, 20)}${pad(tried, 9)}${OUTCOMES.map((o) => pad(t[o], 12)).join('')}`);
  const top = [...codes[n]].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k} ×${v}`);
  if (top.length > 0) console.log(`${pad('', 20)}${top.join('; ')}`);
}
process.exitCode = failures.length > 0 ? 1 : 0;
