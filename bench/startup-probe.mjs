// Preloaded with `node --import ./bench/startup-probe.mjs <cli> …` by bench/startup.mjs: records
// when the process first opens a file under BENCH_PROBE_PATH (the checkpoint: its first byte is
// read right after the open), and when it exits, as wall milliseconds since the process started
// (performance.now(), whose origin is the process start) and CPU milliseconds (user + system of
// all threads). Writes one JSON line to the file named by BENCH_PROBE_FILE at exit. Costs one
// tiny module and a path prefix check per open; loads nothing else.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { resolve, sep } from 'node:path';

const file = process.env.BENCH_PROBE_FILE;
const watched = process.env.BENCH_PROBE_PATH === undefined ? undefined : resolve(process.env.BENCH_PROBE_PATH);

const now = () => {
  const c = process.cpuUsage();
  const wallMs = performance.now();
  // epochMs: the same instant on the wall clock, so the bench can count from its spawn (a shell
  // that execs Node, as bin/snapshot-verify is, runs before Node's own time origin).
  return { wallMs, epochMs: performance.timeOrigin + wallMs, cpuMs: (c.user + c.system) / 1000 };
};

let firstOpen;
const inside = (p) => {
  if (watched === undefined || (typeof p !== 'string' && !(p instanceof URL))) return false;
  const abs = resolve(p instanceof URL ? p.pathname : p);
  return abs === watched || abs.startsWith(watched + sep);
};
/** Wraps an fs function whose first argument is a path: the first call inside the checkpoint is noted. */
const watch = (obj, name) => {
  const original = obj[name];
  obj[name] = function (p, ...rest) {
    if (firstOpen === undefined && inside(p)) firstOpen = { ...now(), via: name, path: String(p) };
    return original.call(this, p, ...rest);
  };
};

if (file !== undefined) {
  for (const name of ['open', 'openSync', 'readFile', 'readFileSync', 'createReadStream', 'opendir', 'opendirSync']) watch(fs, name);
  for (const name of ['open', 'readFile', 'opendir']) watch(fs.promises, name);
  // ES module imports of node:fs and node:fs/promises see the wrapped functions from here on.
  syncBuiltinESMExports();
  process.on('exit', (code) => {
    fs.writeFileSync(file, `${JSON.stringify({ code, firstOpen, exit: now() })}\n`);
  });
}
