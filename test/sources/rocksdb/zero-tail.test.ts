/**
 * A crash can leave the newest WAL's last record with its header and first bytes written and
 * the rest of the file zero: "zero-filled from some offset to its end" (README), a torn tail.
 * Found by the hostile campaign of issue #8 run from outside: zeroing the last bytes of the
 * last record was CORRUPT_CHECKPOINT ("log record checksum mismatch"), as if it were damage,
 * unlike a zero fill that starts at a header. Now dropped and reported under tolerate-tail,
 * refused under absolute and in an older WAL; damage that leaves non-zero bytes at the end is
 * still CORRUPT_CHECKPOINT.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { REPO, runCli } from '../../helpers/cli.js';
import { cleanup, tempDir } from './helpers.js';

const FIXTURE = join(REPO, 'test', 'fixtures', 'rocksdb', 'checkpoints', 'wal-only');
const WAL = '000004.log';
const root = tempDir('sv-zero-tail-');
afterAll(() => cleanup(root));
let n = 0;

/** The offset of the last physical record of a log file (walking its 32 KiB blocks). */
function lastRecord(b: Uint8Array): number {
  let pos = 0;
  let last = 0;
  while (pos < b.length) {
    const room = 32768 - (pos % 32768);
    if (room < 7 || b[pos + 6] === 0) {
      pos += room;
      continue;
    }
    last = pos;
    pos += 7 + (b[pos + 4]! | (b[pos + 5]! << 8));
  }
  return last;
}

/** A copy of the fixture whose WAL is changed by `edit`. */
function damaged(edit: (b: Uint8Array) => void): string {
  const dir = join(root, String(n++), 'checkpoint_epoch_1');
  mkdirSync(join(dir, '..'));
  cpSync(FIXTURE, dir, { recursive: true });
  const b = new Uint8Array(readFileSync(join(dir, WAL)));
  edit(b);
  writeFileSync(join(dir, WAL), b);
  return dir;
}

describe('the last WAL record zero-filled from inside its payload to the end of the file', () => {
  const original = new Uint8Array(readFileSync(join(FIXTURE, WAL)));
  const at = lastRecord(original);

  test.each([1, 7, 20])('last %i bytes zero: dropped and reported (tolerate-tail), refused (absolute)', async (k) => {
    const dir = damaged((b) => b.fill(0, b.length - k));
    const text = await runCli(['digest', dir, '--tables', 'default,second']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`warning WAL_TAIL_DROPPED in ${join(dir, WAL)} at offset ${at}:`);
    const json = JSON.parse((await runCli(['digest', dir, '--tables', 'default,second', '--json'])).stdout);
    expect(json.warnings).toEqual([expect.objectContaining({ code: 'WAL_TAIL_DROPPED', file: join(dir, WAL), offset: at, bytes: original.length - at })]);
    const strict = await runCli(['digest', dir, '--tables', 'default,second', '--wal-recovery', 'absolute']);
    expect(strict.code).toBe(3);
    expect(strict.stderr).toContain(`CORRUPT_CHECKPOINT in ${join(dir, WAL)} at offset ${at} `);
  }, 60_000);

  test('a flipped bit in the last record with non-zero bytes at the end stays CORRUPT_CHECKPOINT', async () => {
    expect(original[original.length - 1]).not.toBe(0);
    const dir = damaged((b) => {
      b[at + 12]! ^= 0x10;
    });
    const r = await runCli(['digest', dir, '--tables', 'default,second']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`CORRUPT_CHECKPOINT in ${join(dir, WAL)} at offset ${at} (0x${at.toString(16)}): log record checksum mismatch`);
  }, 60_000);
});
