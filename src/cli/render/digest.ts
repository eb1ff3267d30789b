import type { DigestReport } from '../../report/schema.js';
import { escapeText } from './escape.js';

/** Thousands separators for counts people read. */
export function count(text: string): string {
  return text.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The anchor in words: what must match for two digests to be comparable. */
export function describeAnchor(r: Pick<DigestReport, 'formatVersion' | 'epoch' | 'cursor' | 'maxChunkBytes' | 'tables'>): string {
  const cursor = r.cursor.eventIdHex === '' ? r.cursor.index : `${r.cursor.index}:${r.cursor.eventIdHex}`;
  const chunks = r.maxChunkBytes === '0' ? 'unchunked' : `chunks ≤ ${r.maxChunkBytes} B`;
  return `format ${r.formatVersion}, cursor ${cursor}, ${chunks}, tables ${r.tables.map((t) => `${t.id}=${escapeText(t.name)}`).join(',') || '(none)'}`;
}

/**
 * Human output of `digest`: first one line to paste into a runbook, then a line per table.
 * Pure: the same report always renders the same text.
 */
export function renderDigest(r: DigestReport): string {
  const lines = [`epoch ${r.epoch} digest ${r.digest} entries ${r.entries} node ${escapeText(r.node.name)} (${describeAnchor(r)})`];
  const names = r.tables.map((t) => escapeText(t.name));
  const width = Math.max(0, ...names.map((n) => n.length));
  for (const [i, t] of r.tables.entries()) {
    lines.push(`  table ${names[i]!.padEnd(width)}  digest ${t.digest}  entries ${count(t.entries).padStart(13)}  bytes ${count(t.bytes).padStart(17)}`);
    for (const g of t.ranges ?? []) {
      lines.push(`    range ${String(g.index).padStart(4)} [${g.start}, ${g.end || '∞'})  digest ${g.digest}  entries ${count(g.entries)}`);
    }
  }
  if (r.chunks.length > 1) lines.push(`  ${r.chunks.length} chunks, last chunk digest = snapshot digest`);
  if (r.node.backupId !== undefined) lines.push(`  from backup ${r.node.backupId} of ${escapeText(r.node.source)}`);
  if (r.node.live === true) lines.push('  warning LIVE_DATABASE: read while another process held the LOCK (--allow-live); files may have changed under it');
  for (const w of r.warnings ?? []) lines.push(`  warning ${w.code} in ${w.file} at offset ${w.offset}: ${w.message}`);
  return `${lines.join('\n')}\n`;
}
