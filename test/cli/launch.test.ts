import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, constants, cpSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { main, parseWithYargs } from '../../src/cli/main.js';
import { BIN, type CliResult, MODULES_BIN, REPO, runCli } from '../helpers/cli.js';

/**
 * The binary starts from one bundled script with V8's code cache (src/cli/launch.ts, made by
 * scripts/bundle.mjs in `npm run build`). These pin that it does after the README's install, that
 * V8 accepts the cache, that the bundle answers exactly as the compiled modules do, and that a
 * stale bundle or cache is never used.
 */

const dir = mkdtempSync(join(REPO, 'tmp-launch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** loadCli() of the launch.js under `dist`, in a fresh process: which path it took. */
function launched(dist: string): { via: string; codeCacheUsed?: boolean } {
  const code = `const m = await import(${JSON.stringify(join(dist, 'cli', 'launch.js'))}); const c = await m.loadCli(); console.log(JSON.stringify({ via: c.via, codeCacheUsed: c.codeCacheUsed }));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' })) as { via: string; codeCacheUsed?: boolean };
}

const CP = join(REPO, 'examples', 'checkpoint_epoch_42');
const TABLES = 'per_object_blob_info,per_object_pooled_blob_info,storage_pool_info';
const PLUGIN = join(dir, 'plugin.mjs');

describe('start-up from the bundle', () => {
  it('after the build, the binary runs the bundle and V8 accepts its code cache', () => {
    expect(launched(join(REPO, 'dist'))).toEqual({ via: 'bundle', codeCacheUsed: true });
  });

  it('the bundle answers every kind of invocation exactly as the compiled modules do', async () => {
    // Each side writes under its own folder (publish is write-once); the outputs are compared
    // with that folder's name, start times and durations masked.
    const cases = (w: string): string[][] => [
      ['digest', CP, '--tables', TABLES, '--json', '--node', 'n1'],
      ['digest', CP, '--preset', 'walrus', '--node', 'n1'],
      ['digest', CP, '--tables', TABLES, '--node', 'n1', '--out', join(w, 'a.snap'), '--max-chunk-bytes', '64KiB'],
      ['verify', join(w, 'a.snap'), '--each-chunk'],
      ['inspect', join(w, 'a.snap')],
      ['digest', CP, '--tables', TABLES, '--node', 'n1', '--max-chunk-bytes', '64KiB', '--publish', `file://${join(w, 'repo')}`, '--publish-snapshot'],
      // fetch decodes on a worker thread, which the bundle finds next to the module it came from
      ['fetch', `file://${join(w, 'repo')}`, '--epoch', '42', '--node', 'n1', '--out', join(w, 'fetched')],
      ['verify', join(w, 'fetched', 'snapshot')],
      // what the bundle does not contain, imported on use: the S3 client (no credentials: IO_ERROR
      // naming the bucket before any request) and a merge-operator plugin (loaded, exports nothing)
      ['digest', CP, '--tables', TABLES, '--node', 'n1', '--publish', 's3://bucket/p', '--endpoint', 'http://127.0.0.1:9'],
      ['digest', CP, '--tables', TABLES, '--merge-operator', `stringappend=${PLUGIN}`],
      ['--version'],
      ['--help'],
      ['digest', '--help'],
      ['digst', CP],
      ['digest', join(w, 'missing')],
      ['verify', CP],
    ];
    const steady = (r: CliResult, w: string): CliResult => {
      const clean = (t: string): string => t.replaceAll(w, 'WORK').replace(/"(startedAt|durationMs)": ("[^"]*"|\d+)/g, '"$1": …');
      return { ...r, stdout: clean(r.stdout), stderr: clean(r.stderr) };
    };
    writeFileSync(PLUGIN, 'export const unrelated = 1;\n');
    const [b, m] = [join(dir, 'bundle'), join(dir, 'modules')];
    mkdirSync(b);
    mkdirSync(m);
    const [bCases, mCases] = [cases(b), cases(m)];
    for (let i = 0; i < bCases.length; i++) {
      const bundled = steady(await runCli(bCases[i]!), b);
      const modules = steady(await runCli(mCases[i]!, { bin: MODULES_BIN }), m);
      expect(bundled, bCases[i]!.join(' ')).toEqual(modules);
    }
    // The fetch really ran: its result verified.
    expect((await runCli(['verify', join(b, 'fetched', 'snapshot')])).code).toBe(0);
  }, 120_000);

  it('a bundle older than the compiled modules is not run, nor a code cache older than the bundle', () => {
    const dist = join(dir, 'dist');
    cpSync(join(REPO, 'dist'), dist, { recursive: true });
    const now = Date.now() / 1000;
    utimesSync(join(dist, 'snapshot-verify.cjs.codecache'), now - 20, now - 20);
    utimesSync(join(dist, 'snapshot-verify.cjs'), now - 10, now - 10);
    utimesSync(join(dist, 'cli', 'main.js'), now - 30, now - 30);
    expect(launched(dist)).toEqual({ via: 'bundle', codeCacheUsed: false });
    utimesSync(join(dist, 'cli', 'main.js'), now, now); // as after a `tsc` without the bundle step
    expect(launched(dist)).toEqual({ via: 'modules' });
    rmSync(join(dist, 'snapshot-verify.cjs'));
    expect(launched(dist)).toEqual({ via: 'modules' });
  });

  it('--version alone prints what yargs prints, without yargs', async () => {
    const out: string[] = [];
    const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => out.push(`ERR ${t}`), stderrIsTTY: false, stdin: (async function* () {})() };
    expect(await main(['--version'], io)).toBe(0);
    // yargs prints its version with console.log
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      expect(await parseWithYargs(['--version'], io, [])).toBe(0);
      expect(log.mock.calls.map((c) => `${c.join(' ')}\n`)).toEqual(out);
    } finally {
      log.mockRestore();
    }
    expect(out.join('')).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('the bundle is pure ASCII, so reading it as Latin-1 (launch.ts) is reading it as UTF-8', () => {
    const bytes = readFileSync(join(REPO, 'dist', 'snapshot-verify.cjs'));
    expect(bytes.findIndex((b) => b > 0x7f)).toBe(-1);
    expect(bytes.toString('latin1')).toBe(bytes.toString('utf8'));
  });
});

describe('the executable (a shell line, then the ES module)', () => {
  // Run as operators run it (the kernel reads `#!/bin/sh`), not as `node bin/snapshot-verify`.
  const exec = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(BIN, args, { cwd: REPO, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });
  // What Node 20 prints at start-up when NODE_EXTRA_CA_CERTS names a file it cannot load: it
  // proves whether Node read the variable.
  const caWarning = /Ignoring extra certs from `\/nonexistent-ca\.pem`/;

  it('passes every argument through unchanged (spaces, quotes, globs, dollars, empty)', () => {
    const odd = join(dir, `a dir with 'quotes' "and" $HOME * [x]`);
    const r = exec(['verify', odd, '']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(odd);
    expect(exec(['--version']).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('starts Node without NODE_EXTRA_CA_CERTS unless an s3:// repository is named (only S3 opens TLS connections)', () => {
    const env = { NODE_EXTRA_CA_CERTS: '/nonexistent-ca.pem' };
    const digest = exec(['digest', CP, '--tables', TABLES], env);
    expect(digest.status).toBe(0);
    expect(digest.stderr).not.toMatch(caWarning);
    for (const args of [['compare', 's3://'], ['digest', CP, '--tables', TABLES, '--publish=s3://']]) {
      const r = exec(args, env);
      expect(r.stderr).toMatch(caWarning); // Node read the variable, as it would without the shell line
      expect(r.stderr).toMatch(/INVALID_ARGUMENT|not an s3:\/\/BUCKET/);
    }
    // `node bin/snapshot-verify` skips the shell line: Node reads the variable as always.
    const viaNode = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8', env: { ...process.env, ...env } });
    expect(viaNode.stderr).toMatch(caWarning);
  });

  /** A FIFO in `dir`: its read end (non-blocking), then its write end with `writeFlags`. */
  function fifo(name: string, writeFlags: number): { read: number; write: number } {
    const path = join(dir, name);
    execFileSync('mkfifo', [path]);
    const read = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    return { read, write: openSync(path, constants.O_WRONLY | writeFlags) };
  }

  it('stdout whose reader went away (EPIPE): IO_ERROR on stderr and exit 74, never a stack trace or exit 0', () => {
    const { read, write } = fifo('closed-reader', 0);
    closeSync(read);
    const r = spawnSync(BIN, ['digest', CP, '--tables', TABLES], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', write, 'pipe'] });
    closeSync(write);
    expect(r.status).toBe(74);
    expect(r.stderr).toBe('snapshot-verify: IO_ERROR in stdout: its reader closed it before the output was complete\n');
  });

  it('stdout on a full disk (/dev/full, ENOSPC): "IO_ERROR in stdout" and exit 74, as every I/O error names its file', () => {
    // Found from outside (issue #8 campaign): the line was "IO_ERROR: ENOSPC: …", naming no file.
    const full = openSync('/dev/full', constants.O_WRONLY);
    const r = spawnSync(BIN, ['digest', CP, '--tables', TABLES], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', full, 'pipe'] });
    closeSync(full);
    expect(r.status).toBe(74);
    expect(r.stderr).toMatch(/^snapshot-verify: IO_ERROR in stdout: cannot write stdout: ENOSPC/);
  });

  it('stderr on a full disk: the exit code still says what happened (2 for a missing input, 74 when stdout fails too), never 1 (divergence) from a crash', () => {
    // Found from outside (issue #8 campaign): the failed write of the error line escaped as an
    // uncaught exception, and Node exited 1, which this tool's table reads as "nodes disagree".
    const run = (args: string[], stdoutFull: boolean): number | null => {
      const full = openSync('/dev/full', constants.O_WRONLY);
      const r = spawnSync(BIN, args, { cwd: REPO, stdio: ['ignore', stdoutFull ? full : 'ignore', full] });
      closeSync(full);
      return r.status;
    };
    expect(run(['digest', join(REPO, 'no-such-checkpoint'), '--tables', TABLES], false)).toBe(2);
    expect(run(['digest', CP, '--tables', TABLES], true)).toBe(74);
    expect(run(['digest', CP, '--tables', TABLES], false)).toBe(0);
  });

  it('a full non-blocking stdout (EAGAIN) gets the whole output, in order, once its reader drains it', async () => {
    // Node's own spawn makes a child's stdio blocking; Python passes the non-blocking pipe as it is,
    // and reads it only after 1.5 s, so the pipe (64 KiB) is full long before.
    const script = [
      'import os, subprocess, sys, time',
      'r, w = os.pipe()',
      'os.set_blocking(w, False)',
      'p = subprocess.Popen(sys.argv[1:], stdout=w, stderr=subprocess.DEVNULL)',
      'os.close(w)',
      'time.sleep(1.5)',
      'out = b""',
      'while True:',
      '    b = os.read(r, 1 << 16)',
      '    if not b: break',
      '    out += b',
      'sys.stdout.buffer.write(out)',
      'sys.exit(p.wait())',
    ].join('\n');
    const args = ['digest', CP, '--tables', TABLES, '--ranges', '4096', '--json', '--node', 'n1'];
    const r = spawnSync('python3', ['-c', script, BIN, ...args], { cwd: REPO, encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(1 << 20);
    const direct = await runCli(args);
    const mask = (t: string) => t.replace(/"(startedAt|durationMs)": [^,\n]+/g, '"$1": x');
    expect(mask(r.stdout)).toBe(mask(direct.stdout));
  });
});
