import { SnapshotError } from '../../format/errors.js';

/**
 * Quorum rules: `N` (a weight of at least N) or a fraction of the total weight, `P/Q` (at least)
 * or `>P/Q` (strictly more, as BFT systems count: more than 2/3). Weights are integers, so the
 * required weight is an integer computed exactly.
 */
export type QuorumRule =
  | { readonly kind: 'count'; readonly count: number }
  | { readonly kind: 'fraction'; readonly numerator: number; readonly denominator: number; readonly strict: boolean };

/** Parses `--quorum`: `3`, `2/3`, `>2/3`. INVALID_ARGUMENT names the flag and the expected forms. */
export function parseQuorum(text: string, flag = '--quorum'): QuorumRule {
  const t = text.trim();
  const bad = (): never => {
    throw new SnapshotError('INVALID_ARGUMENT', `${flag} expects a positive integer (3), a fraction of the total weight (2/3) or more than a fraction (>2/3), got ${JSON.stringify(text)}`);
  };
  if (/^[1-9]\d{0,14}$/.test(t)) return { kind: 'count', count: Number(t) };
  const m = /^(>?)\s*([1-9]\d{0,5})\s*\/\s*([1-9]\d{0,5})$/.exec(t);
  if (m === null) return bad();
  const numerator = Number(m[2]);
  const denominator = Number(m[3]);
  if (numerator > denominator || (m[1] === '>' && numerator === denominator)) {
    throw new SnapshotError('INVALID_ARGUMENT', `${flag} ${text}: a fraction of the total weight must be at most 1 (and below 1 with ">")`);
  }
  return { kind: 'fraction', numerator, denominator, strict: m[1] === '>' };
}

/** The least total weight that satisfies the rule, out of `total`. */
export function requiredWeight(rule: QuorumRule, total: number): number {
  if (rule.kind === 'count') return rule.count;
  const product = BigInt(rule.numerator) * BigInt(total);
  const d = BigInt(rule.denominator);
  // weight/total >= P/Q  ⇔  weight·Q >= P·total;  weight/total > P/Q  ⇔  weight·Q > P·total.
  const required = rule.strict ? product / d + 1n : (product + d - 1n) / d;
  return Number(required);
}

/** The rule as typed: `3`, `2/3`, `>2/3`. */
export function formatQuorum(rule: QuorumRule): string {
  return rule.kind === 'count' ? String(rule.count) : `${rule.strict ? '>' : ''}${rule.numerator}/${rule.denominator}`;
}

/** The default rule: more than half of the total weight. */
export const MAJORITY: QuorumRule = { kind: 'fraction', numerator: 1, denominator: 2, strict: true };
