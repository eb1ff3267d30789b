// Conformance against the independent reference decoder (test/conformance/reference_decoder.py,
// written from spec/FORMAT.md alone). See test/conformance/NOTES.md.
import { execFileSync } from 'node:child_process';
import { describe, it, expect } from 'vitest';

const TIMEOUT = 120_000;

function run(cmd: string, args: string[]): { status: number; output: string } {
  try {
    const out = execFileSync(cmd, args, {
      cwd: process.cwd(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 1 << 28,
      timeout: TIMEOUT - 5_000,
    });
    return { status: 0, output: out };
  } catch (err) {
    const e = err as { status?: number | null; stdout?: string; stderr?: string; message?: string };
    return {
      status: typeof e.status === 'number' ? e.status : -1,
      output: `${e.stdout ?? ''}\n${e.stderr ?? ''}\n${e.status == null ? (e.message ?? '') : ''}`,
    };
  }
}

function tail(s: string, n = 60): string {
  return s.trim().split('\n').slice(-n).join('\n');
}

describe('format v1 conformance (independent reference decoder)', () => {
  it(
    'reference decoder passes every golden v1 case and invalid vector (check-golden)',
    () => {
      const r = run('/usr/bin/python3', ['test/conformance/reference_decoder.py', 'check-golden', 'golden/v1']);
      expect(r.status, tail(r.output)).toBe(0);
      expect(r.output).toMatch(/^\d+ passed, 0 failed$/m);
    },
    TIMEOUT,
  );

  it(
    'TypeScript decodeError agrees with the reference decoder on every mutated input (crosscheck)',
    () => {
      const r = run(process.execPath, ['test/conformance/crosscheck.mjs']);
      expect(r.status, tail(r.output)).toBe(0);
      expect(r.output).toMatch(/^\d+ agreed, 0 disagreed$/m);
    },
    TIMEOUT,
  );
});
