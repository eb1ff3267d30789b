import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packEntries, type PackedEntries } from '../../src/format/packed.js';
import { byteRange, diffSources, prefixRange, type KeyDifference } from '../../src/report/diff.js';
import type { Entry, Source } from '../../src/sources/source.js';

type Table = [Uint8Array, Uint8Array][];

/** An in-memory source yielding each (sorted) table in batches of `batch` entries. */
function source(tables: Record<string, Table>, batch = 3): Source & { opened: string[] } {
  const opened: string[] = [];
  return {
    kind: 'memory',
    opened,
    async listTables() {
      return Object.keys(tables).sort().map((name) => ({ name }));
    },
    async *entries(table: string): AsyncGenerator<readonly Entry[]> {
      opened.push(table);
      const rows = [...(tables[table] ?? [])].sort((x, y) => Buffer.compare(x[0], y[0]));
      for (let i = 0; i < rows.length; i += batch) yield rows.slice(i, i + batch).map(([key, value]) => ({ key, value }));
    },
    async close() {},
  };
}

/**
 * The same source offering packed batches too (as snapshot and RocksDB sources do). Like a real
 * source, it reuses one buffer: a batch is overwritten (with 0xee) when the next is asked for, so
 * a diff that kept a view past its batch would see garbage.
 */
function packedSource(tables: Record<string, Table>, batch = 3): Source & { opened: string[] } {
  const s = source(tables, batch);
  return {
    ...s,
    async *packedEntries(table: string): AsyncGenerator<PackedEntries> {
      let shared = new Uint8Array(0);
      for await (const entries of s.entries(table)) {
        const p = packEntries(entries);
        shared.fill(0xee);
        if (shared.length < p.bytes.length) shared = new Uint8Array(p.bytes.length * 2);
        shared.set(p.bytes);
        yield { bytes: shared.subarray(0, p.bytes.length), count: p.count };
      }
      shared.fill(0xee);
    },
  };
}

const b = (s: string): Uint8Array => Buffer.from(s);
const hex = (s: string): string => Buffer.from(s).toString('hex');

describe('diff: merging two sorted tables', () => {
  it('identical tables are identical whatever the batch sizes', async () => {
    const t: Table = [[b('a'), b('1')], [b('b'), b('2')], [b('c'), b('3')], [b('d'), b('4')]];
    const r = await diffSources(source({ x: t }, 1), source({ x: t }, 3));
    expect(r.identical).toBe(true);
    expect(r.totalDifferences).toBe('0');
    expect(r.first).toBeNull();
    expect(r.tables).toEqual([{ name: 'x', presence: 'both', entriesA: '4', entriesB: '4', added: '0', removed: '0', changed: '0' }]);
  });

  it('only in b is added, only in a is removed, a different value is changed; the first is the smallest key', async () => {
    const a: Table = [[b('a'), b('1')], [b('b'), b('2')], [b('d'), b('4')]];
    const bb: Table = [[b('a'), b('1')], [b('b'), b('X')], [b('c'), b('3')]];
    const r = await diffSources(source({ x: a }), source({ x: bb }));
    expect(r.identical).toBe(false);
    expect(r.listed.map((d) => [d.kind, d.key])).toEqual([['changed', hex('b')], ['added', hex('c')], ['removed', hex('d')]]);
    expect(r.first).toEqual(r.listed[0]);
    expect(r.listed[0]!.a).toEqual({ hex: hex('2'), bytes: 1 });
    expect(r.listed[0]!.b).toEqual({ hex: hex('X'), bytes: 1 });
  });

  it('a key that is a proper prefix of another sorts first (bytewise order)', async () => {
    const r = await diffSources(source({ x: [[b('ab'), b('1')]] }), source({ x: [[b('a'), b('1')], [b('ab'), b('1')]] }));
    expect(r.listed.map((d) => [d.kind, d.key])).toEqual([['added', hex('a')]]);
  });

  it('--limit bounds the listing while every difference is counted', async () => {
    const many: Table = Array.from({ length: 50 }, (_, i) => [b(`k${String(i).padStart(3, '0')}`), b('v')]);
    const r = await diffSources(source({ x: [] }), source({ x: many }), { limit: 5 });
    expect(r.listed).toHaveLength(5);
    expect(r.totalDifferences).toBe('50');
    expect(r.tables[0]!.added).toBe('50');
    const none = await diffSources(source({ x: [] }), source({ x: many }), { limit: 0 });
    expect(none.listed).toHaveLength(0);
    expect(none.first?.key).toBe(hex('k000'));
  });

  it('values are kept whole (a renderer cuts them, --json does not), with the offset of the first difference', async () => {
    const x = new Uint8Array(300).fill(0xab);
    const y = Uint8Array.from(x);
    y[284] = 0;
    const r = await diffSources(source({ x: [[b('k'), x]] }), source({ x: [[b('k'), y]] }));
    expect(r.listed[0]!.a).toEqual({ hex: Buffer.from(x).toString('hex'), bytes: 300 });
    expect(r.listed[0]!.b).toEqual({ hex: Buffer.from(y).toString('hex'), bytes: 300 });
    expect(r.listed[0]!.differsAt).toBe(284);
  });

  it('a key range cuts both tables to the same keys: prefix ranges as compare prints them, and hex bounds', async () => {
    const key = (p: number, tail: string): Uint8Array => Buffer.concat([Buffer.from([p >>> 24, (p >>> 16) & 255, (p >>> 8) & 255, p & 255]), Buffer.from(tail)]);
    const rows = (v: string): Table => [[key(0x0fffffff, 'a'), b(v)], [key(0x10000000, 'b'), b(v)], [key(0x1fffffff, 'c'), b(v)], [key(0x20000000, 'd'), b(v)]];
    const all = await diffSources(source({ x: rows('1') }), source({ x: rows('2') }));
    expect(all.totalDifferences).toBe('4');
    const inRange = await diffSources(source({ x: rows('1') }), source({ x: rows('2') }), { keyRange: prefixRange(0x10000000, 0x20000000) });
    expect(inRange.totalDifferences).toBe('2');
    expect(inRange.listed.map((d) => d.key)).toEqual([Buffer.from(key(0x10000000, 'b')).toString('hex'), Buffer.from(key(0x1fffffff, 'c')).toString('hex')]);
    expect(inRange.tables[0]).toMatchObject({ entriesA: '2', entriesB: '2' });
    expect(inRange.keyRange).toBe('[10000000, 20000000)');
    const last = await diffSources(source({ x: rows('1') }), source({ x: rows('2') }), { keyRange: prefixRange(0x1fffffff, undefined) });
    expect(last.totalDifferences).toBe('2');
    // a short key is placed by its zero-padded prefix, as range digests place it
    expect(prefixRange(0x10000000, 0x20000000).position(Uint8Array.of(0x10))).toBe(0);
    const bytes = await diffSources(source({ x: rows('1') }), source({ x: rows('2') }), { keyRange: byteRange(key(0x10000000, 'b'), key(0x20000000, 'd')) });
    expect(bytes.totalDifferences).toBe('2');
    expect(byteRange(Uint8Array.of(0x10), undefined).position(Uint8Array.of(0x0f, 0xff))).toBe(-1);
  });

  it('tables in one input only are reported with their entry counts, not key by key', async () => {
    const t: Table = [[b('a'), b('1')]];
    const r = await diffSources(source({ common: t, old: t }), source({ common: t, fresh: [[b('x'), b('1')], [b('y'), b('2')]] }));
    expect(r.identical).toBe(false);
    expect(r.totalDifferences).toBe('0');
    expect(r.tables.map((x) => [x.name, x.presence, x.entriesA, x.entriesB])).toEqual([
      ['common', 'both', '1', '1'],
      ['old', 'a-only', '1', '0'],
      ['fresh', 'b-only', '0', '2'],
    ]);
  });

  it('--tables restricts the comparison; a table in neither input is UNKNOWN_TABLE', async () => {
    const a = source({ x: [[b('a'), b('1')]], y: [[b('a'), b('1')]] });
    const r = await diffSources(a, source({ x: [[b('a'), b('1')]], y: [] }), { tables: ['x'] });
    expect(r.identical).toBe(true);
    expect(a.opened).toEqual(['x']);
    await expect(diffSources(source({ x: [] }), source({ x: [] }), { tables: ['nope'] })).rejects.toMatchObject({ code: 'UNKNOWN_TABLE' });
  });

  it('an error of a source mid-table propagates (a corrupt input is never reported as a difference)', async () => {
    const broken: Source = {
      ...source({ x: [] }),
      async *entries() {
        yield [{ key: b('a'), value: b('1') }];
        throw Object.assign(new Error('bad'), { code: 'CHECKSUM_MISMATCH' });
      },
    };
    await expect(diffSources(source({ x: [[b('a'), b('1')], [b('b'), b('2')]] }), broken)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
  });
});

describe('diff: property', () => {
  /** The obvious reference: two maps, every key of either. */
  function naive(a: Map<string, string>, bm: Map<string, string>): [string, string][] {
    const keys = [...new Set([...a.keys(), ...bm.keys()])].sort((x, y) => Buffer.compare(Buffer.from(x, 'hex'), Buffer.from(y, 'hex')));
    const out: [string, string][] = [];
    for (const k of keys) {
      if (!bm.has(k)) out.push(['removed', k]);
      else if (!a.has(k)) out.push(['added', k]);
      else if (a.get(k) !== bm.get(k)) out.push(['changed', k]);
    }
    return out;
  }

  it('the streaming merge lists exactly what a map-based diff finds, for any batch sizes', async () => {
    const table = fc.dictionary(fc.uint8Array({ maxLength: 4 }).map((k) => Buffer.from(k).toString('hex')), fc.uint8Array({ maxLength: 3 }).map((v) => Buffer.from(v).toString('hex')), { maxKeys: 30 });
    await fc.assert(
      fc.asyncProperty(table, table, fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 }), async (ta, tb, ba, bb) => {
        const toTable = (t: Record<string, string>): Table => Object.entries(t).map(([k, v]) => [Buffer.from(k, 'hex'), Buffer.from(v, 'hex')]);
        const r = await diffSources(source({ x: toTable(ta) }, ba), source({ x: toTable(tb) }, bb), { limit: 1000 });
        const expected = naive(new Map(Object.entries(ta)), new Map(Object.entries(tb)));
        expect(r.listed.map((d: KeyDifference) => [d.kind, d.key])).toEqual(expected);
        expect(r.totalDifferences).toBe(String(expected.length));
        expect(r.identical).toBe(expected.length === 0);
      }),
      { numRuns: 300 },
    );
  });

  it('packed batches (bytes compared in bulk, only differing records decoded) give exactly the entry merge result', async () => {
    // Tables of b derived from a by a few edits, so long equal runs meet differences anywhere in
    // a batch; values long enough that the bisection for the first differing byte runs.
    const row = fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 5 }), fc.uint8Array({ maxLength: 90 }));
    const edit = fc.tuple(fc.integer({ min: 0, max: 200 }), fc.constantFrom('drop', 'change', 'add', 'flip'), fc.uint8Array({ maxLength: 90 }));
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 120 }), fc.array(edit, { maxLength: 6 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 30 }), async (rows, edits, ba, bb, limit) => {
        const ma = new Map(rows.map(([k, v]) => [Buffer.from(k).toString('hex'), Buffer.from(v)]));
        const mb = new Map(ma);
        const keys = [...ma.keys()];
        for (const [i, what, bytes] of edits) {
          const k = keys[i % Math.max(1, keys.length)];
          if (what === 'add') mb.set(Buffer.from(bytes).subarray(0, 5).toString('hex') + 'ff', Buffer.from(bytes));
          else if (k === undefined) continue;
          else if (what === 'drop') mb.delete(k);
          else if (what === 'change') mb.set(k, Buffer.from(bytes));
          else mb.set(k, Buffer.concat([mb.get(k) ?? Buffer.alloc(0), Buffer.of(1)]));
        }
        const toTable = (m: Map<string, Buffer>): Table => [...m].map(([k, v]) => [Buffer.from(k, 'hex'), v]);
        const tablesA = { x: toTable(ma), onlyA: toTable(ma) };
        const tablesB = { x: toTable(mb), onlyB: toTable(mb) };
        const byEntries = await diffSources(source(tablesA, ba), source(tablesB, bb), { limit });
        const byPacked = await diffSources(packedSource(tablesA, ba), packedSource(tablesB, bb), { limit });
        expect(byPacked).toEqual(byEntries);
        expect(byEntries.tables.find((t) => t.name === 'x')).toMatchObject({ entriesA: String(ma.size), entriesB: String(mb.size) });
      }),
      { numRuns: 300 },
    );
  });

  it('identical packed tables are passed in bulk whatever the batch sizes, and counted exactly', async () => {
    const rows: Table = Array.from({ length: 1000 }, (_, i) => [Buffer.from(`key${String(i).padStart(5, '0')}`), Buffer.alloc(i % 50, i)]);
    for (const [ba, bb] of [[1, 1], [7, 300], [1000, 3]]) {
      const r = await diffSources(packedSource({ x: rows }, ba), packedSource({ x: rows }, bb));
      expect(r.identical).toBe(true);
      expect(r.tables).toEqual([{ name: 'x', presence: 'both', entriesA: '1000', entriesB: '1000', added: '0', removed: '0', changed: '0' }]);
    }
  });
});
