/**
 * Test helpers: builds the fixture generator, makes databases with it, and asks real RocksDB
 * (sst_dump 7.8) what a table holds. The oracle is RocksDB itself, never our own expectations.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const fixtures = resolve(here, '../../../fixtures/rocksdb');

let generator: string | undefined;

/** Path of the built make-fixture binary (runs build.sh once per process). */
export function fixtureGenerator(): string {
  generator ??= execFileSync('sh', [join(fixtures, 'build.sh')], { encoding: 'utf8' }).trim();
  return generator;
}

/** Creates a fresh temp directory; `cleanup()` removes every one made. */
const dirs: string[] = [];
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sv-table-'));
  dirs.push(d);
  return d;
}
export function cleanup(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Runs make-fixture with `args` into a new DB; returns the DB dir and its SST paths. */
export function makeDb(args: readonly string[]): { dir: string; ssts: string[] } {
  const dir = join(tempDir(), 'db');
  execFileSync(fixtureGenerator(), ['--db', dir, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ssts = readdirSync(dir)
    .filter((f) => f.endsWith('.sst'))
    .sort()
    .map((f) => join(dir, f));
  return { dir, ssts };
}

/** One point entry as sst_dump prints it (hex user key and value). */
export interface OracleEntry {
  key: string;
  seq: number;
  type: number;
  value: string;
}

/** `sst_dump --command=scan --output_hex`: every point entry, in file order. */
export function sstDumpScan(file: string): OracleEntry[] {
  const out = execFileSync('sst_dump', [`--file=${file}`, '--command=scan', '--output_hex'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 1 << 30,
  });
  return parseScan(out);
}

/** Parses sst_dump scan output ("'KEYHEX' seq:N, type:T => VALUEHEX" lines). */
export function parseScan(out: string): OracleEntry[] {
  const entries: OracleEntry[] = [];
  for (const line of out.split('\n')) {
    const m = /^'([0-9A-F]*)' seq:(\d+), type:(\d+) => ([0-9A-F]*)$/.exec(line);
    if (m) entries.push({ key: m[1]!, seq: Number(m[2]), type: Number(m[3]), value: m[4]! });
  }
  return entries;
}

/**
 * Range tombstones from `sst_dump --command=raw` (start and end user keys, hex). The raw
 * command writes "<name>_dump.txt" next to the file, so it runs on a copy in a temp dir.
 */
export function sstDumpRangeDeletions(file: string): Array<{ start: string; end: string }> {
  const d = tempDir();
  const copy = join(d, 'copy.sst');
  copyFileSync(file, copy);
  execFileSync('sst_dump', [`--file=${copy}`, '--command=raw', '--output_hex'], { stdio: 'ignore' });
  const text = readFileSync(join(d, 'copy_dump.txt'), 'latin1');
  const section = text.split('Range deletions:')[1]?.split('Data Block #')[0] ?? '';
  const out: Array<{ start: string; end: string }> = [];
  for (const m of section.matchAll(/HEX\s+([0-9A-F]+): ([0-9A-F]+)/g)) out.push({ start: m[1]!, end: m[2]! });
  return out;
}

/** Uppercase hex of bytes, as sst_dump prints. */
export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex').toUpperCase();
}
