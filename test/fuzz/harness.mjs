// The fault-injection fuzzer of issue 8: one class per kind of hostile input, each trial ends in
// one outcome. Shared by test/fuzz/fuzz.test.ts (fixed seeds, bounded counts, in `npm test`) and
// scripts/fuzz.mjs (a campaign: `npm run fuzz -- --minutes N`). Drives dist/ (the library as
// users import it) and bin/ (the CLI as operators run it), never src/.
//
// Outcomes:
//   rejected        a documented exit code and error code (the input was refused)
//   accepted        exit 0 and the content is what it must be (undamaged digest, old/new set …)
//   reported        exit 0, the digest differs, and the damage is reported (e.g. a dropped WAL tail)
//   crash           an undocumented exit code, an "internal error", a stack trace, or a thrown non-SnapshotError
//   hang            no exit within the time limit
//   over-memory     peak RSS above the limit
//   wrong           a violated invariant: exit 0 with another digest unreported, a changed input,
//                   an output that replaced what was not its own, a mixed chunk set, a forged line …
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(REPO, 'bin', 'snapshot-verify');
const lib = await import(join(REPO, 'dist', 'index.js'));
const render = await import(join(REPO, 'dist', 'cli', 'render', 'digest.js'));

/** Exit codes the README documents. */
export const DOCUMENTED_EXITS = new Set([0, 1, 2, 3, 4, 64, 74]);
/** A CLI run longer than this is a hang; more peak RSS than this is over memory. */
export const TIME_LIMIT_MS = 30_000;
export const RSS_LIMIT_MB = 512;
export const OUTCOMES = ['rejected', 'accepted', 'reported', 'crash', 'hang', 'over-memory', 'wrong'];

/** mulberry32: a seeded PRNG, so that every trial can be replayed from (class, seed). */
export function prng(seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (n) => Math.floor(next() * n);
  next.pick = (xs) => xs[Math.floor(next() * xs.length)];
  next.bytes = (n) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
  return next;
}

/** Runs the CLI with a time limit, measuring peak RSS (GNU time), classifying crashes. */
export function cli(args, { cwd = REPO, timeoutMs = TIME_LIMIT_MS } = {}) {
  return new Promise((resolve) => {
    // Its own process group, so that a hang is ended by killing exactly this group (time and node).
    const child = spawn('/usr/bin/time', ['-f', 'fuzz-maxrss-kib=%M', process.execPath, BIN, ...args], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    const out = [];
    const err = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stderrAll = Buffer.concat(err).toString('utf8');
      const rss = /fuzz-maxrss-kib=(\d+)/.exec(stderrAll);
      // GNU time prints "Command exited with non-zero status N" before its own line.
      const stderr = stderrAll.replace(/^Command (exited with non-zero status|terminated by signal) \d+\n/m, '').replace(/fuzz-maxrss-kib=\d+\n?/, '');
      resolve({ code, hung, stdout: Buffer.concat(out).toString('utf8'), stderr, rssMB: rss ? Number(rss[1]) / 1024 : 0 });
    });
  });
}

/** The outcome of a CLI run that is not one of the two "good" ones the class decides itself. */
export function failureOf(r) {
  if (r.hung) return { outcome: 'hang' };
  if (r.rssMB > RSS_LIMIT_MB) return { outcome: 'over-memory', detail: `${r.rssMB.toFixed(0)} MB` };
  if (!DOCUMENTED_EXITS.has(r.code) || /internal error|\n\s+at .*\(|"code":\s*"INTERNAL"/.test(r.stderr + r.stdout)) {
    return { outcome: 'crash', detail: `exit ${r.code}: ${r.stderr.slice(0, 300)}` };
  }
  return undefined;
}

/** rejected with the error code the CLI printed (JSON error, or the stderr line). */
export function rejected(r) {
  let code = /^snapshot-verify: ([A-Z_]+)/m.exec(r.stderr)?.[1];
  try {
    code ??= JSON.parse(r.stdout).error?.code;
  } catch {
    // not JSON
  }
  if (code === undefined && /^(FAIL|DIVERGE|INCONSISTENT|CONFLICT)/m.test(r.stdout)) code = 'reported';
  return { outcome: 'rejected', detail: `exit ${r.code} ${code ?? '?'}` };
}


function fingerprint(dir) {
  const out = {};
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    const s = lstatSync(p);
    out[f] = s.isFile() ? readFileSync(p).toString('base64') : `${s.mode}`;
  }
  return JSON.stringify(out);
}

const DUMP = join(REPO, 'examples', 'dump', 'checkpoint_epoch_42');
const FIXTURES = join(REPO, 'test', 'fixtures', 'rocksdb', 'checkpoints');

// ---------------------------------------------------------------------------------------------
// In-process classes (fast): the library from dist/.

const CODES = new Set(['BAD_MAGIC', 'UNSUPPORTED_VERSION', 'TRUNCATED', 'CHECKSUM_MISMATCH', 'UNSORTED_KEYS', 'LIMIT_EXCEEDED', 'NON_CANONICAL', 'TRAILING_BYTES', 'CHUNK_SEQUENCE', 'BAD_RECORD', 'TABLE_MISMATCH']);
const goldenChunked = readFileSync(join(REPO, 'golden', 'v1', 'blob-info-chunked.snap'));

async function inProcess(fn) {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof lib.SnapshotError && CODES.has(e.code)) return { outcome: 'rejected', detail: e.code };
    return { outcome: 'crash', detail: String(e?.stack ?? e).slice(0, 300) };
  }
}

async function* pieces(bytes, rng) {
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + rng.int(rng() < 0.2 ? 16 : 65536);
    yield bytes.subarray(i, i + n);
    i += n;
  }
}

/** Every class: name, whether it spawns the CLI (slow), and one trial from a seed. */
export const CLASSES = {
  /** Flipped bits in a chunked snapshot, fed in random pieces: rejected with a format code, or the same digest. */
  'snapshot-bitflip': {
    cli: false,
    async trial(seed) {
      const rng = prng(seed);
      const bytes = Uint8Array.from(goldenChunked);
      for (let i = 1 + rng.int(3); i > 0; i--) bytes[rng.int(bytes.length)] ^= 1 << rng.int(8);
      const original = (await lib.verifySnapshot(pieces(goldenChunked, prng(0)))).digest;
      return inProcess(async () => {
        const s = await lib.verifySnapshot(pieces(bytes, rng));
        return s.digest === original ? { outcome: 'accepted' } : { outcome: 'wrong', detail: 'a damaged snapshot verified with another digest' };
      });
    },
  },

  /** Random content cut into small chunks: decodes to the same content and table digests as unchunked. */
  'small-chunks': {
    cli: false,
    async trial(seed) {
      const rng = prng(seed);
      const tables = Array.from({ length: 1 + rng.int(3) }, (_, i) => ({ id: i + 1, name: `t${i}` }));
      const content = tables.map(() => {
        const keys = new Set();
        for (let n = rng.int(200); n > 0; n--) keys.add(Buffer.from(rng.bytes(1 + rng.int(12))).toString('hex'));
        return [...keys].sort().map((k) => ({ key: Buffer.from(k, 'hex'), value: rng.bytes(rng.int(300)) }));
      });
      const anchor = (max) => ({ epoch: BigInt(rng.int(1000)), cursor: { index: 0n }, maxChunkBytes: max, tables });
      const max = BigInt(100 + rng.int(4000));
      return inProcess(async () => {
        const whole = await lib.encodeSnapshot(anchor(0n), content);
        const chunked = await lib.encodeSnapshot({ ...anchor(0n), maxChunkBytes: max }, content);
        const bytes = Buffer.concat(chunked.chunks ?? [chunked.bytes]);
        const back = await lib.readSnapshotContent(pieces(bytes, rng));
        const same = back.summary.tables.every((t, i) => t.digest === whole.summary.tables[i].digest && t.entries === BigInt(content[i].length));
        if (!same) return { outcome: 'wrong', detail: `chunks of ${max} B changed the content` };
        if (back.summary.chunks.some((c) => BigInt(c.bytes) > max)) return { outcome: 'wrong', detail: 'a chunk exceeds its maximum' };
        return { outcome: 'accepted' };
      });
    },
  },

  /** Names with control characters: the digest text has one line per table, no raw control character. */
  'control-chars': {
    cli: false,
    async trial(seed) {
      const rng = prng(seed);
      const evil = () => Array.from({ length: 1 + rng.int(20) }, () => (rng() < 0.4 ? String.fromCharCode(rng.pick([0, 7, 8, 10, 13, 27, 127, 0x85, 0x2028, 0x202e, 0x2066, 92])) : rng.pick(['a', ' ', 'epoch 42 digest ', '0', '['])))
        .join('');
      const tables = Array.from({ length: 1 + rng.int(4) }, (_, i) => ({ id: i, name: evil(), digest: '0'.repeat(16), entries: '1', bytes: '2' }));
      const report = { formatVersion: 1, epoch: '42', digest: 'f'.repeat(16), entries: '3', cursor: { index: '0', eventIdHex: '' }, maxChunkBytes: '0', tables, chunks: [], node: { name: evil() } };
      const text = render.renderDigest(report);
      const lines = text.split('\n');
      // eslint-disable-next-line no-control-regex
      if (lines.length !== tables.length + 2 || /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(text)) {
        return { outcome: 'wrong', detail: JSON.stringify(text.slice(0, 200)) };
      }
      return { outcome: 'accepted' };
    },
  },

  // -------------------------------------------------------------------------------------------
  // CLI classes (slow: one or a few processes per trial).

  /** An output that is not a regular file, or is an input, or another output: refused (64), left as it was. */
  'output-special': {
    cli: true,
    async trial(seed) {
      const rng = prng(seed);
      return inScratch('out', async (dir) => {
        const target = join(dir, 'target');
        writeFileSync(target, 'mine');
        symlinkSync(target, join(dir, 'link'));
        execFileSync('mkfifo', [join(dir, 'fifo')]);
        mkdirSync(join(dir, 'dir'));
        const kind = rng.pick(['/dev/null', '/dev/full', 'fifo', 'dir', 'link', 'twice', 'input']);
        const dest = kind.startsWith('/') ? kind : kind === 'twice' || kind === 'input' ? join(dir, 'x') : join(dir, kind);
        const option = rng.pick(['--out', '--prom-textfile', '--chunk-files']);
        const args = ['digest', kind === 'input' ? dest : DUMP, '--tables', 'storage_pool_info'];
        if (kind === 'input') execFileSync(process.execPath, [BIN, 'digest', DUMP, '--tables', 'storage_pool_info', '--out', dest]);
        if (option === '--chunk-files') args.push('--out', dest, '--chunk-files', '--max-chunk-bytes', '4KiB');
        else args.push(option, dest);
        if (kind === 'twice') args.push(option === '--prom-textfile' ? '--out' : '--prom-textfile', dest);
        const before = fingerprint(dir);
        const r = await cli(args, { timeoutMs: 15_000 });
        const bad = failureOf(r);
        if (bad) return bad;
        if (fingerprint(dir) !== before || !statSync('/dev/null').isCharacterDevice() || readlinkSync(join(dir, 'link')) !== target) {
          return { outcome: 'wrong', detail: `${kind} ${option}: something was replaced (exit ${r.code})` };
        }
        return r.code === 0 ? { outcome: 'wrong', detail: `${kind} ${option} accepted` } : rejected(r);
      });
    },
  },

  /** kill -9 at a random moment of --out/--chunk-files: the destination is the old or the new content. */
  kills: {
    cli: true,
    async trial(seed) {
      const rng = prng(seed);
      return inScratch('kill', async (dir) => {
        const out = join(dir, 'p.snap');
        const chunked = rng() < 0.7;
        const sizes = ['4KiB', '16KiB', '64KiB', '1MiB'];
        const args = (tables, size) => ['digest', DUMP, '--tables', tables, '--max-chunk-bytes', size, '--out', out, ...(chunked ? ['--chunk-files'] : [])];
        const first = await cli(args('aggregate_blob_info', rng.pick(sizes)));
        if (first.code !== 0) return failureOf(first) ?? rejected(first);
        const old = await readBack(out);
        const next = args('aggregate_blob_info,per_object_blob_info', rng.pick(sizes));
        const child = spawn(process.execPath, [BIN, ...next, '--json'], { stdio: ['ignore', 'pipe', 'ignore'] });
        const stdout = [];
        child.stdout.on('data', (b) => stdout.push(b));
        const timer = setTimeout(() => child.kill('SIGKILL'), rng.int(2500));
        const code = await new Promise((r) => child.on('close', (c) => r(c)));
        clearTimeout(timer);
        const now = await readBack(out);
        const newDigest = code === 0 ? JSON.parse(Buffer.concat(stdout).toString()).digest : undefined;
        if (now === old || now === newDigest) return { outcome: 'accepted', detail: code === 0 ? 'completed' : `killed, ${now === old ? 'old' : 'new'} content` };
        // Killed after the commit, before printing: the new content must be the complete new snapshot.
        const fresh = join(dir, 'fresh.snap');
        await cli(next.map((a) => (a === out ? fresh : a)));
        return now === (await readBack(fresh)) ? { outcome: 'accepted', detail: 'killed, new content' } : { outcome: 'wrong', detail: `after the kill: ${now}` };
      });
    },
  },

  /** A full disk (the caller's tiny tmpfs): exit 74 with IO_ERROR, the previous content kept, no temp file. */
  enospc: {
    cli: true,
    needsTinyDisk: true,
    async trial(seed, { tinyDisk }) {
      const rng = prng(seed);
      for (const f of readdirSync(tinyDisk)) rmSync(join(tinyDisk, f), { recursive: true, force: true });
      const out = join(tinyDisk, rng.pick(['out.snap', 'metrics.prom']));
      writeFileSync(out, 'previous');
      if (rng() < 0.5) writeFileSync(join(tinyDisk, 'filler'), Buffer.alloc(rng.int(60 << 10)));
      const option = out.endsWith('.prom') ? ['--prom-textfile', out] : ['--out', out, ...(rng() < 0.5 ? ['--chunk-files', '--max-chunk-bytes', rng.pick(['4KiB', '16KiB'])] : [])];
      const tables = rng.pick(['storage_pool_info', 'aggregate_blob_info', 'per_object_blob_info,aggregate_blob_info']);
      const r = await cli(['digest', DUMP, '--tables', tables, ...option, ...(rng() < 0.5 ? ['--json'] : [])]);
      const bad = failureOf(r);
      if (bad) return bad;
      const temps = readdirSync(tinyDisk).filter((f) => f.includes('.tmp-'));
      if (temps.length > 0) return { outcome: 'wrong', detail: `left ${temps.join(', ')}` };
      if (r.code === 0) return { outcome: 'accepted' };
      if (r.code !== 74 || !/^snapshot-verify: IO_ERROR in /m.test(r.stderr)) return { outcome: 'wrong', detail: `exit ${r.code}: ${r.stderr.slice(0, 200)}` };
      if (readFileSync(out, 'utf8') !== 'previous') return { outcome: 'wrong', detail: 'the previous content was lost' };
      return rejected(r);
    },
  },

  /** A flipped bit in a real WAL: an error, or the undamaged digest, or the damage reported. */
  'wal-bitflip': {
    cli: true,
    async trial(seed) {
      const rng = prng(seed);
      return inCopyOf('wal-only', async (cp) => {
        const expected = JSON.parse(readFileSync(join(cp, 'expected.json'), 'utf8'));
        const tables = Object.keys(expected.tables).join(',');
        const base = await cli(['digest', cp, '--tables', tables, '--json']);
        if (base.code !== 0) return failureOf(base) ?? rejected(base);
        const log = readdirSync(cp).find((f) => f.endsWith('.log'));
        const bytes = readFileSync(join(cp, log));
        const at = rng() < 0.7 ? rng.int(Math.min(bytes.length, 7 * 50)) : rng.int(bytes.length); // headers are 7 bytes: favour the first records
        bytes[at] ^= 1 << rng.int(8);
        writeFileSync(join(cp, log), bytes);
        const before = fingerprint(cp);
        const r = await cli(['digest', cp, '--tables', tables, '--json']);
        if (fingerprint(cp) !== before) return { outcome: 'wrong', detail: 'the checkpoint changed' };
        return judgeDigest(r, JSON.parse(base.stdout).digest, `bit ${at}`);
      });
    },
  },

  /** A FIFO or device where the tool reads: refused, never a hang. */
  'special-inputs': {
    cli: true,
    async trial(seed) {
      const rng = prng(seed);
      return inCopyOf('ldb-three-families', async (cp) => {
        const files = readdirSync(cp).filter((f) => f !== 'expected.json');
        const victim = rng() < 0.2 ? '000999.log' : rng.pick(files);
        rmSync(join(cp, victim), { force: true });
        if (rng() < 0.7) execFileSync('mkfifo', [join(cp, victim)]);
        else symlinkSync(rng.pick(['/dev/zero', '/dev/null']), join(cp, victim));
        const r = await cli(['digest', cp, '--tables', 'default', '--json'], { timeoutMs: 20_000 });
        return failureOf(r) ?? (r.code === 0 ? { outcome: 'wrong', detail: `${victim} replaced by a special file, exit 0` } : rejected(r));
      });
    },
  },

  /** A deleted, truncated or zeroed table file of an unselected family: an error (item 8: exit 3) or the undamaged digest. */
  'unselected-damage': {
    cli: true,
    async trial(seed) {
      const rng = prng(seed);
      return inCopyOf('ldb-three-families', async (cp) => {
        const listed = await cli(['digest', cp]);
        const families = [...listed.stderr.matchAll(/^ {2}(\S+)\s+~/gm)].map((m) => m[1]);
        const selected = families[0];
        const base = await cli(['digest', cp, '--tables', selected, '--json']);
        if (base.code !== 0) return failureOf(base) ?? rejected(base);
        const ssts = readdirSync(cp).filter((f) => f.endsWith('.sst'));
        const victim = join(cp, rng.pick(ssts));
        const how = rng.pick(['delete', 'truncate', 'zero']);
        if (how === 'delete') rmSync(victim);
        else if (how === 'truncate') writeFileSync(victim, readFileSync(victim).subarray(0, rng.int(statSync(victim).size)));
        else writeFileSync(victim, Buffer.alloc(statSync(victim).size));
        const r = await cli(['digest', cp, '--tables', selected, '--json']);
        return judgeDigest(r, JSON.parse(base.stdout).digest, how);
      });
    },
  },

  /** Malformed, duplicated or self-contradictory reports: compare never says AGREE about them. */
  reports: {
    cli: true,
    async trial(seed) {
      const rng = prng(seed);
      return inScratch('reports', async (dir) => {
        const good = JSON.parse((await cli(['digest', DUMP, '--tables', 'storage_pool_info,aggregate_blob_info', '--json', '--node', 'a'])).stdout);
        const kind = rng.pick(['empty-array', 'empty-object', 'not-report', 'duplicate-conflict', 'self-contradiction', 'duplicate-identical']);
        const reports = [good, { ...good, node: { ...good.node, name: 'b' } }];
        if (kind === 'empty-array') reports.push([]);
        if (kind === 'empty-object') reports.push({});
        if (kind === 'not-report') reports.push({ digest: good.digest, epoch: good.epoch });
        if (kind === 'duplicate-conflict') reports.push({ ...good, tables: good.tables.map((t, i) => (i === 0 ? { ...t, digest: '0'.repeat(16) } : t)) });
        if (kind === 'self-contradiction') reports.push({ ...good, node: { ...good.node, name: 'c' }, tables: good.tables.map((t, i) => (i === 0 ? { ...t, entries: String(BigInt(t.entries) + 1n) } : t)) });
        if (kind === 'duplicate-identical') reports.push(good, good);
        const files = reports.map((r, i) => {
          const f = join(dir, `r${i}.json`);
          writeFileSync(f, JSON.stringify(r));
          return f;
        });
        const r = await cli(['compare', ...files]);
        const bad = failureOf(r);
        if (bad) return bad;
        if (kind === 'duplicate-identical') return r.code === 0 ? { outcome: 'accepted' } : { outcome: 'wrong', detail: `identical copies: exit ${r.code}` };
        return r.code === 0 ? { outcome: 'wrong', detail: `${kind}: AGREE` } : rejected(r);
      });
    },
  },
};

/** Runs `fn` on a scratch copy of a RocksDB fixture checkpoint (named checkpoint_epoch_1), then removes it. */
async function inCopyOf(fixture, fn) {
  return inScratch(fixture, async (dir) => {
    const cp = join(dir, 'checkpoint_epoch_1');
    cpSync(join(FIXTURES, fixture), cp, { recursive: true });
    return fn(cp);
  });
}

/** Runs `fn` in a fresh scratch directory, removed afterwards. */
async function inScratch(tag, fn) {
  const dir = mkdtempSync(join(tmpdir(), `sv-fuzz-${tag}-`));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** exit 0 must mean the undamaged digest, or a digest with the damage reported in the report. */
function judgeDigest(r, undamaged, what) {
  const bad = failureOf(r);
  if (bad) return bad;
  if (r.code !== 0) return rejected(r);
  const report = JSON.parse(r.stdout);
  if (report.digest === undamaged) return { outcome: 'accepted' };
  if (/dropped|torn|warning/i.test(JSON.stringify(report))) return { outcome: 'reported' };
  return { outcome: 'wrong', detail: `${what}: exit 0 with digest ${report.digest}, undamaged ${undamaged}, nothing reported` };
}

/** What P names now: its digest, or "error CODE". */
async function readBack(path) {
  try {
    return lib.formatDigest((await lib.verifySnapshot(await lib.snapshotFiles(path))).digest);
  } catch (e) {
    return `error ${e?.code ?? e}`;
  }
}

/** Mounts a 64 KiB tmpfs for the enospc class (root only); returns it with its unmount. */
export function tinyDisk() {
  const dir = join(tmpdir(), `sv-fuzz-enospc-${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
  return {
    dir,
    unmount() {
      execFileSync('umount', [dir]);
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs one trial and never throws: an exception of the harness itself counts as a crash. */
export async function runTrial(name, seed, context = {}) {
  try {
    return await CLASSES[name].trial(seed, context);
  } catch (e) {
    return { outcome: 'crash', detail: `harness: ${String(e?.stack ?? e).slice(0, 300)}` };
  }
}
