import { basename, resolve } from 'node:path';
import { SnapshotError } from '../format/errors.js';
import type { Cursor } from '../format/header.js';

const U64_MAX = 0xffff_ffff_ffff_ffffn;

function usage(message: string): never {
  throw new SnapshotError('INVALID_ARGUMENT', message);
}

/** A u64 given in decimal. */
export function parseU64(text: string, what: string): bigint {
  if (!/^\d{1,20}$/.test(text)) usage(`${what} must be a decimal integer, got "${text}"`);
  const v = BigInt(text);
  if (v > U64_MAX) usage(`${what} ${text} does not fit in 64 bits`);
  return v;
}

/** `--cursor INDEX` or `--cursor INDEX:EVENT_ID_HEX`. */
export function parseCursor(text: string): Cursor {
  const m = /^(\d+)(?::([0-9a-fA-F]*))?$/.exec(text);
  if (m === null) usage(`--cursor must be INDEX or INDEX:EVENT_ID_HEX, got "${text}"`);
  const index = parseU64(m[1]!, '--cursor index');
  const hex = m[2] ?? '';
  if (hex.length % 2 !== 0) usage('--cursor event id must have an even number of hex digits');
  return hex.length === 0 ? { index } : { index, eventId: new Uint8Array(Buffer.from(hex, 'hex')) };
}

const UNITS: Record<string, bigint> = { '': 1n, k: 1000n, m: 1000n ** 2n, g: 1000n ** 3n, kib: 1024n, mib: 1024n ** 2n, gib: 1024n ** 3n };

/** A byte size: `1048576`, `64MiB`, `10MB` (decimal units), `1GiB`. */
export function parseByteSize(text: string, what: string): bigint {
  const m = /^(\d+)\s*([kmg](?:i?b)?|b)?$/i.exec(text.trim());
  if (m === null) usage(`${what} must be a byte count such as 67108864 or 64MiB, got "${text}"`);
  const unit = (m[2] ?? '').toLowerCase().replace(/^([kmg])b$/, '$1').replace(/^b$/, '');
  const factor = UNITS[unit];
  if (factor === undefined) usage(`${what}: unknown unit in "${text}"`);
  const v = BigInt(m[1]!) * factor;
  if (v > U64_MAX) usage(`${what} does not fit in 64 bits`);
  return v;
}

/** The epoch in a `checkpoint_epoch_<N>` directory name, as the reference design names them. */
export function epochFromPath(path: string): bigint | undefined {
  const m = /^checkpoint_epoch_(\d{1,20})$/.exec(basename(resolve(path)));
  return m === null ? undefined : parseU64(m[1]!, 'the epoch in the checkpoint name');
}
