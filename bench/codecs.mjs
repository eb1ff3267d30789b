// Hand-written WebAssembly codecs versus npm packages (issue 13, item 6): Snappy and LZ4
// decompression, CRC-32C and XXH3 (low 32 bits, RocksDB's kXXH3 block checksum) of ours
// (src/sources/rocksdb/util) against the best-kept npm packages for each, native (napi-rs) and
// WebAssembly/JavaScript, on the real data blocks of a checkpoint shaped like the RocksDB
// benchmark's (bench/rocksdb.mjs: 4 KiB blocks, Snappy for two families, LZ4 for the third,
// CRC-32C checksums). Part of `npm run bench`; alone, after `npm run build`:
//
//   node bench/codecs.mjs                                  # small checkpoint (56,700 keys per family), update RESULTS.md
//   BENCH_CODECS_CHECKPOINT=DIR node bench/codecs.mjs      # the blocks of another checkpoint (e.g. bench/rocksdb.mjs's, BENCH_KEEP=1)
//   BENCH_CODECS_ROUNDS=N …                                # timed rounds per candidate (default 7)
//
// Each candidate decodes (or hashes) the same blocks, in rounds interleaved with the other
// candidates of its codec, after a warm-up; outputs are checked equal to ours first. Reported:
// the median round, as MB/s of uncompressed output (decompression) or of input (checksums), and
// the time per block. The candidates are devDependencies, loaded by this script only.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readSync, rmSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generatorArgs, median, writeSection } from './rocksdb.mjs';
import { machineLine } from './startup.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const require = createRequire(import.meta.url);
const ROUNDS = Number(process.env.BENCH_CODECS_ROUNDS ?? (process.env.BENCH_QUICK === '1' ? 3 : 15));
const SMALL_KEYS_PER_CF = 56_700;
/** Blocks taken from each table file, from its start (bounds memory on a big checkpoint). */
const BLOCKS_PER_FILE = Number(process.env.BENCH_CODECS_BLOCKS_PER_FILE ?? 400);
export const CODECS_MARKERS = {
  begin: '<!-- codecs-bench:begin (written by bench/codecs.mjs) -->',
  end: '<!-- codecs-bench:end -->',
  name: 'codecs',
};

const dist = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);

/**
 * The data blocks of every table file of `checkpoint`, as stored: `raw` is the block's bytes,
 * `type` its compression byte, `plain` its uncompressed size (from our reader), `checked`
 * the bytes a block checksum covers (block + type byte). Data blocks are contiguous in a table
 * file, so block k ends 5 bytes (the trailer) before block k + 1 starts; the last data block
 * read from each file is left out (what follows it may not be a data block). At most
 * BLOCKS_PER_FILE + 1 blocks are read per file.
 */
async function readBlocks(checkpoint) {
  const { TableReader } = await dist('sources/rocksdb/table/index.js');
  const { loadChecksums } = await dist('sources/rocksdb/table/checksum.js');
  await loadChecksums();
  const blocks = [];
  for (const f of readdirSync(checkpoint).filter((n) => n.endsWith('.sst')).sort()) {
    const path = join(checkpoint, f);
    const t = await TableReader.open(path);
    const plain = [];
    const offsets = [];
    try {
      for await (const run of t.rangeBlocks({})) {
        for (let k = 0; k < run.blocks.length; k++) {
          plain.push(run.blocks[k].length);
          offsets.push(run.offsets[k]);
        }
        if (offsets.length > BLOCKS_PER_FILE) break;
      }
    } finally {
      await t.close();
    }
    const fd = openSync(path, 'r');
    try {
      for (let k = 0; k + 1 < offsets.length; k++) {
        const checked = Buffer.alloc(offsets[k + 1] - 4 - offsets[k]);
        readSync(fd, checked, 0, checked.length, offsets[k]);
        blocks.push({ type: checked[checked.length - 1], raw: checked.subarray(0, checked.length - 1), checked, plain: plain[k] });
      }
    } finally {
      closeSync(fd);
    }
  }
  return blocks;
}

/** Every candidate, per codec: a name, the package, and a function of one block. */
async function candidates() {
  const { decompressBlock } = await dist('sources/rocksdb/table/compression.js');
  const { crc32c } = await dist('sources/rocksdb/util/crc32c.js');
  const { xxh3Low32 } = await dist('sources/rocksdb/util/xxh3.js');
  const { readVarint32 } = await dist('sources/rocksdb/util/varint.js');
  const snappy = require('snappy');
  const snappyjs = require('snappyjs');
  const lz4napi = require('lz4-napi');
  const lz4js = require('lz4js');
  const lz4wasm = require('lz4-wasm-nodejs');
  const nodeCrc = require('@node-rs/crc32');
  const nodeXxh = require('@node-rs/xxhash');
  const hashWasm = require('hash-wasm');
  const hwCrc = await hashWasm.createCRC32(0x82f63b78); // the Castagnoli polynomial
  const hwXxh3 = await hashWasm.createXXHash3(0, 0);
  const fresh = (n) => new Uint8Array(n);
  const vr = { value: 0, pos: 0 };
  /** RocksDB's LZ4 block: varint32 size, then the raw LZ4 block. */
  const lz4Parts = (raw) => {
    readVarint32(raw, 0, raw.length, vr);
    return { size: vr.value, body: raw.subarray(vr.pos) };
  };
  /** lz4-napi and lz4-wasm take lz4_flex's layout: a u32 LE size, then the raw block (one copy). */
  const sizePrepended = (raw) => {
    const { size, body } = lz4Parts(raw);
    const b = Buffer.allocUnsafe(body.length + 4);
    b.writeUInt32LE(size, 0);
    b.set(body, 4);
    return b;
  };
  const low32 = (big) => Number(big & 0xffffffffn);
  const be32 = (u8, at) => ((u8[at] << 24) | (u8[at + 1] << 16) | (u8[at + 2] << 8) | u8[at + 3]) >>> 0;
  return {
    snappy: {
      type: 1,
      out: (b) => b.plain,
      list: [
        { name: 'ours (WebAssembly, src/sources/rocksdb/util/snappy.ts)', fn: (b) => decompressBlock(1, b.raw, fresh) },
        { name: 'snappy 7 (napi-rs, native)', fn: (b) => snappy.uncompressSync(b.raw) },
        { name: 'snappyjs (JavaScript)', fn: (b) => snappyjs.uncompress(b.raw) },
      ],
    },
    lz4: {
      type: 4,
      out: (b) => b.plain,
      list: [
        { name: 'ours (WebAssembly, src/sources/rocksdb/util/lz4.ts)', fn: (b) => decompressBlock(4, b.raw, fresh) },
        { name: 'lz4-napi (napi-rs, native; + size-prefix copy)', fn: (b) => lz4napi.uncompressSync(sizePrepended(b.raw)) },
        { name: 'lz4-wasm-nodejs (WebAssembly; + size-prefix copy)', fn: (b) => lz4wasm.decompress(sizePrepended(b.raw)) },
        {
          name: 'lz4js (JavaScript, decompressBlock)',
          fn: (b) => {
            const { size, body } = lz4Parts(b.raw);
            const out = new Uint8Array(size);
            lz4js.decompressBlock(body, out, 0, body.length, 0);
            return out;
          },
        },
      ],
    },
    crc32c: {
      out: (b) => b.checked.length,
      list: [
        { name: 'ours (WebAssembly, src/sources/rocksdb/util/crc32c.ts)', fn: (b) => crc32c(b.checked) },
        { name: '@node-rs/crc32 (napi-rs, native SSE4.2)', fn: (b) => nodeCrc.crc32c(b.checked) >>> 0 },
        { name: 'hash-wasm createCRC32(Castagnoli) (WebAssembly)', fn: (b) => (hwCrc.init(), hwCrc.update(b.checked), be32(hwCrc.digest('binary'), 0)) },
      ],
    },
    xxh3: {
      out: (b) => b.checked.length,
      list: [
        { name: 'ours (WebAssembly, src/sources/rocksdb/util/xxh3.ts)', fn: (b) => xxh3Low32(b.checked) },
        { name: '@node-rs/xxhash xxh3.xxh64 (napi-rs, native)', fn: (b) => low32(nodeXxh.xxh3.xxh64(b.checked)) },
        { name: 'hash-wasm createXXHash3 (WebAssembly)', fn: (b) => (hwXxh3.init(), hwXxh3.update(b.checked), be32(hwXxh3.digest('binary'), 4)) },
      ],
    },
  };
}

const same = (a, b) => (typeof a === 'number' ? a === b : Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0);

/** One codec: checks every candidate against ours, then times interleaved rounds. */
function measureCodec(name, codec, blocks, log) {
  const input = codec.type === undefined ? blocks : blocks.filter((b) => b.type === codec.type);
  if (input.length === 0) return undefined;
  const bytes = input.reduce((n, b) => n + codec.out(b), 0);
  for (const c of codec.list.slice(1)) {
    for (const b of input) if (!same(codec.list[0].fn(b), c.fn(b))) throw new Error(`${name}: ${c.name} disagrees with ours on a block`);
  }
  const times = codec.list.map(() => []);
  for (let r = -1; r < ROUNDS; r++) {
    for (let k = 0; k < codec.list.length; k++) {
      const c = (k + Math.max(r, 0)) % codec.list.length;
      const fn = codec.list[c].fn;
      const t0 = performance.now();
      for (const b of input) fn(b);
      const ms = performance.now() - t0;
      if (r >= 0) times[c].push(ms);
    }
  }
  const sizes = input.map((b) => codec.out(b)).sort((a, b) => a - b);
  const rows = codec.list.map((c, k) => {
    const ms = median(times[k]);
    return { name: c.name, ms, best: Math.min(...times[k]), mbps: bytes / 1e3 / ms, usPerBlock: (ms * 1000) / input.length };
  });
  const ours = rows[0];
  for (const r of rows) {
    r.vsOurs = ours.ms / r.ms;
    r.bestVsOurs = ours.best / r.best;
  }
  const result = { codec: name, blocks: input.length, bytes, medianBlock: sizes[sizes.length >> 1], rows };
  for (const r of rows) log(`${name.padEnd(7)} ${r.name.padEnd(58)} ${r.mbps.toFixed(0).padStart(6)} MB/s ${r.usPerBlock.toFixed(2).padStart(7)} µs/block ${r.vsOurs.toFixed(2)}× ours (fastest rounds: ${r.bestVsOurs.toFixed(2)}×)`);
  return result;
}

function smallCheckpoint(log) {
  const work = join(HERE, 'out', `codecs-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const mf = execFileSync('sh', [join(ROOT, 'test', 'fixtures', 'rocksdb', 'build.sh')], { encoding: 'utf8' }).trim().split('\n').pop();
  const checkpoint = join(work, 'checkpoint_epoch_1000');
  log(`codecs: generating a checkpoint of ${SMALL_KEYS_PER_CF.toLocaleString('en')} keys per family…`);
  execFileSync(mf, generatorArgs(join(work, 'db'), checkpoint, SMALL_KEYS_PER_CF), { stdio: 'ignore' });
  return { checkpoint, cleanup: () => rmSync(work, { recursive: true, force: true }) };
}

/** Measures and returns the RESULTS.md section (markdown), or undefined when skipped. */
export async function runCodecsBench({ log = console.log } = {}) {
  if (!existsSync(join(ROOT, 'dist', 'sources', 'rocksdb', 'index.js'))) {
    log('codecs benchmark skipped: no dist/ (npm run build)');
    return undefined;
  }
  const missing = ['snappy', 'snappyjs', 'lz4-napi', 'lz4js', 'lz4-wasm-nodejs', '@node-rs/crc32', '@node-rs/xxhash', 'hash-wasm'].filter((p) => {
    try {
      require.resolve(p);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    log(`codecs benchmark skipped: missing devDependencies ${missing.join(', ')} (npm install)`);
    return undefined;
  }
  const given = process.env.BENCH_CODECS_CHECKPOINT;
  const { checkpoint, cleanup } = given !== undefined ? { checkpoint: given, cleanup: () => undefined } : smallCheckpoint(log);
  try {
    const loadStart = loadavg();
    const started = new Date();
    const blocks = await readBlocks(checkpoint);
    const all = await candidates();
    const results = Object.entries(all).map(([name, codec]) => measureCodec(name, codec, blocks, log)).filter((r) => r !== undefined);
    const loadEnd = loadavg();
    return [
      CODECS_MARKERS.begin,
      '## Codecs: our WebAssembly versus npm packages (issue 13, item 6)',
      '',
      'Reproduce: `node bench/codecs.mjs` (part of `npm run bench`; `BENCH_CODECS_CHECKPOINT=DIR` for another checkpoint).',
      '',
      machineLine(started, loadStart, loadEnd),
      `- Blocks: the data blocks of ${given !== undefined ? `\`${relative(ROOT, given)}\`` : `a checkpoint made like bench/rocksdb.mjs's with ${SMALL_KEYS_PER_CF.toLocaleString('en')} keys per family`} (4 KiB blocks;`,
      `  Snappy and LZ4 as written by RocksDB), the first ${BLOCKS_PER_FILE} of each table file. Checksums run over every block plus its type byte, as the reader verifies them.`,
      `- Median of ${ROUNDS} rounds over all blocks of the codec, candidates interleaved, after a warm-up round; every candidate's output equals ours.`,
      '  MB/s counts uncompressed output (decompression) or bytes hashed (checksums); "× ours" > 1 means faster than ours,',
      '  from the median rounds and, less disturbed by other jobs on the cores, from the fastest round of each.',
      '',
      '| codec | blocks | median block | candidate | MB/s | µs per block | × ours (median) | × ours (fastest) |',
      '|---|---|---|---|---|---|---|---|',
      ...results.flatMap((r) => r.rows.map((row) => `| ${r.codec} | ${r.blocks.toLocaleString('en')} | ${r.medianBlock} B | ${row.name} | ${row.mbps.toFixed(0)} | ${row.usPerBlock.toFixed(2)} | ${row.vsOurs.toFixed(2)} | ${row.bestVsOurs.toFixed(2)} |`)),
      CODECS_MARKERS.end,
    ].join('\n');
  } finally {
    cleanup();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const md = await runCodecsBench();
  if (md !== undefined) writeSection(md, join(HERE, 'RESULTS.md'), CODECS_MARKERS);
}
