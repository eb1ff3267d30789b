/**
 * `--merge-operator NAME=PATH` as operators use it, on a real RocksDB checkpoint whose families
 * use the fixture tool's "concat" operator (not a RocksDB built-in): the digest with a plugin
 * equals the digest of a dump directory holding RocksDB's own iterator output (the fixture
 * tool's --scan), and every way a plugin can be wrong has its exit code and one-line message.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeFixture, makeFixtureBinary } from '../sources/rocksdb/helpers.js';

const canRun = makeFixtureBinary() !== null;
let dir: string;
let cp: string;
let oracle: string;
const mod = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

beforeAll(() => {
  if (!canRun) return;
  dir = mkdtempSync(join(tmpdir(), 'sv-merge-cli-'));
  cp = join(dir, 'checkpoint_epoch_5');
  makeFixture(['--db', join(dir, 'db'), '--checkpoint', cp, '--keys', '50', '--rounds', '2', '--merges', '20', '--merge-every', '3', '--merge-workload', '400', '--merge-keys', '15', '--cf', 'b']);
  // RocksDB's iterator (on a copy: the tool opens read-only, but the checkpoint stays pristine) as a dump directory.
  cpSync(cp, join(dir, 'copy'), { recursive: true });
  const scan = execFileSync(makeFixtureBinary()!, ['--scan', join(dir, 'copy')], { encoding: 'utf8', maxBuffer: 1 << 28 });
  oracle = join(dir, 'oracle');
  mkdirSync(oracle);
  const lines = new Map<string, string[]>();
  for (const l of scan.split('\n').filter(Boolean)) {
    const [cf, k, v] = l.split(' ') as [string, string, string];
    lines.set(cf, [...(lines.get(cf) ?? []), `0x${k.toUpperCase()} : 0x${v.toUpperCase()}\n`]);
  }
  for (const [cf, ls] of lines) writeFileSync(join(oracle, `${cf}.hex`), ls.join(''));
});
afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const CONCAT = `(existing, operands) => Buffer.concat(existing === undefined ? operands : [existing, ...operands])`;

describe.skipIf(!canRun)('digest/diff --merge-operator NAME=PATH', () => {
  test('a plugin module (default export, named exports or CommonJS) gives the digest of RocksDB\'s own iterator output', async () => {
    const want = await runCli(['digest', oracle, '--tables', 'b,default', '--epoch', '5']);
    expect(want.code, want.stderr).toBe(0);
    const digestLine = want.stdout.split('\n')[0]!.replace(/ node \S+/, '');
    const modules = [
      mod('default.mjs', `const f = ${CONCAT};\nexport default { name: 'concat', fullMerge: (k, e, o) => f(e, o) };\n`),
      mod('named.mjs', `const f = ${CONCAT};\nexport const name = 'concat';\nexport function fullMerge(k, e, o) { return f(e, o); }\n`),
      mod('common.cjs', `const f = ${CONCAT};\nmodule.exports = { name: 'concat', fullMerge: (k, e, o) => f(e, o) };\n`),
    ];
    for (const m of modules) {
      const r = await runCli(['digest', cp, '--tables', 'b,default', '--merge-operator', `concat=${m}`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.split('\n')[0]!.replace(/ node \S+/, ''), m).toBe(digestLine);
    }
    const d = await runCli(['diff', cp, oracle, '--tables', 'b,default', '--merge-operator', `concat=${modules[0]}`]);
    expect(d.code, d.stdout + d.stderr).toBe(0);
  });

  test('without the plugin: exit 4 naming the operator and the flag; a plugin that throws: exit 3 MERGE_FAILED, no digest', async () => {
    const none = await runCli(['digest', cp, '--tables', 'default']);
    expect(none.code).toBe(4);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/^snapshot-verify: UNSUPPORTED_FEATURE in .*"concat".*--merge-operator concat=PATH/);
    const throwing = mod('throws.mjs', `export default { name: 'concat', fullMerge() { throw new Error('cannot merge this'); } };\n`);
    const r = await runCli(['digest', cp, '--tables', 'default', '--merge-operator', `concat=${throwing}`, '--json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).error.code).toBe('MERGE_FAILED');
    expect(r.stderr).toMatch(/^snapshot-verify: MERGE_FAILED in .*(\.sst|\(WAL\)): merge operator "concat" failed on key 0x[0-9a-f]+ .*cannot merge this\n$/);
  });

  test('a missing module exits 2; one that fails to load, exports no operator, or another name exits 64; so does NAME=PATH malformed', async () => {
    const cases: [string[], number, RegExp][] = [
      [['--merge-operator', `concat=${join(dir, 'nope.mjs')}`], 2, /NOT_FOUND .*does not exist/],
      [['--merge-operator', `concat=${mod('syntax.mjs', 'export default {{;\n')}`], 64, /INVALID_ARGUMENT .*failed to load/],
      [['--merge-operator', `concat=${mod('empty.mjs', 'export const x = 1;\n')}`], 64, /INVALID_ARGUMENT .*exports no merge operator/],
      [['--merge-operator', `other=${mod('other.mjs', `export default { name: 'concat', fullMerge: () => new Uint8Array(0) };\n`)}`], 64, /INVALID_ARGUMENT .*named "concat", not "other"/],
      [['--merge-operator', 'concat'], 64, /INVALID_ARGUMENT: .*NAME=PATH/],
    ];
    for (const [args, code, message] of cases) {
      const r = await runCli(['digest', cp, '--tables', 'default', ...args]);
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toMatch(message);
    }
  });
});
