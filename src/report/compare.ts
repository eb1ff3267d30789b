import type { SignedStatement } from './identity/certificate.js';
import { fingerprint } from './identity/keys.js';
import { formatQuorum, MAJORITY, requiredWeight, type QuorumRule } from './identity/quorum.js';
import { checkReportSignature } from './identity/signature.js';
import { attestedContentKey, PUBLIC_KEY_BYTES, statementOf, type Statement } from './identity/statement.js';
import type { TrustSet } from './identity/trust-set.js';
import type { DigestReport, TableReport } from './schema.js';

/**
 * Comparison of `digest --json` reports from N nodes: pure, no I/O. The CLI reads the files,
 * validates them (validate.ts), passes the valid ones and the failures here, renders the result
 * and maps it to an exit code.
 *
 * Rules (docs/RUNBOOK.md explains them to operators):
 * - Digests are compared only between reports with the same **anchor**: format version, epoch,
 *   cursor, catalog (table ids and names) and max chunk bytes. The reports of the largest (with a
 *   trust set: heaviest) anchor group are compared (`epoch` option: only reports of that epoch may be it; on a tie, the higher
 *   epoch, then the anchor of the report given first); every other report is *incomparable*, named
 *   with the anchor fields in which it differs. Never a mismatch.
 * - Compared nodes are grouped by snapshot digest. The authoritative group is the one holding a
 *   quorum: with `quorum` N, a group of at least N nodes; without it, a strict majority (more than
 *   half of the compared nodes). Nodes outside it are the minority. With no such group, no node is
 *   called minority: every group is listed.
 * - Per table, nodes are grouped by table digest; for a divergent table, key ranges are compared
 *   between reports that hold the same number of ranges (`rangesPerTable`, the range anchor).
 * - One vote per voter: without a trust set a voter is a node name (votes are unauthenticated);
 *   with one (`trust`), a voter is a trusted key, and a report counts only if it is signed, its
 *   signature holds, and its key is trusted under the name it claims; the others are *rejected*
 *   with the reason. A voter's identical reports count once (*duplicates*); contradicting reports
 *   of one voter at one anchor count not at all: *equivocation* when signed by a trusted key,
 *   *conflicting* names otherwise.
 * - Reports with the same snapshot digest but different table digests, counts, chunks or range
 *   digests contradict each other (the snapshot digest covers the tables): all of them are
 *   *inconsistent* and not counted.
 * - With a trust set, groups weigh the trust weights of their voters and the quorum is a weight
 *   out of the whole trust set (default: more than half of it); without, every node weighs 1 and
 *   fractions are of the compared nodes.
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
  /**
   * What a group needs to be authoritative: a weight (a number of nodes without a trust set) or a
   * fraction of the total weight. Defaults to more than half (of the trust set's weight, or of the
   * compared nodes).
   */
  readonly quorum?: number | QuorumRule;
  /** Compare the reports of this epoch (decimal); absent: the largest anchor group. */
  readonly epoch?: string;
  /** Count only signed reports from these keys, with their weights. Absent: unauthenticated votes. */
  readonly trust?: TrustSet;
  /** `compare --anchor FILE`: compare the reports at this anchor (the fields the file sets); absent: the largest anchor group. */
  readonly anchor?: Partial<Pick<Anchor, 'epoch' | 'cursor' | 'maxChunkBytes' | 'tables'>>;
}

/** Why a report was not counted under a trust set. */
export type RejectReason = 'unsigned' | 'unsupported-statement' | 'bad-signature' | 'unknown-key' | 'wrong-key' | 'key-of-other-node';

export interface RejectedReport extends NodeRef {
  readonly reason: RejectReason;
  readonly detail: string;
  /** The key the report was signed with, when it has one. */
  readonly publicKey: string | null;
}

/** Contradicting reports of one voter at one anchor: none counted. */
export interface ContradictingReports {
  readonly node: string;
  /** The signing key (equivocation), or null (conflicting node name, unauthenticated). */
  readonly publicKey: string | null;
  readonly reports: readonly (NodeRef & { readonly digest: string })[];
}

/** Identical reports of one voter: the first counted, the copies not. */
export interface DuplicateReports {
  readonly node: string;
  readonly counted: NodeRef;
  readonly copies: readonly NodeRef[];
}

/** Reports with one snapshot digest that disagree on what it holds: none counted. */
export interface InconsistentReports {
  readonly digest: string;
  readonly reports: readonly NodeRef[];
  /** What they disagree on: table names, or "chunks"/"totals"/"ranges of <table>". */
  readonly fields: readonly string[];
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
  /** Sum of the voters' weights (the node count without a trust set). */
  readonly weight: number;
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
  /** True when a trust set decided which reports count (signed votes). */
  readonly authenticated: boolean;
  /** The trust set's total weight; null without one. */
  readonly totalWeight: number | null;
  /** The anchor compared; null when no valid report was given (or none at the requested epoch). */
  readonly anchor: Anchor | null;
  readonly compared: readonly (NodeRef & { readonly digest: string; readonly weight: number })[];
  /** Groups by snapshot digest, heaviest first (ties in input order). */
  readonly groups: readonly DigestGroup[];
  /** `spec`: the rule as typed (`3`, `2/3`, `>2/3`); `required`: the weight it asks for. */
  readonly rule: { readonly kind: 'majority' | 'quorum'; readonly spec: string; readonly required: number; readonly reached: boolean };
  readonly authoritativeDigest: string | null;
  readonly minority: readonly MinorityNode[];
  /** Tables whose digests differ among the compared nodes, in catalog order. */
  readonly tables: readonly TableDivergence[];
  readonly incomparable: readonly IncomparableReport[];
  readonly anchorSplits: readonly AnchorSplit[];
  readonly failures: readonly InputFailure[];
  /** Reports a trust set did not accept. */
  readonly rejected: readonly RejectedReport[];
  /** One trusted key, contradicting signed reports at one anchor. */
  readonly equivocations: readonly ContradictingReports[];
  /** One node name (unauthenticated), contradicting reports at one anchor. */
  readonly conflicting: readonly ContradictingReports[];
  readonly duplicates: readonly DuplicateReports[];
  readonly inconsistent: readonly InconsistentReports[];
  /** Advice that changes no verdict (e.g. every report carries the same node name). */
  readonly warnings: readonly string[];
  /** The signed statements of the authoritative group, all attesting one content (for a certificate); empty without a trust set. */
  readonly certifiable: readonly SignedStatement[];
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

/** A report that may count: who votes with it, and with what weight. */
interface Voter {
  readonly l: LoadedReport;
  /** The voter: its trusted key, or its node name without a trust set. */
  readonly id: string;
  readonly weight: number;
  readonly statement: Statement;
  /** Present under a trust set: the signed statement. */
  readonly signed?: SignedStatement;
}

const NO_KEY = '00'.repeat(PUBLIC_KEY_BYTES);

/** Compares valid reports; `failures` are carried into the result so that one document says everything. */
export function compareReports(reports: readonly LoadedReport[], failures: readonly InputFailure[] = [], options: CompareOptions = {}): CompareResult {
  const trust = options.trust;
  const rule: QuorumRule | undefined = typeof options.quorum === 'number' ? { kind: 'count', count: options.quorum } : options.quorum;

  // 1. Who votes: every report without a trust set; only signed reports of trusted keys with one.
  const rejected: RejectedReport[] = [];
  const candidates: Voter[] = [];
  for (const l of reports) {
    if (trust === undefined) {
      candidates.push({ l, id: l.report.node.name, weight: 1, statement: statementOf(l.report, NO_KEY) });
      continue;
    }
    const v = authenticate(l, trust);
    if ('reason' in v) rejected.push(v);
    else candidates.push(v);
  }

  // 2. One vote per voter: copies count once, contradictions not at all.
  const { voters, duplicates, contradictions } = oneVoteEach(candidates);

  // 3. Choose the anchor: the heaviest group (of the requested epoch), ties to the higher epoch, then input order.
  const byAnchor = new Map<string, { anchor: Anchor; members: Voter[]; first: number }>();
  voters.forEach((v, i) => {
    const anchor = anchorOf(v.l.report);
    const key = anchorKey(anchor);
    const g = byAnchor.get(key);
    if (g === undefined) byAnchor.set(key, { anchor, members: [v], first: i });
    else g.members.push(v);
  });
  const wanted = options.anchor ?? {};
  const anchorGroups = [...byAnchor.values()].filter(
    (g) => (options.epoch === undefined || g.anchor.epoch === options.epoch) && Object.entries(wanted).every(([f, v]) => g.anchor[f as AnchorField] === v),
  );
  const anchorWeight = (g: { members: Voter[] }): number => g.members.reduce((w, v) => w + v.weight, 0);
  anchorGroups.sort((x, y) => anchorWeight(y) - anchorWeight(x) || compareDecimal(y.anchor.epoch, x.anchor.epoch) || x.first - y.first);
  const chosen = anchorGroups[0];
  const anchor = chosen?.anchor ?? null;
  const atAnchor = chosen?.members ?? [];

  const incomparable: IncomparableReport[] = [];
  for (const v of voters) {
    if (atAnchor.includes(v)) continue;
    const a = anchorOf(v.l.report);
    const differences: AnchorDifference[] = [];
    if (anchor !== null) {
      for (const f of ANCHOR_FIELDS) if (String(a[f]) !== String(anchor[f])) differences.push({ field: f, value: String(a[f]), compared: String(anchor[f]) });
    } else if (options.epoch !== undefined) {
      differences.push({ field: 'epoch', value: a.epoch, compared: options.epoch });
    }
    incomparable.push({ ...ref(v.l), differences });
  }

  // 4. Reports that share a snapshot digest must say the same about it; those that do not are not counted.
  const inconsistent: InconsistentReports[] = [];
  const excluded = new Set<Voter>();
  for (const g of groupBy(atAnchor, (v) => v.l.report.digest)) {
    const fields = contradictionFields(g.items);
    if (fields.length === 0) continue;
    inconsistent.push({ digest: g.key, reports: g.items.map((v) => ref(v.l)), fields });
    for (const v of g.items) excluded.add(v);
  }
  const members = atAnchor.filter((v) => !excluded.has(v));

  // 5. Group the counted voters by snapshot digest and weigh the groups.
  const total = trust?.totalWeight ?? members.length;
  const effectiveRule = rule ?? MAJORITY;
  const required = Math.max(1, requiredWeight(effectiveRule, total));
  const digestGroups = groupBy(members, (v) => v.l.report.digest, (v) => v.weight);
  const weightOf = (items: readonly Voter[]): number => items.reduce((w, v) => w + v.weight, 0);
  const top = digestGroups[0];
  const second = digestGroups[1];
  const enough = (items: readonly Voter[] | undefined): boolean => items !== undefined && weightOf(items) >= required && (trust !== undefined || members.length >= 2);
  // Two groups both reaching a (small) quorum certify nothing.
  const authoritative = enough(top?.items) && !enough(second?.items) ? top : undefined;
  const groups: DigestGroup[] = digestGroups.map((g) => ({ digest: g.key, nodes: g.items.map((v) => ref(v.l)), weight: weightOf(g.items), authoritative: g === authoritative }));
  const outcome: Outcome = digestGroups.length > 1 ? 'divergence' : (trust === undefined && members.length < 2) || !enough(top?.items) ? 'too-few' : 'agree';

  // 6. Localize: per table, then per range; and per minority node against the authoritative group.
  const loaded = members.map((v) => v.l);
  const tables = divergentTables(loaded);
  const minority: MinorityNode[] = [];
  if (authoritative !== undefined) {
    const reference = authoritative.items[0]!.l.report;
    for (const v of members) {
      if (authoritative.items.includes(v)) continue;
      minority.push({ ...ref(v.l), digest: v.l.report.digest, tables: tableDifferences(v.l.report, reference) });
    }
  }

  return {
    outcome,
    authenticated: trust !== undefined,
    totalWeight: trust?.totalWeight ?? null,
    anchor,
    compared: members.map((v) => ({ ...ref(v.l), digest: v.l.report.digest, weight: v.weight })),
    groups,
    rule: { kind: rule === undefined ? 'majority' : 'quorum', spec: formatQuorum(effectiveRule), required, reached: authoritative !== undefined },
    authoritativeDigest: authoritative?.key ?? null,
    minority,
    tables,
    incomparable,
    anchorSplits: anchorSplits(voters.map((v) => v.l)),
    failures,
    rejected,
    equivocations: trust === undefined ? [] : contradictions,
    conflicting: trust === undefined ? contradictions : [],
    duplicates,
    inconsistent,
    warnings: sameNameWarning(reports),
    certifiable: authoritative === undefined ? [] : certifiable(authoritative.items),
  };
}

/** A report checked against the trust set: a voter, or the reason it does not count. */
function authenticate(l: LoadedReport, trust: TrustSet): Voter | RejectedReport {
  const name = l.report.node.name;
  const reject = (reason: RejectReason, detail: string, publicKey: string | null): RejectedReport => ({ ...ref(l), reason, detail, publicKey });
  const check = checkReportSignature(l.report);
  if (!check.ok) return reject(check.problem, check.detail, l.report.signature?.publicKey ?? null);
  const key = check.publicKey;
  const member = trust.members.find((m) => m.publicKey === key);
  if (member === undefined) {
    const named = trust.members.find((m) => m.name === name);
    return named === undefined
      ? reject('unknown-key', `key ${fingerprint(key)} is not in the trust set, and neither is the name`, key)
      : reject('wrong-key', `signed with key ${fingerprint(key)}, not the key trusted for this name (${fingerprint(named.publicKey)})`, key);
  }
  if (member.name !== name) return reject('key-of-other-node', `the key of ${JSON.stringify(member.name)} (${fingerprint(key)}) used under the name ${JSON.stringify(name)}`, key);
  return { l, id: key, weight: member.weight, statement: check.statement, signed: { statement: check.statement, bytes: check.bytes, signature: l.report.signature!.value, weight: member.weight } };
}

/**
 * Per voter and anchor: identical reports (same attested content, whatever the node-local
 * facts) are one vote; reports that contradict each other are none.
 */
function oneVoteEach(candidates: readonly Voter[]): { voters: Voter[]; duplicates: DuplicateReports[]; contradictions: ContradictingReports[] } {
  const voters: Voter[] = [];
  const duplicates: DuplicateReports[] = [];
  const contradictions: ContradictingReports[] = [];
  const byVoter = new Map<string, Voter[]>();
  for (const v of candidates) {
    const key = JSON.stringify([v.id, anchorKey(anchorOf(v.l.report))]);
    const list = byVoter.get(key);
    if (list === undefined) byVoter.set(key, [v]);
    else list.push(v);
  }
  const dropped = new Set<Voter>();
  for (const list of byVoter.values()) {
    if (list.length === 1) continue;
    const node = list[0]!.l.report.node.name;
    if (contradictionFields(list).length > 0) {
      contradictions.push({ node, publicKey: list[0]!.signed === undefined ? null : list[0]!.id, reports: list.map((v) => ({ ...ref(v.l), digest: v.l.report.digest })) });
      for (const v of list) dropped.add(v);
    } else {
      duplicates.push({ node, counted: ref(list[0]!.l), copies: list.slice(1).map((v) => ref(v.l)) });
      for (const v of list.slice(1)) dropped.add(v);
    }
  }
  for (const v of candidates) if (!dropped.has(v)) voters.push(v);
  return { voters, duplicates, contradictions };
}

/**
 * What reports that should say the same thing disagree on: the snapshot digest, a table's digest,
 * count or bytes, the chunks or totals, or range digests between reports with the same number of
 * ranges (different `--ranges` are not a contradiction). Empty when they agree.
 */
function contradictionFields(voters: readonly Voter[]): string[] {
  const fields = new Set<string>();
  const first = voters[0]!.statement;
  for (const v of voters.slice(1)) {
    const s = v.statement;
    if (s.digest !== first.digest) fields.add('snapshot digest');
    s.tables.forEach((t, i) => {
      const f = first.tables[i]!;
      if (t.digest !== f.digest || t.entries !== f.entries || t.bytes !== f.bytes) fields.add(`table ${t.name}`);
    });
    if (s.entries !== first.entries || s.bytes !== first.bytes) fields.add('totals');
    if (JSON.stringify(s.chunks) !== JSON.stringify(first.chunks)) fields.add('chunks');
  }
  for (const g of groupBy(voters, (v) => String(v.statement.rangesPerTable))) {
    if (g.key === '0') continue;
    const f = g.items[0]!.statement;
    for (const v of g.items.slice(1)) {
      v.statement.tables.forEach((t, i) => {
        if (JSON.stringify(t.ranges) !== JSON.stringify(f.tables[i]!.ranges)) fields.add(`ranges of table ${t.name}`);
      });
    }
  }
  return [...fields];
}

/** The signed statements of an authoritative group that attest its most common content (they differ only in --ranges). */
function certifiable(items: readonly Voter[]): SignedStatement[] {
  const signed = items.flatMap((v) => (v.signed === undefined ? [] : [v.signed]));
  const byContent = groupBy(signed, (s) => attestedContentKey(s.statement), (s) => s.weight);
  return byContent[0]?.items ?? [];
}

/** When every report carries one node name, nobody passed --node: the names cannot tell nodes apart. */
function sameNameWarning(reports: readonly LoadedReport[]): string[] {
  if (reports.length < 2) return [];
  const name = reports[0]!.report.node.name;
  if (reports.some((l) => l.report.node.name !== name)) return [];
  return [`all ${reports.length} reports carry the node name ${JSON.stringify(name)}: give each node its own name with digest --node NAME`];
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

/** Groups in first-appearance order, then stably sorted by weight (each item weighs 1 by default), heaviest first. */
function groupBy<T>(items: readonly T[], key: (item: T) => string, weight: (item: T) => number = () => 1): { key: string; items: T[] }[] {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list === undefined) map.set(k, [item]);
    else list.push(item);
  }
  const w = (list: readonly T[]): number => list.reduce((sum, item) => sum + weight(item), 0);
  return [...map].map(([k, v]) => ({ key: k, items: v })).sort((a, b) => w(b.items) - w(a.items));
}

function compareDecimal(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The verdict of a comparison, one word an operator and a script can act on. Precedence:
 * equivocation by a trusted key; a proven divergence (never hidden by a bad input); then inputs
 * that could not be used (unreadable; inconsistent, conflicting, rejected, corrupt; missing); then
 * reports at another anchor; then too few reports.
 */
export type Verdict =
  | 'AGREE'
  | 'EQUIVOCATION'
  | 'DIVERGENCE'
  | 'UNREADABLE'
  | 'NEWER_REPORT'
  | 'INCONSISTENT'
  | 'CONFLICTING'
  | 'REJECTED'
  | 'CORRUPT_REPORT'
  | 'MISSING_REPORT'
  | 'INCOMPARABLE'
  | 'TOO_FEW';

export function verdictOf(r: CompareResult): Verdict {
  // A trusted key that signed two contradicting reports is proof of misbehaviour: it comes first.
  if (r.equivocations.length > 0) return 'EQUIVOCATION';
  if (r.outcome === 'divergence') return 'DIVERGENCE';
  if (r.failures.some((f) => f.kind === 'unreadable')) return 'UNREADABLE';
  if (r.failures.some((f) => f.kind === 'newer')) return 'NEWER_REPORT';
  if (r.inconsistent.length > 0) return 'INCONSISTENT';
  if (r.conflicting.length > 0) return 'CONFLICTING';
  if (r.rejected.length > 0) return 'REJECTED';
  if (r.failures.some((f) => f.kind === 'corrupt')) return 'CORRUPT_REPORT';
  if (r.failures.some((f) => f.kind === 'missing')) return 'MISSING_REPORT';
  if (r.incomparable.length > 0) return 'INCOMPARABLE';
  if (r.outcome === 'too-few') return 'TOO_FEW';
  return 'AGREE';
}
