import type { DiffResult, KeyDifference, ValueBytes } from '../../report/diff.js';
import type { Decoder } from './decode.js';
import { count } from './digest.js';
import { escapeText } from './escape.js';

/** One side of a diff as shown: the path given, the source kind and what it records of its anchor. */
export interface DiffInput {
  readonly path: string;
  readonly kind: string;
  readonly epoch?: string;
  readonly cursor?: string;
  readonly maxChunkBytes?: string;
  readonly tables?: string;
}

/** How values are shown: whole or cut, hex or decoded. */
export interface DiffRenderOptions {
  /** Whole keys and values (`--full`). Defaults to false: values cut, changed values shown around their first difference. */
  readonly full?: boolean;
  /** `--decode`: text for bytes it can decode, undefined for hex. Defaults to hex for everything. */
  readonly decode?: Decoder;
}

/** Key bytes shown in human output; longer keys are cut and their length given (JSON has them whole). */
export const KEY_SHOWN_BYTES = 64;
/** Value bytes shown for an added or removed value (without --full). */
export const VALUE_SHOWN_BYTES = 64;
/** Bytes shown before and after the first differing byte of a changed value (without --full). */
export const WINDOW_BYTES = 16;
/** Characters of a decoded value shown (without --full). */
export const DECODED_SHOWN_CHARS = 200;

const SIGN = { removed: '-', added: '+', changed: '~' } as const;

function cutHex(hex: string, bytes: number, shown: number, full: boolean): string {
  return full || bytes <= shown ? `0x${hex}` : `0x${hex.slice(0, 2 * shown)}… (${count(String(bytes))} bytes)`;
}

/** Decoded text if the decoder can, else undefined. */
function decoded(hex: string, o: DiffRenderOptions): string | undefined {
  if (o.decode === undefined) return undefined;
  const text = o.decode(Buffer.from(hex, 'hex'));
  if (text === undefined || o.full || text.length <= DECODED_SHOWN_CHARS) return text;
  return `${text.slice(0, DECODED_SHOWN_CHARS)}… (${count(String(text.length))} characters)`;
}

function key(d: KeyDifference, o: DiffRenderOptions = {}): string {
  return decoded(d.key, o) ?? cutHex(d.key, d.keyBytes, KEY_SHOWN_BYTES, o.full === true);
}

function value(v: ValueBytes, o: DiffRenderOptions): string {
  return decoded(v.hex, o) ?? cutHex(v.hex, v.bytes, VALUE_SHOWN_BYTES, o.full === true);
}

/**
 * The two sides of a changed value around their first difference: WINDOW_BYTES before and after,
 * each line labelled with the offset it starts at, and a caret under the first differing byte.
 */
function window(d: KeyDifference, at: number): string[] {
  const from = Math.max(0, at - WINDOW_BYTES);
  const side = (label: string, v: ValueBytes): string => {
    const to = Math.min(v.bytes, at + WINDOW_BYTES + 1);
    const part = v.hex.slice(2 * from, 2 * to);
    return `${label} @${from}: ${from > 0 ? '…' : ''}0x${part}${to < v.bytes ? '…' : ''}${part === '' ? ' (ends here)' : ''}`;
  };
  const a = side('a', d.a!);
  const b = side('b', d.b!);
  const caret = ' '.repeat(`a @${from}: ${from > 0 ? '…' : ''}0x`.length + 2 * (at - from));
  return [a, b, `${caret}^^ byte ${at}`];
}

/** A listed difference: its line (sign, table, key, values) and, for a changed value, the lines under it. */
export function differenceLines(d: KeyDifference, o: DiffRenderOptions = {}): string[] {
  const head = `${SIGN[d.kind]} ${escapeText(d.table)} ${key(d, o)}`;
  if (d.kind === 'removed') return [`${head}  a ${value(d.a!, o)}`];
  if (d.kind === 'added') return [`${head}  b ${value(d.b!, o)}`];
  const at = d.differsAt ?? 0;
  const sizes = `a ${count(String(d.a!.bytes))} bytes, b ${count(String(d.b!.bytes))} bytes`;
  const da = decoded(d.a!.hex, o);
  const db = decoded(d.b!.hex, o);
  if (da !== undefined && db !== undefined) return [`${head}  values differ from byte ${at} (${sizes})`, `    a ${da}`, `    b ${db}`];
  if (o.full) return [`${head}  values differ from byte ${at} (${sizes})`, `    a 0x${d.a!.hex}`, `    b 0x${d.b!.hex}`];
  return [`${head}  values differ from byte ${at} (${sizes})`, ...window(d, at).map((l) => `    ${l}`)];
}

function anchorNotes(a: DiffInput, b: DiffInput): string[] {
  const notes: string[] = [];
  for (const f of ['epoch', 'cursor', 'maxChunkBytes', 'tables'] as const) {
    if (a[f] !== undefined && b[f] !== undefined && a[f] !== b[f]) notes.push(`${f} ${escapeText(a[f])} vs ${escapeText(b[f])}`);
  }
  return notes.length === 0 ? [] : [`note: the anchors differ (${notes.join('; ')}); only table content is compared`];
}

/**
 * Human output of `diff`: the verdict line with the first difference, the inputs, a line per
 * table, then the listed differences. Pure.
 */
export function renderDiff(r: DiffResult, inputs: { a: DiffInput; b: DiffInput }, options: DiffRenderOptions = {}): string {
  const differing = r.tables.filter((t) => t.presence !== 'both' || t.added !== '0' || t.removed !== '0' || t.changed !== '0');
  const lines: string[] = [];
  if (r.identical) {
    const entries = r.tables.reduce((s, t) => s + BigInt(t.entriesA), 0n);
    lines.push(`IDENTICAL: ${r.tables.length} table(s), ${count(String(entries))} entries, same keys and values`);
  } else {
    const onlyOne = r.tables.filter((t) => t.presence !== 'both').length;
    const parts = [`${count(r.totalDifferences)} key difference(s) in ${differing.length - onlyOne} of ${r.tables.length} table(s)`];
    if (onlyOne > 0) parts.push(`${onlyOne} table(s) in one input only`);
    const first = r.first === null ? '' : `; first: table ${escapeText(r.first.table)} key ${key(r.first, options)} (${r.first.kind})`;
    lines.push(`DIFFERENT: ${parts.join(', ')}${first}`);
  }
  lines.push(`a: ${escapeText(inputs.a.path)} (${inputs.a.kind}${inputs.a.epoch === undefined ? '' : `, epoch ${inputs.a.epoch}`})`);
  lines.push(`b: ${escapeText(inputs.b.path)} (${inputs.b.kind}${inputs.b.epoch === undefined ? '' : `, epoch ${inputs.b.epoch}`})`);
  lines.push(...anchorNotes(inputs.a, inputs.b));
  if (r.keyRange !== undefined) lines.push(`keys in ${r.keyRange} only (entries outside the range are not compared)`);
  const names = r.tables.map((t) => escapeText(t.name));
  const width = Math.max(0, ...names.map((n) => n.length));
  for (const [i, t] of r.tables.entries()) {
    const name = names[i]!.padEnd(width);
    if (t.presence === 'a-only') lines.push(`  table ${name}  only in a (${count(t.entriesA)} entries)`);
    else if (t.presence === 'b-only') lines.push(`  table ${name}  only in b (${count(t.entriesB)} entries)`);
    else if (!differing.includes(t)) lines.push(`  table ${name}  identical (${count(t.entriesA)} entries)`);
    else lines.push(`  table ${name}  ${count(t.changed)} changed, ${count(t.added)} added, ${count(t.removed)} removed (a ${count(t.entriesA)} entries, b ${count(t.entriesB)})`);
  }
  if (r.listed.length > 0) {
    lines.push('differences (- only in a, + only in b, ~ changed):');
    for (const d of r.listed) lines.push(...differenceLines(d, options).map((l) => `  ${l}`));
  }
  const unlisted = BigInt(r.totalDifferences) - BigInt(r.listed.length);
  if (unlisted > 0n) lines.push(`  … ${count(String(unlisted))} more not listed (--limit ${r.limit}; all are counted above)`);
  return `${lines.join('\n')}\n`;
}
