import { describe, expect, it } from 'vitest';
import { compareReports, verdictOf, type LoadedReport } from '../../src/report/compare.js';
import type { DigestReport, TableReport } from '../../src/report/schema.js';

/**
 * Reports built by hand: the comparison only groups and matches digest strings, so any distinct
 * 16-hex strings stand for distinct contents (relations, not values, are under test).
 */
const D = (n: number): string => n.toString(16).padStart(16, '0');

interface Spec {
  node: string;
  digest?: number;
  epoch?: string;
  tables?: { name: string; id?: number; digest: number; ranges?: number[] }[];
  maxChunkBytes?: string;
  cursor?: string;
}

function report(s: Spec): LoadedReport {
  const tables: TableReport[] = (s.tables ?? [{ name: 'blobs', digest: 1 }, { name: 'objects', digest: 2 }]).map((t, i) => ({
    id: t.id ?? i,
    name: t.name,
    entries: String(t.ranges?.length ?? 1),
    bytes: '10',
    digest: D(t.digest),
    ...(t.ranges !== undefined
      ? { ranges: t.ranges.map((d, j, all) => ({ index: j, start: (j * 0x10).toString(16).padStart(8, '0'), end: j + 1 < all.length ? ((j + 1) * 0x10).toString(16).padStart(8, '0') : '', entries: '1', digest: D(d) })) }
      : {}),
  }));
  const digest = D(s.digest ?? 100);
  const r: DigestReport = {
    schemaVersion: 1,
    formatVersion: 1,
    epoch: s.epoch ?? '12',
    cursor: { index: s.cursor ?? '0', eventIdHex: '' },
    maxChunkBytes: s.maxChunkBytes ?? '0',
    rangesPerTable: tables[0]?.ranges?.length ?? 0,
    digest,
    entries: '2',
    bytes: '20',
    tables,
    chunks: [{ index: 0, bytes: 100, digest }],
    node: { name: s.node, source: '/x', sourceKind: 'dump', startedAt: '', durationMs: 0, toolVersion: '0' },
  };
  return { file: `reports/${s.node}.json`, report: r };
}

describe('compare: grouping by digest', () => {
  it('every node with the same digest at one anchor agrees', () => {
    const r = compareReports(['a', 'b', 'c'].map((node) => report({ node })));
    expect(r.outcome).toBe('agree');
    expect(verdictOf(r)).toBe('AGREE');
    expect(r.groups).toHaveLength(1);
    expect(r.minority).toEqual([]);
  });

  it('the strict majority is authoritative and the others are the minority, with the table that differs', () => {
    const nodes = ['n1', 'n2', 'n3', 'n4'].map((node) => report({ node }));
    nodes.push(report({ node: 'n5', digest: 200, tables: [{ name: 'blobs', digest: 1 }, { name: 'objects', digest: 9 }] }));
    const r = compareReports(nodes);
    expect(verdictOf(r)).toBe('DIVERGENCE');
    expect(r.authoritativeDigest).toBe(D(100));
    expect(r.minority.map((m) => m.node)).toEqual(['n5']);
    expect(r.minority[0]!.file).toBe('reports/n5.json');
    expect(r.minority[0]!.tables.map((t) => t.name)).toEqual(['objects']);
    expect(r.tables.map((t) => t.name)).toEqual(['objects']);
  });

  it('a tie has no majority and names no minority', () => {
    const r = compareReports([report({ node: 'a' }), report({ node: 'b' }), report({ node: 'c', digest: 2 }), report({ node: 'd', digest: 2 })]);
    expect(r.outcome).toBe('divergence');
    expect(r.authoritativeDigest).toBeNull();
    expect(r.rule).toEqual({ kind: 'majority', spec: '>1/2', required: 3, reached: false });
    expect(r.minority).toEqual([]);
  });

  it('--quorum N: a group of at least N nodes is authoritative even without a majority', () => {
    const nodes = [report({ node: 'a' }), report({ node: 'b' }), report({ node: 'c', digest: 2 }), report({ node: 'd', digest: 3 })];
    expect(compareReports(nodes, [], { quorum: 2 }).authoritativeDigest).toBe(D(100));
    const none = compareReports(nodes, [], { quorum: 3 });
    expect(none.rule.reached).toBe(false);
    expect(none.minority).toEqual([]);
  });

  it('fewer comparable nodes than the quorum, all agreeing, is too few (not agreement)', () => {
    const r = compareReports([report({ node: 'a' }), report({ node: 'b' })], [], { quorum: 3 });
    expect(r.outcome).toBe('too-few');
    expect(verdictOf(r)).toBe('TOO_FEW');
  });

  it('one report is too few to compare', () => {
    expect(verdictOf(compareReports([report({ node: 'a' })]))).toBe('TOO_FEW');
    expect(verdictOf(compareReports([]))).toBe('TOO_FEW');
  });
});

describe('compare: anchors', () => {
  it('a report at another epoch is incomparable, named with the field, and the rest are still compared', () => {
    const r = compareReports([report({ node: 'a' }), report({ node: 'b' }), report({ node: 'c' }), report({ node: 'late', epoch: '13', digest: 7 })]);
    expect(r.outcome).toBe('agree');
    expect(verdictOf(r)).toBe('INCOMPARABLE');
    expect(r.incomparable).toEqual([{ node: 'late', file: 'reports/late.json', differences: [{ field: 'epoch', value: '13', compared: '12' }] }]);
    expect(r.anchorSplits).toEqual([{ field: 'epoch', values: [{ value: '12', nodes: expect.any(Array) }, { value: '13', nodes: [{ node: 'late', file: 'reports/late.json' }] }] }]);
  });

  it('different table sets, chunk sizes and cursors are anchor differences, never mismatches', () => {
    const r = compareReports([
      report({ node: 'a' }),
      report({ node: 'b' }),
      report({ node: 'c', tables: [{ name: 'blobs', digest: 1 }] }),
      report({ node: 'd', maxChunkBytes: '1048576' }),
      report({ node: 'e', cursor: '5' }),
    ]);
    expect(r.outcome).toBe('agree');
    expect(r.incomparable.map((i) => [i.node, i.differences.map((d) => d.field)])).toEqual([
      ['c', ['tables']],
      ['d', ['maxChunkBytes']],
      ['e', ['cursor']],
    ]);
  });

  it('table ids are part of the anchor', () => {
    const r = compareReports([report({ node: 'a' }), report({ node: 'b' }), report({ node: 'c', tables: [{ name: 'blobs', id: 5, digest: 1 }, { name: 'objects', id: 6, digest: 2 }] })]);
    expect(r.incomparable.map((i) => i.differences[0]!.field)).toEqual(['tables']);
  });

  it('on a tie between anchor groups the higher epoch is compared', () => {
    const r = compareReports([report({ node: 'a', epoch: '12' }), report({ node: 'b', epoch: '13' })]);
    expect(r.anchor?.epoch).toBe('13');
    expect(r.incomparable.map((i) => i.node)).toEqual(['a']);
  });

  it('--epoch chooses the epoch compared even when another has more reports', () => {
    const r = compareReports([report({ node: 'a' }), report({ node: 'b' }), report({ node: 'c' }), report({ node: 'x', epoch: '11' }), report({ node: 'y', epoch: '11', digest: 5 })], [], { epoch: '11' });
    expect(r.anchor?.epoch).toBe('11');
    expect(r.outcome).toBe('divergence');
    expect(r.incomparable.map((i) => i.node)).toEqual(['a', 'b', 'c']);
  });

  it('--epoch with no report at that epoch compares nothing and names every report', () => {
    const r = compareReports([report({ node: 'a' }), report({ node: 'b' })], [], { epoch: '99' });
    expect(r.anchor).toBeNull();
    expect(r.incomparable.map((i) => i.differences)).toEqual([[{ field: 'epoch', value: '12', compared: '99' }], [{ field: 'epoch', value: '12', compared: '99' }]]);
  });
});

describe('compare: key ranges', () => {
  const t = (objRanges: number[], objDigest: number) => [
    { name: 'blobs', digest: 1, ranges: [1, 2, 3, 4] },
    { name: 'objects', digest: objDigest, ranges: objRanges },
  ];

  it('names the ranges whose digests differ, for the minority node and per table', () => {
    const r = compareReports([
      report({ node: 'a', tables: t([5, 6, 7, 8], 2) }),
      report({ node: 'b', tables: t([5, 6, 7, 8], 2) }),
      report({ node: 'c', tables: t([5, 6, 7, 8], 2) }),
      report({ node: 'odd', digest: 3, tables: t([5, 6, 70, 8], 9) }),
    ]);
    expect(r.minority[0]!.tables[0]!.ranges?.map((g) => g.index)).toEqual([2]);
    expect(r.tables[0]!.rangesPerTable).toBe(4);
    expect(r.tables[0]!.ranges.map((g) => [g.index, g.groups.map((x) => x.nodes.length)])).toEqual([[2, [3, 1]]]);
  });

  it('ranges are not compared when the reports hold different numbers of ranges', () => {
    const r = compareReports([
      report({ node: 'a', tables: t([5, 6, 7, 8], 2) }),
      report({ node: 'b', tables: t([5, 6, 7, 8], 2) }),
      report({ node: 'odd', digest: 3, tables: [{ name: 'blobs', digest: 1, ranges: [1, 2] }, { name: 'objects', digest: 9, ranges: [5, 6] }] }),
    ]);
    expect(r.minority[0]!.tables[0]!.ranges).toBeUndefined();
    expect(r.tables[0]!.nodesWithoutRanges.map((n) => n.node)).toEqual(['odd']);
  });
});

describe('compare: verdict precedence', () => {
  const corrupt = { file: 'bad.json', kind: 'corrupt' as const, code: 'BAD_REPORT', message: 'x', offset: 0 };
  it('a divergence is never hidden by a corrupt report', () => {
    const r = compareReports([report({ node: 'a' }), report({ node: 'b' }), report({ node: 'c', digest: 5 })], [corrupt]);
    expect(verdictOf(r)).toBe('DIVERGENCE');
  });
  it('a corrupt report outranks agreement and incomparable reports', () => {
    const r = compareReports([report({ node: 'a' }), report({ node: 'b' }), report({ node: 'c', epoch: '1' })], [corrupt]);
    expect(verdictOf(r)).toBe('CORRUPT_REPORT');
  });
  it('an unreadable report outranks a corrupt one; a missing one ranks below', () => {
    const unreadable = { ...corrupt, file: 'u.json', kind: 'unreadable' as const, code: 'IO_ERROR' };
    const missing = { ...corrupt, file: 'm.json', kind: 'missing' as const, code: 'NOT_FOUND' };
    expect(verdictOf(compareReports([report({ node: 'a' }), report({ node: 'b' })], [corrupt, unreadable]))).toBe('UNREADABLE');
    expect(verdictOf(compareReports([report({ node: 'a' }), report({ node: 'b' })], [missing]))).toBe('MISSING_REPORT');
  });
});

describe('catalog anchors', () => {
  it('a table name holding a separator never makes two different catalogs look alike', async () => {
    const { anchorOf } = await import('../../src/report/compare.js');
    const base = { schemaVersion: 1, formatVersion: 1, epoch: '1', cursor: { index: '0', eventIdHex: '' }, maxChunkBytes: '0' };
    const one = anchorOf({ ...base, tables: [{ id: 1, name: 'a,2=b' }] } as never);
    const two = anchorOf({ ...base, tables: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }] } as never);
    expect(one.tables).not.toBe(two.tables);
    expect(two.tables).toBe('1=a,2=b');
  });
});

describe('compare: one vote per node, and reports that contradict themselves', () => {
  it('reports with one snapshot digest but different table digests are inconsistent: none counted, never AGREE', () => {
    const r = compareReports([report({ node: 'a' }), report({ node: 'b' }), report({ node: 'c', tables: [{ name: 'blobs', digest: 1 }, { name: 'objects', digest: 9 }] })]);
    expect(verdictOf(r)).toBe('INCONSISTENT');
    expect(r.inconsistent).toEqual([{ digest: D(100), reports: ['a', 'b', 'c'].map((n) => ({ node: n, file: `reports/${n}.json` })), fields: ['table objects'] }]);
    expect(r.compared).toEqual([]);
  });

  it('range digests that differ at the same K under one snapshot digest are inconsistent; a different K is not', () => {
    const x = compareReports([report({ node: 'a', tables: [{ name: 't', digest: 1, ranges: [5, 6] }] }), report({ node: 'b', tables: [{ name: 't', digest: 1, ranges: [5, 7] }] })]);
    expect(x.inconsistent[0]!.fields).toEqual(['ranges of table t']);
    const b = report({ node: 'b', tables: [{ name: 't', digest: 1, ranges: [5, 6, 7] }] });
    const sameCounts = { ...b, report: { ...b.report, tables: [{ ...b.report.tables[0]!, entries: '2' }] } };
    const y = compareReports([report({ node: 'a', tables: [{ name: 't', digest: 1, ranges: [5, 6] }] }), sameCounts]);
    expect(verdictOf(y)).toBe('AGREE');
  });

  it('an inconsistent group does not hide a divergence among the others', () => {
    const r = compareReports([
      report({ node: 'a' }),
      report({ node: 'b', tables: [{ name: 'blobs', digest: 1 }, { name: 'objects', digest: 9 }] }),
      report({ node: 'c', digest: 200 }),
      report({ node: 'd', digest: 300 }),
    ]);
    expect(verdictOf(r)).toBe('DIVERGENCE');
    expect(r.inconsistent).toHaveLength(1);
  });

  it('identical reports under one name count once and are named as duplicates', () => {
    const a = report({ node: 'a' });
    const copy = { file: 'copy/a.json', report: { ...a.report, node: { ...a.report.node, startedAt: 'later' } } };
    const r = compareReports([a, copy, report({ node: 'b', digest: 2 })]);
    expect(r.duplicates).toEqual([{ node: 'a', counted: { node: 'a', file: 'reports/a.json' }, copies: [{ node: 'a', file: 'copy/a.json' }] }]);
    // a (once) against b: no majority; the copy would have made one.
    expect(r.authoritativeDigest).toBeNull();
  });

  it('different reports under one name at one anchor conflict: neither counted (exit class 3)', () => {
    const r = compareReports([report({ node: 'a' }), { ...report({ node: 'a', digest: 2 }), file: 'other/a.json' }, report({ node: 'b' }), report({ node: 'c' })]);
    expect(verdictOf(r)).toBe('CONFLICTING');
    expect(r.conflicting).toEqual([{ node: 'a', publicKey: null, reports: [{ node: 'a', file: 'reports/a.json', digest: D(100) }, { node: 'a', file: 'other/a.json', digest: D(2) }] }]);
    expect(r.compared.map((c) => c.node)).toEqual(['b', 'c']);
  });

  it('one name at two epochs is not a conflict (the other epoch is incomparable)', () => {
    const r = compareReports([report({ node: 'a' }), report({ node: 'b' }), { ...report({ node: 'a', epoch: '13', digest: 5 }), file: 'old/a.json' }]);
    expect(r.conflicting).toEqual([]);
    expect(verdictOf(r)).toBe('INCOMPARABLE');
  });

  it('every report carrying the same node name gets a warning (nobody passed --node)', () => {
    const r = compareReports([report({ node: 'vm' }), { ...report({ node: 'vm', digest: 2 }), file: 'b.json' }]);
    expect(r.warnings).toEqual(['all 2 reports carry the node name "vm": give each node its own name with digest --node NAME']);
    expect(compareReports([report({ node: 'a' }), report({ node: 'b' })]).warnings).toEqual([]);
  });

  it('quorum fractions without a trust set are of the compared nodes', () => {
    const nodes = [report({ node: 'a' }), report({ node: 'b' }), report({ node: 'c', digest: 2 })];
    expect(compareReports(nodes, [], { quorum: { kind: 'fraction', numerator: 2, denominator: 3, strict: false } }).authoritativeDigest).toBe(D(100));
    expect(compareReports(nodes, [], { quorum: { kind: 'fraction', numerator: 2, denominator: 3, strict: true } }).authoritativeDigest).toBeNull();
  });
});
