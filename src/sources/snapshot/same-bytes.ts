import { closeSync, readSync } from 'node:fs';
import type { SnapshotSummary } from '../../format/encoder.js';
import { scanSnapshot } from '../../format/reader.js';
import { openRegularFileSync, statRegularFileSync } from '../../format/regular-file.js';

/**
 * Whether two snapshots (each one file or its chunk files in order) hold the same bytes: `a` is
 * read through the verifying reader and `b` as plain bytes beside it, compared piece by piece.
 * When they are the same, `a`'s summary is returned: `b`, the same bytes, verifies exactly as
 * `a` did and holds the same entries, so it needs no decoding of its own. Undefined at the first
 * difference, or when either cannot be read or verified this way: the caller then reads both
 * the ordinary way, which reports their errors as it always did.
 */
export async function sameSnapshotBytes(a: readonly string[], b: readonly string[]): Promise<SnapshotSummary | undefined> {
  const total = (files: readonly string[]): number | undefined => {
    let n = 0;
    for (const f of files) {
      const s = statRegularFileSync(f);
      if (s === undefined) return undefined;
      n += s.size;
    }
    return n;
  };
  let other: PlainReader;
  try {
    const size = total(a);
    if (size === undefined || size !== total(b)) return undefined;
    other = new PlainReader(b);
  } catch {
    return undefined;
  }
  const differs = new Error('the inputs differ');
  try {
    const compare = (piece: Uint8Array): void => {
      if (!other.next(piece)) throw differs;
    };
    return await scanSnapshot(a, {}, { onPieceConsumed: compare });
  } catch {
    return undefined;
  } finally {
    other.close();
  }
}

/** Reads files in order as one stream, checking it against the pieces of another. */
class PlainReader {
  readonly #files: readonly string[];
  #index = 0;
  #fd: number | undefined;
  #scratch = new Uint8Array(128 << 10);

  constructor(files: readonly string[]) {
    this.#files = files;
  }

  /** True when the next bytes of the stream are `piece`. */
  next(piece: Uint8Array): boolean {
    if (this.#scratch.length < piece.length) this.#scratch = new Uint8Array(piece.length);
    let filled = 0;
    while (filled < piece.length) {
      if (this.#fd === undefined) {
        if (this.#index === this.#files.length) return false;
        this.#fd = openRegularFileSync(this.#files[this.#index++]!).fd;
      }
      const n = readSync(this.#fd, this.#scratch, filled, piece.length - filled, null);
      if (n === 0) this.close();
      filled += n;
    }
    return Buffer.compare(this.#scratch.subarray(0, filled), piece) === 0;
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
