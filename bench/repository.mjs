// Repository benchmark (issue 11): publish vs plain upload, fetch + verify vs plain download, of
// one ~200 MB chunked snapshot, against s3rver (a real S3-protocol server, in its own process on a
// loopback port), with the same S3 client (@aws-sdk/client-s3, as the tool configures it).
//
//   node bench/repository.mjs          # measure, update the repository section of bench/RESULTS.md
//   BENCH_QUICK=1 node bench/repository.mjs   # small smoke run (not a result)
//   BENCH_RUNS=N                              # runs per row (default 3)
//   BENCH_REPOSITORY_BASELINE=/path/to/other/dist # also time that build's fetch and publish, interleaved
//                                               # (A/B: e.g. a worktree of an older commit, built)
//   BENCH_ONLY=publish | fetch                  # only the upload/publish or the download/fetch rows
//                                               # (a focused A/B; RESULTS.md is then left alone)
//
// Only the section between the repository-bench markers of RESULTS.md is rewritten.
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { fileSink } from '../dist/index.js';
import { fetchSnapshot } from '../dist/repository/fetch.js';
import { anchorId, chunkKey } from '../dist/repository/layout.js';
import { publishSnapshot } from '../dist/repository/publish.js';
import { openS3Store } from '../dist/repository/s3-store.js';
import { snapshotFiles } from '../dist/sources/open.js';
import { validateReport } from '../dist/report/validate.js';
import { valuePool, writeTable } from './lib.mjs';
import { existingSection, writeSection } from './rocksdb.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const BEGIN = '<!-- repository-bench:begin (written by bench/repository.mjs) -->';
const END = '<!-- repository-bench:end -->';
const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 3));
const VALUE_BYTES = 1024;
const ENTRIES = QUICK ? 20_000 : 190_000; // ~200 MB with 32-byte keys and 1 KiB values
const CHUNK = 16n << 20n;
const PARALLEL = 4;
const BASELINE = process.env.BENCH_REPOSITORY_BASELINE;
const ONLY = process.env.BENCH_ONLY;
if (ONLY !== undefined && ONLY !== 'publish' && ONLY !== 'fetch') throw new Error(`BENCH_ONLY=${ONLY}: publish or fetch`);

export async function runRepositoryBench() {
  const work = await mkdtemp(join(tmpdir(), 'bench-repo-'));
  const server = await startServer(join(work, 's3'));
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
  try {
    const base = join(work, 'snap');
    const summary = await writeTable(fileSink(base, { chunkFiles: true }), { entries: ENTRIES, values: valuePool(1024, VALUE_BYTES), maxChunkBytes: CHUNK });
    // The chunk files the chunk-set file `base` names (spec/FORMAT.md section 12).
    const files = await snapshotFiles(base);
    if (files.length !== summary.chunks.length) throw new Error(`${files.length} chunk files for ${summary.chunks.length} chunks`);
    const digest = runDigest(base);
    const report = validateReport(JSON.parse(digest), 'bench');
    const bytes = Number(summary.chunks.reduce((n, c) => n + c.bytes, 0));
    const reportBytes = new TextEncoder().encode(digest);
    const store = (prefix) => openS3Store(`s3://bench/${prefix}`, { endpoint: server.endpoint });
    const s3 = await import('@aws-sdk/client-s3');
    // A client configured as the store configures its own: plain uploads and downloads of the same objects.
    const client = new s3.S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    const publishRows = ['upload', 'publish', ...(BASELINE !== undefined ? ['publishBase'] : [])];
    const fetchRows = ['download', 'downloadSync', 'fetch', 'fetchInline', ...(BASELINE !== undefined ? ['fetchBase'] : [])];
    const rows = [...(ONLY !== 'fetch' ? publishRows : []), ...(ONLY !== 'publish' ? fetchRows : [])];
    const results = Object.fromEntries(rows.map((k) => [k, []]));
    const cpu = Object.fromEntries(rows.map((k) => [k, []]));
    const baseline = BASELINE === undefined ? undefined : { fetch: await import(join(BASELINE, 'repository', 'fetch.js')), publish: await import(join(BASELINE, 'repository', 'publish.js')), s3: await import(join(BASELINE, 'repository', 's3-store.js')) };
    const serverCpu = Object.fromEntries(rows.map((k) => [k, []]));
    const tails = { fetch: [], fetchBase: [] };
    const timed = async (what, fn) => {
      const s0 = server.cpuMs();
      const c = process.cpuUsage();
      const t0 = performance.now();
      const out = await fn();
      results[what].push(performance.now() - t0);
      const d = process.cpuUsage(c);
      cpu[what].push((d.user + d.system) / 1000);
      serverCpu[what].push(server.cpuMs() - s0);
      return out;
    };
    for (let run = 0; run < RUNS; run++) {
      const st = await store(`pub${run}`);
      const publishing = {
        // Plain upload: PutObject of each chunk file, 4 at a time.
        upload: () => timed('upload', () => limited(files, PARALLEL, (f, i) => client.send(new s3.PutObjectCommand({ Bucket: 'bench', Key: `plain${run}/chunk${i}`, Body: createReadStream(f, { highWaterMark: 1 << 20 }), ContentLength: report.chunks[i].bytes })))),
        // Publish: read each chunk once, check it against the report, upload it write-once (one listing of the node's prefix, then PUTs), report last.
        publish: () => timed('publish', () => publishSnapshot(st, { report, reportBytes, snapshotFiles: files, concurrency: PARALLEL })),
        publishBase: async () => {
          const sb = await baseline.s3.openS3Store(`s3://bench/pubbase${run}`, { endpoint: server.endpoint });
          await timed('publishBase', () => baseline.publish.publishSnapshot(sb, { report, reportBytes, snapshotFiles: files, concurrency: PARALLEL }));
          sb.close();
        },
      };
      if (ONLY === 'fetch') await publishSnapshot(st, { report, reportBytes, snapshotFiles: files, concurrency: PARALLEL });
      else {
        // The rows in a rotating order, so that none always runs first (or after the same row).
        for (let k = 0; k < publishRows.length; k++) await publishing[publishRows[(k + run) % publishRows.length]]();
      }
      if (ONLY === 'publish') {
        st.close();
        continue;
      }
      // Plain download of the published objects: GET each into a file, 4 at a time.
      const dl = join(work, `dl${run}`);
      await mkdir(dl);
      const keys = report.chunks.map((c) => `pub${run}/${chunkKeyOf(report, c)}`);
      await timed('download', () =>
        limited(keys, PARALLEL, async (k, i) => {
          const o = await client.send(new s3.GetObjectCommand({ Bucket: 'bench', Key: k }));
          await pipeline(o.Body, createWriteStream(join(dl, `c${i}`)));
        }),
      );
      // The same, each file fsynced once written: what fetch guarantees before its rename.
      const dls = join(work, `dls${run}`);
      await mkdir(dls);
      await timed('downloadSync', () =>
        limited(keys, PARALLEL, async (k, i) => {
          const o = await client.send(new s3.GetObjectCommand({ Bucket: 'bench', Key: k }));
          await pipeline(o.Body, createWriteStream(join(dls, `c${i}`)));
          const h = await open(join(dls, `c${i}`), 'r+');
          await h.sync();
          await h.close();
        }),
      );
      await rm(dls, { recursive: true });
      // Fetch: download, verify each chunk on arrival and the whole in order, place atomically.
      // Also the time from the last chunk's arrival to the return: what is left when the network is done.
      let last = 0;
      const r = await timed('fetch', () => fetchSnapshot(st, { epoch: report.epoch, node: report.node.name, out: join(work, `out${run}`), concurrency: PARALLEL, onChunk: () => (last = performance.now()) }));
      tails.fetch.push(performance.now() - last);
      if (r.downloaded !== report.chunks.length) throw new Error('fetch did not download every chunk');
      // The same fetch with the in-order decode on the main thread (before issue 11's worker), for comparison.
      const ri = await timed('fetchInline', () => fetchSnapshot(st, { epoch: report.epoch, node: report.node.name, out: join(work, `outi${run}`), concurrency: PARALLEL, verifyInWorker: false }));
      if (ri.downloaded !== report.chunks.length) throw new Error('fetch did not download every chunk');
      await rm(join(work, `outi${run}`), { recursive: true });
      if (baseline !== undefined) {
        const sb = await baseline.s3.openS3Store(`s3://bench/pub${run}`, { endpoint: server.endpoint });
        await timed('fetchBase', () => baseline.fetch.fetchSnapshot(sb, { epoch: report.epoch, node: report.node.name, out: join(work, `outb${run}`), concurrency: PARALLEL, onChunk: () => (last = performance.now()) }));
        tails.fetchBase.push(performance.now() - last);
        sb.close();
        await rm(join(work, `outb${run}`), { recursive: true });
      }
      st.close();
      await rm(dl, { recursive: true });
      await rm(join(work, `out${run}`), { recursive: true });
    }
    client.destroy();
    const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const mbps = (ms) => bytes / 1e6 / (ms / 1000);
    const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, med(v)]));
    const mc = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, med(v)]));
    const ms = Object.fromEntries(Object.entries(serverCpu).map(([k, v]) => [k, med(v)]));
    const tail = { fetch: med(tails.fetch), fetchBase: tails.fetchBase.length > 0 ? med(tails.fetchBase) : undefined };
    return { bytes, chunks: report.chunks.length, digest: report.digest, runs: RUNS, m, mc, ms, tail, all: results, mbps, load: loadavg(), baseline: BASELINE };
  } finally {
    server.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** The layout's key of a chunk (spec/REPOSITORY.md 2), computed by the library. */
function chunkKeyOf(report, c) {
  return chunkKey(report.epoch, anchorId(report), report.node.name, c.index, c.digest);
}

function runDigest(base) {
  const r = spawnSync(process.execPath, [join(HERE, '..', 'bin', 'snapshot-verify'), 'digest', base, '--json', '--node', 'bench-node'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

async function limited(items, n, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  }));
}

/** s3rver in its own process, so the server's work does not share the client's event loop. */
async function startServer(directory) {
  await mkdir(directory, { recursive: true });
  const code = `import S3rver from 's3rver'; const s = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: ${JSON.stringify(directory)}, configureBuckets: [{ name: 'bench' }] }); const a = await s.run(); console.log(a.port);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: join(HERE, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('exit', (c) => reject(new Error(`s3rver exited ${c}`)));
  });
  // The server's CPU time (Linux /proc; NaN elsewhere): utime + stime in clock ticks of 10 ms.
  const cpuMs = () => {
    try {
      const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(f[11]) + Number(f[12])) * 10;
    } catch {
      return NaN;
    }
  };
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => child.kill(), cpuMs };
}

export function repositorySection(r) {
  const ratio = (a, b) => (r.m[b] / r.m[a]).toFixed(2);
  const cpuS = (x) => (Number.isNaN(x) ? 'n/a' : `${(x / 1000).toFixed(2)} s`);
  const row = (what, k) => `| ${what} | ${(r.m[k] / 1000).toFixed(2)} s | ${r.mbps(r.m[k]).toFixed(0)} MB/s | ${cpuS(r.mc[k])} | ${cpuS(r.ms[k])} | ${r.all[k].map((x) => (x / 1000).toFixed(2)).join(', ')} |`;
  const base = r.baseline !== undefined;
  return [
    BEGIN,
    '## Repository: publish and fetch against a local S3-protocol server (issue 11)',
    '',
    `\`node bench/repository.mjs\` (also run by \`npm run bench\`), ${new Date().toISOString().slice(0, 10)}: one snapshot of ${(r.bytes / 1e6).toFixed(0)} MB in ${r.chunks} chunks of ≤ 16 MiB (digest ${r.digest}),`,
    `s3rver in its own process on 127.0.0.1, the same @aws-sdk/client-s3 client settings for every row, ${PARALLEL} transfers at a time, median of ${r.runs} runs; the rows of one run are timed one after another, so each comparison is interleaved.`,
    `Load average at the end: ${r.load.map((x) => x.toFixed(2)).join(' ')} on 2 cores shared with other jobs: the ratios matter, not the absolute rates.`,
    ...(base ? [`Baseline rows: the same calls from the build at \`${r.baseline}\` (BENCH_REPOSITORY_BASELINE).`] : []),
    '',
    '| operation | median | rate | client CPU (user+sys, all threads) | server CPU | runs |',
    '|---|---|---|---|---|---|',
    row('plain upload (PutObject of each chunk file, streamed from it)', 'upload'),
    row('publish (one listing of the node\'s prefix; each chunk read once into memory, checked against the report, write-once PUT of those bytes; report last)', 'publish'),
    ...(base ? [row('publish, baseline build', 'publishBase')] : []),
    row('plain download (GetObject of each chunk into a file; no fsync)', 'download'),
    row('plain download, each file fsynced once written', 'downloadSync'),
    row('fetch (each chunk hashed and checked on arrival and written in batches; fsynced in the background once placed; the whole decoded in order on a worker thread, as each chunk is placed; placed by rename)', 'fetch'),
    row('fetch, the in-order decode on the main thread instead (verifyInWorker: false)', 'fetchInline'),
    ...(base ? [row('fetch, baseline build', 'fetchBase')] : []),
    '',
    `Publish runs at **${ratio('publish', 'upload')}×** the speed of the plain upload; fetch + verify at **${ratio('fetch', 'download')}×** the plain download (target ≥ 0.8× each; ${ratio('fetch', 'downloadSync')}× the download with fsync); with the decode on the main thread ${ratio('fetchInline', 'download')}×.${base ? ` The baseline build: publish ${ratio('publishBase', 'upload')}×, fetch ${ratio('fetchBase', 'download')}×.` : ''}`,
    `Fetch's time from the last chunk's arrival to its return (the decode still to do, fsyncs, rename), median: ${r.tail.fetch.toFixed(0)} ms${r.tail.fetchBase !== undefined ? ` (baseline build ${r.tail.fetchBase.toFixed(0)} ms)` : ''}.`,
    '',
    NOTE,
    END,
  ].join('\n');
}

const NOTE = "Fetch does more than download: it hashes each chunk as it arrives (to re-fetch a damaged one alone), decodes the whole snapshot in order (structure, key order, table digests, trailers and chain: a second hash of every byte plus the table hashes), and fsyncs the chunks before the rename, none of which the plain download does. Since issue 11's third round: each chunk is fsynced in the background once placed, one at a time, so the disk writes it back during later downloads (at the end, fsyncing all 200 MB had cost 0.5 s of wall time); downloaded pieces are hashed and written behind the socket in batches (writev), not one awaited 64 KiB write each; the decoder reads the chunk files (just written, so from the page cache) 128 KiB at a time into reused buffers. Publish reads each chunk once, in one read into a reused buffer: the bytes hashed are the bytes sent (before, the file was hashed, then streamed again for the PUT). Since issue 11's fourth round, publish checks which chunks exist with one listing of the node's prefix, not a HEAD per chunk, and signs chunk bodies UNSIGNED-PAYLOAD as the SDK signs the plain upload's streamed bodies (with a Buffer body the SDK had SHA-256-hashed all 200 MB first: most of the CPU publish took beyond the plain upload). The rows upload, publish (and publish, baseline build) run in a rotating order, one order per run. When the cores are saturated by other jobs a second thread cannot run in parallel, so the worker and main-thread rows differ only by noise; compare on a quiet machine.";

const MARKERS = { begin: BEGIN, end: END, name: 'repository' };

export function writeRepositorySection(md, path = join(HERE, 'RESULTS.md')) {
  writeSection(md, path, MARKERS);
}

/** The existing repository section of RESULTS.md, for run.mjs to keep when it rewrites the file. */
export function existingRepositorySection(path = join(HERE, 'RESULTS.md')) {
  return existingSection(path, MARKERS);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await runRepositoryBench();
  console.log(JSON.stringify({ ...r, mbps: undefined }, null, 2));
  if (ONLY !== undefined) {
    // A focused A/B: the medians and each row's ratio to the plain transfer of the same objects.
    const plain = ONLY === 'publish' ? 'upload' : 'download';
    const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    for (const k of Object.keys(r.all)) {
      const paired = med(r.all[k].map((x, i) => r.all[plain][i] / x)); // each run's rows ran back to back
      console.log(`${k}: ${(r.m[k] / 1000).toFixed(2)} s wall, ${(r.mc[k] / 1000).toFixed(2)} s client CPU, ${(r.ms[k] / 1000).toFixed(2)} s server CPU, ${(r.m[plain] / r.m[k]).toFixed(2)}x the plain ${plain} (median of the runs' ratios ${paired.toFixed(2)}x) [${r.all[k].map((x) => (x / 1000).toFixed(2)).join(', ')}]; load ${r.load.map((x) => x.toFixed(2)).join(' ')}`);
    }
  } else {
    const md = repositorySection(r);
    console.log(md);
    if (!QUICK) writeRepositorySection(md);
  }
}
