#!/usr/bin/env node
// Writes golden/v<version>/: the pinned bytes of a format version and their manifest.
// Deliberate, never a side effect of tests: it refuses to touch an existing version folder.
// Usage: npm run build && node scripts/make-golden.mjs v1
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeSnapshot, formatDigest, FORMAT_VERSION } from '../dist/index.js';

const version = process.argv[2];
if (version !== `v${FORMAT_VERSION}`) {
  console.error(`usage: make-golden.mjs v${FORMAT_VERSION} (the version this build writes)`);
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden', version);
if (await stat(root).then(() => true, () => false)) {
  console.error(`${root} exists: golden files are append-only. Bump the format version to add a new folder.`);
  process.exit(1);
}

const utf8 = (s) => new TextEncoder().encode(s);
/** A deterministic byte generator (xorshift32), so the cases are reproducible from this file. */
function bytesFrom(seed) {
  let x = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      out[i] = x & 0xff;
    }
    return out;
  };
}
const sortEntries = (entries) => entries.sort((a, b) => Buffer.compare(a.key, b.key));
const anchor = (epoch, index, tables, extra = {}) => ({ epoch, cursor: { index, ...extra.cursor }, tables, maxChunkBytes: extra.maxChunkBytes ?? 0n });

function blobInfoTables(seed, counts) {
  const rnd = bytesFrom(seed);
  // Shaped like a storage node's blob-info tables: 32-byte blob ids, small fixed-ish values.
  return counts.map((n, t) => sortEntries(Array.from({ length: n }, () => ({ key: rnd(32), value: rnd(t === 2 ? 8 : 40 + (rnd(1)[0] % 24)) }))));
}
const blobCatalog = [
  { id: 1, name: 'aggregate_blob_info' },
  { id: 2, name: 'per_object_blob_info' },
  { id: 3, name: 'blob_certified_epoch' },
];

const cases = [
  { name: 'empty-catalog', description: 'no tables at all: header, SNAPSHOT_END, trailer',
    anchor: anchor(0n, 0n, []), tables: [] },
  { name: 'one-empty-table', description: 'one table with no entries: a lone TABLE_END',
    anchor: anchor(1n, 42n, [{ id: 0, name: 'blob_info' }]), tables: [[]] },
  { name: 'one-table', description: 'one table, keys that test prefix order and empty keys/values',
    anchor: anchor(12n, 987654321n, [{ id: 5, name: 'kv' }], { cursor: { eventId: utf8('tx:0001') } }),
    tables: [[
      { key: new Uint8Array(0), value: utf8('empty key') },
      { key: utf8('a'), value: new Uint8Array(0) },
      { key: utf8('a\u0000'), value: utf8('after a') },
      { key: utf8('ab'), value: Uint8Array.of(0, 255, 1, 254) },
      { key: Uint8Array.of(0xff), value: utf8('last') },
    ]] },
  { name: 'worked-example', description: 'the example of spec/FORMAT.md section 10',
    anchor: anchor(7n, 100n, [{ id: 1, name: 'a' }, { id: 2, name: 'b' }], { cursor: { eventId: utf8('ev') } }),
    tables: [[{ key: utf8('k1'), value: utf8('v1') }, { key: utf8('k2'), value: utf8('v2') }], []] },
  { name: 'blob-info', description: 'three tables shaped like a storage node\'s blob-info tables, 32-byte keys',
    anchor: anchor(1234n, 5_000_000_000n, blobCatalog, { cursor: { eventId: bytesFrom(7)(32) } }),
    tables: blobInfoTables(99, [40, 25, 12]) },
  { name: 'blob-info-chunked', description: 'the blob-info content cut into chunks of at most 1,024 bytes',
    anchor: anchor(1234n, 5_000_000_000n, blobCatalog, { cursor: { eventId: bytesFrom(7)(32) }, maxChunkBytes: 1024n }),
    tables: blobInfoTables(99, [40, 25, 12]) },
  { name: 'chunk-boundaries', description: 'tiny chunks: table ends and an empty table fall at chunk starts',
    anchor: anchor(3n, 3n, [{ id: 10, name: 't1' }, { id: 11, name: 't2' }, { id: 12, name: 't3' }], { maxChunkBytes: 110n }),
    tables: [
      [{ key: utf8('k1'), value: utf8('value-one') }, { key: utf8('k2'), value: utf8('value-two') }],
      [],
      [{ key: utf8('z'), value: utf8('0123456789') }],
    ] },
];

const hex = (b) => Buffer.from(b).toString('hex');
await mkdir(root, { recursive: true });
const manifest = {
  formatVersion: FORMAT_VERSION,
  spec: 'spec/FORMAT.md',
  notes: 'u64 values are decimal strings; digests are 16 hex digits (most significant first); byte strings are lowercase hex. Each case file is the whole stream: all chunks concatenated.',
  cases: [],
};
for (const c of cases) {
  const encoded = await encodeSnapshot(c.anchor, c.tables);
  const file = `${c.name}.snap`;
  await writeFile(join(root, file), encoded.bytes, { flag: 'wx' });
  const s = encoded.summary;
  manifest.cases.push({
    name: c.name,
    description: c.description,
    file,
    size: encoded.bytes.length,
    anchor: {
      epoch: String(c.anchor.epoch),
      cursorIndex: String(c.anchor.cursor.index),
      eventIdHex: hex(c.anchor.cursor.eventId ?? new Uint8Array(0)),
      maxChunkBytes: String(c.anchor.maxChunkBytes),
      tables: c.anchor.tables,
    },
    digest: formatDigest(s.digest),
    entries: String(s.entries),
    chunks: s.chunks.map((ch) => ({ index: ch.index, size: ch.bytes, digest: formatDigest(ch.digest) })),
    tables: s.tables.map((t, i) => ({
      id: t.id,
      name: t.name,
      entryCount: String(t.entries),
      digest: formatDigest(t.digest),
      entries: c.tables[i].map((e) => [hex(e.key), hex(e.value)]),
    })),
  });
}
await writeFile(join(root, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n', { flag: 'wx' });
console.log(`wrote ${cases.length} cases to ${root}`);
