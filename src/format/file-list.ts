/**
 * Paths of files read in order as one stream (a snapshot's chunk files): an array, or a chunk
 * set's files made one at a time when asked for (chunk-set.ts, ChunkFiles), so that a set of
 * 30,000 4 KiB chunk files keeps no string per chunk. An array of paths is one as it is.
 */
export interface FileList extends Iterable<string> {
  readonly length: number;
  /** The path at `index` (a negative index counts from the end), or undefined outside the list. */
  at(index: number): string | undefined;
  /**
   * When every file lies in this one directory: its path as files begin with ('' for the
   * current directory, else ending with '/'), so that a checker need not look at each path.
   */
  readonly directory?: string;
  /** When given: true when the file at `index` is `directory + name` (a listing is matched without making paths). */
  isName?(index: number, name: string): boolean;
}

/** True for a list of files (an array or a FileList), false for other snapshot inputs (a byte stream). */
export function isFileList(input: unknown): input is FileList {
  if (Array.isArray(input)) return true;
  if (typeof input !== 'object' || input === null || Symbol.asyncIterator in input) return false;
  return typeof (input as FileList).at === 'function' && typeof (input as FileList).length === 'number';
}
