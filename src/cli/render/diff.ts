import type { DiffResult, KeyDifference, ValuePreview } from '../../report/diff.js';
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

/** Key bytes shown in human output; longer keys are cut and their length given (JSON has them whole). */
export const KEY_SHOWN_BYTES = 64;

const SIGN = { removed: '-', added: '+', changed: '~' } as const;

function key(d: KeyDifference): string {
  const hex = d.keyBytes > KEY_SHOWN_BYTES ? `${d.key.slice(0, 2 * KEY_SHOWN_BYTES)}… (${count(String(d.keyBytes))} bytes)` : d.key;
  return `0x${hex}`;
}

function value(v: ValuePreview): string {
  return v.truncated ? `0x${v.hex}… (${count(String(v.bytes))} bytes)` : `0x${v.hex}`;
}

/** A listed difference on one line: sign, table, key, then the value(s). */
export function differenceLine(d: KeyDifference): string {
  const values = d.kind === 'changed' ? `a ${value(d.a!)}  b ${value(d.b!)}  (values differ from byte ${d.differsAt ?? 0})` : d.kind === 'removed' ? `a ${value(d.a!)}` : `b ${value(d.b!)}`;
  return `${SIGN[d.kind]} ${escapeText(d.table)} ${key(d)}  ${values}`;
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
export function renderDiff(r: DiffResult, inputs: { a: DiffInput; b: DiffInput }): string {
  const differing = r.tables.filter((t) => t.presence !== 'both' || t.added !== '0' || t.removed !== '0' || t.changed !== '0');
  const lines: string[] = [];
  if (r.identical) {
    const entries = r.tables.reduce((s, t) => s + BigInt(t.entriesA), 0n);
    lines.push(`IDENTICAL: ${r.tables.length} table(s), ${count(String(entries))} entries, same keys and values`);
  } else {
    const onlyOne = r.tables.filter((t) => t.presence !== 'both').length;
    const parts = [`${count(r.totalDifferences)} key difference(s) in ${differing.length - onlyOne} of ${r.tables.length} table(s)`];
    if (onlyOne > 0) parts.push(`${onlyOne} table(s) in one input only`);
    const first = r.first === null ? '' : `; first: table ${escapeText(r.first.table)} key ${key(r.first)} (${r.first.kind})`;
    lines.push(`DIFFERENT: ${parts.join(', ')}${first}`);
  }
  lines.push(`a: ${escapeText(inputs.a.path)} (${inputs.a.kind}${inputs.a.epoch === undefined ? '' : `, epoch ${inputs.a.epoch}`})`);
  lines.push(`b: ${escapeText(inputs.b.path)} (${inputs.b.kind}${inputs.b.epoch === undefined ? '' : `, epoch ${inputs.b.epoch}`})`);
  lines.push(...anchorNotes(inputs.a, inputs.b));
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
    for (const d of r.listed) lines.push(`  ${differenceLine(d)}`);
  }
  const unlisted = BigInt(r.totalDifferences) - BigInt(r.listed.length);
  if (unlisted > 0n) lines.push(`  … ${count(String(unlisted))} more not listed (--limit ${r.limit}; all are counted above)`);
  return `${lines.join('\n')}\n`;
}
