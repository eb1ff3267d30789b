import { describe, expect, it } from 'vitest';
import { SnapshotError } from '../../src/format/errors.js';
import { buildReport, digestSource } from '../../src/report/digest-source.js';
import { jsonDocuments, reportValues, validateReport } from '../../src/report/validate.js';
import type { Entry, Source } from '../../src/sources/source.js';

function memorySource(tables: Record<string, [string, string][]>): Source {
  return {
    kind: 'memory',
    async listTables() {
      return Object.keys(tables).sort().map((name) => ({ name }));
    },
    async *entries(table: string): AsyncGenerator<readonly Entry[]> {
      yield (tables[table] ?? []).map(([k, v]) => ({ key: Buffer.from(k), value: Buffer.from(v) }));
    },
    async close() {},
  };
}

/** A report exactly as `digest --json` builds it, from the real pipeline. */
async function realReport(ranges = 0): Promise<Record<string, unknown>> {
  const source = memorySource({ a: [['k1', 'v1'], ['k2', 'v2']], b: [] });
  const anchor = { epoch: 7n, cursor: { index: 100n }, maxChunkBytes: 0n, tables: [{ id: 0, name: 'a' }, { id: 1, name: 'b' }] };
  const { summary, ranges: rd } = await digestSource(source, { anchor, ranges });
  const r = buildReport(summary, rd, ranges, { name: 'n1', source: '/x', sourceKind: 'memory', startedAt: '', durationMs: 1, toolVersion: '0' });
  return JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
}

function badReport(value: unknown): SnapshotError {
  try {
    validateReport(value, 'r.json');
  } catch (e) {
    expect(e).toBeInstanceOf(SnapshotError);
    return e as SnapshotError;
  }
  throw new Error('expected BAD_REPORT');
}

describe('report validation (schema version 1)', () => {
  it('a report of a real digest run is valid, with and without ranges', async () => {
    expect(validateReport(await realReport(), 'r.json').node.name).toBe('n1');
    expect(validateReport(await realReport(4), 'r.json').rangesPerTable).toBe(4);
  });

  it('unknown extra fields are allowed', async () => {
    const r = { ...(await realReport()), later: { x: 1 } };
    expect(() => validateReport(r, 'r.json')).not.toThrow();
  });

  const mutations: [string, (r: Record<string, unknown>) => unknown][] = [
    ['a schema version that never existed (0)', (r) => ({ ...r, schemaVersion: 0 })],
    ['a schema version that is not an integer', (r) => ({ ...r, schemaVersion: '2' })],
    ['an anchorDigest that is not 16 hex digits', (r) => ({ ...r, anchorDigest: 'xyz' })],
    ['no schema version', (r) => ({ ...r, schemaVersion: undefined })],
    ['an epoch that is a number', (r) => ({ ...r, epoch: 7 })],
    ['an epoch beyond u64', (r) => ({ ...r, epoch: '18446744073709551616' })],
    ['a digest in upper case', (r) => ({ ...r, digest: String(r['digest']).toUpperCase() })],
    ['a snapshot digest that is not the last chunk digest', (r) => ({ ...r, digest: 'ffffffffffffffff' })],
    ['table entries that do not add up', (r) => ({ ...r, entries: '3' })],
    ['table ids not ascending', (r) => ({ ...r, tables: [...(r['tables'] as unknown[])].reverse() })],
    ['no node name', (r) => ({ ...r, node: { source: '/x' } })],
    ['no tables', (r) => ({ ...r, tables: undefined })],
    ['a JSON array where an object belongs', () => [[]]],
    ['a string', () => 'report'],
    ['the error document of a failed digest', () => ({ error: { code: 'BAD_DUMP', message: 'm', file: null, offset: null } })],
    ['an empty object', () => ({})],
    ['a node name with an unpaired surrogate (no statement could encode it)', (r) => ({ ...r, node: { ...(r['node'] as object), name: 'a\ud800' } })],
    ['a node name over 1,024 UTF-8 bytes', (r) => ({ ...r, node: { ...(r['node'] as object), name: 'é'.repeat(513) } })],
    ['a table name over 255 UTF-8 bytes', (r) => ({ ...r, tables: (r['tables'] as object[]).map((t, i) => (i === 0 ? { ...t, name: 'x'.repeat(256) } : t)) })],
    ['a signature without a value', (r) => ({ ...r, signature: { scheme: 'ed25519', statementVersion: 1, publicKey: '00'.repeat(32) } })],
    ['a signature key of the wrong length', (r) => ({ ...r, signature: { scheme: 'ed25519', statementVersion: 1, publicKey: '00'.repeat(31), value: '00'.repeat(64) } })],
  ];
  for (const [what, mutate] of mutations) {
    it(`rejects ${what} as BAD_REPORT naming the file`, async () => {
      const e = badReport(mutate(await realReport()));
      expect(e.code).toBe('BAD_REPORT');
      expect(e.file).toBe('r.json');
    });
  }

  it('a report of a newer schema is NEWER_REPORT ("upgrade"), not BAD_REPORT ("corrupt, re-copy")', async () => {
    const e = badReport({ ...(await realReport()), schemaVersion: 2, somethingNew: {} });
    expect(e.code).toBe('NEWER_REPORT');
    expect(e.message).toContain('written by a newer snapshot-verify (schema 2)');
    expect(e.message).toContain('upgrade');
  });

  it('rejects a range list shorter than rangesPerTable', async () => {
    const r = await realReport(4);
    const tables = (r['tables'] as Record<string, unknown>[]).map((t) => ({ ...t, ranges: (t['ranges'] as unknown[]).slice(1) }));
    expect(badReport({ ...r, tables }).code).toBe('BAD_REPORT');
  });
});

describe('report texts: one, several concatenated, or an array', () => {
  it('an empty array holds no report: BAD_REPORT at its offset', () => {
    expect(() => reportValues('  []', 'f')).toThrow(expect.objectContaining({ code: 'BAD_REPORT', offset: 2 }));
  });

  it('finds concatenated documents with or without whitespace between them', () => {
    expect(reportValues('{"a":1}{"b":"}{"}\n\n[{"c":2},{"d":3}]', 'f')).toEqual([{ a: 1 }, { b: '}{' }, { c: 2 }, { d: 3 }]);
  });

  it('a truncated document fails at its start offset, after the documents before it', () => {
    const text = '{"a":1}\n{"b":[1,2';
    const docs: unknown[] = [];
    let error: unknown;
    try {
      for (const d of jsonDocuments(text, 'f')) docs.push(d.text);
    } catch (e) {
      error = e;
    }
    expect(docs).toEqual(['{"a":1}']);
    expect(error).toBeInstanceOf(SnapshotError);
    expect((error as SnapshotError).code).toBe('BAD_REPORT');
    expect((error as SnapshotError).offset).toBe(8);
  });

  it('text that is not JSON is BAD_REPORT at its offset', () => {
    expect(() => reportValues('  epoch 12 digest abc', 'f')).toThrow(expect.objectContaining({ code: 'BAD_REPORT', offset: 2 }));
    expect(() => reportValues('{"a":1,}', 'f')).toThrow(expect.objectContaining({ code: 'BAD_REPORT', offset: 7 }));
  });

  it('deep nesting does not overflow the stack while splitting', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect([...jsonDocuments(deep, 'f')]).toHaveLength(1);
  });
});
