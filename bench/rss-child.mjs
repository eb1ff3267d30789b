// One phase of the peak-memory benchmark, run in its own process so that the peak RSS it
// reports is the true peak of that phase and nothing else.
//
// The peak is VmHWM from /proc/self/status (the high-water mark of this process's own address
// space). process.resourceUsage().maxRSS is NOT used on Linux: ru_maxrss survives exec, so a child
// spawned by a large parent reports at least the parent's RSS (a 215 MB parent made an idle 44 MB
// child report 215 MB). It is the fallback where /proc is absent.
//
//   node bench/rss-child.mjs write   <path> <entries> <valueBytes> [maxChunkBytes]
//   node bench/rss-child.mjs write-null - <entries> <valueBytes> [maxChunkBytes]   (to nullSink(); also CPU seconds)
//   node bench/rss-child.mjs verify  <path> <expectedDigestHex>   (verifySnapshot)
//   node bench/rss-child.mjs iterate <path> <expectedEntries>     (every readSnapshot event)
//   node bench/rss-child.mjs idle                                 (node + library loaded)
//
// Prints one JSON line: { maxRssBytes, source, seconds, bytes?, entries?, digest? }.
import { readFileSync } from 'node:fs';
import { fileSink, formatDigest, loadHasher, nullSink } from '../dist/index.js';
import { iterate, streamBytes, valuePool, verify, writeTable } from './lib.mjs';

const [mode, path, a, b, c] = process.argv.slice(2);
const t0 = performance.now();
let out;
if (mode === 'write') {
  const values = valuePool(Number(b) >= 1 << 20 ? 4 : 64, Number(b));
  const summary = await writeTable(fileSink(path), { entries: Number(a), values, maxChunkBytes: BigInt(c ?? 0) });
  out = { bytes: streamBytes(summary), entries: Number(summary.entries), digest: formatDigest(summary.digest) };
} else if (mode === 'write-null') {
  const c0 = process.cpuUsage();
  const summary = await writeTable(nullSink(), { entries: Number(a), values: valuePool(64, Number(b)), maxChunkBytes: BigInt(c ?? 0) });
  const cpu = process.cpuUsage(c0);
  out = { bytes: streamBytes(summary), chunks: summary.chunks.length, digest: formatDigest(summary.digest), cpuSeconds: (cpu.user + cpu.system) / 1e6 };
} else if (mode === 'verify') {
  const summary = await verify(path);
  if (formatDigest(summary.digest) !== a) throw new Error(`digest ${formatDigest(summary.digest)}, expected ${a}`);
  out = { bytes: streamBytes(summary), entries: Number(summary.entries), digest: formatDigest(summary.digest) };
} else if (mode === 'iterate') {
  const { entries } = await iterate(path);
  if (entries !== Number(a)) throw new Error(`iterated ${entries} entries, expected ${a}`);
  out = { entries };
} else if (mode === 'idle') {
  await loadHasher();
  out = {};
} else {
  throw new Error(`unknown mode ${mode}`);
}
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(`${JSON.stringify({ ...out, ...peakRss(), seconds })}\n`);

function peakRss() {
  try {
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (kib) return { maxRssBytes: Number(kib[1]) * 1024, source: 'VmHWM' };
  } catch {
    // not Linux
  }
  return { maxRssBytes: process.resourceUsage().maxRSS * 1024, source: 'ru_maxrss' };
}
