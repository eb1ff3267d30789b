import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadHasher } from '../../src/format/digest.js';
import { encodeSnapshot } from '../../src/format/memory.js';
import { ChunkCheck, chunkProblem, expectedChunks } from '../../src/repository/chunks.js';
import { openFileStore } from '../../src/repository/file-store.js';
import { anchorId, anchorText, certificateKey, chunkKey, encodeNodeName, parseKey, reportKey } from '../../src/repository/layout.js';
import { getObject } from '../../src/repository/store.js';

const SPEC_VECTOR = 'snapshot-verify anchor 1\nformat 1\nepoch 42\ncursor 0 \nmax-chunk-bytes 0\ntable 1 "aggregate_blob_info"\ntable 2 "per_object_blob_info"\n';

describe('repository layout (spec/REPOSITORY.md)', () => {
  const anchor = {
    formatVersion: 1,
    epoch: '42',
    cursor: { index: '0', eventIdHex: '' },
    maxChunkBytes: '0',
    tables: [
      { id: 2, name: 'per_object_blob_info' },
      { id: 1, name: 'aggregate_blob_info' },
    ],
  };

  it('the anchor text is the spec\'s test vector, and the anchor id is the first 16 bytes of its SHA-256 as sha256sum computes it', async () => {
    expect(anchorText(anchor as never)).toBe(SPEC_VECTOR);
    const dir = await mkdtemp(join(tmpdir(), 'anchor-'));
    await writeFile(join(dir, 'a'), SPEC_VECTOR);
    const sum = execFileSync('sha256sum', [join(dir, 'a')], { encoding: 'utf8' }).split(' ')[0]!;
    await rm(dir, { recursive: true });
    expect(anchorId(anchor as never)).toBe(sum.slice(0, 32));
  });

  it('every anchor field changes the anchor id; node-local fields and ranges do not enter it', () => {
    const base = anchorId(anchor as never);
    const variants = [
      { ...anchor, formatVersion: 2 },
      { ...anchor, epoch: '43' },
      { ...anchor, cursor: { index: '1', eventIdHex: '' } },
      { ...anchor, cursor: { index: '0', eventIdHex: '00' } },
      { ...anchor, maxChunkBytes: '1048576' },
      { ...anchor, tables: [{ id: 1, name: 'aggregate_blob_info' }] },
      { ...anchor, tables: [{ id: 1, name: 'aggregate_blob_info' }, { id: 3, name: 'per_object_blob_info' }] },
    ];
    const ids = variants.map((v) => anchorId(v as never));
    expect(new Set([base, ...ids]).size).toBe(variants.length + 1);
    expect(anchorId({ ...anchor, rangesPerTable: 16, node: { name: 'x' } } as never)).toBe(base);
  });

  it('node names become one safe key part: unreserved bytes kept, others %XX, no leading dot, 1 to 255 bytes', () => {
    expect(encodeNodeName('node-7_a.b')).toBe('node-7_a.b');
    expect(encodeNodeName('node 7/a')).toBe('node%207%2Fa');
    expect(encodeNodeName('.hidden')).toBe('%2Ehidden');
    expect(encodeNodeName('..')).toBe('%2E.');
    expect(encodeNodeName('ü')).toBe('%C3%BC');
    expect(encodeNodeName('x'.repeat(255))).toHaveLength(255);
    expect(() => encodeNodeName('x'.repeat(256))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => encodeNodeName('/'.repeat(86))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' })); // 258 bytes encoded
    expect(() => encodeNodeName('')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('keys parse back to what made them; anything else is garbage', () => {
    const id = anchorId(anchor as never);
    expect(parseKey(reportKey('42', id, 'node 7'))).toEqual({ kind: 'report', epoch: '42', anchorId: id, node: 'node%207' });
    expect(parseKey(chunkKey('42', id, 'n', 12, '00112233445566ff'))).toEqual({ kind: 'chunk', epoch: '42', anchorId: id, node: 'n', index: 12, digest: '00112233445566ff' });
    expect(certificateKey('42', id)).toBe(`v1/epochs/42/certificates/${id}.json`);
    expect(parseKey(certificateKey('42', id))).toEqual({ kind: 'certificate', epoch: '42', anchorId: id });
    for (const garbage of [
      `v1/epochs/42/certificates/${id}.json.tmp`,
      `v1/epochs/42/certificates/${id.slice(1)}.json`,
      `v1/epochs/042/certificates/${id}.json`,
      `v1/epochs/42/certificates/${id}/report.json`,
      `v1/epochs/042/${id}/n/report.json`, // not canonical decimal
      `v1/epochs/18446744073709551616/${id}/n/report.json`, // beyond u64
      `v1/epochs/42/${id.toUpperCase()}/n/report.json`,
      `v1/epochs/42/${id}/.n/report.json`,
      `v1/epochs/42/${id}/n/report.json.tmp`,
      `v1/epochs/42/${id}/n/chunks/12-00112233445566ff`, // index not 6 digits
      `v1/epochs/42/${id}/n/chunks/000012-00112233445566f`,
      `v1/epochs/42/${id}/n/chunks/.tmp-1-abc`,
      `v1/epochs/42/${id}/n/extra/report.json`,
      `v2/epochs/42/${id}/n/report.json`,
    ]) {
      expect(parseKey(garbage), garbage).toBeUndefined();
    }
  });
});

describe('chunk check on arrival', () => {
  it('gives the same verdict whatever the pieces the bytes arrive in, and names each kind of damage', async () => {
    await loadHasher();
    const snap = await encodeSnapshot({ epoch: 7n, cursor: { index: 3n, eventId: Uint8Array.of(1, 2, 3) }, maxChunkBytes: 256n, tables: [{ id: 1, name: 't' }] }, [[...Array(40).keys()].map((i) => ({ key: Uint8Array.of(i), value: new Uint8Array(20).fill(i) }))]);
    const report = { chunks: snap.summary.chunks.map((c) => ({ index: c.index, bytes: c.bytes, digest: c.digest.toString(16).padStart(16, '0') })) };
    expect(report.chunks.length).toBeGreaterThan(3);
    const expected = expectedChunks(report);
    const chunks = snap.chunks;
    const check = (bytes: Uint8Array, i: number, piece: number): string | undefined => {
      const c = new ChunkCheck(3);
      for (let p = 0; p < bytes.length; p += piece) c.update(bytes.subarray(p, p + piece));
      return chunkProblem(c, expected[i]!);
    };
    for (const piece of [1, 2, 7, 8, 9, 1000]) {
      chunks.forEach((bytes, i) => expect(check(bytes, i, piece), `chunk ${i} in ${piece}-byte pieces`).toBeUndefined());
    }
    const flipped = chunks[2]!.slice();
    flipped[60]! ^= 1;
    expect(check(flipped, 2, 5)).toMatch(/trailer .* is not the xxhash64/);
    expect(check(chunks[2]!, 3, 5)).toMatch(/bytes, the report says|chunk digest/); // another chunk in its place
    expect(check(chunks[2]!.subarray(0, 30), 2, 5)).toMatch(/30 bytes, the report says/);
    // A chunk whose own trailer is right but whose chain link is not the report's (a foreign snapshot's chunk).
    expect(chunkProblem(((c) => (c.update(chunks[1]!), c))(new ChunkCheck(3)), { ...expected[1]!, previous: '0000000000000001' })).toMatch(/previous chunk digest/);
  });
});

describe('file:// store', () => {
  it('is write-once (link), reads regular files only (a symbolic link at a key is refused), and lists symbolic links as special', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fstore-'));
    const store = openFileStore(pathToFileURL(root).href);
    expect(await store.putIfAbsent('a/b', { bytes: Uint8Array.of(1) })).toBe('created');
    expect(await store.putIfAbsent('a/b', { bytes: Uint8Array.of(2) })).toBe('exists');
    expect([...(await getObject(store, 'a/b', 10))!]).toEqual([1]);
    await writeFile(join(root, 'secret'), 'outside');
    await mkdir(join(root, 'c'));
    await symlink(join(root, 'secret'), join(root, 'c', 'link'));
    await expect(getObject(store, 'c/link', 100)).rejects.toMatchObject({ code: 'IO_ERROR' });
    await expect(getObject(store, 'a/b', 0)).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
    expect(await getObject(store, 'missing', 10)).toBeUndefined();
    const listed = [];
    for await (const o of store.list('')) listed.push(o);
    expect(listed.map((o) => [o.key, o.kind]).sort()).toEqual([['a/b', 'object'], ['c/link', 'special'], ['secret', 'object']]);
    expect(() => store.where('a/../b')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await store.delete('a/b');
    expect(await readFile(join(root, 'a', 'b')).catch(() => 'gone')).toBe('gone');
    await rm(root, { recursive: true });
  });
});
