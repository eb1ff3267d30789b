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
const renderers = Object.fromEntries(await Promise.all(['digest', 'compare', 'diff', 'restore'].map(async (n) => [n, await import(join(REPO, 'dist', 'cli', 'render', `${n}.js`))])));
const { COMMANDS } = await import(join(REPO, 'dist', 'cli', 'commands', 'index.js'));
const { main: cliMain } = await import(join(REPO, 'dist', 'cli', 'main.js'));

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

/** rejected with the error code the CLI printed (JSON error or verdict, or the stderr/stdout line). */
export function rejected(r) {
  let code = /^snapshot-verify: ([A-Z_]+)/m.exec(r.stderr)?.[1];
  try {
    const json = JSON.parse(r.stdout);
    code ??= json.error?.code ?? json.verdict;
  } catch {
    // not JSON
  }
  // verify's FAIL lines; compare's verdicts (DIVERGE, INCONSISTENT, CONFLICTING REPORTS, INCOMPARABLE)
  code ??= /^(FAIL|DIVERGE|INCONSISTENT|CONFLICTING|INCOMPARABLE)\b/m.exec(r.stdout)?.[1];
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
// In-process classes (fast, they carry the bulk of a campaign): the library from dist/, and the
// CLI's own command code run in this process (runCommand), never a process per input. Only the
// classes whose subject is the process itself (special files, kill -9, a full disk) spawn.

const FORMAT_CODES = new Set(['BAD_MAGIC', 'UNSUPPORTED_VERSION', 'TRUNCATED', 'CHECKSUM_MISMATCH', 'UNSORTED_KEYS', 'LIMIT_EXCEEDED', 'NON_CANONICAL', 'TRAILING_BYTES', 'CHUNK_SEQUENCE', 'BAD_RECORD', 'TABLE_MISMATCH']);
const GOLDEN = ['blob-info-chunked.snap', 'blob-info.snap', 'chunk-boundaries.snap', 'chunk-exact-fit.snap', 'chunk-tail-reserve.snap'].map((f) => readFileSync(join(REPO, 'golden', 'v1', f)));

/** A library call: a thrown SnapshotError whose code is in `codes` (any code when null) is rejected with that code; anything else thrown is a crash. */
async function inProcess(fn, codes = FORMAT_CODES) {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof lib.SnapshotError && (codes === null || codes.has(e.code))) return { outcome: 'rejected', detail: e.code };
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

/**
 * Runs one CLI command in this process, with its arguments as yargs would give them (so the
 * command's own code, its rendering and its exit code are what is tested, without paying for a
 * process and the argument parser on every input). `viaMain` goes through the whole CLI entry
 * point instead (argument parsing included), as a share of each class does.
 */
async function runCommand(argv, args, { viaMain = false, stdin = '' } = {}) {
  const out = [];
  const err = [];
  const io = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    stderrIsTTY: false,
    stdin: (async function* () {
      if (stdin.length > 0) yield Buffer.from(stdin);
    })(),
  };
  // Commands are loaded on demand (src/cli/commands/index.ts); the module cache makes this cheap after the first.
  const command = viaMain ? undefined : await COMMANDS.find((e) => e.name === argv[0]).load();
  let code;
  try {
    code = viaMain ? await cliMain(argv, io) : await command.run(args, io);
  } catch (e) {
    return { code: -1, hung: false, rssMB: 0, stdout: out.join(''), stderr: `internal error (thrown out of the command): ${String(e?.stack ?? e)}` };
  }
  return { code, hung: false, rssMB: 0, stdout: out.join(''), stderr: err.join('') };
}

/** Memory-backed when there is one: a trial writes and restores a file, which a loaded disk makes the slowest step. */
const SCRATCH_ROOT = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

/** Scratch copies of fixtures shared by the trials of this process (restored after each trial), removed at exit. */
const scratch = new Map();
function scratchDir(tag, make) {
  let dir = scratch.get(tag);
  if (dir === undefined) {
    dir = mkdtempSync(join(SCRATCH_ROOT, `sv-fuzz-${tag}-`));
    try {
      make(dir);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    scratch.set(tag, dir);
  }
  return dir;
}
/** Removes this process's scratch copies (also called on exit). */
export function removeScratch() {
  for (const dir of scratch.values()) rmSync(dir, { recursive: true, force: true });
  scratch.clear();
}
process.on('exit', removeScratch);

/**
 * Fresh RocksDB databases written by Debian's ldb for the WAL class (made once per process): 60
 * small puts, a value fragmented across 32 KiB blocks, 20 more puts, all still in the WAL (ldb
 * load does not flush); and one with recyclable records (recycle_log_file_num=1).
 */
function ldbWalDatabase(kind) {
  return scratchDir(`ldb-wal-${kind}`, (root) => {
    const db = join(root, 'checkpoint_epoch_7');
    const lines = (from, n) => Array.from({ length: n }, (_, i) => `k${String(from + i).padStart(4, '0')} ==> v${'x'.repeat((i * 7) % 40)}${from + i}`);
    const load = (ls, create) => execFileSync('ldb', [`--db=${db}`, ...(create ? ['--create_if_missing'] : []), 'load'], { input: `${ls.join('\n')}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
    if (kind === 'classic') {
      load([...lines(0, 60), `kbig ==> ${'ab'.repeat(40_000)}`], true);
    } else {
      // RocksDB writes recyclable records only with recycle_log_file_num > 0, which it keeps only
      // with kSkipAnyCorruptedRecords; ldb opens the database with the OPTIONS file it finds.
      load(['a ==> 1'], true);
      const options = readdirSync(db).filter((n) => n.startsWith('OPTIONS-')).sort().pop();
      const text = readFileSync(join(db, options), 'utf8');
      writeFileSync(join(db, options), text.replace(/recycle_log_file_num=\d+/, 'recycle_log_file_num=1').replace(/wal_recovery_mode=\w+/, 'wal_recovery_mode=kSkipAnyCorruptedRecords'));
    }
    load(lines(60, 20), false);
    rmSync(join(db, 'LOCK'), { force: true });
  });
}

/** The digest of `tables` of a checkpoint through the library, with the warnings the source reported. */
async function libDigest(cp, tables, walRecovery = 'tolerate-tail') {
  const source = await lib.openCheckpoint([cp], { walRecovery });
  try {
    const { summary } = await lib.digestSource(source, { anchor: { epoch: 1n, cursor: { index: 0n }, maxChunkBytes: 0n, tables: tables.map((name, i) => ({ id: i, name })) } }); // ids as the CLI gives a sorted --tables list
    return { digest: lib.formatDigest(summary.digest), warnings: source.warnings?.() ?? [] };
  } finally {
    await source.close().catch(() => undefined);
  }
}

/** Undamaged digests, computed once per (checkpoint, tables). */
const undamagedDigests = new Map();
async function undamaged(cp, tables) {
  const key = `${cp}\0${tables.join(',')}`;
  if (!undamagedDigests.has(key)) undamagedDigests.set(key, (await libDigest(cp, tables)).digest);
  return undamagedDigests.get(key);
}

/**
 * Damages `file` of a checkpoint with `damage(bytes)` (or deletes it when damage returns null),
 * runs `fn`, checks that the tool left the checkpoint byte-identical, then restores the file.
 */
async function withDamaged(cp, file, damage, fn) {
  const path = join(cp, file);
  const original = readFileSync(path);
  const damaged = damage(Uint8Array.from(original));
  if (damaged === null) rmSync(path);
  else writeFileSync(path, damaged);
  try {
    const before = fingerprint(cp);
    const r = await fn();
    if (fingerprint(cp) !== before) return { outcome: 'wrong', detail: 'the checkpoint changed' };
    return r;
  } finally {
    writeFileSync(path, original);
  }
}

/** A checkpoint digest through the library, judged: the undamaged digest, an error, or the damage reported. */
async function judgeLibDigest(cp, tables, walRecovery, expected, what) {
  const r = await inProcess(() => libDigest(cp, tables, walRecovery), null);
  if (r.outcome !== undefined) return r;
  if (r.digest === expected) return { outcome: 'accepted' };
  if (r.warnings.length > 0) {
    if (walRecovery === 'absolute') return { outcome: 'wrong', detail: `${what}: --wal-recovery absolute dropped a tail` };
    return { outcome: 'reported', detail: r.warnings.map((w) => w.code).join(',') };
  }
  return { outcome: 'wrong', detail: `${what}: digest ${r.digest}, undamaged ${expected}, nothing reported` };
}

/** Side-by-side renders: names must not change the line structure of any text output, nor pass a raw control character. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
function judgeRender(what, evil, plain) {
  if (RAW_CONTROL.test(evil)) return { outcome: 'wrong', detail: `${what}: raw control character in ${JSON.stringify(evil.slice(0, 300))}` };
  if (evil.split('\n').length !== plain.split('\n').length) return { outcome: 'wrong', detail: `${what}: a name changed the lines: ${JSON.stringify(evil.slice(0, 300))}` };
  return { outcome: 'accepted', detail: what };
}

/** The good report every reports trial starts from (one CLI digest run, in this process). */
let goodReport;
async function goodReportOnce() {
  if (goodReport === undefined) {
    const made = await runCommand(['digest', DUMP, '--tables', 'storage_pool_info,aggregate_blob_info', '--json', '--node', 'a', '--ranges', '4'], undefined, { viaMain: true });
    if (made.code !== 0) throw new Error(`the good report: exit ${made.code} ${made.stderr}`);
    goodReport = JSON.parse(made.stdout);
  }
  return goodReport;
}

/** A report without its node-local part: what compare may count as agreeing. */
function comparable(report) {
  const { node: _node, signature: _signature, warnings: _warnings, ...rest } = report;
  return JSON.stringify(rest);
}

/** Digests of the undamaged golden files, computed once. */
const goldenDigests = [];

/** Every class: name, whether it spawns processes (slow: its subject is the process), and one trial from a seed. */
export const CLASSES = {
  /** Flipped bits in a golden snapshot (chunked or not), fed in random pieces: rejected with a format code, or the same digest. */
  'snapshot-bitflip': {
    cli: false,
    async trial(seed) {
      const rng = prng(seed);
      const which = rng.int(GOLDEN.length);
      goldenDigests[which] ??= (await lib.verifySnapshot(pieces(GOLDEN[which], prng(0)))).digest;
      const bytes = Uint8Array.from(GOLDEN[which]);
      for (let i = 1 + rng.int(3); i > 0; i--) bytes[rng.int(bytes.length)] ^= 1 << rng.int(8);
      return inProcess(async () => {
        const s = await lib.verifySnapshot(pieces(bytes, rng));
        return s.digest === goldenDigests[which] ? { outcome: 'accepted' } : { outcome: 'wrong', detail: 'a damaged snapshot verified with another digest' };
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

  /**
   * Names with control characters, escape sequences, separators and bidi marks (tables, nodes, file
   * names) in the text output of digest, compare, diff and restore: rendered beside the same
   * output with plain names, the lines are the same and no raw control character passes.
   * (inspect, verify, fetch, publish, prune, keygen: test/cli/hostile-names.test.ts, end to end.)
   */
  'control-chars': {
    cli: false,
    async trial(seed) {
      const rng = prng(seed);
      const evil = () =>
        Array.from({ length: 1 + rng.int(20) }, () => (rng() < 0.4 ? String.fromCharCode(rng.pick([0, 7, 8, 9, 10, 13, 27, 127, 0x85, 0x9b, 0x2028, 0x2029, 0x202e, 0x2066, 0x200f, 92])) : rng.pick(['a', ' ', 'epoch 42 digest ', 'AGREE at epoch 42', '0', '[', '\u00e9'])))
          .join('');
      const n = 1 + rng.int(4);
      const names = Array.from({ length: n }, (_, i) => `${evil()}${i}`);
      const node = evil();
      const path = evil();
      const plainNames = names.map((_, i) => `t${i}`);
      const which = rng.pick(['digest', 'compare', 'diff', 'restore']);
      const mode = rng() < 0.5 ? 'database' : 'sst';
      const render = async (tableNames, nodeName, file) => {
        const tables = tableNames.map((name, i) => ({ id: i + 1, name, digest: '0'.repeat(16), entries: '1', bytes: '2' }));
        const report = { schemaVersion: 1, formatVersion: 1, epoch: '42', digest: 'f'.repeat(16), entries: String(n), bytes: String(2 * n), cursor: { index: '0', eventIdHex: '' }, maxChunkBytes: '0', rangesPerTable: 0, tables, chunks: [{ index: 0, bytes: '9', digest: 'f'.repeat(16) }], node: { name: nodeName, source: file } };
        if (which === 'digest') return renderers.digest.renderDigest(report);
        if (which === 'compare') {
          const other = { ...report, digest: 'e'.repeat(16), chunks: [{ index: 0, bytes: '9', digest: 'e'.repeat(16) }], node: { name: `${nodeName}2`, source: file } };
          const third = { ...report, node: { name: `${nodeName}3`, source: file } };
          const loaded = [report, other, third].map((r, i) => ({ file: `${file}${i}`, report: r }));
          return renderers.compare.renderCompare(lib.compareReports(loaded, [{ file, kind: 'corrupt', code: 'BAD_REPORT', message: `${file} bad`, offset: 3 }]));
        }
        if (which === 'diff') {
          const first = { table: tableNames[0], kind: 'changed', key: '6b31', keyBytes: 2, a: { hex: '0102', bytes: 2 }, b: { hex: '0103', bytes: 2 }, differsAt: 1 };
          const result = { identical: false, tables: tableNames.map((name, i) => ({ name, presence: i === 1 ? 'a-only' : 'both', entriesA: '3', entriesB: '3', added: '0', removed: '0', changed: i === 0 ? '1' : '0' })), first, listed: [first, { ...first, kind: 'added', a: undefined, differsAt: undefined }], totalDifferences: '2', limit: 20 };
          return renderers.diff.renderDiff(result, { a: { path: file, kind: 'snapshot', epoch: '42', tables: tableNames.join(',') }, b: { path: `${file}b`, kind: 'rocksdb', epoch: '43' } });
        }
        const anchor = { epoch: 42n, cursor: { index: 0n }, maxChunkBytes: 0n, tables: tableNames.map((name, i) => ({ id: i + 1, name })) };
        const restored = { mode, dir: file, snapshot: { digest: 1n, entries: BigInt(n), anchor }, tables: tableNames.map((name, i) => ({ id: i + 1, name, columnFamilyId: i + 1, entries: 1, keyValueBytes: 2, files: [`00000${i}.sst`] })), files: [], bytes: 10 };
        return renderers.restore.renderRestore(restored, undefined);
      };
      const evilText = await render(names, node, path);
      const plainText = await render(plainNames, 'node', 'file');
      return judgeRender(which, evilText, plainText);
    },
  },

  /** A flipped bit in a fresh ldb-made WAL: an error, or the undamaged digest, or the damage reported (never with absolute). */
  'wal-bitflip': {
    cli: false,
    async trial(seed) {
      const rng = prng(seed);
      const cp = join(ldbWalDatabase(rng.pick(['classic', 'recycle'])), 'checkpoint_epoch_7');
      const tables = ['default'];
      const expected = await undamaged(cp, tables);
      const log = readdirSync(cp).filter((f) => f.endsWith('.log')).sort().pop();
      const mode = rng() < 0.75 ? 'tolerate-tail' : 'absolute';
      let what = '';
      return withDamaged(
        cp,
        log,
        (bytes) => {
          // Headers are 7 (or 11) bytes: favour the record headers near the start and block starts.
          for (let i = 1 + (rng() < 0.2 ? rng.int(3) : 0); i > 0; i--) {
            const at = rng() < 0.5 ? rng.int(Math.min(bytes.length, 11 * 60)) : rng() < 0.5 ? Math.min(bytes.length - 1, 32768 * rng.int(Math.ceil(bytes.length / 32768)) + rng.int(11)) : rng.int(bytes.length);
            const bit = rng.int(8);
            bytes[at] ^= 1 << bit;
            what += `byte ${at} bit ${bit}; `;
          }
          return bytes;
        },
        async () => {
          if (rng() < 1 / 64) return judgeCli(await runCommand(['digest', cp, '--tables', 'default', '--json', '--epoch', '1', '--wal-recovery', mode], undefined, { viaMain: true }), expected, what);
          return judgeLibDigest(cp, tables, mode, expected, `${mode} ${what}`);
        },
      );
    },
  },

  /** A deleted, truncated, zeroed or bit-flipped table file (of any family, selected or not): an error (item 8: exit 3) or the undamaged digest. */
  'unselected-damage': {
    cli: false,
    async trial(seed) {
      const rng = prng(seed);
      const fixture = rng.pick(['ldb-three-families', 'levels']);
      const cp = join(scratchDir(`copy-${fixture}`, (d) => cpSync(join(FIXTURES, fixture), join(d, 'checkpoint_epoch_1'), { recursive: true })), 'checkpoint_epoch_1');
      familiesOf[fixture] ??= (await (async () => {
        const s = await lib.openCheckpoint([cp]);
        try {
          return (await s.listTables()).map((t) => t.name);
        } finally {
          await s.close();
        }
      })());
      const tables = [rng.pick(familiesOf[fixture])];
      const expected = await undamaged(cp, tables);
      const victim = rng.pick(readdirSync(cp).filter((f) => f.endsWith('.sst') || (rng() < 0.1 && /^(MANIFEST|OPTIONS|CURRENT)/.test(f))));
      const how = rng.pick(['delete', 'truncate', 'zero', 'flip', 'append']);
      return withDamaged(
        cp,
        victim,
        (bytes) => {
          if (how === 'delete') return null;
          if (how === 'truncate') return bytes.subarray(0, rng.int(bytes.length));
          if (how === 'zero') return new Uint8Array(bytes.length);
          if (how === 'append') return Buffer.concat([bytes, Buffer.from(rng.bytes(1 + rng.int(64)))]);
          bytes[rng.int(bytes.length)] ^= 1 << rng.int(8);
          return bytes;
        },
        async () => {
          if (rng() < 1 / 64) return judgeCli(await runCommand(['digest', cp, '--tables', tables[0], '--json'], undefined, { viaMain: true }), expected, `${how} ${victim}`);
          return judgeLibDigest(cp, tables, 'tolerate-tail', expected, `${how} ${victim}`);
        },
      );
    },
  },

  /**
   * Malformed, duplicated, self-contradictory or randomly mutated reports beside two good ones,
   * through compare's own command code: never AGREE unless the reports say the same thing.
   */
  reports: {
    cli: false,
    async trial(seed) {
      const rng = prng(seed);
      const good = await goodReportOnce();
      const dir = scratchDir('reports', () => undefined);
      const kind = rng.pick(['empty-array', 'empty-object', 'not-report', 'duplicate-conflict', 'self-contradiction', 'duplicate-identical', 'text-mutation', 'text-mutation', 'field-mutation', 'field-mutation']);
      const texts = [JSON.stringify(good), JSON.stringify({ ...good, node: { ...good.node, name: 'b' } })];
      let equivalent = false; // may compare count the third input as agreeing?
      if (kind === 'empty-array') texts.push('[]');
      if (kind === 'empty-object') texts.push('{}');
      if (kind === 'not-report') texts.push(JSON.stringify({ digest: good.digest, epoch: good.epoch }));
      if (kind === 'duplicate-conflict') texts.push(JSON.stringify({ ...good, tables: good.tables.map((t, i) => (i === 0 ? { ...t, digest: '0'.repeat(16) } : t)) }));
      if (kind === 'self-contradiction') texts.push(JSON.stringify({ ...good, node: { ...good.node, name: 'c' }, tables: good.tables.map((t, i) => (i === 0 ? { ...t, entries: String(BigInt(t.entries) + 1n) } : t)) }));
      if (kind === 'duplicate-identical') texts.push(texts[0], texts[0]);
      if (kind === 'text-mutation' || kind === 'field-mutation') {
        const third = { ...good, node: { ...good.node, name: 'c' } };
        let text;
        if (kind === 'text-mutation') {
          const b = Buffer.from(JSON.stringify(third, null, rng() < 0.5 ? 2 : 0));
          const at = rng.int(b.length);
          const op = rng.pick(['flip', 'delete', 'insert']);
          text = op === 'flip' ? Buffer.concat([b.subarray(0, at), Buffer.from([b[at] ^ (1 << rng.int(7))]), b.subarray(at + 1)]).toString() : op === 'delete' ? Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rng.int(4))]).toString() : `${b.subarray(0, at)}${rng.pick(['0', '1', '"', ',', '}', ' ', 'a', '\\n', '-', '9'])}${b.subarray(at)}`;
        } else {
          text = JSON.stringify(mutateField(third, rng));
        }
        texts.push(text);
        try {
          equivalent = comparable(lib.validateReport(JSON.parse(text), 'x')) === comparable(good);
        } catch {
          equivalent = false;
        }
      }
      const files = texts.map((t, i) => {
        const f = join(dir, `r${i}.json`);
        writeFileSync(f, t);
        return f;
      });
      const json = rng() < 0.3;
      const r = await runCommand(['compare', ...files, ...(json ? ['--json'] : [])], { report: files, json }, { viaMain: rng() < 1 / 64 });
      const bad = failureOf(r);
      if (bad) return bad;
      if (kind === 'duplicate-identical' || equivalent) return r.code === 0 ? { outcome: 'accepted', detail: kind } : r.code === 1 || r.code === 2 || r.code === 3 ? rejected(r) : { outcome: 'wrong', detail: `${kind}: exit ${r.code}` };
      return r.code === 0 ? { outcome: 'wrong', detail: `${kind}: AGREE: ${texts[2]?.slice(0, 400)}` } : rejected(r);
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

const familiesOf = {};

/** Replaces one value somewhere in a report (a field, an array element) by another plausible one, or removes it. */
function mutateField(report, rng) {
  const copy = JSON.parse(JSON.stringify(report));
  const paths = [];
  const walk = (v, path) => {
    if (path.length > 0) paths.push(path);
    if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) walk(v[k], [...path, k]);
  };
  walk(copy, []);
  const path = rng.pick(paths);
  let parent = copy;
  for (const k of path.slice(0, -1)) parent = parent[k];
  const last = path[path.length - 1];
  const old = parent[last];
  const replacement = rng.pick([
    () => undefined,
    () => null,
    () => (typeof old === 'string' && /^[0-9a-f]+$/.test(old) ? old.slice(0, -1) + (old.endsWith('0') ? '1' : '0') : 'ffffffffffffffff'),
    () => (typeof old === 'string' && /^\d+$/.test(old) ? String(BigInt(old) + BigInt(rng.pick([1, -1, 1000]))) : '1'),
    () => (typeof old === 'number' ? old + rng.pick([1, -1]) : 7),
    () => rng.pick(['', 'a', '18446744073709551616', '-1', '0x10', ' 1']),
    () => [],
    () => ({}),
  ])();
  if (replacement === undefined) {
    if (Array.isArray(parent)) parent.splice(last, 1);
    else delete parent[last];
  } else parent[last] = replacement;
  return copy;
}

/** exit 0 must mean the undamaged digest, or a digest with the damage reported in the report. */
function judgeCli(r, undamaged, what) {
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

/** An in-process trial longer than this is a hang; a process RSS above IN_PROCESS_RSS_LIMIT_MB after a trial is over memory. */
export const IN_PROCESS_TIME_LIMIT_MS = 10_000;
export const IN_PROCESS_RSS_LIMIT_MB = 1024;

/**
 * Runs one trial and never throws: an exception of the harness itself counts as a crash. An
 * in-process trial that does not settle in time is a hang (its scratch copies are dropped, since
 * it may still hold them); one after which this process holds more than the limit is over memory.
 */
export async function runTrial(name, seed, context = {}) {
  const cls = CLASSES[name];
  let timer;
  try {
    const run = cls.trial(seed, context);
    const r = cls.cli ? await run : await Promise.race([run, new Promise((resolve) => (timer = setTimeout(() => resolve({ outcome: 'hang', detail: `no answer in ${IN_PROCESS_TIME_LIMIT_MS} ms` }), IN_PROCESS_TIME_LIMIT_MS)))]);
    if (r.outcome === 'hang' && !cls.cli) scratch.clear();
    const rssMB = process.memoryUsage.rss() / 2 ** 20;
    if (!cls.cli && rssMB > IN_PROCESS_RSS_LIMIT_MB) return { outcome: 'over-memory', detail: `${rssMB.toFixed(0)} MB after the trial` };
    return r;
  } catch (e) {
    return { outcome: 'crash', detail: `harness: ${String(e?.stack ?? e).slice(0, 300)}` };
  } finally {
    clearTimeout(timer);
  }
}
