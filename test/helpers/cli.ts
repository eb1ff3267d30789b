import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root. */
export const REPO = join(import.meta.dirname, '..', '..');
export const ROOT = REPO;
/** The executable shim, as operators run it. */
export const BIN = join(REPO, 'bin', 'snapshot-verify');
/** The same CLI loaded as the compiled ES modules, without the bundle (src/cli/launch.ts). */
export const MODULES_BIN = join(REPO, 'test', 'helpers', 'cli-modules.mjs');

/** What one run of the real binary produced. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}
export type CliRun = CliResult;

/** Throws a clear message when the CLI has not been built (tests spawn dist/, never src/). */
export function assertBuilt(): void {
  if (!existsSync(join(REPO, 'dist', 'cli', 'main.js'))) throw new Error('dist/cli/main.js is missing: run `npm run build` before these tests');
}

/**
 * Spawns `node bin/snapshot-verify ...args` and captures stdout, stderr and the exit code.
 * `input` is written to stdin (stdin is closed either way, so a command never waits on it).
 */
export function runCli(args: readonly string[], options: { input?: string | Uint8Array; cwd?: string; env?: NodeJS.ProcessEnv; bin?: string } = {}): Promise<CliResult> {
  assertBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.bin ?? BIN, ...args], { cwd: options.cwd ?? REPO, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...options.env } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.on('error', () => undefined); // the command may exit before reading all of stdin
    child.stdin.end(options.input ?? '');
  });
}
