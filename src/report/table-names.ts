import { SnapshotError } from '../format/errors.js';
import type { Source } from '../sources/source.js';

/**
 * Table names as users type them: the tables a source holds, and the nearest existing name for a
 * mistyped one, so that an unknown table is answered with what to type instead.
 */

/** The tables a source names: its recorded catalog (a snapshot), else the tables it lists. */
export async function tableNames(source: Source): Promise<string[]> {
  if (source.recorded?.tables !== undefined) return source.recorded.tables.map((t) => t.name);
  return (await source.listTables()).map((t) => t.name);
}

/** Edit distance (insertions, deletions, substitutions), two rows of memory. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}

/** The candidate nearest to `name` (case-insensitive edit distance), if it is near enough to be a typo. */
export function nearestName(name: string, candidates: readonly string[]): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = distance(name.toLowerCase(), c.toLowerCase());
    if (best === undefined || d < best.d) best = { c, d };
  }
  // A third of the name's length: close enough for a typo, far enough not to suggest nonsense.
  return best !== undefined && best.d <= Math.max(2, Math.floor(name.length / 3)) ? best.c : undefined;
}

/** "no table X in WHERE; did you mean Y? tables: a, b" for each of `missing`, as one UNKNOWN_TABLE error. */
export function unknownTableError(missing: readonly string[], where: string, existing: readonly string[], file?: string): SnapshotError {
  const hints = missing.map((m) => {
    const near = nearestName(m, existing);
    return near === undefined ? JSON.stringify(m) : `${JSON.stringify(m)} (did you mean ${near}?)`;
  });
  return new SnapshotError('UNKNOWN_TABLE', `no table ${hints.join(', ')} in ${where}; its tables: ${existing.join(', ') || 'none'}`, file === undefined ? {} : { file });
}

/**
 * An UNKNOWN_TABLE error from a source, retold with the nearest names and the full list (the
 * source's own message names only the table); any other error is returned as it is. Checked only
 * after the failure, so a good run never pays for listing the tables.
 */
export async function explainUnknownTable(e: unknown, source: Source | undefined, wanted: readonly string[], where: string): Promise<unknown> {
  if (!(e instanceof SnapshotError) || e.code !== 'UNKNOWN_TABLE' || source === undefined) return e;
  const existing = await tableNames(source).catch(() => undefined);
  if (existing === undefined) return e;
  const missing = wanted.filter((n) => !existing.includes(n));
  return missing.length === 0 ? e : unknownTableError(missing, where, existing);
}

/** The selected tables' estimated entry count, when the source can tell for every one of them (for progress). */
export async function estimatedEntries(source: Source, wanted: readonly string[]): Promise<number | undefined> {
  const infos = await source.listTables();
  let total = 0;
  for (const name of wanted) {
    const n = infos.find((t) => t.name === name)?.estimatedEntries;
    if (n === undefined) return undefined;
    total += n;
  }
  return total;
}
