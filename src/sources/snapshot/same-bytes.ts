import { closeSync, readSync } from 'node:fs';
import type { SnapshotSummary } from '../../format/encoder.js';
import type { FileList } from '../../format/file-list.js';
import { scanSnapshot } from '../../format/reader.js';
import { openCheckedFileSync, openRegularFileSync, wasChecked } from '../../format/regular-file.js';

/**
 * Whether two snapshots (each one file or its chunk files in order) hold the same bytes: `a` is
 * read through the verifying reader and `b` as plain bytes beside it, compared piece by piece,
 * and `b` must end where `a` does. When they are the same, `a`'s summary is returned: the reader
 * takes a snapshot's files as one stream of bytes (where one file ends and the next begins plays
 * no part in what it accepts), so `b`, the same stream, verifies exactly as `a` did and holds the
 * same entries: it needs no decoding of its own. Undefined at the first difference, or when
 * either cannot be read or verified this way: the caller then reads both the ordinary way, which
 * reports their errors as it always did. No size is asked of `b` beforehand: a stat per file of
 * a 4 KiB chunk set cost more than reading it.
 */
export async function sameSnapshotBytes(a: FileList, b: FileList): Promise<SnapshotSummary | undefined> {
  const other = new PlainReader(b);
  const differs = new Error('the inputs differ');
  try {
    const compare = (piece: Uint8Array): void => {
      if (!other.next(piece)) throw differs;
    };
    const summary = await scanSnapshot(a, {}, { onPieceConsumed: compare });
    return other.ended() ? summary : undefined;
  } catch {
    return undefined;
  } finally {
    other.close();
  }
}

/**
 * Reads files in order as one stream, checking it against the pieces of another. The files of a
 * checked list (checkRegularFilesSync) are opened without a stat, and a read returning less than
 * asked ends one (a regular file: no read of 0 bytes to learn it), as the reader's own readFiles
 * does; those of another list are stat'ed and fstat'ed first (openRegularFileSync).
 */
class PlainReader {
  readonly #files: FileList;
  readonly #checked: boolean;
  #index = 0;
  #fd: number | undefined;
  #scratch = new Uint8Array(128 << 10);

  constructor(files: FileList) {
    this.#files = files;
    this.#checked = wasChecked(files);
  }

  /** Reads up to n bytes into the scratch buffer at `at`; 0 only at the end of the last file. */
  #read(at: number, n: number): number {
    for (;;) {
      if (this.#fd === undefined) {
        if (this.#index === this.#files.length) return 0;
        const file = this.#files.at(this.#index++)!;
        this.#fd = this.#checked ? openCheckedFileSync(file) : openRegularFileSync(file).fd;
      }
      const got = readSync(this.#fd, this.#scratch, at, n, null);
      if (got === 0 || (this.#checked && got < n)) this.close();
      if (got > 0) return got;
    }
  }

  /** True when the next bytes of the stream are `piece`. */
  next(piece: Uint8Array): boolean {
    if (this.#scratch.length < piece.length) this.#scratch = new Uint8Array(piece.length);
    let filled = 0;
    while (filled < piece.length) {
      const got = this.#read(filled, piece.length - filled);
      if (got === 0) return false;
      filled += got;
    }
    return Buffer.compare(this.#scratch.subarray(0, filled), piece) === 0;
  }

  /** True when no byte is left. */
  ended(): boolean {
    return this.#read(0, 1) === 0;
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
