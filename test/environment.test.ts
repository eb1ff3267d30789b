import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Tests that need real RocksDB tools skip themselves where a tool is missing; so that nothing is
 * skipped silently, this fails instead. `scripts/install-test-deps.sh` (the README's second
 * Quick start command, run by CI) installs them all.
 */
describe('every tool the tests use is installed (scripts/install-test-deps.sh)', () => {
  const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  it('ldb and sst_dump (Debian rocksdb-tools)', () => {
    expect(() => run('ldb', ['--help'])).not.toThrow();
    expect(() => run('sst_dump', ['--help'])).not.toThrow();
  });

  it('xxh64sum (Debian xxhash)', () => {
    expect(run('xxh64sum', ['-'])).toMatch(/^ef46db3751d8e999/);
  });

  it('python3 with xxhash (Debian python3-xxhash)', () => {
    expect(run('/usr/bin/python3', ['-c', 'import xxhash; print(xxhash.xxh64(b"").hexdigest())']).trim()).toBe('ef46db3751d8e999');
  });

  it('wat2wasm (Debian wabt): the generated-code tests run instead of skipping', () => {
    expect(run('wat2wasm', ['--version'])).toMatch(/^\d+\.\d+/);
  });

  it('promtool (Debian prometheus): the alert rules in docs/ are checked', () => {
    expect(run('promtool', ['--version'])).toMatch(/promtool, version/);
  });

  it('the RocksDB fixture generator builds (g++, librocksdb-dev)', () => {
    const out = run('sh', [join(import.meta.dirname, 'fixtures', 'rocksdb', 'build.sh')]).trim();
    expect(out).toMatch(/make-fixture$/);
  });
});
