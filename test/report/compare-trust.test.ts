import { describe, expect, it } from 'vitest';
import { compareReports, verdictOf, type LoadedReport } from '../../src/report/compare.js';
import { generateKeyPair, parsePrivateKey } from '../../src/report/identity/keys.js';
import { parseQuorum } from '../../src/report/identity/quorum.js';
import { signReport } from '../../src/report/identity/signature.js';
import { trustSet } from '../../src/report/identity/trust-set.js';
import type { DigestReport } from '../../src/report/schema.js';

/** compare with a trust set, in process: weights, quorum fractions of the total, one vote per key. */

const D = (n: number): string => n.toString(16).padStart(16, '0');
const keys = Object.fromEntries(['a', 'b', 'c', 'd'].map((n) => [n, generateKeyPair()]));
const trust = trustSet([
  { name: 'a', publicKey: keys['a']!.publicKey, weight: 5 },
  { name: 'b', publicKey: keys['b']!.publicKey, weight: 1 },
  { name: 'c', publicKey: keys['c']!.publicKey, weight: 1 },
  { name: 'd', publicKey: keys['d']!.publicKey, weight: 1 },
], 'test');

function signed(node: string, digest: number, epoch = '12', file = `${node}.json`, key = node): LoadedReport {
  const d = D(digest);
  const r: DigestReport = {
    schemaVersion: 1, formatVersion: 1, epoch, cursor: { index: '0', eventIdHex: '' }, maxChunkBytes: '0', rangesPerTable: 0,
    digest: d, entries: '1', bytes: '2', tables: [{ id: 0, name: 't', entries: '1', bytes: '2', digest: D(digest + 1000) }],
    chunks: [{ index: 0, bytes: 50, digest: d }],
    node: { name: node, source: '', sourceKind: 'dump', startedAt: '', durationMs: 0, toolVersion: '0' },
  };
  return { file, report: signReport(r, parsePrivateKey(keys[key]!.privateKeyPem, 'k')) };
}

describe('compare --trust (weights)', () => {
  it('one node holding more than half of the total weight is a quorum alone; three light nodes are not', () => {
    const r = compareReports([signed('a', 1), signed('b', 2), signed('c', 2), signed('d', 2)], [], { trust });
    expect(r.authoritativeDigest).toBe(D(1));
    expect(r.groups.map((g) => [g.weight, g.authoritative])).toEqual([[5, true], [3, false]]);
    expect(r.minority.map((m) => m.node)).toEqual(['b', 'c', 'd']);
  });

  it('absent members count against a fraction of the total: b, c, d agreeing are 3 of 8, too few', () => {
    const r = compareReports([signed('b', 2), signed('c', 2), signed('d', 2)], [], { trust });
    expect(verdictOf(r)).toBe('TOO_FEW');
    expect(r.rule).toMatchObject({ spec: '>1/2', required: 5, reached: false });
  });

  it('--quorum >2/3 of 8 needs 6: a (5) alone is not enough, a with b is', () => {
    const q = parseQuorum('>2/3');
    expect(compareReports([signed('a', 1), signed('c', 2)], [], { trust, quorum: q }).authoritativeDigest).toBeNull();
    expect(compareReports([signed('a', 1), signed('b', 1), signed('c', 2)], [], { trust, quorum: q }).authoritativeDigest).toBe(D(1));
  });

  it('one key, two different reports for one anchor: equivocation, neither counted; at another epoch: not', () => {
    const r = compareReports([signed('a', 1), signed('a', 2, '12', 'a2.json'), signed('b', 1), signed('c', 1)], [], { trust });
    expect(verdictOf(r)).toBe('EQUIVOCATION');
    expect(r.equivocations.map((e) => [e.node, e.publicKey, e.reports.map((x) => x.file)])).toEqual([['a', keys['a']!.publicKey, ['a.json', 'a2.json']]]);
    expect(r.compared.map((c) => c.node)).toEqual(['b', 'c']);
    const later = compareReports([signed('a', 1), signed('a', 2, '13', 'a13.json'), signed('b', 1)], [], { trust });
    expect(later.equivocations).toEqual([]);
  });

  it('the heaviest anchor group is compared: a at epoch 13 outweighs b and c at epoch 12', () => {
    const r = compareReports([signed('b', 1), signed('c', 1), signed('a', 1, '13')], [], { trust });
    expect(r.anchor?.epoch).toBe('13');
  });

  it('the certifiable statements are exactly the authoritative group\'s', () => {
    const r = compareReports([signed('a', 1), signed('b', 1), signed('c', 2)], [], { trust });
    expect(r.certifiable.map((s) => s.statement.node)).toEqual(['a', 'b']);
    expect(r.certifiable.map((s) => s.weight)).toEqual([5, 1]);
  });
});
