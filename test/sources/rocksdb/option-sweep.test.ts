/**
 * Option combinations not chosen by hand: databases generated with a fixed-seed draw of key and
 * value sizes (up to 300-byte keys and 1.5 MB values), codecs, checksums, index types, format
 * versions, restart intervals, block sizes, deletions of every kind, WAL data and range sizes
 * must read exactly as `ldb scan --hex` prints them. The comparison hashes both sides as lines
 * of ldb's output, so that large tables need no large strings.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { openRocksDbCheckpoint } from '../../../src/sources/rocksdb/index.js';
import { cleanup, HAVE_LDB, makeFixture, makeFixtureBinary, tempDir } from './helpers.js';

/** A small deterministic generator, mulberry32 (the draw must be the same on every run). */
function draw(seed: number): <T>(choices: readonly T[]) => T {
  let a = seed >>> 0;
  return (choices) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return choices[Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * choices.length)]!;
  };
}

function optionsFor(seed: number, db: string): { args: string[]; rangeBytes: number } {
  const pick = draw(seed);
  const valueSize = pick([0, 10, 100, 1000, 20_000, 1_500_000]);
  const args = [
    '--db', db, '--seed', String(seed), '--cf', 'a',
    // Large values, fewer keys: every case stays a few MB to a few tens of MB.
    '--keys', String(valueSize > 100_000 ? 40 : valueSize >= 20_000 ? 500 : pick([500, 3000, 12_000])),
    '--key-size', String(pick([8, 16, 32, 64, 300])),
    '--value-size', String(valueSize),
    '--rounds', String(pick([1, 2, 4])),
    '--compact-after', String(pick([0, 1])),
    '--deletes', String(pick([0, 5, 97])),
    '--range-deletes', String(pick([0, 0, 3])),
    '--single-deletes', String(pick([0, 7])),
    '--compression', pick(['none', 'snappy', 'lz4', 'zstd', 'zlib']),
    '--format-version', String(pick([2, 3, 4, 5])),
    '--checksum', pick(['crc32c', 'xxhash', 'xxhash64', 'xxh3']),
    '--index', pick(['binary', 'hash', 'partitioned', 'first-key']),
    '--restart-interval', String(pick([1, 4, 16])),
    '--block-size', String(pick([1024, 4096, 16_384])),
    '--wal-keys', String(pick([0, 20])),
    ...pick([[], ['--hashed-keys']]),
    ...pick([[], [], ['--hash-index']]),
  ];
  return { args, rangeBytes: pick([2048, 65_536, 4 << 20]) };
}

/** sha256 of `ldb scan --hex` for one family, on a copy (ldb opens read-write). */
function ldbScanHash(db: string, cf: string, copy: string): string {
  rmSync(copy, { recursive: true, force: true });
  cpSync(db, copy, { recursive: true });
  return execFileSync('sh', ['-c', `ldb --db='${copy}' --try_load_options=false scan --hex --column_family=${cf} | sha256sum`], {
    encoding: 'utf8',
  }).split(' ')[0]!;
}

async function ourScanHash(db: string, cf: string, rangeBytes: number): Promise<string> {
  const source = await openRocksDbCheckpoint(db, { rangeBytes });
  const h = createHash('sha256');
  try {
    for await (const batch of source.entries(cf)) {
      for (const e of batch) h.update(`0x${Buffer.from(e.key).toString('hex').toUpperCase()} : 0x${Buffer.from(e.value).toString('hex').toUpperCase()}\n`);
    }
  } finally {
    await source.close();
  }
  return h.digest('hex');
}

describe.skipIf(!HAVE_LDB || makeFixtureBinary() === null)('option combinations drawn at random (fixed seeds)', () => {
  test.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i: every family reads as ldb scan', async (seed) => {
    const dir = tempDir();
    try {
      const db = join(dir, 'db');
      const { args, rangeBytes } = optionsFor(seed, db);
      makeFixture(args);
      for (const cf of ['default', 'a']) {
        expect(await ourScanHash(db, cf, rangeBytes), `${cf}: ${args.slice(2).join(' ')}`).toBe(ldbScanHash(db, cf, join(dir, 'copy')));
      }
    } finally {
      cleanup(dir);
    }
  }, 120_000);
});
