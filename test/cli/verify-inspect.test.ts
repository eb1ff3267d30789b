import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { goldenBytes, goldenPath, loadManifest } from '../helpers/golden.js';

const manifest = loadManifest('v1');

describe('snapshot-verify verify', () => {
  it('every golden file verifies: exit 0 and its manifest digest on stdout', async () => {
    const r = await runCli(['verify', ...manifest.cases.map((c) => goldenPath('v1', c))]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const c of manifest.cases) expect(r.stdout).toContain(`${c.file}  digest ${c.digest}  entries ${c.entries}  chunks ${c.chunks.length}`);
  });

  it('mutated copies are rejected with the error code and the offset, exit 3', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sv-verify-'));
    const c = manifest.cases.find((x) => x.name === 'worked-example')!;
    const bytes = goldenBytes('v1', c);
    const cases: [string, Uint8Array, string, number][] = [
      ['magic', Uint8Array.from(bytes, (b, i) => (i === 1 ? b ^ 1 : b)), 'BAD_MAGIC', 1],
      ['version', Uint8Array.from(bytes, (b, i) => (i === 8 ? 2 : b)), 'UNSUPPORTED_VERSION', 8],
      ['value', Uint8Array.from(bytes, (b, i) => (i === 0x54 ? b ^ 1 : b)), 'CHECKSUM_MISMATCH', 0x62 + 13],
      ['trailer', Uint8Array.from(bytes, (b, i) => (i === bytes.length - 1 ? b ^ 1 : b)), 'CHECKSUM_MISMATCH', 0x8d],
      ['truncated', bytes.subarray(0, 100), 'TRUNCATED', 100],
      ['extended', new Uint8Array([...bytes, 0]), 'TRAILING_BYTES', bytes.length],
    ];
    for (const [name, mutated, code, offset] of cases) {
      const f = join(dir, `${name}.snap`);
      await writeFile(f, mutated);
      const r = await runCli(['verify', f]);
      expect(r.code, name).toBe(3);
      expect(r.stdout, name).toContain(`FAIL ${f}  ${code} at offset ${offset}`);
      expect(r.stderr, name).toMatch(new RegExp(`^snapshot-verify: ${code} in .* at offset ${offset} `));
      const j = await runCli(['verify', f, '--json']);
      expect(JSON.parse(j.stdout).results[0].error).toMatchObject({ code, offset, file: f });
    }
  });

  it('a mix of good, corrupt and missing snapshots reports each; the exit code is the worst', async () => {
    const r = await runCli(['verify', goldenPath('v1', manifest.cases[0]!), '/nonexistent/x.snap', '--json']);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.results.map((x: { ok: boolean }) => x.ok)).toEqual([true, false]);
    expect(doc.results[1].error.code).toBe('NOT_FOUND');
    expect(r.code).toBe(2);
  });
});

describe('snapshot-verify inspect', () => {
  it('shows header fields, tables and chunks matching the manifest', async () => {
    const c = manifest.cases.find((x) => x.name === 'blob-info-chunked')!;
    const r = await runCli(['inspect', goldenPath('v1', c), '--json']);
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout);
    expect(v).toMatchObject({ epoch: c.anchor.epoch, cursor: { index: c.anchor.cursorIndex, eventIdHex: c.anchor.eventIdHex }, maxChunkBytes: c.anchor.maxChunkBytes, digest: c.digest });
    expect(v.tables.map((t: { name: string; entries: string; digest: string }) => [t.name, t.entries, t.digest])).toEqual(c.tables.map((t) => [t.name, t.entryCount, t.digest]));
    expect(v.chunks.map((x: { bytes: number; digest: string }) => [x.bytes, x.digest])).toEqual(c.chunks.map((x) => [x.size, x.digest]));
    const human = await runCli(['inspect', goldenPath('v1', c)]);
    expect(human.stdout).toContain(`digest   ${c.digest}`);
    expect(human.stdout).toContain('aggregate_blob_info');
  });

  it('a corrupt snapshot: exit 3, code and offset', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sv-inspect-'));
    const f = join(dir, 'x.snap');
    await writeFile(f, new Uint8Array(10));
    const r = await runCli(['inspect', f]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/BAD_MAGIC .* at offset 0/);
  });
});

describe('snapshot-verify --help', () => {
  it('documents every exit code', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const code of ['0', '1', '2', '3', '4', '64', '74']) expect(r.stdout).toMatch(new RegExp(`^  ${code}\\s+\\S`, 'm'));
  });
});
