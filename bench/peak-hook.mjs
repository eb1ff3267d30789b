// Preloaded with `node --import ./bench/peak-hook.mjs <script>` by bench/rocksdb.mjs: when the
// process exits, writes its peak RSS (VmHWM from /proc/self/status, see rss-child.mjs for why not
// ru_maxrss) and its CPU time (all threads) as one JSON line to the file named by
// BENCH_PEAK_FILE. Does nothing else.
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.env.BENCH_PEAK_FILE;
if (file) {
  process.on('exit', (code) => {
    let maxRssBytes;
    let source = 'VmHWM';
    try {
      const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
      if (kib) maxRssBytes = Number(kib[1]) * 1024;
    } catch {
      // not Linux
    }
    if (maxRssBytes === undefined) {
      maxRssBytes = process.resourceUsage().maxRSS * 1024;
      source = 'ru_maxrss';
    }
    const cpu = process.cpuUsage();
    writeFileSync(file, `${JSON.stringify({ code, maxRssBytes, source, userSeconds: cpu.user / 1e6, systemSeconds: cpu.system / 1e6 })}\n`);
  });
}
