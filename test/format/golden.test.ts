import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeError, encodeSnapshot, formatDigest, loadHasher, readSnapshotContent, FORMAT_VERSION } from '../../src/format/index.js';
import { hex, inPieces } from '../helpers/bytes.js';
import { REPO } from '../helpers/cli.js';
import { caseContent, goldenBytes, goldenPath, GOLDEN_ROOT, loadManifest } from '../helpers/golden.js';

const BUMP = 'format bytes changed; this requires a format version bump: add spec/FORMAT-v2.md and golden/v2/ (node scripts/make-golden.mjs v2) and keep v1 readable';

/** xxh64sum (Debian's xxhash package) is the independent implementation of the digest. */
function xxh64sum(bytes: Uint8Array): string {
  return execFileSync('xxh64sum', ['-'], { input: bytes }).toString().split(/\s/)[0]!;
}

describe('golden v1', () => {
  const manifest = loadManifest('v1');

  it('has the five required shapes and a file for every case', () => {
    const names = manifest.cases.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['empty-catalog', 'one-empty-table', 'one-table', 'blob-info', 'blob-info-chunked']));
    const files = readdirSync(`${GOLDEN_ROOT}/v1`).filter((f) => f.endsWith('.snap')).sort();
    expect(files).toEqual(manifest.cases.map((c) => c.file).sort());
    expect(manifest.formatVersion).toBe(1);
  });

  for (const c of manifest.cases) {
    describe(c.name, () => {
      it('encoding the manifest content gives the golden file byte for byte', async () => {
        const { anchor, tables } = caseContent(c);
        const encoded = await encodeSnapshot(anchor, tables);
        const golden = goldenBytes('v1', c);
        if (hex(encoded.bytes) !== hex(golden)) throw new Error(`${c.name}: ${BUMP}`);
        expect(encoded.bytes.length).toBe(c.size);
      });

      it('decoding the golden file gives the manifest content, counts and digests', async () => {
        const back = await readSnapshotContent(goldenPath('v1', c));
        const { anchor, tables } = caseContent(c);
        expect(back.summary.anchor.epoch).toBe(anchor.epoch);
        expect(back.summary.anchor.cursor.index).toBe(anchor.cursor.index);
        expect(hex(back.summary.anchor.cursor.eventId ?? new Uint8Array(0))).toBe(c.anchor.eventIdHex);
        expect(back.summary.anchor.maxChunkBytes).toBe(anchor.maxChunkBytes);
        expect(back.tables.map((t) => ({ id: t.id, name: t.name }))).toEqual(c.anchor.tables);
        back.tables.forEach((t, i) => expect(t.entries.map((e) => [hex(e.key), hex(e.value)])).toEqual(c.tables[i]!.entries));
        expect(formatDigest(back.summary.digest)).toBe(c.digest);
        expect(back.summary.tables.map((t) => [String(t.entries), formatDigest(t.digest)])).toEqual(c.tables.map((t) => [t.entryCount, t.digest]));
        expect(back.summary.chunks.map((ch) => [ch.index, ch.bytes, formatDigest(ch.digest)])).toEqual(c.chunks.map((ch) => [ch.index, ch.size, ch.digest]));
        expect(tables.length).toBe(c.tables.length);
      });

      it('decodes the same when fed 1 and 2 bytes at a time', async () => {
        const bytes = goldenBytes('v1', c);
        for (const sizes of [[1], [2], [1, 2, 7]]) {
          const back = await readSnapshotContent(inPieces(bytes, sizes));
          expect(formatDigest(back.summary.digest)).toBe(c.digest);
        }
      });

      it('every chunk trailer is the xxhash64 of the chunk bytes before it (checked with xxh64sum)', () => {
        const bytes = goldenBytes('v1', c);
        let at = 0;
        for (const ch of c.chunks) {
          const chunk = bytes.subarray(at, at + ch.size);
          expect(xxh64sum(chunk.subarray(0, ch.size - 8))).toBe(ch.digest);
          expect(hex(chunk.subarray(ch.size - 8).reverse())).toBe(ch.digest);
          at += ch.size;
        }
        expect(at).toBe(bytes.length);
        expect(c.chunks[c.chunks.length - 1]!.digest).toBe(c.digest);
      });

      it('every table digest is the xxhash64 of its ENTRY records (checked with xxh64sum)', () => {
        for (const t of c.tables) {
          const records = t.entries.map(([k, v]) => {
            const rec = Buffer.alloc(9);
            rec[0] = 1;
            rec.writeUInt32LE(k.length / 2, 1);
            rec.writeUInt32LE(v.length / 2, 5);
            return Buffer.concat([rec, Buffer.from(k, 'hex'), Buffer.from(v, 'hex')]);
          });
          expect(xxh64sum(Buffer.concat(records))).toBe(t.digest);
        }
      });
    });
  }

  describe('invalid vectors', () => {
    it('cover every reader error code of spec section 7', () => {
      const codes = new Set(manifest.invalid.map((v) => v.code));
      for (const code of ['BAD_MAGIC', 'UNSUPPORTED_VERSION', 'TRUNCATED', 'CHECKSUM_MISMATCH', 'UNSORTED_KEYS', 'LIMIT_EXCEEDED', 'NON_CANONICAL', 'TRAILING_BYTES', 'CHUNK_SEQUENCE', 'BAD_RECORD', 'TABLE_MISMATCH']) {
        expect(codes.has(code), code).toBe(true);
      }
    });
    for (const v of manifest.invalid) {
      it(`${v.name}: rejected with ${v.code} at offset ${v.offset}, fed whole and byte by byte`, async () => {
        await loadHasher();
        const bytes = new Uint8Array(readFileSync(join(GOLDEN_ROOT, 'v1', v.file)));
        expect(bytes.length).toBe(v.size);
        expect(decodeError(bytes)).toEqual({ code: v.code, offset: v.offset });
        const err = await readSnapshotContent(inPieces(bytes, [1])).then(() => undefined, (e: { code: string; offset: number }) => ({ code: e.code, offset: e.offset }));
        expect(err).toEqual({ code: v.code, offset: v.offset });
      });
    }
  });

  it('this build writes version 1, whose golden folder exists', () => {
    expect(FORMAT_VERSION).toBe(1);
    expect(readdirSync(join(GOLDEN_ROOT, `v${FORMAT_VERSION}`))).toContain('manifest.json');
  });

  describe('the golden generator (scripts/make-golden.mjs) is append-only', () => {
    /** A scratch copy of scripts/ and golden/v1 beside the real dist/, so the generator can be run for real. */
    function scratch(): string {
      const root = mkdtempSync(join(tmpdir(), 'sv-golden-'));
      mkdirSync(join(root, 'scripts'));
      copyFileSync(join(REPO, 'scripts', 'make-golden.mjs'), join(root, 'scripts', 'make-golden.mjs'));
      symlinkSync(join(REPO, 'dist'), join(root, 'dist'));
      cpSync(join(GOLDEN_ROOT, 'v1'), join(root, 'golden', 'v1'), { recursive: true });
      return root;
    }
    function run(root: string, ...args: string[]): { status: number; out: string } {
      const r = spawnSync(process.execPath, [join(root, 'scripts', 'make-golden.mjs'), 'v1', ...args], { encoding: 'utf8' });
      return { status: r.status ?? -1, out: r.stdout + r.stderr };
    }

    it('--check: the committed golden/v1 is exactly what this build generates, nothing pending', () => {
      const r = spawnSync(process.execPath, ['scripts/make-golden.mjs', 'v1', '--check'], { cwd: REPO, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });

    it('a changed pinned byte makes it refuse, write nothing, and ask for a version bump', () => {
      const root = scratch();
      const file = join(root, 'golden', 'v1', 'one-table.snap');
      const bytes = readFileSync(file);
      bytes[100]! ^= 1;
      writeFileSync(file, bytes);
      const before = readdirSync(join(root, 'golden', 'v1')).sort();
      const r = run(root);
      expect(r.status).toBe(1);
      expect(r.out).toContain('one-table.snap');
      expect(r.out).toContain('bump the format version');
      expect(readdirSync(join(root, 'golden', 'v1')).sort()).toEqual(before);
    });

    it('new cases are appended in new files and a new manifest-N.json; existing files are untouched', () => {
      const root = scratch();
      const dir = join(root, 'golden', 'v1');
      const appended = readFileSync(join(dir, 'manifest-2.json'), 'utf8');
      const original = readFileSync(join(dir, 'manifest.json'), 'utf8');
      // Pretend manifest-2.json and its files were never written: the script must append them again.
      for (const e of JSON.parse(appended).cases) rmSync(join(dir, e.file));
      rmSync(join(dir, 'invalid'), { recursive: true });
      rmSync(join(dir, 'manifest-2.json'));
      expect(run(root, '--check').status).toBe(1);
      expect(run(root).status).toBe(0);
      expect(readFileSync(join(dir, 'manifest.json'), 'utf8')).toBe(original);
      const again = JSON.parse(readFileSync(join(dir, 'manifest-2.json'), 'utf8'));
      expect({ cases: again.cases, invalid: again.invalid }).toEqual({ cases: JSON.parse(appended).cases, invalid: JSON.parse(appended).invalid });
      expect(run(root, '--check').status).toBe(0);
      expect(run(root).out).toContain('nothing to append');
    });
  });
});
