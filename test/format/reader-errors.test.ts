import { describe, expect, it } from 'vitest';
import { encodeSnapshot, readSnapshotContent, SnapshotDecoder, SnapshotError, loadHasher } from '../../src/format/index.js';
import { utf8 } from '../helpers/bytes.js';
import { CHUNK_END, entryRecord, rawHeader, sealChunk, SNAPSHOT_END, tableEnd, trailerOf } from '../helpers/raw-chunk.js';

async function decodeError(bytes: Uint8Array, limits = {}): Promise<{ code: string; offset: number | undefined }> {
  await loadHasher();
  const d = new SnapshotDecoder({}, { limits });
  try {
    d.push(bytes);
    d.end();
  } catch (e) {
    if (e instanceof SnapshotError) return { code: e.code, offset: e.offset };
    throw e;
  }
  return { code: 'ACCEPTED', offset: undefined };
}

const T = [{ id: 1, name: 't' }];

describe('the reader rejects, with the code and offset of spec/FORMAT.md section 7', () => {
  it('a hand-built valid snapshot is accepted (the helper encodes as the spec says)', async () => {
    const e = [entryRecord('a', '1'), entryRecord('b', '2')];
    const bytes = await sealChunk(rawHeader({ tables: T }), ...e, await tableEnd(1, e), SNAPSHOT_END);
    expect((await decodeError(bytes)).code).toBe('ACCEPTED');
    const enc = await encodeSnapshot({ epoch: 1n, cursor: { index: 0n }, maxChunkBytes: 0n, tables: T }, [[{ key: utf8('a'), value: utf8('1') }, { key: utf8('b'), value: utf8('2') }]]);
    expect(Buffer.from(enc.bytes).equals(bytes)).toBe(true);
  });

  it('BAD_MAGIC at the first differing byte', async () => {
    const bytes = await sealChunk(rawHeader(), SNAPSHOT_END);
    bytes[3] = 0;
    expect(await decodeError(bytes)).toEqual({ code: 'BAD_MAGIC', offset: 3 });
    expect(await decodeError(utf8('PK\u0003\u0004'))).toEqual({ code: 'BAD_MAGIC', offset: 0 });
  });

  it('UNSUPPORTED_VERSION at the version field', async () => {
    expect(await decodeError(await sealChunk(rawHeader({ version: 2 }), SNAPSHOT_END))).toEqual({ code: 'UNSUPPORTED_VERSION', offset: 8 });
  });

  it('NON_CANONICAL: non-zero flags, chunk 0 fields, table order, names', async () => {
    expect(await decodeError(await sealChunk(rawHeader({ flags: 1 }), SNAPSHOT_END))).toEqual({ code: 'NON_CANONICAL', offset: 10 });
    expect(await decodeError(await sealChunk(rawHeader({ previous: 5n }), SNAPSHOT_END))).toEqual({ code: 'NON_CANONICAL', offset: 42 });
    const two = (a: number, b: number, na = 'x', nb = 'y') => rawHeader({ tables: [{ id: a, name: na }, { id: b, name: nb }] });
    expect(await decodeError(await sealChunk(two(2, 2), SNAPSHOT_END))).toEqual({ code: 'NON_CANONICAL', offset: 64 });
    expect(await decodeError(await sealChunk(two(3, 1), SNAPSHOT_END))).toEqual({ code: 'NON_CANONICAL', offset: 64 });
    expect((await decodeError(await sealChunk(two(1, 2, 'x', 'x'), SNAPSHOT_END))).code).toBe('NON_CANONICAL');
    expect(await decodeError(await sealChunk(rawHeader({ tables: [{ id: 1, name: Uint8Array.of(0xc0, 0x80) }] }), SNAPSHOT_END))).toEqual({ code: 'NON_CANONICAL', offset: 63 });
    expect(await decodeError(await sealChunk(rawHeader({ tables: [{ id: 1, name: '' }] }), SNAPSHOT_END))).toEqual({ code: 'NON_CANONICAL', offset: 62 });
  });

  it('LIMIT_EXCEEDED: key and value lengths are checked against limits before the body arrives', async () => {
    const key = 'k'.repeat(16);
    const e = [entryRecord(key, 'v'.repeat(32))];
    const bytes = await sealChunk(rawHeader({ tables: T }), ...e, await tableEnd(1, e), SNAPSHOT_END);
    expect((await decodeError(bytes, { maxKeyBytes: 16, maxValueBytes: 32 })).code).toBe('ACCEPTED');
    expect(await decodeError(bytes, { maxKeyBytes: 15 })).toEqual({ code: 'LIMIT_EXCEEDED', offset: 64 + 1 });
    expect(await decodeError(bytes, { maxValueBytes: 31 })).toEqual({ code: 'LIMIT_EXCEEDED', offset: 64 + 5 });
    // A declared 4 GiB value fails at once, with only the 9-byte prefix present: nothing is buffered for it.
    const huge = Buffer.concat([rawHeader({ tables: T }), Buffer.from([1, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])]);
    const d = new SnapshotDecoder();
    await loadHasher();
    expect(() => d.push(huge)).toThrow(SnapshotError);
  });

  it('LIMIT_EXCEEDED: table count at the limit passes, one more fails', async () => {
    const tables = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i, name: `t${i}` }));
    const ends = async (n: number) => Promise.all(tables(n).map((t) => tableEnd(t.id, [])));
    const ok = await sealChunk(rawHeader({ tables: tables(3) }), ...(await ends(3)), SNAPSHOT_END);
    expect((await decodeError(ok, { maxTables: 3 })).code).toBe('ACCEPTED');
    expect(await decodeError(ok, { maxTables: 2 })).toEqual({ code: 'LIMIT_EXCEEDED', offset: 54 });
  });

  it('LIMIT_EXCEEDED: an event id over 1,024 bytes', async () => {
    const header = rawHeader({ eventId: new Uint8Array(1025) });
    expect(await decodeError(await sealChunk(header, SNAPSHOT_END))).toEqual({ code: 'LIMIT_EXCEEDED', offset: 28 });
    expect((await decodeError(await sealChunk(rawHeader({ eventId: new Uint8Array(1024) }), SNAPSHOT_END))).code).toBe('ACCEPTED');
  });

  it('UNSORTED_KEYS at the offending key; duplicates too', async () => {
    for (const keys of [['b', 'a'], ['a', 'a'], ['ab', 'a']]) {
      const e = keys.map((k) => entryRecord(k, ''));
      const bytes = await sealChunk(rawHeader({ tables: T }), ...e, await tableEnd(1, e), SNAPSHOT_END);
      expect(await decodeError(bytes)).toEqual({ code: 'UNSORTED_KEYS', offset: 64 + e[0]!.length + 9 });
    }
  });

  it('TABLE_MISMATCH and CHECKSUM_MISMATCH at the table end', async () => {
    const e = [entryRecord('a', '1')];
    const at = 64 + e[0]!.length;
    const wrongCount = await sealChunk(rawHeader({ tables: T }), ...e, await tableEnd(1, e, 2n), SNAPSHOT_END);
    expect(await decodeError(wrongCount)).toEqual({ code: 'TABLE_MISMATCH', offset: at + 5 });
    const wrongId = await sealChunk(rawHeader({ tables: T }), ...e, await tableEnd(9, e), SNAPSHOT_END);
    expect(await decodeError(wrongId)).toEqual({ code: 'TABLE_MISMATCH', offset: at + 1 });
    const wrongDigest = await sealChunk(rawHeader({ tables: T }), ...e, await tableEnd(1, [entryRecord('a', '2')]), SNAPSHOT_END);
    expect(await decodeError(wrongDigest)).toEqual({ code: 'CHECKSUM_MISMATCH', offset: at + 13 });
    const bytes = await sealChunk(rawHeader({ tables: T }), ...e, await tableEnd(1, e), SNAPSHOT_END);
    bytes[bytes.length - 1]! ^= 1;
    expect(await decodeError(bytes)).toEqual({ code: 'CHECKSUM_MISMATCH', offset: bytes.length - 8 });
  });

  it('BAD_RECORD: unknown tag, entries after the last table, an early end, CHUNK_END when unchunked', async () => {
    const h = rawHeader({ tables: T });
    expect(await decodeError(await sealChunk(h, Buffer.from([9])))).toEqual({ code: 'BAD_RECORD', offset: 64 });
    const end = await tableEnd(1, []);
    expect(await decodeError(await sealChunk(h, end, entryRecord('a', ''), SNAPSHOT_END))).toEqual({ code: 'BAD_RECORD', offset: 64 + 21 });
    expect(await decodeError(await sealChunk(h, SNAPSHOT_END))).toEqual({ code: 'BAD_RECORD', offset: 64 });
    expect(await decodeError(await sealChunk(h, end, CHUNK_END))).toEqual({ code: 'BAD_RECORD', offset: 64 + 21 });
  });

  it('TRUNCATED and TRAILING_BYTES at the end of the input', async () => {
    const bytes = await sealChunk(rawHeader(), SNAPSHOT_END);
    expect(await decodeError(bytes.subarray(0, bytes.length - 1))).toEqual({ code: 'TRUNCATED', offset: bytes.length - 1 });
    expect(await decodeError(new Uint8Array(0))).toEqual({ code: 'TRUNCATED', offset: 0 });
    expect(await decodeError(Buffer.concat([bytes, Buffer.from([0])]))).toEqual({ code: 'TRAILING_BYTES', offset: bytes.length });
  });
});

describe('chunk chaining (CHUNK_SEQUENCE) and canonical cuts', () => {
  const anchor = { epoch: 5n, cursor: { index: 9n }, maxChunkBytes: 120n, tables: [{ id: 1, name: 'blobs' }] };
  const entries = Array.from({ length: 12 }, (_, i) => ({ key: utf8(`key-${String(i).padStart(2, '0')}`), value: utf8(`value-${i}`) }));

  async function chunks(): Promise<Buffer[]> {
    const enc = await encodeSnapshot(anchor, [entries]);
    expect(enc.chunks.length).toBeGreaterThan(3);
    return enc.chunks.map((c) => Buffer.from(c));
  }
  const code = async (parts: Buffer[]) => (await decodeError(Buffer.concat(parts))).code;

  it('the chunks in order are accepted, and each verifies on its own', async () => {
    const c = await chunks();
    expect(await code(c)).toBe('ACCEPTED');
    for (const chunk of c) {
      const d = new SnapshotDecoder({}, { standaloneChunk: true });
      d.push(chunk);
      expect(d.end().chunks.length).toBe(1);
    }
  });

  it('a missing, reordered, duplicated or foreign chunk is detected', async () => {
    const c = await chunks();
    expect(await code([c[0]!, c[2]!, ...c.slice(3)])).toBe('CHUNK_SEQUENCE');
    expect(await code([c[1]!, c[0]!, ...c.slice(2)])).toBe('CHUNK_SEQUENCE');
    expect(await code([c[0]!, c[1]!, c[1]!, ...c.slice(2)])).toBe('CHUNK_SEQUENCE');
    expect(await code(c.slice(0, -1))).toBe('TRUNCATED');
    const other = await encodeSnapshot(anchor, [entries.map((e, i) => (i === 0 ? { key: e.key, value: utf8('changed') } : e))]);
    const foreign = Buffer.from(other.chunks[1]!);
    expect(await code([c[0]!, foreign, ...c.slice(2)])).toBe('CHUNK_SEQUENCE');
    const otherEpoch = await encodeSnapshot({ ...anchor, epoch: 6n }, [entries]);
    expect(await code([c[0]!, Buffer.from(otherEpoch.chunks[1]!), ...c.slice(2)])).toBe('CHUNK_SEQUENCE');
  });

  it('a chunk cut earlier than the rule requires is NON_CANONICAL, even with valid trailers', async () => {
    const t = [{ id: 1, name: 'blobs' }];
    const h0 = rawHeader({ maxChunkBytes: 200n, tables: t });
    const a = entryRecord('a', 'x');
    const c0 = await sealChunk(h0, a, CHUNK_END);
    const b = entryRecord('b', 'y');
    const c1 = await sealChunk(rawHeader({ maxChunkBytes: 200n, tables: t, chunkIndex: 1, previous: trailerOf(c0) }), b, await tableEnd(1, [a, b]), SNAPSHOT_END);
    expect(await decodeError(Buffer.concat([c0, c1]))).toEqual({ code: 'NON_CANONICAL', offset: c0.length + h0.length });
    // The same content cut by the rule is one chunk, and is accepted.
    expect(await code([await sealChunk(h0, a, b, await tableEnd(1, [a, b]), SNAPSHOT_END)])).toBe('ACCEPTED');
  });

  it('a chunk larger than max chunk bytes is LIMIT_EXCEEDED', async () => {
    const t = [{ id: 1, name: 'blobs' }];
    const a = entryRecord('a', 'x'.repeat(100));
    const bytes = await sealChunk(rawHeader({ maxChunkBytes: 150n, tables: t }), a, await tableEnd(1, [a]), SNAPSHOT_END);
    expect((await decodeError(bytes)).code).toBe('LIMIT_EXCEEDED');
  });

  it('the writer refuses a record that cannot fit in an empty chunk', async () => {
    await expect(encodeSnapshot({ ...anchor, maxChunkBytes: 100n }, [[{ key: utf8('k'), value: new Uint8Array(100) }]])).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
  });

  it('errors from files name the file and the offset within it', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'sv-'));
    const c = await chunks();
    const files = await Promise.all(c.map(async (chunk, i) => {
      const f = join(dir, `s.${i}`);
      const bytes = Buffer.from(chunk);
      if (i === 2) bytes[70]! ^= 0xff;
      await writeFile(f, bytes);
      return f;
    }));
    const err = await readSnapshotContent(files).catch((e: SnapshotError) => e);
    expect(err).toBeInstanceOf(SnapshotError);
    expect((err as SnapshotError).file).toBe(files[2]);
    expect((err as SnapshotError).offset).toBeLessThan(c[2]!.length);
  });
});

describe('encoder chunking rule (spec section 6)', () => {
  const anchor = { epoch: 1n, cursor: { index: 0n }, tables: [{ id: 1, name: 't' }] };
  const H = 64;
  const e = (k: string, n: number) => ({ key: utf8(k), value: new Uint8Array(n) });

  it('a record that exactly fills a chunk (used + S + 9 = M) stays; one byte more starts a new chunk', async () => {
    // chunk 0: header (64) + entry (9 + 1 + 20 = 30) + tail 9 = 103
    const exact = await encodeSnapshot({ ...anchor, maxChunkBytes: BigInt(H + 30 + 9) }, [[e('a', 20)]]);
    expect(exact.chunks[0]!.length).toBe(H + 30 + 9);
    const tooBig = await encodeSnapshot({ ...anchor, maxChunkBytes: BigInt(H + 30 + 9) }, [[e('a', 19), e('b', 1)]]);
    expect(tooBig.chunks[0]!.length).toBe(H + 29 + 9);
  });

  it('a record too large for any chunk fails even when the current chunk already holds records', async () => {
    await expect(encodeSnapshot({ ...anchor, maxChunkBytes: BigInt(H + 40 + 9) }, [[e('a', 1), e('b', 40)]])).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
  });
});
