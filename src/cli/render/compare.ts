import type { AnchorField, CompareResult, NodeRef, Verdict } from '../../report/compare.js';
import { verdictOf } from '../../report/compare.js';
import type { CertificateOutcome } from '../commands/compare.js';
import { count } from './digest.js';
import { escapeText } from './escape.js';

/** A node as operators see it: its name and its report's file, so two reports of one host stay distinct. */
export function nodeLabel(n: NodeRef): string {
  return `${n.node} (${n.file})`;
}

const FIELD_WORDS: Record<AnchorField, string> = {
  formatVersion: 'format version',
  epoch: 'epoch',
  cursor: 'cursor',
  maxChunkBytes: 'max chunk bytes',
  tables: 'tables',
};

function list(nodes: readonly NodeRef[]): string {
  return nodes.map(nodeLabel).join(', ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function range(start: string, end: string): string {
  return `[${start}, ${end || '∞'})`;
}

/** What the compared reports say, in a clause: used after a problem that is not a divergence. */
function comparedClause(r: CompareResult): string {
  if (r.anchor === null) return 'no valid report to compare';
  const n = r.compared.length;
  if (r.outcome === 'agree') return `the ${n} compared nodes agree at epoch ${r.anchor.epoch} on ${r.groups[0]!.digest}${weightClause(r, r.groups[0]!.weight)}`;
  if (r.authenticated && r.outcome === 'too-few' && n > 0) {
    return `${n} nodes agree at epoch ${r.anchor.epoch} on ${r.groups[0]!.digest} with weight ${r.groups[0]!.weight} of ${r.totalWeight}, less than the quorum ${r.rule.spec} = ${r.rule.required}`;
  }
  if (n === 0) return `no countable report at epoch ${r.anchor.epoch}`;
  if (n === 1) return `only 1 comparable report at epoch ${r.anchor.epoch} (${nodeLabel(r.compared[0]!)}); at least 2 are needed`;
  if (r.rule.kind === 'quorum' && n < r.rule.required) {
    return `${n} nodes agree at epoch ${r.anchor.epoch} on ${r.groups[0]!.digest}, fewer than the quorum of ${r.rule.required}`;
  }
  return `${n} comparable reports at epoch ${r.anchor.epoch}`;
}

/** The weight of a group under a trust set, as a clause: " (weight 5 of 7)". */
function weightClause(r: CompareResult, weight: number): string {
  return r.authenticated ? ` (weight ${weight} of ${r.totalWeight}, quorum ${r.rule.spec} = ${r.rule.required})` : '';
}

/** Inputs not compared, as a trailing clause of the verdict line. */
function notComparedClause(r: CompareResult): string {
  const parts: string[] = [];
  if (r.rejected.length > 0) parts.push(plural(r.rejected.length, 'rejected report'));
  if (r.inconsistent.length > 0) parts.push(plural(r.inconsistent.reduce((n, i) => n + i.reports.length, 0), 'inconsistent report'));
  if (r.conflicting.length > 0) parts.push(plural(r.conflicting.reduce((n, i) => n + i.reports.length, 0), 'conflicting report'));
  if (r.incomparable.length > 0) parts.push(plural(r.incomparable.length, 'incomparable report'));
  const corrupt = r.failures.filter((f) => f.kind === 'corrupt').length;
  const missing = r.failures.filter((f) => f.kind === 'missing').length;
  const unreadable = r.failures.filter((f) => f.kind === 'unreadable').length;
  if (corrupt > 0) parts.push(plural(corrupt, 'corrupt report'));
  if (missing > 0) parts.push(plural(missing, 'missing report'));
  if (unreadable > 0) parts.push(plural(unreadable, 'unreadable report'));
  const newer = r.failures.filter((f) => f.kind === 'newer').length;
  if (newer > 0) parts.push(plural(newer, 'report of a newer snapshot-verify'));
  return parts.length === 0 ? '' : `; not compared: ${parts.join(', ')}`;
}

function incomparableWhy(r: CompareResult, i: CompareResult['incomparable'][number]): string {
  if (i.differences.length === 0) return 'no report at the requested epoch';
  return i.differences.map((d) => `${FIELD_WORDS[d.field]} ${d.value}${r.anchor === null ? '' : ` (compared: ${d.compared})`}`).join(', ');
}

/** The first line: the verdict and the one fact that decides it. */
export function verdictLine(r: CompareResult, verdict: Verdict = verdictOf(r)): string {
  const epoch = r.anchor?.epoch ?? '?';
  const n = r.compared.length;
  switch (verdict) {
    case 'AGREE':
      return `AGREE at epoch ${epoch}: all ${n} nodes agree on ${r.groups[0]!.digest}${weightClause(r, r.groups[0]!.weight)}`;
    case 'EQUIVOCATION': {
      const who = r.equivocations.map((e) => `${e.node} (key ${e.publicKey!.slice(0, 16)}…) signed ${e.reports.length} different reports`).join('; ');
      return `EQUIVOCATION at epoch ${epoch}: ${who}; not counted. ${r.authoritativeDigest === null ? `no quorum among the other ${n} nodes` : `the quorum agrees on ${r.authoritativeDigest}`}${notComparedClause(r)}`;
    }
    case 'DIVERGENCE': {
      const top = r.groups[0]!;
      if (r.authoritativeDigest !== null) {
        const rule = r.authenticated ? weightClause(r, top.weight) : r.rule.kind === 'quorum' ? ` (quorum ${r.rule.required})` : '';
        return `DIVERGENCE at epoch ${epoch}: ${top.nodes.length} of ${n} nodes${rule} agree on ${top.digest}; minority: ${list(r.minority)}${notComparedClause(r)}`;
      }
      const sizes = r.groups.map((g) => g.nodes.length).join(', ');
      const why = r.authenticated ? `no quorum (${r.rule.spec} of weight ${r.totalWeight} = ${r.rule.required})` : r.rule.kind === 'quorum' ? `no quorum of ${r.rule.required}` : 'no majority';
      return `DIVERGENCE at epoch ${epoch}: ${why} among ${n} nodes (${r.groups.length} digests, groups of ${sizes})${notComparedClause(r)}`;
    }
    case 'NEWER_REPORT': {
      const newer = r.failures.filter((f) => f.kind === 'newer');
      return `NEWER REPORT: ${newer.map((f) => f.file).join(', ')} written by a newer snapshot-verify; upgrade this one (the report is not damaged); ${comparedClause(r)}${notComparedClause({ ...r, failures: r.failures.filter((f) => f.kind !== 'newer') })}`;
    }
    case 'UNREADABLE':
    case 'CORRUPT_REPORT':
    case 'MISSING_REPORT': {
      const kind = verdict === 'UNREADABLE' ? 'unreadable' : verdict === 'CORRUPT_REPORT' ? 'corrupt' : 'missing';
      const word = verdict === 'UNREADABLE' ? 'UNREADABLE REPORT' : verdict === 'CORRUPT_REPORT' ? 'CORRUPT REPORT' : 'MISSING REPORT';
      const bad = r.failures.filter((f) => f.kind === kind);
      return `${word}: ${bad.map((f) => `${f.file} (${f.code})`).join(', ')}; ${comparedClause(r)}${notComparedClause({ ...r, failures: r.failures.filter((f) => f.kind !== kind) })}`;
    }
    case 'INCONSISTENT':
      return `INCONSISTENT REPORTS: ${r.inconsistent.map((i) => `${list(i.reports)} share digest ${i.digest} but differ in ${i.fields.join(', ')}`).join('; ')}; not counted; ${comparedClause(r)}${notComparedClause({ ...r, inconsistent: [] })}`;
    case 'CONFLICTING':
      return `CONFLICTING REPORTS: ${r.conflicting.map((c) => `${plural(c.reports.length, 'different report')} under the name ${c.node}`).join('; ')}; not counted; ${comparedClause(r)}${notComparedClause({ ...r, conflicting: [] })}`;
    case 'REJECTED':
      return `REJECTED: ${r.rejected.map((x) => `${nodeLabel(x)}: ${x.reason}`).join('; ')}; ${comparedClause(r)}${notComparedClause({ ...r, rejected: [] })}`;
    case 'INCOMPARABLE': {
      const shown = r.incomparable.slice(0, 3).map((i) => `${nodeLabel(i)}: ${incomparableWhy({ ...r, anchor: null }, i)}`);
      const more = r.incomparable.length > 3 ? `, and ${r.incomparable.length - 3} more` : '';
      return `INCOMPARABLE: ${plural(r.incomparable.length, 'report')} at another anchor (${shown.join('; ')}${more}); ${comparedClause(r)}`;
    }
    case 'TOO_FEW':
      return `TOO FEW REPORTS: ${comparedClause(r)}`;
  }
}

/**
 * Human output of `compare`: the verdict line first, then the details an operator acts on.
 * Pure: the same result always renders the same text.
 */
export function renderCompare(r: CompareResult, certificate?: CertificateOutcome): string {
  const lines = [verdictLine(r)];
  lines.push(
    r.authenticated
      ? `votes: signed, one per trusted key; trust set weight ${r.totalWeight}, quorum ${r.rule.spec} = weight ${r.rule.required}`
      : 'votes: unauthenticated (no --trust): one per node name; anyone can write any name (digest --sign-key and compare --trust make votes count only when signed)',
  );
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  if (r.anchor !== null) {
    const a = r.anchor;
    lines.push(`anchor: format ${a.formatVersion}, epoch ${a.epoch}, cursor ${a.cursor}, ${a.maxChunkBytes === '0' ? 'unchunked' : `chunks ≤ ${a.maxChunkBytes} B`}, tables ${a.tables || '(none)'}`);
  }
  if (r.groups.length > 0) {
    const rule = r.authenticated
      ? `quorum ${r.rule.spec}: weight at least ${r.rule.required} of ${r.totalWeight}`
      : r.rule.kind === 'quorum' ? `quorum: at least ${r.rule.required} nodes` : `majority: at least ${r.rule.required} of ${r.compared.length} nodes`;
    lines.push(r.compared.length < 2 && !r.authenticated ? 'compared:' : `groups by digest (${rule}${r.rule.reached ? '' : ', not reached'}; * = authoritative):`);
    for (const g of r.groups) {
      lines.push(`  ${g.authoritative ? '*' : ' '} ${g.digest}  ${plural(g.nodes.length, 'node')}${r.authenticated ? `, weight ${g.weight}` : ''}: ${list(g.nodes)}`);
    }
  }
  if (r.minority.length > 0) {
    lines.push('minority (differs from the authoritative group):');
    for (const m of r.minority) {
      lines.push(`  ${nodeLabel(m)}  digest ${m.digest}`);
      for (const t of m.tables) {
        lines.push(`    table ${t.name} (id ${t.id}): digest ${t.digest}, expected ${t.expected}; entries ${count(t.entries)}, expected ${count(t.expectedEntries)}`);
        if (t.ranges === undefined) lines.push('      ranges: not compared (run digest --ranges K with the same K on every node)');
        else for (const g of t.ranges) lines.push(`      range ${g.index} ${range(g.start, g.end)}: entries ${count(g.entries)}, expected ${count(g.expectedEntries)}`);
      }
    }
  }
  if (r.authoritativeDigest === null && r.tables.length > 0) {
    lines.push('tables whose digests differ:');
    for (const t of r.tables) {
      lines.push(`  table ${t.name} (id ${t.id}):`);
      for (const g of t.groups) lines.push(`    ${g.digest}  entries ${count(g.entries)}: ${list(g.nodes)}`);
      for (const rg of t.ranges) {
        lines.push(`    range ${rg.index} ${range(rg.start, rg.end)}: ${rg.groups.map((g) => `${g.digest} (${list(g.nodes)})`).join(' vs ')}`);
      }
      if (t.rangesPerTable === 0) lines.push('    ranges: not compared (run digest --ranges K with the same K on every node)');
    }
  }
  if (r.incomparable.length > 0) {
    lines.push('incomparable (different anchor, not compared):');
    for (const i of r.incomparable) lines.push(`  ${nodeLabel(i)}: ${incomparableWhy(r, i)}`);
    for (const s of r.anchorSplits) {
      lines.push(`  ${FIELD_WORDS[s.field]}: ${s.values.map((v) => `${v.value} on ${v.nodes.map((x) => x.node).join(', ')}`).join('; ')}`);
    }
  }
  if (r.equivocations.length > 0) {
    lines.push('equivocation (one trusted key, different signed reports for one anchor; none counted):');
    for (const e of r.equivocations) {
      lines.push(`  ${e.node}, key ${e.publicKey}:`);
      for (const x of e.reports) lines.push(`    ${x.digest}  ${x.file}`);
    }
  }
  if (r.rejected.length > 0) {
    lines.push('rejected (not counted):');
    for (const x of r.rejected) lines.push(`  ${nodeLabel(x)}: ${x.reason}: ${x.detail}`);
  }
  if (r.inconsistent.length > 0) {
    lines.push('inconsistent (one snapshot digest, different contents: edited or damaged; none counted):');
    for (const i of r.inconsistent) lines.push(`  ${i.digest}: ${list(i.reports)}; differ in ${i.fields.join(', ')}`);
  }
  if (r.conflicting.length > 0) {
    lines.push('conflicting (different reports under one node name; none counted):');
    for (const c of r.conflicting) lines.push(`  ${c.node}: ${c.reports.map((x) => `${x.digest} (${x.file})`).join(', ')}`);
  }
  if (r.duplicates.length > 0) {
    lines.push('duplicates (identical reports of one node, counted once):');
    for (const d of r.duplicates) lines.push(`  ${d.node}: counted ${d.counted.file}; copies ${d.copies.map((x) => x.file).join(', ')}`);
  }
  if (r.failures.length > 0) {
    lines.push('not compared (cannot be read or not a valid report):');
    for (const f of r.failures) lines.push(`  ${f.file}: ${f.code}${f.offset === null ? '' : ` at offset ${f.offset}`}: ${f.message}`);
  }
  if (certificate !== undefined) {
    lines.push(certificate.written ? `certificate: ${certificate.path}${certificate.existing === true ? ' (already there, identical)' : ''}, signed by ${certificate.signers.join(', ')}` : `certificate: not written (${certificate.reason})`);
  }
  // Names are data: a control character in one never prints as a fake line or an escape sequence.
  return `${lines.map(escapeText).join('\n')}\n`;
}
