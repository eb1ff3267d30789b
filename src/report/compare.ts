import type { DigestReport, TableReport } from './schema.js';

/**
 * Comparison of `digest --json` reports from N nodes: pure, no I/O. The CLI reads the files,
 * validates them (validate.ts), passes the valid ones and the failures here, renders the result
 * and maps it to an exit code.
 *
 * Rules (docs/RUNBOOK.md explains them to operators):
 * - Digests are compared only between reports with the same **anchor**: format version, epoch,
 *   cursor, catalog (table ids and names) and max chunk bytes. The reports of the largest anchor
 *   group are compared (`epoch` option: only reports of that epoch may be it; on a tie, the higher
 *   epoch, then the anchor of the report given first); every other report is *incomparable*, named
 *   with the anchor fields in which it differs. Never a mismatch.
 * - Compared nodes are grouped by snapshot digest. The authoritative group is the one holding a
 *   quorum: with `quorum` N, a group of at least N nodes; without it, a strict majority (more than
 *   half of the compared nodes). Nodes outside it are the minority. With no such group, no node is
 *   called minority: every group is listed.
 * - Per table, nodes are grouped by table digest; for a divergent table, key ranges are compared
 *   between reports that hold the same number of ranges (`rangesPerTable`, the range anchor).
 */

/** A node as `compare` shows it: its name from the report and the report's file. */
export interface NodeRef {
  readonly node: string;
  /** The file the report came from (`-` for stdin; `file#2` for the second document of a file). */
  readonly file: string;
}

/** A report that passed validation, with where it came from. */
export interface LoadedReport {
  readonly file: string;
  readonly report: DigestReport;
}

/** Why an input yielded no report. */
export type InputFailureKind = 'corrupt' | 'missing' | 'unreadable' | 'newer';

/** An input that could not be read or is not a valid report. */
export interface InputFailure {
  readonly file: string;
  readonly kind: InputFailureKind;
  /** The SnapshotError code (BAD_REPORT, NOT_FOUND, IO_ERROR). */
  readonly code: string;
  readonly message: string;
  readonly offset: number | null;
}

export interface CompareOptions {
  /** Nodes a group needs to be authoritative; absent: a strict majority of the compared nodes. */
  readonly quorum?: number;
  /** Compare the reports of this epoch (decimal); absent: the largest anchor group. */
  readonly epoch?: string;
  /** `compare --anchor FILE`: compare the reports at this anchor (the fields the file sets); absent: the largest anchor group. */
  readonly anchor?: Partial<Pick<Anchor, 'epoch' | 'cursor' | 'maxChunkBytes' | 'tables'>>;
}

/** The comparable fields of a report, as compared. */
export interface Anchor {
  readonly formatVersion: number;
  readonly epoch: string;
  readonly cursor: string;
  readonly maxChunkBytes: string;
  /** The catalog as `id=name,id=name`. */
  readonly tables: string;
}

export type AnchorField = keyof Anchor;
export const ANCHOR_FIELDS: readonly AnchorField[] = ['formatVersion', 'epoch', 'cursor', 'maxChunkBytes', 'tables'];

/** One anchor field in which an incomparable report differs from the compared anchor. */
export interface AnchorDifference {
  readonly field: AnchorField;
  readonly value: string;
  readonly compared: string;
}

export interface IncomparableReport extends NodeRef {
  readonly differences: readonly AnchorDifference[];
}

/** For an anchor field not uniform across the valid reports: which nodes hold which value. */
export interface AnchorSplit {
  readonly field: AnchorField;
  readonly values: readonly { readonly value: string; readonly nodes: readonly NodeRef[] }[];
}

export interface DigestGroup {
  readonly digest: string;
  readonly nodes: readonly NodeRef[];
  readonly authoritative: boolean;
}

export interface RangeDivergence {
  readonly index: number;
  /** First 4-byte key prefix of the range (inclusive), hex. */
  readonly start: string;
  /** End prefix (exclusive), hex; empty for the last range. */
  readonly end: string;
  readonly groups: readonly { readonly digest: string; readonly entries: string; readonly nodes: readonly NodeRef[] }[];
}

export interface TableDivergence {
  readonly id: number;
  readonly name: string;
  readonly groups: readonly { readonly digest: string; readonly entries: string; readonly nodes: readonly NodeRef[] }[];
  /** Ranges per table used for localization (the most common count among the compared reports), 0 if none. */
  readonly rangesPerTable: number;
  /** Ranges whose digests differ, among the reports holding `rangesPerTable` ranges. */
  readonly ranges: readonly RangeDivergence[];
  /** Compared nodes whose report has no ranges, or a different number, so they are not in `ranges`. */
  readonly nodesWithoutRanges: readonly NodeRef[];
}

/** What a minority node differs in, against the authoritative group. */
export interface MinorityNode extends NodeRef {
  readonly digest: string;
  readonly tables: readonly {
    readonly id: number;
    readonly name: string;
    readonly digest: string;
    readonly expected: string;
    readonly entries: string;
    readonly expectedEntries: string;
    /** Range indices that differ; undefined when the ranges cannot be compared (missing or different counts). */
    readonly ranges?: readonly { readonly index: number; readonly start: string; readonly end: string; readonly entries: string; readonly expectedEntries: string }[];
  }[];
}

/** The outcome of the comparison itself (ignoring inputs that failed or were incomparable). */
export type Outcome = 'agree' | 'divergence' | 'too-few';

export interface CompareResult {
  readonly outcome: Outcome;
  /** The anchor compared; null when no valid report was given (or none at the requested epoch). */
  readonly anchor: Anchor | null;
  readonly compared: readonly (NodeRef & { readonly digest: string })[];
  /** Groups by snapshot digest, largest first (ties in input order). */
  readonly groups: readonly DigestGroup[];
  readonly rule: { readonly kind: 'majority' | 'quorum'; readonly required: number; readonly reached: boolean };
  readonly authoritativeDigest: string | null;
  readonly minority: readonly MinorityNode[];
  /** Tables whose digests differ among the compared nodes, in catalog order. */
  readonly tables: readonly TableDivergence[];
  readonly incomparable: readonly IncomparableReport[];
  readonly anchorSplits: readonly AnchorSplit[];
  readonly failures: readonly InputFailure[];
}

/** The anchor of a report, as compared. */
export function anchorOf(r: DigestReport): Anchor {
  return {
    formatVersion: r.formatVersion,
    epoch: r.epoch,
    cursor: r.cursor.eventIdHex === '' ? r.cursor.index : `${r.cursor.index}:${r.cursor.eventIdHex}`,
    maxChunkBytes: r.maxChunkBytes,
    tables: catalogOf(r.tables),
  };
}

/** A catalog as the anchor compares it: `id=name,id=name`. */
export function catalogOf(tables: readonly { readonly id: number; readonly name: string }[]): string {
  return tables.map((t) => `${t.id}=${catalogName(t.name)}`).join(',');
}

/** A table name in the catalog string, quoted when it holds a separator so no two catalogs read alike. */
function catalogName(name: string): string {
  return /[,="\\]/.test(name) ? JSON.stringify(name) : name;
}

function anchorKey(a: Anchor): string {
  return JSON.stringify(ANCHOR_FIELDS.map((f) => String(a[f])));
}

function ref(l: LoadedReport): NodeRef {
  return { node: l.report.node.name, file: l.file };
}

/** The minimum group size that is authoritative. */
function requiredSize(compared: number, quorum: number | undefined): number {
  return quorum ?? Math.floor(compared / 2) + 1;
}

/** Compares valid reports; `failures` are carried into the result so that one document says everything. */
export function compareReports(reports: readonly LoadedReport[], failures: readonly InputFailure[] = [], options: CompareOptions = {}): CompareResult {
  // 1. Choose the anchor: the largest group (of the requested epoch), ties to the higher epoch, then input order.
  const byAnchor = new Map<string, { anchor: Anchor; members: LoadedReport[]; first: number }>();
  reports.forEach((l, i) => {
    const anchor = anchorOf(l.report);
    const key = anchorKey(anchor);
    const g = byAnchor.get(key);
    if (g === undefined) byAnchor.set(key, { anchor, members: [l], first: i });
    else g.members.push(l);
  });
  const wanted = options.anchor ?? {};
  const candidates = [...byAnchor.values()].filter(
    (g) => (options.epoch === undefined || g.anchor.epoch === options.epoch) && Object.entries(wanted).every(([f, v]) => g.anchor[f as AnchorField] === v),
  );
  candidates.sort((x, y) => y.members.length - x.members.length || compareDecimal(y.anchor.epoch, x.anchor.epoch) || x.first - y.first);
  const chosen = candidates[0];
  const anchor = chosen?.anchor ?? null;
  const members = chosen?.members ?? [];

  const incomparable: IncomparableReport[] = [];
  for (const l of reports) {
    if (members.includes(l)) continue;
    const a = anchorOf(l.report);
    const differences: AnchorDifference[] = [];
    if (anchor !== null) {
      for (const f of ANCHOR_FIELDS) if (String(a[f]) !== String(anchor[f])) differences.push({ field: f, value: String(a[f]), compared: String(anchor[f]) });
    } else if (options.epoch !== undefined) {
      differences.push({ field: 'epoch', value: a.epoch, compared: options.epoch });
    }
    incomparable.push({ ...ref(l), differences });
  }

  // 2. Group the compared nodes by snapshot digest.
  const digestGroups = groupBy(members, (l) => l.report.digest);
  const required = requiredSize(members.length, options.quorum);
  const top = digestGroups[0];
  const authoritative = top !== undefined && top.items.length >= required && members.length >= 2 ? top : undefined;
  const groups: DigestGroup[] = digestGroups.map((g) => ({ digest: g.key, nodes: g.items.map(ref), authoritative: g === authoritative }));
  const outcome: Outcome = digestGroups.length > 1 ? 'divergence' : members.length < 2 || (options.quorum !== undefined && members.length < options.quorum) ? 'too-few' : 'agree';

  // 3. Localize: per table, then per range; and per minority node against the authoritative group.
  const tables = divergentTables(members);
  const minority: MinorityNode[] = [];
  if (authoritative !== undefined) {
    const reference = authoritative.items[0]!.report;
    for (const l of members) {
      if (authoritative.items.includes(l)) continue;
      minority.push({ ...ref(l), digest: l.report.digest, tables: tableDifferences(l.report, reference) });
    }
  }

  return {
    outcome,
    anchor,
    compared: members.map((l) => ({ ...ref(l), digest: l.report.digest })),
    groups,
    rule: { kind: options.quorum === undefined ? 'majority' : 'quorum', required, reached: authoritative !== undefined },
    authoritativeDigest: authoritative?.key ?? null,
    minority,
    tables,
    incomparable,
    anchorSplits: anchorSplits(reports),
    failures,
  };
}

function divergentTables(members: readonly LoadedReport[]): TableDivergence[] {
  const out: TableDivergence[] = [];
  const catalog = members[0]?.report.tables ?? [];
  catalog.forEach((t, ti) => {
    const rows = members.map((l) => ({ l, t: l.report.tables[ti]! }));
    const byDigest = groupBy(rows, (x) => x.t.digest);
    if (byDigest.length < 2) return;
    // Ranges are comparable only between reports with the same number of ranges: take the most common count.
    const withRanges = rows.filter((x) => (x.t.ranges?.length ?? 0) > 0);
    const byCount = groupBy(withRanges, (x) => String(x.t.ranges!.length));
    const rangesPerTable = byCount[0] === undefined || byCount[0].items.length < 2 ? 0 : Number(byCount[0].key);
    const ranged = rangesPerTable === 0 ? [] : byCount[0]!.items;
    const ranges: RangeDivergence[] = [];
    for (let i = 0; i < rangesPerTable; i++) {
      const byRange = groupBy(ranged, (x) => x.t.ranges![i]!.digest);
      if (byRange.length < 2) continue;
      const first = ranged[0]!.t.ranges![i]!;
      ranges.push({
        index: i,
        start: first.start,
        end: first.end,
        groups: byRange.map((g) => ({ digest: g.key, entries: g.items[0]!.t.ranges![i]!.entries, nodes: g.items.map((x) => ref(x.l)) })),
      });
    }
    out.push({
      id: t.id,
      name: t.name,
      groups: byDigest.map((g) => ({ digest: g.key, entries: g.items[0]!.t.entries, nodes: g.items.map((x) => ref(x.l)) })),
      rangesPerTable,
      ranges,
      nodesWithoutRanges: rows.filter((x) => !ranged.includes(x)).map((x) => ref(x.l)),
    });
  });
  return out;
}

function tableDifferences(r: DigestReport, reference: DigestReport): MinorityNode['tables'] {
  const out: MinorityNode['tables'][number][] = [];
  r.tables.forEach((t: TableReport, i) => {
    const e = reference.tables[i]!;
    if (t.digest === e.digest) return;
    const comparable = t.ranges !== undefined && e.ranges !== undefined && t.ranges.length === e.ranges.length && t.ranges.length > 0;
    const ranges = comparable
      ? t.ranges!.flatMap((g, j) => {
          const x = e.ranges![j]!;
          return g.digest === x.digest ? [] : [{ index: g.index, start: g.start, end: g.end, entries: g.entries, expectedEntries: x.entries }];
        })
      : undefined;
    out.push({ id: t.id, name: t.name, digest: t.digest, expected: e.digest, entries: t.entries, expectedEntries: e.entries, ...(ranges !== undefined ? { ranges } : {}) });
  });
  return out;
}

function anchorSplits(reports: readonly LoadedReport[]): AnchorSplit[] {
  const out: AnchorSplit[] = [];
  for (const f of ANCHOR_FIELDS) {
    const byValue = groupBy(reports, (l) => String(anchorOf(l.report)[f]));
    if (byValue.length > 1) out.push({ field: f, values: byValue.map((g) => ({ value: g.key, nodes: g.items.map(ref) })) });
  }
  return out;
}

/** Groups in first-appearance order, then stably sorted by size (largest first). */
function groupBy<T>(items: readonly T[], key: (item: T) => string): { key: string; items: T[] }[] {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list === undefined) map.set(k, [item]);
    else list.push(item);
  }
  return [...map].map(([k, v]) => ({ key: k, items: v })).sort((a, b) => b.items.length - a.items.length);
}

function compareDecimal(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The verdict of a comparison, one word an operator and a script can act on. Precedence: a proven
 * divergence first (the most serious finding, never hidden by a bad input); then inputs that could
 * not be used (unreadable, corrupt, missing); then reports at another anchor; then too few reports.
 */
export type Verdict = 'AGREE' | 'DIVERGENCE' | 'UNREADABLE' | 'NEWER_REPORT' | 'CORRUPT_REPORT' | 'MISSING_REPORT' | 'INCOMPARABLE' | 'TOO_FEW';

export function verdictOf(r: CompareResult): Verdict {
  if (r.outcome === 'divergence') return 'DIVERGENCE';
  if (r.failures.some((f) => f.kind === 'unreadable')) return 'UNREADABLE';
  if (r.failures.some((f) => f.kind === 'newer')) return 'NEWER_REPORT';
  if (r.failures.some((f) => f.kind === 'corrupt')) return 'CORRUPT_REPORT';
  if (r.failures.some((f) => f.kind === 'missing')) return 'MISSING_REPORT';
  if (r.incomparable.length > 0) return 'INCOMPARABLE';
  if (r.outcome === 'too-few') return 'TOO_FEW';
  return 'AGREE';
}
