/**
 * The reader takes a list of files as one byte stream, pulled a piece at a time (reader.ts,
 * FilePieces): verifySnapshot loops over it without a generator, readSnapshot goes through the
 * async generator around it. Both must accept and reject exactly what the decoder does on the
 * whole bytes in memory (the independent answer), however the bytes are split into files, report
 * an error's file and offset within it, report damage in the bytes before a missing file first,
 * and leave no file open.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeError, encodeSnapshot, SnapshotDecoder, type Entry, type SnapshotAnchor } from '../../src/format/index.js';
import { readSnapshot, verifySnapshot } from '../../src/format/reader.js';
import { SnapshotError } from '../../src/format/errors.js';

const root = mkdtempSync(join(tmpdir(), 'sv-file-pieces-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const anchor: SnapshotAnchor = { epoch: 3n, cursor: { index: 7n }, maxChunkBytes: 0n, tables: [{ id: 0, name: 't' }, { id: 1, name: 'u' }] };
let small: Uint8Array; // a few KiB: files smaller than a read
let large: Uint8Array; // ~420 KiB: several 128 KiB reads, records across them

function entries(n: number, valueBytes: number, salt: number): Entry[] {
  return Array.from({ length: n }, (_, i) => ({ key: Buffer.from(`key-${String(i).padStart(7, '0')}`), value: Buffer.alloc(valueBytes, (i * 31 + salt) & 0xff) }));
}

beforeAll(async () => {
  small = (await encodeSnapshot(anchor, [entries(40, 50, 1), entries(30, 20, 2)])).bytes;
  large = (await encodeSnapshot(anchor, [entries(3000, 100, 3), entries(500, 90, 4)])).bytes;
});

let n = 0;
/** `bytes` written as files cut at `cuts` (sorted, within the bytes; repeats make empty files). */
function writeFiles(bytes: Uint8Array, cuts: number[]): { files: string[]; starts: number[] } {
  const dir = join(root, `case${n++}`);
  rmSync(dir, { recursive: true, force: true });
  const bounds = [0, ...cuts, bytes.length];
  const files: string[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const file = join(`${dir}-${String(i).padStart(3, '0')}.part`);
    writeFileSync(file, bytes.subarray(bounds[i]!, bounds[i + 1]!));
    files.push(file);
  }
  return { files, starts: bounds.slice(0, -1) };
}

/** The decoder's verdict on the whole bytes in memory: the summary, or the error's code and stream offset. */
function inMemory(bytes: Uint8Array): { digest?: bigint; entries?: bigint; code?: string; offset?: number } {
  const e = decodeError(bytes);
  if (e !== undefined) return { code: e.code, offset: e.offset };
  const d = new SnapshotDecoder();
  d.push(bytes);
  const s = d.end();
  return { digest: s.digest, entries: s.entries };
}

/** Where a stream offset lies: the last file starting at or before it (an offset at a file's end stays in it). */
function located(offset: number, files: string[], starts: number[], total: number): { file: string; offset: number } {
  let i = 0;
  for (let j = 0; j < starts.length; j++) if (starts[j]! <= Math.min(offset, total)) i = j;
  // Empty files end where they start: an error belongs to the first file reaching that offset.
  return { file: files[i]!, offset: offset - starts[i]! };
}

async function viaVerify(files: string[]): Promise<unknown> {
  try {
    const s = await verifySnapshot(files);
    return { digest: s.digest, entries: s.entries };
  } catch (e) {
    if (!(e instanceof SnapshotError)) throw e;
    return { code: e.code, file: e.file, offset: e.offset };
  }
}

async function viaGenerator(files: string[]): Promise<unknown> {
  try {
    for await (const ev of readSnapshot(files)) if (ev.kind === 'end') return { digest: ev.summary.digest, entries: ev.summary.entries };
    throw new Error('no end event');
  } catch (e) {
    if (!(e instanceof SnapshotError)) throw e;
    return { code: e.code, file: e.file, offset: e.offset };
  }
}

const openFiles = (): number => readdirSync('/proc/self/fd').length;

describe('a list of files is read as one stream, pulled a piece at a time', () => {
  it('any split into files (empty ones too), with or without a flipped byte: verify and the generator give what the decoder gives on the whole bytes, at the file and offset within it', async () => {
    const fdsBefore = openFiles();
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.option(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { nil: undefined }),
        async (isLarge, cutSeeds, flip) => {
          const bytes = (isLarge ? large : small).slice();
          if (flip !== undefined) bytes[flip[0] % bytes.length]! ^= flip[1];
          const cuts = cutSeeds.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
          const { files, starts } = writeFiles(bytes, cuts);
          const expected = inMemory(bytes);
          const want = expected.code === undefined ? expected : { code: expected.code, ...located(expected.offset!, files, starts, bytes.length) };
          expect(await viaVerify(files)).toEqual(want);
          expect(await viaGenerator(files)).toEqual(want);
          for (const f of files) rmSync(f);
        },
      ),
      { numRuns: 60 },
    );
    expect(openFiles()).toBe(fdsBefore);
  });

  it('a missing file fails with NOT_FOUND and its path, after the bytes before it: damage in those is reported first; no file stays open', async () => {
    const fdsBefore = openFiles();
    const cut = [100_000, 200_000, 300_000]; // the third file is removed: 200 KB read before it
    const { files } = writeFiles(large, cut);
    rmSync(files[2]!);
    expect(await viaVerify(files)).toMatchObject({ code: 'NOT_FOUND', file: files[2] });
    expect(await viaGenerator(files)).toMatchObject({ code: 'NOT_FOUND', file: files[2] });

    const damaged = large.slice();
    damaged[Buffer.from(damaged).indexOf('key-0001150')] = 0x61; // that key now sorts first: in the second file, before the missing one
    const expected = inMemory(damaged);
    expect(expected.code).toBe('UNSORTED_KEYS');
    expect(expected.offset!).toBeGreaterThan(100_000);
    expect(expected.offset!).toBeLessThan(200_000);
    const second = writeFiles(damaged, cut);
    rmSync(second.files[2]!);
    const want = { code: expected.code, ...located(expected.offset!, second.files, second.starts, damaged.length) };
    expect(await viaVerify(second.files)).toEqual(want);
    expect(await viaGenerator(second.files)).toEqual(want);
    expect(openFiles()).toBe(fdsBefore);
  });
});
