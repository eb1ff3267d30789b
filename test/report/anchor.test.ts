import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SnapshotError } from '../../src/format/errors.js';
import { anchorFileNotes, parseAnchor } from '../../src/report/anchor.js';
import { xxh64sum } from '../cli/oracle.js';

const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'ANCHOR.md'), 'utf8');

async function badAnchor(text: string): Promise<SnapshotError> {
  try {
    await parseAnchor(text, 'a.json');
  } catch (e) {
    expect(e).toBeInstanceOf(SnapshotError);
    return e as SnapshotError;
  }
  throw new Error(`expected BAD_ANCHOR for ${text}`);
}

describe('anchor file (docs/ANCHOR.md)', () => {
  it("the document's example has the canonical form and digest the document states (xxh64sum of those bytes)", async () => {
    const example = /Example:\n\n```json\n([\s\S]*?)```/.exec(DOC)![1]!;
    const canonical = /has the canonical form\n\n```\n(.*)\n```/.exec(DOC)![1]!;
    const a = await parseAnchor(example, 'example.json');
    expect(a.digest).toBe(xxh64sum(Buffer.from(canonical)));
    expect(a.tables.map((t) => t.name)).toEqual(['per_object_blob_info', 'per_object_pooled_blob_info', 'storage_pool_info']);
    expect(a.ranges).toBe(16);
  });

  it('files that mean the same anchor have the same digest: spacing, key and table order, 0 vs "0", defaults written or not', async () => {
    const one = await parseAnchor('{"anchorVersion":1,"tables":[{"id":1,"name":"b"},{"id":0,"name":"a"}]}', 'x');
    const two = await parseAnchor('{ "maxChunkBytes": 0, "ranges": 0, "tables": [ {"name":"a","id":0}, {"id":1,"name":"b"} ], "anchorVersion": 1 }', 'y');
    const three = await parseAnchor('{"anchorVersion":1,"tables":[{"id":0,"name":"a"},{"id":1,"name":"b"}],"maxChunkBytes":"0"}', 'z');
    expect(two.digest).toBe(one.digest);
    expect(three.digest).toBe(one.digest);
    const other = await parseAnchor('{"anchorVersion":1,"tables":[{"id":0,"name":"a"},{"id":2,"name":"b"}]}', 'w');
    expect(other.digest).not.toBe(one.digest);
    const cursor = await parseAnchor('{"anchorVersion":1,"tables":[{"id":0,"name":"a"}],"cursor":"12:ABcd","epoch":"7"}', 'c');
    expect(cursor.cursor).toEqual({ index: 12n, eventId: Uint8Array.of(0xab, 0xcd) });
    expect(cursor.epoch).toBe(7n);
    expect(cursor.digest).toBe(xxh64sum(Buffer.from('{"anchorVersion":1,"tables":[{"id":0,"name":"a"}],"epoch":"7","cursor":"12:abcd","maxChunkBytes":"0","ranges":0}')));
  });

  const T = '"tables":[{"id":0,"name":"a"}]';
  it.each([
    ['not JSON', '{"anchorVersion":1,', /not JSON/],
    ['an array', '[]', /one JSON object/],
    ['a newer anchorVersion', `{"anchorVersion":2,${T}}`, /newer snapshot-verify.*upgrade/],
    ['no anchorVersion', `{${T}}`, /anchorVersion: expected 1/],
    ['an unknown (misspelt) field', `{"anchorVersion":1,${T},"range":4}`, /unknown field range/],
    ['no tables', '{"anchorVersion":1,"tables":[]}', /tables: expected a non-empty array/],
    ['a table id given twice', '{"anchorVersion":1,"tables":[{"id":0,"name":"a"},{"id":0,"name":"b"}]}', /id 0 is given twice/],
    ['a table name given twice', '{"anchorVersion":1,"tables":[{"id":0,"name":"a"},{"id":1,"name":"a"}]}', /"a" is given twice/],
    ['an id over 2^32 − 1', '{"anchorVersion":1,"tables":[{"id":4294967296,"name":"a"}]}', /tables\[0\]\.id/],
    ['a name over 255 bytes', `{"anchorVersion":1,"tables":[{"id":0,"name":"${'é'.repeat(128)}"}]}`, /tables\[0\]\.name/],
    ['ranges over 4096', `{"anchorVersion":1,${T},"ranges":4097}`, /ranges: expected an integer from 0 to 4096/],
    ['a cursor with an odd hex digit count', `{"anchorVersion":1,${T},"cursor":"5:abc"}`, /cursor: expected/],
    ['a negative maxChunkBytes', `{"anchorVersion":1,${T},"maxChunkBytes":-1}`, /maxChunkBytes: expected a u64/],
    ['a u64 with a leading zero', `{"anchorVersion":1,${T},"epoch":"07"}`, /epoch: expected a u64/],
    ['a u64 over 2^64 − 1', `{"anchorVersion":1,${T},"maxChunkBytes":"18446744073709551616"}`, /maxChunkBytes: expected a u64/],
  ])('rejects %s as BAD_ANCHOR naming the file', async (_what, text, message) => {
    const e = await badAnchor(text);
    expect(e.code).toBe('BAD_ANCHOR');
    expect(e.file).toBe('a.json');
    expect(e.message).toMatch(message);
  });

  it('invalid JSON: the offset points at the error', async () => {
    expect((await badAnchor('{"anchorVersion": 1, x}')).offset).toBe(21);
  });

  it('anchor file notes: the nodes off the most common anchor digest, or off the expected one', () => {
    const r = (node: string, anchorDigest?: string) => ({ file: `${node}.json`, report: { node: { name: node }, ...(anchorDigest !== undefined ? { anchorDigest } : {}) } });
    const reports = [r('a', '1111111111111111'), r('b', '1111111111111111'), r('c', '2222222222222222'), r('d')];
    expect(anchorFileNotes(reports).map((n) => [n.node, n.anchorDigest, n.expected])).toEqual([
      ['c', '2222222222222222', '1111111111111111'],
      ['d', null, '1111111111111111'],
    ]);
    expect(anchorFileNotes([r('a'), r('b')])).toEqual([]);
    expect(anchorFileNotes(reports, '2222222222222222').map((n) => n.node)).toEqual(['a', 'b', 'd']);
  });
});
