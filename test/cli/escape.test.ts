import { copyFile, mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escapeText } from '../../src/cli/render/escape.js';
import { REPO, runCli } from '../helpers/cli.js';

describe('escapeText', () => {
  it('makes controls, escape sequences, separators, bidi marks and backslash visible; plain text passes unchanged', () => {
    expect(escapeText('per_object_blob_info')).toBe('per_object_blob_info');
    expect(escapeText('blob ïnfo — ok')).toBe('blob ïnfo — ok');
    expect(escapeText('a\nb\r\tc\\')).toBe('a\\nb\\r\\tc\\\\');
    expect(escapeText('\u001b[2J\u0000\u007f\u0085')).toBe('\\x1b[2J\\x00\\x7f\\x85');
    expect(escapeText('x\u2028y\u202ez\u2066')).toBe('x\\u{2028}y\\u{202e}z\\u{2066}');
  });

  it('is injective on what it changes: distinct inputs never print alike', () => {
    const inputs = ['\n', '\\n', '\\\n', '\u000a\u005c', 'n', '\\x0a', '\u001b'];
    expect(new Set(inputs.map(escapeText)).size).toBe(inputs.length);
  });
});

describe('names cannot forge output lines', () => {
  // A table whose name carries a newline and a line that looks like a digest line.
  const EVIL = 'evil\nepoch 42 digest 0000000000000000 entries 0 node forged\u001b[0m';

  it('digest, inspect, verify and diff print the name escaped; --json carries it as it is', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sv-escape-'));
    const dump = join(root, 'checkpoint_epoch_42');
    await mkdir(dump);
    await copyFile(join(REPO, 'examples', 'dump', 'checkpoint_epoch_42', 'storage_pool_info.hex'), join(dump, `${EVIL}.hex`));
    expect(await readdir(dump)).toEqual([`${EVIL}.hex`]);
    const snap = join(root, `out\n${'x'}.snap`);
    const text = await runCli(['digest', dump, '--tables', EVIL, '--out', snap]);
    expect(text.code, text.stderr).toBe(0);
    const json = await runCli(['digest', dump, '--tables', EVIL, '--json']);
    expect(JSON.parse(json.stdout).tables[0].name).toBe(EVIL);
    const outputs = [
      text.stdout,
      (await runCli(['inspect', snap])).stdout,
      (await runCli(['verify', snap])).stdout,
      (await runCli(['diff', snap, dump])).stdout,
      (await runCli(['diff', snap, join(REPO, 'examples', 'dump', 'checkpoint_epoch_42')])).stdout,
    ];
    for (const out of outputs) {
      expect(out).not.toContain('\u001b');
      expect(out.split('\n').filter((l) => l.startsWith('epoch 42 digest 0000000000000000'))).toEqual([]);
      expect(out).toMatch(/evil\\nepoch 42 digest 0000000000000000|out\\nx\.snap/);
    }
    expect(JSON.parse((await runCli(['inspect', snap, '--json'])).stdout).tables[0].name).toBe(EVIL);
  }, 120_000);
});
