import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportError } from '../../src/cli/errors.js';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { SnapshotError } from '../../src/format/errors.js';
import { REPO, runCli } from '../helpers/cli.js';

/** Mistakes operators make, and errors that say what to do instead (issue 9, item 4). */

const EXAMPLE = join(REPO, 'examples', 'checkpoint_epoch_42');

function io(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), stderrIsTTY: false, stdin: (async function* () {})() };
}

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const t = io();
  const code = await main(argv, t);
  return { code, stdout: t.out.join(''), stderr: t.err.join('') };
}

describe('errors that say what to do', () => {
  it('an unknown command names the nearest one and the list', async () => {
    const r = await run(['digset', EXAMPLE]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('unknown command "digset" (did you mean digest?); commands: digest, compare, diff, verify, inspect');
  });

  it('an unknown option names the nearest option of that command', async () => {
    const r = await run(['digest', EXAMPLE, '--tabels', 'a']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('unknown option --tabels (did you mean --tables?) for digest');
    const c = await runCli(['compare', 'x.json', '--quorom', '2']); // compare keeps "-" as an argument: its own check
    expect(c.code).toBe(64);
    expect(c.stderr).toContain('unknown option --quorom (did you mean --quorum?)');
  });

  it('numeric options name the flag and the form they take, never "NaN"', async () => {
    for (const [argv, flag] of [
      [['compare', 'a.json', 'b.json', '--quorum', 'abc'], '--quorum expects a positive integer (3), a fraction of the total weight (2/3) or more than a fraction (>2/3), got "abc"'],
      [['digest', EXAMPLE, '--tables', 'storage_pool_info', '--ranges', 'x'], '--ranges takes a whole number from 1 to 4096'],
      [['diff', EXAMPLE, EXAMPLE, '--limit', '-1'], '--limit takes a whole number 0 or more'],
    ] as const) {
      const r = await run([...argv]);
      expect(r.code, argv.join(' ')).toBe(64);
      expect(r.stderr).toContain(flag);
      expect(r.stderr).not.toContain('NaN');
    }
  });

  it('--tables without a value says that leaving it out lists the tables', async () => {
    const r = await run(['digest', EXAMPLE, '--tables']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--tables needs a value: a,b,c or 1=a,2=b (leave --tables out to list the tables the checkpoint holds)');
  });

  it('a file inside a checkpoint (an .sst, CURRENT, MANIFEST-*) says to pass the checkpoint directory, not BAD_MAGIC', async () => {
    const files = readdirSync(EXAMPLE).filter((f) => /\.sst$|^CURRENT$|^MANIFEST-/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      const r = await run(['digest', join(EXAMPLE, f), '--tables', 'storage_pool_info']);
      expect(r.code, f).toBe(64);
      expect(r.stderr).toContain(`pass the checkpoint directory ${EXAMPLE}`);
      expect(r.stderr).not.toContain('BAD_MAGIC');
    }
    const table = await run(['digest', join(REPO, 'examples', 'dump', 'checkpoint_epoch_42', 'storage_pool_info.hex')]);
    expect(table.code).toBe(64);
    expect(table.stderr).toContain('pass the directory');
  });

  it('an unknown table names the nearest table and lists the tables that exist', async () => {
    const r = await run(['digest', EXAMPLE, '--tables', 'per_object_blobinfo,storage_pool_info']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('UNKNOWN_TABLE');
    expect(r.stderr).toContain('"per_object_blobinfo" (did you mean per_object_blob_info?)');
    expect(r.stderr).toContain('its tables: aggregate_blob_info, default, per_object_blob_info, per_object_pooled_blob_info, storage_pool_info');
  });

  it("exit 4 (UNSUPPORTED_FEATURE) points to the runbook's dump fallback, and the runbook has that section", async () => {
    const t = io();
    expect(reportError(new SnapshotError('UNSUPPORTED_FEATURE', 'blob files in column family "x" are not supported'), t)).toBe(4);
    expect(t.err[1]).toContain('docs/RUNBOOK.md, section 1, "Fallback: digest an ldb dump"');
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(REPO, 'docs', 'RUNBOOK.md'), 'utf8')).toMatch(/^## 1\. [\s\S]*^### Fallback: digest an ldb dump$/m);
  });
});
