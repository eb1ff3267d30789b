/**
 * Is the database live? RocksDB holds a POSIX record lock (fcntl F_SETLK) on `<db>/LOCK` while
 * a process has it open (env/io_posix.cc LockFile). A digest of a live database reads files that
 * compaction may delete or rewrite midway, so it is refused unless asked for explicitly.
 *
 * Linux lists every lock in /proc/locks ("1: POSIX ADVISORY WRITE <pid> <maj>:<min>:<inode> 0 EOF"),
 * so the check reads that file and matches LOCK's device and inode: it takes no lock itself
 * (taking one, even briefly, could make a starting RocksDB fail to open). Where /proc/locks does
 * not exist (not Linux) the check cannot be made and reports nothing; processes in another PID
 * namespace (another container) may be hidden from it.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SnapshotError } from '../../format/errors.js';

/** Where Linux lists the file locks held in the system. */
const PROC_LOCKS = '/proc/locks';

/** A lock on the database's LOCK file held by some process. */
export interface LockHolder {
  /** The LOCK file. */
  readonly file: string;
  /** The holder's process id as /proc/locks shows it (0 when hidden by a PID namespace). */
  readonly pid: number;
  /** POSIX, FLOCK or OFDLCK. */
  readonly kind: string;
}

/** glibc's gnu_dev_major / gnu_dev_minor of a st_dev value. */
function major(dev: bigint): bigint {
  return ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
}
function minor(dev: bigint): bigint {
  return (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
}

/**
 * The lock held on `<dir>/LOCK`, or undefined when there is no LOCK file, no lock on it, or no
 * /proc/locks to ask. `procLocks` is for tests.
 */
export async function findLockHolder(dir: string, procLocks = PROC_LOCKS): Promise<LockHolder | undefined> {
  const file = join(dir, 'LOCK');
  const s = await stat(file, { bigint: true }).catch(() => undefined);
  if (s === undefined || !s.isFile()) return undefined;
  const text = await readFile(procLocks, 'latin1').catch(() => undefined);
  if (text === undefined) return undefined;
  const want = { major: major(s.dev), minor: minor(s.dev), inode: s.ino };
  for (const line of text.split('\n')) {
    // "<id>: [-> ]<kind> <ADVISORY|MANDATORY> <READ|WRITE> <pid> <maj>:<min>:<inode> <start> <end>";
    // "->" marks a process waiting for the lock, not holding it.
    const m = /^\d+:\s+(->\s+)?(\S+)\s+\S+\s+\S+\s+(-?\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
    if (m === null || m[1] !== undefined) continue;
    if (BigInt(`0x${m[4]}`) === want.major && BigInt(`0x${m[5]}`) === want.minor && BigInt(m[6]!) === want.inode) {
      return { file, pid: Number(m[3]), kind: m[2]! };
    }
  }
  return undefined;
}

/** LIVE_DATABASE: what to do instead of digesting a database in use. */
export function liveDatabase(dir: string, holder: LockHolder): SnapshotError {
  const who = holder.pid > 0 ? `process ${holder.pid}` : 'another process';
  return new SnapshotError(
    'LIVE_DATABASE',
    `${dir} is a live database: ${who} holds its LOCK (${holder.kind} lock). Digest a checkpoint taken at the epoch boundary instead (Checkpoint::CreateCheckpoint, or ldb checkpoint --checkpoint_dir=DIR); --allow-live reads it anyway and the report says so`,
    { file: holder.file },
  );
}
