/**
 * Never block on a special file: a FIFO, a socket or a device anywhere the tool opens or lists
 * (CURRENT, MANIFEST, table files, WALs referenced or not, OPTIONS, dump `.hex` files, snapshot
 * and chunk files, reports) is refused as "not a regular file" naming its path, without being
 * opened for reading. Each case runs under a deadline: a hang fails the test (and the FIFO is
 * then opened for writing, which releases the blocked reader).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, cpSync, mkdirSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SnapshotError } from '../../src/format/errors.js';
import { openRegularFile } from '../../src/format/regular-file.js';
import { writeSnapshot } from '../../src/format/writer.js';
import { fileSink } from '../../src/format/sinks.js';
import { verifySnapshot } from '../../src/format/reader.js';
import { openCheckpoint, snapshotFiles } from '../../src/sources/open.js';
import { ReadOnlyFile } from '../../src/sources/rocksdb/file-io.js';
import { readLogRecords } from '../../src/sources/rocksdb/log-reader.js';
import { TableReader } from '../../src/sources/rocksdb/table/index.js';
import { listWalFiles } from '../../src/sources/rocksdb/wal.js';
import { runCli } from '../helpers/cli.js';
import { cleanup, FIXTURES, tempDir } from './rocksdb/helpers.js';

const root = tempDir('sv-special-');
const fifos: string[] = [];
const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  cleanup(root);
});
let n = 0;

const CHECKPOINT = join(FIXTURES, 'checkpoints', 'ldb-three-families');
const DEADLINE_MS = 5000;

function mkfifo(path: string): void {
  rmSync(path, { force: true });
  execFileSync('mkfifo', [path]);
  fifos.push(path);
}

async function mksocket(path: string): Promise<void> {
  rmSync(path, { force: true });
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(path, resolve));
}

function mkdevice(path: string): void {
  rmSync(path, { force: true });
  symlinkSync('/dev/null', path);
}

/** Opening each FIFO for writing releases a reader blocked on it (after a hang). */
function releaseFifos(): void {
  for (const f of fifos) {
    try {
      closeSync(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // no reader waiting
    }
  }
}

/** The SnapshotError `fn` rejects with, within the deadline; a hang or success fails the test. */
async function refusal(fn: () => Promise<unknown>): Promise<SnapshotError> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), DEADLINE_MS)));
  try {
    const r = await Promise.race([fn().then(() => 'ok' as const, (e: unknown) => e), deadline]);
    if (r === 'hang') {
      releaseFifos();
      throw new Error(`no answer within ${DEADLINE_MS} ms: blocked on a special file`);
    }
    if (r === 'ok') throw new Error('expected a refusal, but it succeeded');
    if (!(r instanceof SnapshotError)) throw r;
    return r;
  } finally {
    clearTimeout(timer);
  }
}

/** Opens a checkpoint and reads one table to its end: what `digest --tables <table>` does. */
async function digestTable(dir: string, table = 'default'): Promise<void> {
  const source = await openCheckpoint([dir]);
  try {
    for await (const _ of source.entries(table)) {
      // drain
    }
  } finally {
    await source.close();
  }
}

function checkpointCopy(): string {
  const dir = join(root, `cp${n++}`);
  cpSync(CHECKPOINT, dir, { recursive: true });
  return dir;
}

const KINDS = [
  ['a FIFO', (p: string) => Promise.resolve(mkfifo(p))],
  ['a socket', mksocket],
  ['a device (symlink to /dev/null)', (p: string) => Promise.resolve(mkdevice(p))],
] as const;

describe('special files in a RocksDB checkpoint are CORRUPT_CHECKPOINT "not a regular file", never opened', () => {
  const PLACES = ['CURRENT', 'MANIFEST-000054', '000042.sst', '000053.log', '000999.log', 'OPTIONS-000099'];
  for (const [kind, make] of KINDS) {
    test.each(PLACES)(`${kind} as %s`, async (name) => {
      const dir = checkpointCopy();
      const path = join(dir, name);
      await make(path);
      const e = await refusal(() => digestTable(dir));
      expect([e.code, e.file]).toEqual(['CORRUPT_CHECKPOINT', path]);
      expect(e.message).toContain('not a regular file');
    });
  }

  test('the CLI: digest and verify of a checkpoint with a FIFO as its WAL exit 3 naming it, promptly', async () => {
    const dir = checkpointCopy();
    const wal = join(dir, '000053.log');
    mkfifo(wal);
    for (const args of [['digest', dir, '--tables', 'default', '--epoch', '1'], ['verify', dir]]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stderr).toContain(`CORRUPT_CHECKPOINT in ${wal}`);
      expect(r.stderr).toContain('not a regular file');
    }
  }, 30_000);
});

describe('every opener refuses a FIFO by itself (not only behind the directory check)', () => {
  test.each([
    ['ReadOnlyFile.open (CURRENT, MANIFEST, WAL)', (p: string) => ReadOnlyFile.open(p), 'CORRUPT_CHECKPOINT'],
    ['readLogRecords', async (p: string) => {
      for await (const _ of readLogRecords(p, { logNumber: 1, maxRecordBytes: 1024, tail: 'error' })) {
        // drain
      }
    }, 'CORRUPT_CHECKPOINT'],
    ['TableReader.open', (p: string) => TableReader.open(p), 'NOT_REGULAR_FILE'],
    ['verifySnapshot', (p: string) => verifySnapshot(p), 'NOT_REGULAR_FILE'],
    ['listWalFiles (a FIFO named 000999.log)', (p: string) => listWalFiles(p.slice(0, p.lastIndexOf('/'))), 'CORRUPT_CHECKPOINT'],
  ] as const)('%s', async (_, open, code) => {
    const dir = join(root, `opener${n++}`);
    mkdirSync(dir);
    const path = join(dir, '000999.log');
    mkfifo(path);
    const e = await refusal(() => open(path));
    expect([e.code, e.file]).toEqual([code, path]);
  });
});

describe('special files given or found as snapshots, chunks, dumps and reports are NOT_REGULAR_FILE', () => {
  test.each(KINDS)('%s given as a snapshot file', async (_, make) => {
    const path = join(root, `snap${n++}`);
    await make(path);
    const e = await refusal(() => openCheckpoint([path]));
    expect([e.code, e.file]).toEqual(['NOT_REGULAR_FILE', path]);
    const direct = await refusal(() => openRegularFile(path));
    expect([direct.code, direct.file]).toEqual(['NOT_REGULAR_FILE', path]);
  });

  test('a FIFO in place of chunk 1 of a chunk-file set is refused, not taken for the end of the set', async () => {
    const base = join(root, `chunked${n++}`);
    const entries = Array.from({ length: 200 }, (_, i) => ({ key: Buffer.from(`k${String(i).padStart(4, '0')}`), value: Buffer.alloc(40, i) }));
    await writeSnapshot(fileSink(base, { chunkFiles: true }), { epoch: 1n, cursor: { index: 0n }, maxChunkBytes: 2048n, tables: [{ id: 0, name: 't' }] }, [entries]);
    // The chunk-set file at `base` names the chunks (spec section 12): its second one becomes a FIFO.
    const chunk1 = (await snapshotFiles(base))[1]!;
    expect(chunk1).toMatch(/\.[0-9a-f]{16}\.000001$/);
    rmSync(chunk1);
    mkfifo(chunk1);
    const e = await refusal(() => openCheckpoint([base]));
    expect([e.code, e.file]).toEqual(['NOT_REGULAR_FILE', chunk1]);
  });

  test('a FIFO named like a dump table is refused when the dump directory is opened', async () => {
    const dir = join(root, `dump${n++}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.hex'), '0x61 : 0x31\n');
    mkfifo(join(dir, 'b.hex'));
    const e = await refusal(() => digestTable(dir, 'a'));
    expect([e.code, e.file]).toEqual(['NOT_REGULAR_FILE', join(dir, 'b.hex')]);
  });

  test('the CLI: verify and digest of a FIFO or /dev/null say "not a regular file", not "does not exist"', async () => {
    const fifo = join(root, `cli-fifo${n++}`);
    mkfifo(fifo);
    for (const path of [fifo, '/dev/null']) {
      for (const args of [['verify', path], ['digest', path]]) {
        const r = await runCli(args);
        expect(r.code, args.join(' ')).toBe(3);
        expect(r.stderr).toContain(`NOT_REGULAR_FILE in ${path}`);
        expect(r.stderr).toContain('not a regular file');
      }
    }
  }, 30_000);

  test('the CLI: compare refuses a FIFO report without waiting on it', async () => {
    const fifo = join(root, `report${n++}.json`);
    mkfifo(fifo);
    const r = await runCli(['compare', fifo]);
    expect(r.stderr).toContain('not a regular file');
    expect(r.code).not.toBe(0);
  }, 30_000);
});
