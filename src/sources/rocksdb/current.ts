/**
 * The CURRENT file: one line naming the live MANIFEST ("MANIFEST-000005\n").
 */
import { join } from 'node:path';
import { corrupt } from './codec.js';
import { readSmallFile } from './file-io.js';

/** CURRENT holds one short line; anything larger is not a CURRENT file. */
const MAX_CURRENT_BYTES = 4096;
const MANIFEST_NAME = /^MANIFEST-(\d{1,20})$/;

/** The MANIFEST that CURRENT names. */
export interface CurrentManifest {
  /** The file name inside the checkpoint directory. */
  readonly fileName: string;
  /** Its file number, which recyclable log records carry. */
  readonly number: number;
}

/**
 * Reads and validates `<dir>/CURRENT`. Throws NOT_FOUND when it is missing and
 * CORRUPT_CHECKPOINT when it does not name a MANIFEST by the documented pattern (the name is
 * never used as a path before it matches, so CURRENT cannot point outside the checkpoint).
 */
export async function readCurrent(dir: string): Promise<CurrentManifest> {
  const path = join(dir, 'CURRENT');
  const bytes = await readSmallFile(path, MAX_CURRENT_BYTES, (size) =>
    corrupt(path, MAX_CURRENT_BYTES, `CURRENT is ${size} bytes; expected one short line`),
  );
  const nl = bytes.indexOf(0x0a);
  if (nl !== bytes.length - 1) {
    throw corrupt(path, nl < 0 ? bytes.length : nl, 'CURRENT must be exactly one line ending in a newline');
  }
  const name = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, nl));
  const m = MANIFEST_NAME.exec(name);
  if (m === null) throw corrupt(path, 0, `CURRENT does not name a MANIFEST file: ${JSON.stringify(name.slice(0, 80))}`);
  const number = Number(m[1]);
  if (!Number.isSafeInteger(number)) throw corrupt(path, 9, 'MANIFEST number out of range');
  return { fileName: name, number };
}
