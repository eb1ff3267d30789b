/**
 * A chunk set's files (issue 8, item 6): ChunkFiles makes each path when it is read instead of
 * keeping a string per chunk, from one stem when the names are the ones --chunk-files writes and
 * from the set file's bytes otherwise; diff of a file against a chunk set of the same bytes reads
 * the set as plain bytes without a stat per file. Each case checks against an independent answer:
 * the set file's own lines, the single file's digest, or the reader decoding both sides.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSnapshot, type Entry, type SnapshotAnchor } from '../../src/format/index.js';
import { CHUNK_SET_MAGIC, readChunkSet } from '../../src/format/chunk-set.js';
import { verifySnapshot } from '../../src/format/reader.js';
import { fileSink } from '../../src/format/sinks.js';
import { writeSnapshot } from '../../src/format/writer.js';
import { diffSources } from '../../src/report/diff.js';
import { snapshotFileList, snapshotFiles } from '../../src/sources/open.js';
import { openSnapshotFiles } from '../../src/sources/snapshot/index.js';
import { sameSnapshotBytes } from '../../src/sources/snapshot/same-bytes.js';

const root = mkdtempSync(join(tmpdir(), 'sv-chunk-set-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const anchor: SnapshotAnchor = { epoch: 1n, cursor: { index: 0n }, maxChunkBytes: 2048n, tables: [{ id: 0, name: 't' }] };
const entries: Entry[] = Array.from({ length: 400 }, (_, i) => ({ key: Buffer.from(`k${String(i).padStart(6, '0')}`), value: Buffer.alloc(160, i) }));
let digest: bigint;
let single: string;

beforeAll(async () => {
  const enc = await encodeSnapshot(anchor, [entries]);
  digest = enc.summary.digest;
  single = join(root, 'single.snap');
  writeFileSync(single, enc.bytes);
});

let n = 0;
/** A chunk set written by the file sink (as --chunk-files does) at <root>/set<n>/s.snap. */
async function makeSet(): Promise<{ dir: string; base: string }> {
  const dir = join(root, `set${n++}`);
  mkdirSync(dir);
  const base = join(dir, 's.snap');
  await writeSnapshot(fileSink(base, { chunkFiles: true }), anchor, [entries]);
  return { dir, base };
}

/** The names a set file lists, read as text: the independent answer ChunkFiles must give. */
function listedNames(setFile: string): string[] {
  return readFileSync(setFile, 'utf8').split('\n').slice(3, -1);
}

/** Rewrites the set file at `base` to name `names` (basenames, in chunk order). */
function writeSet(base: string, names: readonly string[]): void {
  writeFileSync(base, [CHUNK_SET_MAGIC, `digest ${digest.toString(16).padStart(16, '0')}`, `chunks ${names.length}`, ...names, ''].join('\n'));
}

describe('ChunkFiles: the paths a set names, made when read', () => {
  it('the names --chunk-files writes: each path is the set directory and the listed name; at() counts from the end when negative', async () => {
    const { dir, base } = await makeSet();
    const names = listedNames(base);
    expect(names.length).toBeGreaterThan(16);
    const files = (await readChunkSet(base))!.files;
    expect([...files]).toEqual(names.map((f) => join(dir, f)));
    expect(files.length).toBe(names.length);
    expect([files.at(0), files.at(-1), files.at(names.length), files.at(-names.length - 1)]).toEqual([join(dir, names[0]!), join(dir, names.at(-1)!), undefined, undefined]);
    expect(Array.from({ length: files.length }, (_, i) => files.name(i))).toEqual(names);
    expect((await verifySnapshot(await snapshotFileList(base))).digest).toBe(digest);
    // A copy of the set file under another name names the same chunk files (the stem is the names').
    const copy = join(dir, 'copy.snap');
    copyFileSync(base, copy);
    expect(await snapshotFiles(copy)).toEqual(names.map((f) => join(dir, f)));
    expect((await verifySnapshot(await snapshotFileList(copy))).digest).toBe(digest);
  });

  it('any other names (renamed chunk files, non-ASCII, one index off the pattern) are the set file\'s lines as they are', async () => {
    const { dir, base } = await makeSet();
    const names = listedNames(base);
    const renamed = names.map((f, i) => (i === 3 ? `${f}x` : i % 2 === 0 ? `é-${i}.part` : f));
    names.forEach((f, i) => renameSync(join(dir, f), join(dir, renamed[i]!)));
    writeSet(base, renamed);
    expect(await snapshotFiles(base)).toEqual(renamed.map((f) => join(dir, f)));
    expect((await verifySnapshot(await snapshotFileList(base))).digest).toBe(digest);
    // Only index 3 off the pattern: the other names fit one stem, yet each path is still its own line.
    const offByOne = names.map((f, i) => (i === 3 ? `${f}x` : f));
    names.forEach((f, i) => renameSync(join(dir, renamed[i]!), join(dir, offByOne[i]!)));
    writeSet(base, offByOne);
    expect(await snapshotFiles(base)).toEqual(offByOne.map((f) => join(dir, f)));
    expect((await verifySnapshot(await snapshotFileList(base))).digest).toBe(digest);
  });

  it('a name holding "/" or NUL, or "." or "..", in the first, a middle or the last line is BAD_CHUNK_SET at that line', async () => {
    const { base } = await makeSet();
    const names = listedNames(base);
    for (const index of [0, 7, names.length - 1]) {
      for (const bad of [`../${names[index]}`, `${names[index]}/x`, `a\0${names[index]}`, '.', '..']) {
        const changed = names.map((f, i) => (i === index ? bad : f));
        writeSet(base, changed);
        const text = readFileSync(base);
        const lineStart = text.indexOf(`\n${bad}\n`) + 1;
        await expect(readChunkSet(base)).rejects.toMatchObject({ code: 'BAD_CHUNK_SET', offset: lineStart });
      }
    }
    // The same bytes after the last name are "text follows", not a bad name.
    writeFileSync(base, Buffer.concat([Buffer.from([CHUNK_SET_MAGIC, `digest ${digest.toString(16).padStart(16, '0')}`, `chunks ${names.length}`, ...names, ''].join('\n')), Buffer.from('a/\0\n')]));
    await expect(readChunkSet(base)).rejects.toMatchObject({ code: 'BAD_CHUNK_SET', offset: readFileSync(base).length - 4 });
  });

  it('a count beyond the names the file holds is BAD_CHUNK_SET at the end of the file, for any count up to the limit', async () => {
    const { base } = await makeSet();
    const names = listedNames(base).slice(0, 2);
    for (const count of [3, 4097, 0xffff_ffff]) {
      const text = [CHUNK_SET_MAGIC, `digest ${digest.toString(16).padStart(16, '0')}`, `chunks ${count}`, ...names, ''].join('\n');
      writeFileSync(base, text);
      await expect(readChunkSet(base)).rejects.toMatchObject({ code: 'BAD_CHUNK_SET', offset: Buffer.byteLength(text) });
    }
  });
});

describe('diff of a file and a chunk set of the same bytes: the set is read as plain bytes, no stat per file', () => {
  /** diff of `a` and the set at `b` through snapshot sources, as the CLI opens them. */
  async function diff(a: string, b: string) {
    const sa = await openSnapshotFiles(await snapshotFileList(a));
    const sb = await openSnapshotFiles(await snapshotFileList(b));
    try {
      return await diffSources(sa, sb, { limit: 5 });
    } finally {
      await sa.close();
      await sb.close();
    }
  }

  it('the same bytes: the verified summary, IDENTICAL; chunk files cut at other places still hold the same stream', async () => {
    const { dir, base } = await makeSet();
    const set = await snapshotFileList(base);
    expect((await sameSnapshotBytes([single], set))?.digest).toBe(digest);
    expect((await diff(single, base)).identical).toBe(true);
    // Move the first byte of chunk 2 to the end of chunk 1: the stream, all a reader takes, is unchanged.
    const names = listedNames(base);
    const c1 = readFileSync(join(dir, names[1]!));
    const c2 = readFileSync(join(dir, names[2]!));
    writeFileSync(join(dir, names[1]!), Buffer.concat([c1, c2.subarray(0, 1)]));
    writeFileSync(join(dir, names[2]!), c2.subarray(1));
    expect((await sameSnapshotBytes([single], await snapshotFileList(base)))?.digest).toBe(digest);
    expect((await verifySnapshot(await snapshotFileList(base))).digest).toBe(digest);
  });

  it('a set with bytes after the snapshot, one chunk short, or a chunk cut short: not the same bytes, and diff names the reader\'s error', async () => {
    const { dir, base } = await makeSet();
    const names = listedNames(base);
    writeFileSync(join(dir, 'extra'), 'x');
    writeSet(base, [...names, 'extra']);
    expect(await sameSnapshotBytes([single], await snapshotFileList(base))).toBeUndefined();
    await expect(diff(single, base)).rejects.toMatchObject({ code: 'TRAILING_BYTES', file: join(dir, 'extra') });
    // The bytes of a valid snapshot but one chunk fewer: the snapshot ends early.
    writeSet(base, names.slice(0, -1));
    expect(await sameSnapshotBytes([single], await snapshotFileList(base))).toBeUndefined();
    await expect(diff(single, base)).rejects.toMatchObject({ code: 'TRUNCATED' });
    writeSet(base, names);
    const last = join(dir, names.at(-1)!);
    truncateSync(last, readFileSync(last).length - 1);
    expect(await sameSnapshotBytes([single], await snapshotFileList(base))).toBeUndefined();
    await expect(diff(single, base)).rejects.toMatchObject({ code: 'TRUNCATED', file: last });
  });

  it('a missing chunk file, or one of another snapshot in its place: not the same bytes, and the reader\'s code', async () => {
    const { dir, base } = await makeSet();
    const names = listedNames(base);
    const missing = join(dir, names[4]!);
    const saved = readFileSync(missing);
    rmSync(missing);
    expect(await sameSnapshotBytes([single], await snapshotFileList(base))).toBeUndefined();
    await expect(diff(single, base)).rejects.toMatchObject({ code: 'NOT_FOUND', file: missing });
    // Chunk 4 swapped for chunk 5 (a chunk, but not the one the chain expects).
    writeFileSync(missing, readFileSync(join(dir, names[5]!)));
    expect(await sameSnapshotBytes([single], await snapshotFileList(base))).toBeUndefined();
    await expect(diff(single, base)).rejects.toMatchObject({ code: 'CHUNK_SEQUENCE', file: missing });
    writeFileSync(missing, saved);
    expect((await diff(single, base)).identical).toBe(true);
  });
});
