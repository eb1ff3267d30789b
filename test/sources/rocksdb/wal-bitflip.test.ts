/**
 * The WAL never changes a digest silently. Real WAL files written by RocksDB (Debian's ldb):
 * one of classic records (50 small puts, a value fragmented across 32 KiB blocks, more puts) and one of recyclable records (recycle_log_file_num=1, whose headers carry the log
 * number). Every single-bit flip of every header field of every physical record (checksum,
 * length, type, and log number) must end as CORRUPT_CHECKPOINT naming the file and an offset,
 * or as a reported dropped tail; a replay that succeeds without a report must hold exactly the
 * original entries. The flips run through the library (the WAL replay that feeds the digest,
 * bounded in time); a few run through the real CLI, end to end.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SnapshotError } from '../../../src/format/errors.js';
import { replayWal, type MemTable, type WalRecoveryMode, type WalTailDropped } from '../../../src/sources/rocksdb/wal.js';
import { runCli } from '../../helpers/cli.js';
import { cleanup, HAVE_LDB, LDB, tempDir } from './helpers.js';
import { execFileSync } from 'node:child_process';

const BLOCK = 32768;
const root = tempDir('sv-walflip-');
afterAll(() => cleanup(root));

/** `ldb load` from lines "key ==> value": one Put, so one WAL record, per line; no flush on close. */
function ldbLoad(db: string, lines: string[], create: boolean): void {
  execFileSync(LDB, [`--db=${db}`, ...(create ? ['--create_if_missing'] : []), 'load'], { input: `${lines.join('\n')}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
}

function walOf(db: string): { path: string; number: number } {
  const name = readdirSync(db).filter((n) => n.endsWith('.log')).sort().pop()!;
  return { path: join(db, name), number: Number(name.slice(0, -4)) };
}

/** Header offsets and sizes of every physical record, found by walking blocks (written from log_format.h). */
function physicalRecords(bytes: Uint8Array): { at: number; headerSize: number }[] {
  const out: { at: number; headerSize: number }[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const room = BLOCK - (pos % BLOCK);
    if (room < 7 || bytes[pos + 6] === 0) {
      pos += room; // block trailer
      continue;
    }
    const type = bytes[pos + 6]!;
    const headerSize = type >= 5 && type <= 8 ? 11 : 7;
    if (room < headerSize) {
      pos += room;
      continue;
    }
    out.push({ at: pos, headerSize });
    pos += headerSize + (bytes[pos + 4]! | (bytes[pos + 5]! << 8));
  }
  return out;
}

function fingerprint(tables: Map<number, MemTable>): string {
  const h = createHash('sha256');
  for (const [id, t] of [...tables].sort((a, b) => a[0] - b[0])) {
    h.update(`cf${id}:`);
    for (const e of t.entries) h.update(`${Buffer.from(e.userKey).toString('hex')}/${e.sequence}/${e.type}/${Buffer.from(e.value).toString('hex')};`);
    for (const r of t.rangeTombstones) h.update(`rt${Buffer.from(r.start).toString('hex')}-${Buffer.from(r.end).toString('hex')}@${r.sequence};`);
  }
  return h.digest('hex');
}

async function replay(path: string, number: number, recovery: WalRecoveryMode): Promise<{ fingerprint: string; dropped: WalTailDropped[] }> {
  const dropped: WalTailDropped[] = [];
  const tables = await replayWal([{ path, number }], new Map([[0, 0]]), { recovery, lastWalNumber: number, onTailDropped: (d) => dropped.push(d) });
  return { fingerprint: fingerprint(tables), dropped };
}

const classic = join(root, 'classic');
const recycled = join(root, 'recycled');

beforeAll(() => {
  if (!HAVE_LDB) return;
  const big = (c: string) => c.repeat(40000);
  const lines = [];
  for (let i = 0; i < 50; i++) lines.push(`key${String(i).padStart(3, '0')} ==> value${i}`);
  lines.push(`big ==> ${big('x')}`); // FIRST and LAST fragments, across a block boundary
  for (let i = 50; i < 60; i++) lines.push(`key${String(i).padStart(3, '0')} ==> value${i}`);
  ldbLoad(classic, lines, true);
  // Recyclable records: RocksDB writes them only with recycle_log_file_num > 0, which it keeps
  // only with kSkipAnyCorruptedRecords; ldb opens the database with the OPTIONS file it finds.
  ldbLoad(recycled, ['a ==> 1'], true);
  const options = readdirSync(recycled).filter((n) => n.startsWith('OPTIONS-')).sort().pop()!;
  const text = readFileSync(join(recycled, options), 'utf8');
  writeFileSync(join(recycled, options), text.replace(/recycle_log_file_num=\d+/, 'recycle_log_file_num=1').replace(/wal_recovery_mode=\w+/, 'wal_recovery_mode=kSkipAnyCorruptedRecords'));
  const more = [];
  for (let i = 0; i < 20; i++) more.push(`r${String(i).padStart(3, '0')} ==> value${i}`);
  ldbLoad(recycled, more, false);
}, 60_000);

describe.skipIf(!HAVE_LDB)('WAL header bit flips (real ldb WALs)', () => {
  test.each([
    ['classic records, fragments across blocks', classic, 7],
    ['recyclable records (log number in the header)', recycled, 11],
  ])('%s: every flip errors with file and offset, or is a reported dropped tail; none changes the entries silently', async (_, db, headerSize) => {
    const wal = walOf(db);
    const original = readFileSync(wal.path);
    const records = physicalRecords(original);
    expect(records.length).toBeGreaterThanOrEqual(20);
    expect(records.every((r) => r.headerSize === headerSize)).toBe(true);
    const base = await replay(wal.path, wal.number, 'tolerate-tail');
    expect(base.dropped).toEqual([]);

    const work = join(root, `flip-${wal.number}-${headerSize}`);
    mkdirSync(work, { recursive: true });
    const path = join(work, `${String(wal.number).padStart(6, '0')}.log`);
    const outcomes = { corrupt: 0, reportedTail: 0, unchanged: 0 };
    for (const r of records) {
      for (let bit = 0; bit < r.headerSize * 8; bit++) {
        const bytes = Buffer.from(original);
        bytes[r.at + (bit >> 3)] = bytes[r.at + (bit >> 3)]! ^ (1 << (bit & 7));
        writeFileSync(path, bytes);
        const where = `record at ${r.at}, header bit ${bit}`;
        let result: Awaited<ReturnType<typeof replay>>;
        try {
          result = await replay(path, wal.number, 'tolerate-tail');
        } catch (e) {
          if (!(e instanceof SnapshotError)) throw new Error(`${where}: ${String(e)}`);
          expect([e.code, e.file, typeof e.offset], where).toEqual(['CORRUPT_CHECKPOINT', path, 'number']);
          expect(e.offset!, where).toBeLessThan(bytes.length);
          outcomes.corrupt++;
          continue;
        }
        if (result.dropped.length > 0) {
          expect(result.dropped[0]!.file, where).toBe(path);
          expect(result.dropped[0]!.offset + result.dropped[0]!.bytes, where).toBe(bytes.length);
          // What tolerate-tail reports, absolute refuses.
          const e = await replay(path, wal.number, 'absolute').then(() => undefined, (x: unknown) => x);
          expect(e instanceof SnapshotError && e.code === 'CORRUPT_CHECKPOINT', where).toBe(true);
          outcomes.reportedTail++;
          continue;
        }
        expect(result.fingerprint, `${where}: replay succeeded without a report, so the entries must be unchanged`).toBe(base.fingerprint);
        outcomes.unchanged++;
      }
    }
    if (process.env["SV_PRINT_OUTCOMES"] !== undefined) console.log(JSON.stringify(outcomes));
    // The policy allows a reported tail or unchanged entries; measured, every single-bit flip is
    // caught as corruption (a length overshooting the end of the file whose shorter prefix
    // carries the checksum is damage, not a torn write), which this pins.
    expect(outcomes).toEqual({ corrupt: records.length * headerSize * 8, reportedTail: 0, unchanged: 0 });
  }, 60_000);

  test('end to end: a length flip in record 5 of 61 is exit 3 with the file and offset; a torn tail is exit 0 with a warning, exit 3 with --wal-recovery absolute', async () => {
    const wal = walOf(classic);
    const original = readFileSync(wal.path);
    const records = physicalRecords(original);

    const flipped = join(root, 'cli-flip');
    cpSync(classic, flipped, { recursive: true });
    const bytes = Buffer.from(original);
    bytes[records[4]!.at + 4] = bytes[records[4]!.at + 4]! ^ 0x10; // record 5's length, 16 more or fewer bytes
    writeFileSync(join(flipped, walOf(flipped).path.split('/').pop()!), bytes);
    const bad = await runCli(['digest', flipped, '--tables', 'default', '--epoch', '1']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain(`CORRUPT_CHECKPOINT in ${walOf(flipped).path} at offset ${records[4]!.at} `);

    const torn = join(root, 'cli-torn');
    cpSync(classic, torn, { recursive: true });
    const cut = records[records.length - 1]!.at + 3; // inside the last record's header
    writeFileSync(walOf(torn).path, original.subarray(0, cut + 7));
    const ok = await runCli(['digest', torn, '--tables', 'default', '--epoch', '1', '--json']);
    expect(ok.code).toBe(0);
    const report = JSON.parse(ok.stdout) as { entries: string; warnings?: { code: string; file: string; offset: number; bytes: number }[] };
    expect(report.warnings).toEqual([{ code: 'WAL_TAIL_DROPPED', file: walOf(torn).path, offset: records[records.length - 1]!.at, bytes: 10, message: expect.any(String) }]);
    expect(report.entries).toBe('60'); // 61 puts, the last one dropped
    const text = await runCli(['digest', torn, '--tables', 'default', '--epoch', '1']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/warning WAL_TAIL_DROPPED in .*000\d+\.log at offset \d+/);
    const strict = await runCli(['digest', torn, '--tables', 'default', '--epoch', '1', '--wal-recovery', 'absolute']);
    expect(strict.code).toBe(3);
    expect(strict.stderr).toContain(`CORRUPT_CHECKPOINT in ${walOf(torn).path} at offset ${records[records.length - 1]!.at} `);
  }, 60_000);
});
