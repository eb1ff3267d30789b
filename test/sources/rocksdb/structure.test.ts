/**
 * The whole checkpoint is checked structurally even when only some tables are selected: every
 * live table file of every column family exists, is a regular file of the size the MANIFEST
 * records, and has a table footer; a missing MANIFEST is damage too. `verify <checkpoint-dir>`
 * reads every block of every table file of every family, and every WAL record. On copies of the
 * committed ldb-made checkpoint (families default and meta).
 */
import { cpSync, existsSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openCheckpoint } from '../../../src/sources/open.js';
import { readManifest } from '../../../src/sources/rocksdb/manifest.js';
import { tableFileName, verifyRocksDbCheckpoint } from '../../../src/sources/rocksdb/structure.js';
import { runCli } from '../../helpers/cli.js';
import { cleanup, FIXTURES, readTable, snapshotErrorOf, tempDir } from './helpers.js';

const root = tempDir('sv-structure-');
afterAll(() => cleanup(root));
let n = 0;
const CHECKPOINT = join(FIXTURES, 'checkpoints', 'ldb-three-families');
const MERGE_OPERANDS = join(FIXTURES, 'checkpoints', 'merge-operands');

function copy(from = CHECKPOINT): string {
  const dir = join(root, `cp${n++}`);
  cpSync(from, dir, { recursive: true });
  return dir;
}

/** A table file of column family `family` (which the digests below do not select). */
let metaFile: string;
beforeAll(async () => {
  const version = await readManifest(CHECKPOINT);
  const meta = version.columnFamilies.find((cf) => cf.name === 'meta')!;
  const f = [...meta.level0, ...meta.levels.flat()][0]!;
  metaFile = tableFileName(f.number);
});

describe('damage to a table file of an unselected family is CORRUPT_CHECKPOINT', () => {
  test.each([
    ['deleted', (p: string) => rmSync(p), 'missing'],
    ['zeroed (same size)', (p: string) => writeFileSync(p, Buffer.alloc(readFileSync(p).length)), 'bad table magic'],
    ['truncated by one byte', (p: string) => truncateSync(p, readFileSync(p).length - 1), 'the MANIFEST records'],
    ['grown by one byte', (p: string) => writeFileSync(p, Buffer.concat([readFileSync(p), Buffer.of(0)])), 'the MANIFEST records'],
  ])('%s', async (_, damage, words) => {
    const dir = copy();
    const path = join(dir, metaFile);
    expect(await readTable(dir, 'default')).toHaveLength(4); // the intact copy reads
    damage(path);
    const e = await snapshotErrorOf(() => openCheckpoint([dir]));
    expect([e.code, e.file]).toEqual(['CORRUPT_CHECKPOINT', path]);
    expect(e.message).toContain(words);
  });

  test('the CLI: digest --tables default exits 3 naming the deleted table file of family meta', async () => {
    const dir = copy();
    rmSync(join(dir, metaFile));
    const r = await runCli(['digest', dir, '--tables', 'default', '--epoch', '1']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`CORRUPT_CHECKPOINT in ${join(dir, metaFile)}`);
  }, 30_000);

  test('a MANIFEST named by CURRENT but missing is CORRUPT_CHECKPOINT, exit 3', async () => {
    const dir = copy();
    rmSync(join(dir, 'MANIFEST-000054'));
    const e = await snapshotErrorOf(() => openCheckpoint([dir]));
    expect([e.code, e.file]).toEqual(['CORRUPT_CHECKPOINT', join(dir, 'CURRENT')]);
    const r = await runCli(['digest', dir, '--tables', 'default', '--epoch', '1']);
    expect(r.code).toBe(3);
  }, 30_000);
});

describe('verify <checkpoint-dir>: every block of every table file, every WAL record', () => {
  test('an intact checkpoint verifies, all families counted', async () => {
    const v = await verifyRocksDbCheckpoint(CHECKPOINT);
    const version = await readManifest(CHECKPOINT);
    const files = version.columnFamilies.flatMap((cf) => [...cf.level0, ...cf.levels.flat()]);
    expect(v).toMatchObject({ columnFamilies: 2, tableFiles: files.length, walFiles: 1, warnings: [], live: false });
    const r = await runCli(['verify', CHECKPOINT, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, results: [{ input: CHECKPOINT, ok: true, checkpoint: { columnFamilies: 2, tableFiles: files.length } }] });
  }, 30_000);

  test('a flipped data-block byte in an unselected family: the cheap check passes it, verify names it', async () => {
    const dir = copy();
    const path = join(dir, metaFile);
    const bytes = readFileSync(path);
    bytes[10] = bytes[10]! ^ 0x01; // inside the first data block
    writeFileSync(path, bytes);
    expect(await readTable(dir, 'default')).toHaveLength(4);
    const e = await snapshotErrorOf(() => verifyRocksDbCheckpoint(dir));
    expect([e.code, e.file]).toEqual(['CORRUPT_CHECKPOINT', path]);
    const r = await runCli(['verify', dir]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`FAIL ${dir}  CORRUPT_CHECKPOINT`);
  }, 30_000);

  test('families digest refuses (merge operands) are still verified block by block', async () => {
    const v = await verifyRocksDbCheckpoint(MERGE_OPERANDS);
    expect(v.tableFiles).toBeGreaterThan(0);
    expect(v.tableEntries).toBeGreaterThan(0);
  });

  test('a torn WAL tail verifies with a warning; --wal-recovery absolute refuses it', async () => {
    const dir = copy();
    const wal = join(dir, '000053.log');
    writeFileSync(wal, Buffer.concat([readFileSync(wal), Buffer.alloc(20)])); // zero-filled to the end
    const v = await verifyRocksDbCheckpoint(dir);
    expect(v.warnings.map((w) => [w.code, w.file, w.bytes])).toEqual([['WAL_TAIL_DROPPED', wal, 20]]);
    const text = await runCli(['verify', dir]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`warning WAL_TAIL_DROPPED in ${wal}`);
    const strict = await runCli(['verify', dir, '--wal-recovery', 'absolute']);
    expect(strict.code).toBe(3);
  }, 30_000);
});

describe('a MANIFEST cut at a record boundary (found by the fuzz campaign)', () => {
  // Such a MANIFEST reads as a sound older version, without the edits that added the newest table
  // files; the files themselves are still in the checkpoint. It gave exit 0 with another digest.
  test('every cut at a record boundary is CORRUPT_CHECKPOINT (naming a table file the cut MANIFEST no longer lists, one it still lists that a later compaction removed, or the MANIFEST itself when too little of it is left), or reads the undamaged entries', async () => {
    const levels = join(FIXTURES, 'checkpoints', 'levels');
    const manifest = (await readManifest(levels)).manifestPath.slice(levels.length + 1);
    const bytes = readFileSync(join(levels, manifest));
    const undamaged = await readTable(levels, 'default');
    const boundaries: number[] = [];
    for (let p = 0; p + 7 <= bytes.length; p += 7 + bytes.readUInt16LE(p + 4)) boundaries.push(p); // log records, none fragmented here
    expect(boundaries.length).toBeGreaterThan(8);
    const outcomes = { unlisted: 0, compacted: 0, manifest: 0, same: 0 };
    for (const cut of boundaries.slice(1)) {
      const dir = copy(levels);
      writeFileSync(join(dir, manifest), bytes.subarray(0, cut));
      const read = await readTable(dir, 'default').catch((e: unknown) => e);
      if (Array.isArray(read)) {
        expect(read, `cut at ${cut}`).toEqual(undamaged);
        outcomes.same++;
      } else {
        expect(read, `cut at ${cut}`).toMatchObject({ code: 'CORRUPT_CHECKPOINT' });
        const { file, message } = read as { file: string; message: string };
        if (file.endsWith('.sst')) {
          const number = Number(/(\d+)\.sst$/.exec(file)![1]);
          const inWhole = (await readManifest(levels)).columnFamilies.some((cf) => [...cf.level0, ...cf.levels.flat()].some((f) => f.number === number));
          if (/is missing from the checkpoint/.test(message)) {
            // Live in the cut version, compacted away later: the checkpoint does not hold it.
            expect([inWhole, existsSync(file)], `cut at ${cut}: ${message}`).toEqual([false, false]);
            outcomes.compacted++;
          } else {
            // Live in the whole version, in the directory, not listed by the cut MANIFEST.
            expect([inWhole, existsSync(file), message], `cut at ${cut}`).toEqual([true, true, expect.stringMatching(/not in the live version the MANIFEST describes/)]);
            outcomes.unlisted++;
          }
        } else {
          expect(file, `cut at ${cut}: ${message}`).toBe(join(dir, manifest));
          outcomes.manifest++;
        }
      }
    }
    expect(outcomes.unlisted).toBeGreaterThan(0);
    // The same from the CLI, at the cut the campaign found (the last two edits dropped).
    const dir = copy(levels);
    writeFileSync(join(dir, manifest), bytes.subarray(0, boundaries.at(-2)!));
    const r = await runCli(['digest', dir, '--tables', 'default']);
    expect([r.code, r.stderr]).toEqual([3, expect.stringMatching(/^snapshot-verify: CORRUPT_CHECKPOINT in .*\.sst at offset 0 .*not in the live version the MANIFEST describes/)]);
  });

});
