/**
 * Decode throughput of TableReader on one SST (not a test; run by hand):
 *   npx vite-node test/sources/rocksdb/table/throughput.ts -- FILE.sst [runs]
 * Make a table of 1M 32-byte keys / 100-byte values with
 *   make-fixture --db DIR --keys 1000000 --write-buffer-size 1000000000 [--compression C --checksum K]
 * BATCH=bytes overrides readBatchBytes. Prints wall time and process CPU time (the machine may be
 * shared: CPU time is the steadier number).
 */
import { TableReader } from '../../../../src/sources/rocksdb/table/index.js';

const args = process.argv.slice(2).filter((a) => a !== '--');
const file = args[0];
if (file === undefined) throw new Error('usage: throughput.ts FILE.sst [runs]');
const runs = Number(args[1] ?? 3);
for (let r = 0; r < runs; r++) {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const batch = process.env['BATCH'];
  const reader = await TableReader.open(file, batch === undefined ? {} : { readBatchBytes: Number(batch) });
  let n = 0;
  let bytes = 0;
  for await (const batch of reader.entries()) {
    n += batch.length;
    for (const e of batch) bytes += e.userKey.length + e.value.length;
  }
  await reader.close();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  const cs = (cpu.user + cpu.system) / 1e6;
  console.log(
    `${file}: ${n} entries in ${s.toFixed(3)} s = ${Math.round(n / s).toLocaleString('en-US')} entries/s, ` +
      `${(bytes / s / 1e6).toFixed(0)} MB/s of keys+values (${reader.properties.compression}, ${reader.properties.checksumName}); ` +
      `CPU ${cs.toFixed(3)} s = ${Math.round(n / cs).toLocaleString('en-US')} entries per CPU-second`,
  );
}
