import { basename, resolve } from 'node:path';
import { SnapshotError } from '../format/errors.js';
import type { Cursor, TableRef } from '../format/header.js';
import { parseTableSelection } from '../report/digest-source.js';

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

/** A whole number option (`--quorum 3`): named in the error with the form it takes, never "got NaN". */
export function parseCount(text: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const t = text.trim();
  const v = /^\d{1,15}$/.test(t) ? Number(t) : NaN;
  if (!(v >= min && v <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
    usage(`${flag} takes a whole number ${range} (e.g. ${flag} ${Math.max(min, Math.min(3, max))}), got "${text}"`);
  }
  return v;
}

/** `--tables a,b,c` (or `1=a,2=b`); given without a value, says that leaving it out lists the tables. */
export function parseTablesOption(text: string): TableRef[] {
  if (text.trim() === '') usage('--tables needs a value: a,b,c or 1=a,2=b (leave --tables out to list the tables the checkpoint holds)');
  return parseTableSelection(text);
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

/**
 * `diff --range`: a key range exactly as `compare` prints it, `[30000000, 40000000)` or
 * `[c0000000, ∞)` (optionally with its `range N` prefix): 8-hex-digit key prefixes, end exclusive.
 */
export function parsePrefixRange(text: string): { start: number; end: number | undefined } {
  const m = /^\s*(?:range\s+\d+\s+)?\[\s*([0-9a-fA-F]{8})\s*,\s*([0-9a-fA-F]{8}|∞|inf|)\s*\)\s*:?\s*$/.exec(text);
  if (m === null) usage(`--range takes a key range as compare prints it, e.g. "[30000000, 40000000)" or "[c0000000, ∞)", got "${text}"`);
  const start = parseInt(m[1]!, 16);
  const end = /^[0-9a-fA-F]{8}$/.test(m[2]!) ? parseInt(m[2]!, 16) : undefined;
  if (end !== undefined && end <= start) usage(`--range ${text} is empty: its end must be above its start`);
  return { start, end };
}

/** `--from`/`--to`: a key in hex, with or without 0x. */
export function parseHexKey(text: string, flag: string): Uint8Array {
  const hex = text.replace(/^0x/i, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) usage(`${flag} takes a key in hex (an even number of hex digits, e.g. ${flag} 0x3f00), got "${text}"`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** The epoch in a `checkpoint_epoch_<N>` directory name, as the reference design names them. */
export function epochFromPath(path: string): bigint | undefined {
  const m = /^checkpoint_epoch_(\d{1,20})$/.exec(basename(resolve(path)));
  return m === null ? undefined : parseU64(m[1]!, 'the epoch in the checkpoint name');
}

/**
 * An output path as given: refuses an empty one (yargs reads `--out -` as ""), which would
 * otherwise fail late as an I/O error on "" rather than as the usage error it is.
 */
export function outputPath(path: string, flag: string): string {
  if (path === '') throw new SnapshotError('INVALID_ARGUMENT', `${flag} is empty: give a file path (this tool never writes an output to stdout or "-")`);
  return path;
}
