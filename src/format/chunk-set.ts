import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { formatDigest, parseDigest } from './digest.js';
import { SnapshotError } from './errors.js';
import type { FileList } from './file-list.js';

/**
 * A chunk set on disk (spec/FORMAT.md, "Files on disk"): `--out P --chunk-files` writes the
 * chunks as `P.<digest of chunk 0>.000000`, `P.<digest of chunk 1>.000001`, … (the last one's
 * digest is the snapshot digest) and then, last, the small text file `P` naming them. Replacing
 * `P` (one rename) is the commit: a reader that starts from `P` sees the complete old set or the
 * complete new one, never a mix, and never a stale chunk. Sets of earlier versions, with the
 * snapshot digest in every name, read the same way: `P` names its files.
 */

/** The first line of a chunk-set file; a snapshot file starts with a non-ASCII byte instead. */
export const CHUNK_SET_MAGIC = 'snapshot-verify chunk set 1';

/** The most chunks a set may name (the chunk index is a u32). */
const MAX_SET_CHUNKS = 0xffff_ffff;
/** A chunk-set file larger than this is not one (it names each chunk on a line of ~40 bytes). */
const MAX_SET_FILE_BYTES = 256 << 20;

/**
 * The name of chunk `index` whose chunk digest (its trailer, spec 5.2) is `digest`:
 * `<path>.<digest>.000007`. The digest covers the chunk and every chunk before it, so one name
 * is one content (up to a hash collision; the writer compares bytes before keeping a file).
 */
export function chunkSetFileName(path: string, digest: bigint, index: number): string {
  return `${path}.${formatDigest(digest)}.${chunkIndexDigits(index)}`;
}

/** Matches the names of chunk-set files of `base` (any digest): for removing sets no longer named. */
export function chunkSetFilePattern(base: string): RegExp {
  return new RegExp(`^${escapeRegExp(base)}\\.[0-9a-f]{16}\\.\\d{6,}$`);
}

/** The text of a chunk-set file naming `files` (basenames, in chunk order). */
export function encodeChunkSet(digest: bigint, files: readonly string[]): string {
  return [CHUNK_SET_MAGIC, `digest ${formatDigest(digest)}`, `chunks ${files.length}`, ...files.map((f) => basename(f)), ''].join('\n');
}

/** A parsed chunk-set file: the snapshot digest it records and its chunk files (full paths). */
export interface ChunkSet {
  readonly digest: bigint;
  readonly files: ChunkFiles;
}

/**
 * The chunk files a set names, in order, as full paths made when asked for. Nothing is kept per
 * chunk when the names are the ones `--chunk-files` writes (one stem and the index in 6 digits
 * or more, `p.snap.<digest>.000007`), else the offset of each name in the set file's bytes (4
 * bytes a chunk). At 4 KiB a chunk, a string per chunk file (30,000 per million entries) cost
 * 8 MB of peak memory and 50-100 ms. Iterating makes each path once; `at` makes it on each call.
 */
export class ChunkFiles implements FileList {
  readonly length: number;
  /** The set file's directory as paths begin with: '' or ending with '/'. */
  readonly directory: string;
  /** Names are this stem and the index (chunkIndexDigits), or undefined: they are in #bytes. */
  readonly #stem: string | undefined;
  readonly #bytes: Buffer;
  /** Name i is bytes[#starts[i], #starts[i + 1] - 1): the lines of the names, newlines between. */
  readonly #starts: Uint32Array;

  /** @internal Made by parseChunkSet from names it validated. */
  constructor(directory: string, count: number, names: { readonly stem: string } | { readonly bytes: Buffer; readonly starts: Uint32Array }) {
    this.directory = directory;
    this.length = count;
    const bytes = 'stem' in names ? undefined : names;
    this.#stem = 'stem' in names ? names.stem : undefined;
    this.#bytes = bytes?.bytes ?? Buffer.alloc(0);
    this.#starts = bytes?.starts ?? new Uint32Array(0);
  }

  /** The basename of chunk file `index` (0 <= index < length) as the set names it. */
  name(index: number): string {
    if (this.#stem !== undefined) return this.#stem + chunkIndexDigits(index);
    return this.#bytes.toString('utf8', this.#starts[index]!, this.#starts[index + 1]! - 1);
  }

  /** True when chunk file `index` is `directory + name`: for matching a listing, no path made. */
  isName(index: number, name: string): boolean {
    const stem = this.#stem;
    if (stem === undefined) return index >= 0 && index < this.length && this.name(index) === name;
    return index >= 0 && index < this.length && name.length === stem.length + indexDigitCount(index) && name.startsWith(stem) && endsWithIndex(name, name.length, index, stem.length);
  }

  at(index: number): string | undefined {
    const i = index < 0 ? index + this.length : index;
    return i >= 0 && i < this.length ? this.directory + this.name(i) : undefined;
  }

  *[Symbol.iterator](): IterableIterator<string> {
    for (let i = 0; i < this.length; i++) yield this.directory + this.name(i);
  }
}

/** A chunk's index as chunk file names end: 6 digits or more, zero-padded. */
/** A chunk index in a file name: at least six decimal digits. */
export function chunkIndexDigits(index: number): string {
  return String(index).padStart(6, '0');
}

/**
 * Reads `path` as a chunk-set file: undefined when it does not start with CHUNK_SET_MAGIC (a
 * snapshot file, say). Opened non-blocking and checked to be a regular file, so a FIFO put in
 * its place never blocks. Names are basenames resolved beside `path`; a malformed set is
 * BAD_CHUNK_SET with the offset of the bad line.
 */
export async function readChunkSet(path: string): Promise<ChunkSet | undefined> {
  let bytes: Buffer;
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch((e: unknown) => {
    throw new SnapshotError('IO_ERROR', `cannot read ${path}: ${(e as Error).message}`, { file: path, cause: e });
  });
  try {
    const s = await handle.stat();
    if (!s.isFile()) throw new SnapshotError('NOT_FOUND', `${path} is not a regular file`, { file: path });
    const head = Buffer.alloc(CHUNK_SET_MAGIC.length + 1);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    if (bytesRead < head.length || head.toString('latin1') !== `${CHUNK_SET_MAGIC}\n`) return undefined;
    if (s.size > MAX_SET_FILE_BYTES) throw new SnapshotError('BAD_CHUNK_SET', `${s.size} bytes is too large for a chunk-set file`, { file: path, offset: 0 });
    bytes = await handle.readFile();
  } finally {
    await handle.close();
  }
  return parseChunkSet(path, bytes);
}

/**
 * Parses the file's bytes line by line (each line ends with a newline), checking each chunk's
 * name where it lies: no string is made per line (ChunkFiles makes paths when they are read).
 */
function parseChunkSet(path: string, bytes: Buffer): ChunkSet {
  const NL = 0x0a;
  let line = 0; // lines read
  let at = 0; // offset of the next line
  let lineStart = 0; // offset of the line last read
  let lineEnd = 0;
  const bad = (why: string, badLine: number, offset: number): never => {
    throw new SnapshotError('BAD_CHUNK_SET', `chunk-set file, line ${badLine + 1}: ${why}`, { file: path, offset });
  };
  const next = (): void => {
    const nl = bytes.indexOf(NL, at);
    if (nl < 0) bad('the file ends early', line, at);
    lineStart = at;
    lineEnd = nl;
    at = nl + 1;
    line++;
  };
  const text = (): string => bytes.toString('utf8', lineStart, lineEnd);
  next(); // the magic, checked by the caller
  next();
  const digest = parseDigest(/^digest (.*)$/.exec(text())?.[1] ?? '') ?? bad('expected "digest <16 hex digits>"', line - 1, lineStart);
  next();
  const count = Number(/^chunks ([1-9]\d{0,9})$/.exec(text())?.[1] ?? bad('expected "chunks <N>", N >= 1', line - 1, lineStart));
  if (count > MAX_SET_CHUNKS) bad(`${count} chunks exceed ${MAX_SET_CHUNKS}`, line - 1, lineStart);
  const starts = nameStarts(bytes, at, count);
  if (!(starts instanceof Uint32Array)) {
    return bad(starts.ended ? 'the file ends early' : `chunk ${starts.index} has no file name`, line + starts.index, starts.at);
  }
  at = starts[count]!;
  line += count;
  if (at !== bytes.length) bad('text follows the last chunk name', line, at);
  // join(dir, name) for a plain name is the normalized directory, a separator and the name.
  const normal = join(dirname(path));
  const directory = normal === '.' ? '' : normal.endsWith('/') ? normal : `${normal}/`;
  const stem = commonStem(bytes, starts, count);
  return { digest, files: new ChunkFiles(directory, count, stem !== undefined ? { stem } : { bytes, starts }) };
}

/**
 * The stem all `count` names share when name i is the stem and chunkIndexDigits(i), as
 * `--chunk-files` writes them (whatever the set file is called now); else undefined.
 */
function commonStem(bytes: Buffer, starts: Uint32Array, count: number): string | undefined {
  const stemLength = starts[1]! - 1 - starts[0]! - 6;
  if (stemLength < 1) return undefined;
  const s0 = starts[0]!;
  for (let i = 0; i < count; i++) {
    const at = starts[i]!;
    if (starts[i + 1]! - 1 - at !== stemLength + indexDigitCount(i)) return undefined;
    for (let k = 0; k < stemLength; k++) if (bytes[at + k] !== bytes[s0 + k]) return undefined;
    if (!endsWithIndex(bytes, starts[i + 1]! - 1, i, stemLength + at)) return undefined;
  }
  return bytes.toString('utf8', s0, s0 + stemLength);
}

/** The length of chunkIndexDigits(index). */
function indexDigitCount(index: number): number {
  let n = 1;
  for (let x = index; x >= 10; x = Math.floor(x / 10)) n++;
  return Math.max(6, n);
}

/**
 * True when the characters before `end` down to `from` are chunkIndexDigits(index), compared
 * digit by digit from the last: no string per name (garbage per chunk grows the young heap).
 */
function endsWithIndex(chars: { readonly [i: number]: number } | string, end: number, index: number, from: number): boolean {
  let x = index;
  for (let k = end - 1; k >= from; k--) {
    const c = typeof chars === 'string' ? chars.charCodeAt(k) : chars[k]!;
    if (c !== 0x30 + (x % 10)) return false;
    x = Math.floor(x / 10);
  }
  return x === 0;
}

/**
 * Where each of the `count` names from offset `at` starts (name i is bytes[starts[i],
 * starts[i + 1] - 1), each line ending with a newline); else the first name that is missing
 * (`ended`: no newline is left) or not a plain name: empty, "." or "..", or holding "/" or NUL
 * (names stay beside the set file: a set cannot point a reader anywhere else), with the offset
 * of its line. A small function of its own: the optimizing compiler's memory for it counts in
 * the peak memory of reading a set.
 */
function nameStarts(bytes: Buffer, at: number, count: number): Uint32Array | { readonly index: number; readonly at: number; readonly ended: boolean } {
  // The first "/" and NUL, found once: names before them have neither.
  const slash = bytes.indexOf(0x2f, at);
  const nul = bytes.indexOf(0, at);
  // Grown as names are read: a count larger than the file holds costs no more than the file.
  let starts: Uint32Array = new Uint32Array(Math.min(count, 1024) + 1);
  for (let i = 0; i < count; i++) {
    const nl = bytes.indexOf(0x0a, at);
    if (nl < 0) return { index: i, at, ended: true };
    const n = nl - at;
    const dots = n <= 2 && bytes[at] === 0x2e && (n === 1 || bytes[at + 1] === 0x2e);
    if (n === 0 || dots || (slash >= at && slash < nl) || (nul >= at && nul < nl)) return { index: i, at, ended: false };
    if (i + 1 === starts.length) starts = grow(starts, Math.min(count, 2 * i) + 1);
    starts[i] = at;
    at = nl + 1;
  }
  starts[count] = at;
  return starts;
}

function grow(array: Uint32Array, length: number): Uint32Array {
  const grown = new Uint32Array(length);
  grown.set(array);
  return grown;
}

/** `s` matched literally inside a RegExp. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
