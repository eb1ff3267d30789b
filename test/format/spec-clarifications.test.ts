import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SnapshotError } from '../../src/format/errors.js';
import { SnapshotWriter } from '../../src/format/writer.js';
import { nullSink } from '../../src/format/sinks.js';
import { REPO, runCli } from '../helpers/cli.js';

/** The points of spec/FORMAT.md an independent implementation found unclear, pinned as the spec now states them. */

const MAGIC = Buffer.from([0x89, 0x53, 0x4e, 0x50, 0x56, 0x0d, 0x0a, 0x1a]);

describe('spec/FORMAT.md clarifications (issue 9, item 8)', () => {
  it('§7.1: a chunk holding only SNAPSHOT_END is accepted on its own (index field 1), the whole stream is NON_CANONICAL at 169', async () => {
    const bytes = readFileSync(join(REPO, 'golden', 'v1', 'invalid', 'chunk-only-snapshot-end.bin'));
    const second = bytes.indexOf(MAGIC, 1);
    expect(second).toBeGreaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), 'sv-spec-'));
    try {
      writeFileSync(join(dir, 'c1'), bytes.subarray(second));
      expect(bytes.readUInt32LE(second + 38 + bytes.readUInt16LE(second + 28))).toBe(1); // its index field is 1
      const alone = await runCli(['verify', '--each-chunk', join(dir, 'c1')]);
      expect(alone.code, alone.stdout + alone.stderr).toBe(0);
      const whole = await runCli(['verify', join(REPO, 'golden', 'v1', 'invalid', 'chunk-only-snapshot-end.bin')]);
      expect(whole.code).toBe(3);
      expect(whole.stdout).toContain('NON_CANONICAL at offset 169');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('§7.1: TRUNCATED across several files names the last file given, even empty, at offset 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sv-spec-'));
    try {
      const snap = join(REPO, 'golden', 'v1', 'worked-example.snap');
      const bytes = readFileSync(snap);
      writeFileSync(join(dir, 'a'), bytes.subarray(0, bytes.length - 3));
      writeFileSync(join(dir, 'empty'), '');
      const r = await runCli(['verify', '--chunks', join(dir, 'a'), join(dir, 'empty')]);
      expect(r.code).toBe(3);
      expect(r.stdout).toContain(`TRUNCATED at offset 0 in ${join(dir, 'empty')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('§6 and §8: an encoder given M below H + 9 or an event id over 1,024 bytes refuses the anchor with INVALID_ARGUMENT', async () => {
    for (const anchor of [
      { epoch: 1n, cursor: { index: 0n }, maxChunkBytes: 10n, tables: [{ id: 0, name: 't' }] },
      { epoch: 1n, cursor: { index: 0n, eventId: new Uint8Array(1025) }, maxChunkBytes: 0n, tables: [{ id: 0, name: 't' }] },
    ]) {
      const e = await SnapshotWriter.create(nullSink(), anchor).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(SnapshotError);
      expect((e as SnapshotError).code).toBe('INVALID_ARGUMENT');
    }
  });
});
