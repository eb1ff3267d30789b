#!/usr/bin/env node
// Writes golden/v<version>/: the pinned bytes of a format version and their manifest.
// Append-only: a file or manifest entry that exists is never rewritten. Cases and vectors added
// to this script since the last run go into new files and a new manifest-N.json; if this build
// would write different bytes for an existing entry, it writes nothing and says to bump the
// format version. Deliberate, never a side effect of tests (they use --check, which writes nothing).
// Usage: npm run build && node scripts/make-golden.mjs v1 [--check]
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeError, encodeSnapshot, formatDigest, FORMAT_VERSION, loadHasher, xxh64 } from '../dist/index.js';

const version = process.argv[2];
const checkOnly = process.argv.includes('--check');
if (version !== `v${FORMAT_VERSION}`) {
  console.error(`usage: make-golden.mjs v${FORMAT_VERSION} [--check] (the version this build writes)`);
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden', version);

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
  // Chunks of exactly M bytes (used + S + 9 = M) pin the cut rule's "+ 9" and "≤": header 64,
  // entries of 30 bytes, M = 64 + 2·30 + 9. The TABLE_END (21) then opens chunk 2, and fills it.
  { name: 'chunk-exact-fit', description: 'every chunk but the last is exactly max chunk bytes; one byte less would cut elsewhere',
    anchor: anchor(8n, 8n, [{ id: 1, name: 't' }], { maxChunkBytes: 133n }),
    tables: [['a', 'b', 'c', 'd'].map((k) => ({ key: utf8(k), value: new Uint8Array(20).fill(k.charCodeAt(0)) }))] },
  // One byte less than chunk-exact-fit: the second entry would fit with a reserve of 8 or less,
  // so only the exact reserve of 9 puts each entry in its own chunk.
  { name: 'chunk-tail-reserve', description: 'a record cut although used + S ≤ M: the 9-byte tail reserve decides',
    anchor: anchor(8n, 8n, [{ id: 1, name: 't' }], { maxChunkBytes: 132n }),
    tables: [['a', 'b', 'c', 'd'].map((k) => ({ key: utf8(k), value: new Uint8Array(20).fill(k.charCodeAt(0)) }))] },
  { name: 'extremes', description: 'u64 maxima, a 1,024-byte event id, id 0xffffffff, a 255-byte name, multi-byte UTF-8 names',
    anchor: anchor(2n ** 64n - 1n, 2n ** 64n - 2n, [
      { id: 0, name: 'blob_ø' },
      { id: 7, name: 'ブロブ情報' },
      { id: 0xfffffffe, name: 'n'.repeat(255) },
      { id: 0xffffffff, name: '\u0000nul' },
    ], { cursor: { eventId: bytesFrom(3)(1024) } }),
    tables: [[{ key: Uint8Array.of(0), value: Uint8Array.of(0) }], [], [{ key: new Uint8Array(0), value: new Uint8Array(0) }], []] },
  { name: 'chunked-single-chunk', description: 'chunked (M > 0) content that fits one chunk: no CHUNK_END',
    anchor: anchor(9n, 0n, [{ id: 1, name: 'kv' }], { maxChunkBytes: 1n << 26n }),
    tables: [[{ key: utf8('k'), value: utf8('v') }]] },
  { name: 'chunked-empty-catalog', description: 'the smallest legal M: header + 9 with an empty catalog',
    anchor: anchor(9n, 0n, [], { maxChunkBytes: 67n }), tables: [] },
];

const hex = (b) => Buffer.from(b).toString('hex');
const NOTES = 'u64 values are decimal strings; digests are 16 hex digits (most significant first); byte strings are lowercase hex. Each case file is the whole stream: all chunks concatenated.';

/** Everything this build pins: [{ kind: 'cases' | 'invalid', file, bytes, entry }]. */
const items = [];
for (const c of cases) {
  const encoded = await encodeSnapshot(c.anchor, c.tables);
  const s = encoded.summary;
  const file = `${c.name}.snap`;
  items.push({ kind: 'cases', file, bytes: encoded.bytes, entry: {
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
  } });
}
for (const v of await invalidVectors()) {
  const found = decodeError(v.bytes);
  if (found === undefined || found.code !== v.code || found.offset !== v.offset) {
    throw new Error(`invalid vector ${v.name}: expected ${v.code}@${v.offset}, this build says ${JSON.stringify(found)}`);
  }
  const file = `invalid/${v.name}.bin`;
  items.push({ kind: 'invalid', file, bytes: v.bytes, entry: { name: v.name, description: v.description, file, size: v.bytes.length, code: v.code, offset: v.offset } });
}

// What the folder pins already: manifest.json, then manifest-N.json in order of N.
const manifestFiles = (await readdir(root).catch(() => []))
  .filter((f) => f === 'manifest.json' || /^manifest-\d+\.json$/.test(f))
  .sort((a, b) => (a === 'manifest.json' ? -1 : b === 'manifest.json' ? 1 : parseInt(a.slice(9), 10) - parseInt(b.slice(9), 10)));
const pinned = new Map(); // file -> manifest entry
for (const f of manifestFiles) {
  const m = JSON.parse(await readFile(join(root, f), 'utf8'));
  for (const kind of ['cases', 'invalid']) for (const e of m[kind] ?? []) pinned.set(e.file, e);
}

const changed = [];
const pending = [];
for (const item of items) {
  const old = pinned.get(item.file);
  if (old === undefined) {
    pending.push(item);
    continue;
  }
  const onDisk = await readFile(join(root, item.file)).catch(() => undefined);
  if (onDisk === undefined || !Buffer.from(item.bytes).equals(onDisk) || JSON.stringify(old) !== JSON.stringify(item.entry)) changed.push(item.file);
}
const generated = new Set(items.map((i) => i.file));
const orphans = [...pinned.keys()].filter((f) => !generated.has(f));
if (changed.length > 0 || orphans.length > 0) {
  console.error(`golden/${version} pins bytes this build no longer produces: ${[...changed, ...orphans].join(', ')}.`);
  console.error('Golden files are append-only: bump the format version, add spec/FORMAT-v<N>.md and golden/v<N>/, and keep this version readable.');
  process.exit(1);
}
if (checkOnly) {
  if (pending.length > 0) {
    console.error(`golden/${version} lacks ${pending.length} new item(s) of this script: ${pending.map((p) => p.file).join(', ')}; run without --check to append them.`);
    process.exit(1);
  }
  console.log(`golden/${version}: all ${items.length} pinned items match this build`);
  process.exit(0);
}
if (pending.length === 0) {
  console.log(`golden/${version}: nothing to append (${items.length} items pinned, all unchanged)`);
  process.exit(0);
}
const manifestName = manifestFiles.length === 0 ? 'manifest.json' : `manifest-${manifestFiles.length + 1}.json`;
const manifest = { formatVersion: FORMAT_VERSION, spec: 'spec/FORMAT.md', notes: NOTES, cases: [], invalid: [] };
for (const item of pending) {
  await mkdir(dirname(join(root, item.file)), { recursive: true });
  await writeFile(join(root, item.file), item.bytes, { flag: 'wx' });
  manifest[item.kind].push(item.entry);
}
await writeFile(join(root, manifestName), JSON.stringify(manifest, null, 2) + '\n', { flag: 'wx' });
console.log(`golden/${version}: appended ${pending.length} item(s) and ${manifestName}`);

/**
 * Byte sequences every decoder must reject, each with the code and offset of spec section 7.1.
 * Built field by field from the layout of section 4, with trailers recomputed where the point is
 * to reach a check behind the checksum.
 */
async function invalidVectors() {
  await loadHasher();
  const u16 = (v) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
  const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(v); return b; };
  const header = (h = {}) => {
    const ev = h.eventId ?? Buffer.alloc(0);
    const tables = h.tables ?? [{ id: 1, name: 't' }];
    return Buffer.concat([
      Buffer.from([0x89, 0x53, 0x4e, 0x50, 0x56, 0x0d, 0x0a, 0x1a]), u16(h.version ?? 1), u16(h.flags ?? 0), u64(h.epoch ?? 1n), u64(0n),
      u16(h.eventIdLength ?? ev.length), ev, u64(h.max ?? 0n), u32(h.index ?? 0), u64(h.previous ?? 0n), u32(h.position ?? 0), u32(tables.length),
      ...tables.map((t) => { const n = Buffer.from(t.name); return Buffer.concat([u32(t.id), Buffer.from([h.nameLength ?? n.length]), n]); }),
    ]);
  };
  const entry = (k, v) => Buffer.concat([Buffer.from([1]), u32(Buffer.from(k).length), u32(Buffer.from(v).length), Buffer.from(k), Buffer.from(v)]);
  const tableEnd = (id, entries, count = entries.length) => Buffer.concat([Buffer.from([2]), u32(id), u64(BigInt(count)), u64(xxh64(Buffer.concat(entries)))]);
  const seal = (...parts) => { const b = Buffer.concat(parts); return Buffer.concat([b, u64(xxh64(b))]); };
  const END = Buffer.from([4]);
  const CHUNK_END = Buffer.from([3]);
  const flip = (bytes, at, x = 1) => { const b = Buffer.from(bytes); b[at] ^= x; return b; };
  const e2 = [entry('a', '1'), entry('b', '2')];
  const valid = seal(header(), ...e2, tableEnd(1, e2), END); // 64-byte header, records at 64
  const R = 64;
  const twoTables = (a, b) => header({ tables: [{ id: a.id, name: a.name }, { id: b.id, name: b.name }] });
  const chunked = (await encodeSnapshot({ epoch: 5n, cursor: { index: 9n }, maxChunkBytes: 120n, tables: [{ id: 1, name: 'blobs' }] },
    [Array.from({ length: 6 }, (_, i) => ({ key: utf8(`key-${i}`), value: utf8(`value-${i}`) }))])).chunks.map((c) => Buffer.from(c));
  const otherEpoch = (await encodeSnapshot({ epoch: 6n, cursor: { index: 9n }, maxChunkBytes: 120n, tables: [{ id: 1, name: 'blobs' }] },
    [Array.from({ length: 6 }, (_, i) => ({ key: utf8(`key-${i}`), value: utf8(`value-${i}`) }))])).chunks.map((c) => Buffer.from(c));
  const at = (chunks, i) => chunks.slice(0, i).reduce((n, c) => n + c.length, 0);
  const cutHeader = (index, previous, max = 200n) => header({ max, index, previous, tables: [{ id: 1, name: 't' }] });
  const cutEarly = (max) => {
    const c0 = seal(cutHeader(0, 0n, max), entry('a', 'x'), CHUNK_END);
    const c1 = seal(cutHeader(1, c0.readBigUInt64LE(c0.length - 8), max), entry('b', 'y'), tableEnd(1, [entry('a', 'x'), entry('b', 'y')]), END);
    return [c0, c1];
  };
  const [early0, early1] = cutEarly(200n);
  const [huge0, huge1] = cutEarly(2n ** 60n);
  const lonely0 = seal(cutHeader(0, 0n), entry('a', 'x'), tableEnd(1, [entry('a', 'x')]), CHUNK_END);
  const lonely1 = seal(header({ max: 200n, index: 1, previous: lonely0.readBigUInt64LE(lonely0.length - 8), position: 1 }), END);
  return [
    { name: 'bad-magic', description: 'second magic byte changed', bytes: flip(valid, 1), code: 'BAD_MAGIC', offset: 1 },
    { name: 'magic-then-eof', description: 'a wrong third byte, then the input ends', bytes: Buffer.from([0x89, 0x53, 0x00]), code: 'BAD_MAGIC', offset: 2 },
    { name: 'version-2', description: 'format version 2', bytes: seal(header({ version: 2 }), END), code: 'UNSUPPORTED_VERSION', offset: 8 },
    { name: 'flags-set', description: 'reserved flags not zero (trailer recomputed)', bytes: seal(header({ flags: 1 }), ...e2, tableEnd(1, e2), END), code: 'NON_CANONICAL', offset: 10 },
    { name: 'event-id-1025', description: 'event id length 1,025, over the hard limit', bytes: seal(header({ eventId: Buffer.alloc(1025) }), END), code: 'LIMIT_EXCEEDED', offset: 28 },
    { name: 'table-count-over-limit', description: '1,025 tables declared (default limit 1,024), checked before the catalog arrives', bytes: Buffer.concat([header({ tables: [] }).subarray(0, 58 - 4), u32(1025)]), code: 'LIMIT_EXCEEDED', offset: 54 },
    { name: 'table-position-beyond-count', description: 'table position 2 with a one-table catalog', bytes: seal(header({ position: 2 }), END), code: 'NON_CANONICAL', offset: 50 },
    { name: 'table-ids-descending', description: 'catalog ids 3 then 1', bytes: seal(twoTables({ id: 3, name: 'a' }, { id: 1, name: 'b' }), END), code: 'NON_CANONICAL', offset: 64 },
    { name: 'table-name-empty', description: 'a zero-length table name', bytes: seal(header({ tables: [{ id: 1, name: '' }] }), END), code: 'NON_CANONICAL', offset: 62 },
    { name: 'table-name-overlong-utf8', description: 'C0 80, an overlong NUL', bytes: seal(header({ tables: [{ id: 1, name: Buffer.from([0xc0, 0x80]) }] }), END), code: 'NON_CANONICAL', offset: 63 },
    { name: 'table-name-duplicate', description: 'two tables named x', bytes: seal(twoTables({ id: 1, name: 'x' }, { id: 2, name: 'x' }), END), code: 'NON_CANONICAL', offset: 69 },
    { name: 'chunk0-previous-digest', description: 'chunk 0 with a previous chunk digest', bytes: seal(header({ previous: 1n }), END), code: 'NON_CANONICAL', offset: 42 },
    { name: 'max-chunk-below-header', description: 'M = H + 8: no room for the tail', bytes: seal(header({ max: 72n }), END), code: 'LIMIT_EXCEEDED', offset: 30 },
    { name: 'unknown-tag', description: 'record tag 0x05', bytes: seal(header(), Buffer.from([5])), code: 'BAD_RECORD', offset: R },
    { name: 'entry-after-last-table', description: 'an ENTRY after the only table ended', bytes: seal(header(), tableEnd(1, []), entry('a', ''), END), code: 'BAD_RECORD', offset: R + 21 },
    { name: 'snapshot-end-early', description: 'SNAPSHOT_END before the table ended', bytes: seal(header(), END), code: 'BAD_RECORD', offset: R },
    { name: 'chunk-end-unchunked', description: 'CHUNK_END with M = 0', bytes: seal(header(), tableEnd(1, []), CHUNK_END), code: 'BAD_RECORD', offset: R + 21 },
    { name: 'key-over-limit', description: 'a declared 65,537-byte key; rejected before its bytes arrive', bytes: Buffer.concat([header(), Buffer.from([1]), u32(65537), u32(0)]), code: 'LIMIT_EXCEEDED', offset: R + 1 },
    { name: 'value-over-limit', description: 'a declared 4 GiB − 1 value', bytes: Buffer.concat([header(), Buffer.from([1]), u32(1), u32(0xffffffff), Buffer.from('k')]), code: 'LIMIT_EXCEEDED', offset: R + 5 },
    { name: 'keys-descending', description: 'b before a (trailer and digest recomputed)', bytes: seal(header(), entry('b', ''), entry('a', ''), tableEnd(1, [entry('b', ''), entry('a', '')]), END), code: 'UNSORTED_KEYS', offset: R + 10 + 9 },
    { name: 'keys-duplicate', description: 'a twice', bytes: seal(header(), entry('a', ''), entry('a', ''), tableEnd(1, [entry('a', ''), entry('a', '')]), END), code: 'UNSORTED_KEYS', offset: R + 10 + 9 },
    { name: 'table-end-wrong-id', description: 'TABLE_END naming table 9', bytes: seal(header(), ...e2, tableEnd(9, e2), END), code: 'TABLE_MISMATCH', offset: R + 22 + 1 },
    { name: 'table-end-wrong-count', description: 'TABLE_END declaring 3 entries', bytes: seal(header(), ...e2, tableEnd(1, e2, 3), END), code: 'TABLE_MISMATCH', offset: R + 22 + 5 },
    { name: 'value-changed', description: 'a value byte changed, trailer recomputed: the table digest catches it', bytes: seal(header(), entry('a', '9'), e2[1], tableEnd(1, e2), END), code: 'CHECKSUM_MISMATCH', offset: R + 22 + 13 },
    { name: 'trailer-wrong', description: 'last byte of the trailer changed', bytes: flip(valid, valid.length - 1), code: 'CHECKSUM_MISMATCH', offset: valid.length - 8 },
    { name: 'truncated', description: 'the last byte missing', bytes: valid.subarray(0, valid.length - 1), code: 'TRUNCATED', offset: valid.length - 1 },
    { name: 'trailing-byte', description: 'one byte after the trailer', bytes: Buffer.concat([valid, Buffer.from([0])]), code: 'TRAILING_BYTES', offset: valid.length },
    { name: 'chunk-missing', description: 'chunk 1 of 4 removed', bytes: Buffer.concat([chunked[0], ...chunked.slice(2)]), code: 'CHUNK_SEQUENCE', offset: chunked[0].length },
    { name: 'chunks-swapped', description: 'chunk 1 first', bytes: Buffer.concat([chunked[1], chunked[0], ...chunked.slice(2)]), code: 'CHUNK_SEQUENCE', offset: 0 },
    { name: 'chunk-duplicated', description: 'chunk 1 twice', bytes: Buffer.concat([chunked[0], chunked[1], chunked[1], ...chunked.slice(2)]), code: 'CHUNK_SEQUENCE', offset: at(chunked, 2) },
    { name: 'chunk-foreign', description: 'chunk 1 of the same content at another epoch', bytes: Buffer.concat([chunked[0], otherEpoch[1], ...chunked.slice(2)]), code: 'CHUNK_SEQUENCE', offset: chunked[0].length },
    { name: 'last-chunk-missing', description: 'the chunk holding SNAPSHOT_END removed', bytes: Buffer.concat(chunked.slice(0, -1)), code: 'TRUNCATED', offset: at(chunked, chunked.length - 1) },
    { name: 'cut-too-early', description: 'a chunk ended although the next record fitted (valid trailers)', bytes: Buffer.concat([early0, early1]), code: 'NON_CANONICAL', offset: early0.length + R },
    { name: 'cut-with-huge-max', description: 'M = 2^60 (beyond 2^53): any cut is non-canonical', bytes: Buffer.concat([huge0, huge1]), code: 'NON_CANONICAL', offset: huge0.length + R },
    { name: 'chunk-only-snapshot-end', description: 'a chunk holding only SNAPSHOT_END after a CHUNK_END', bytes: Buffer.concat([lonely0, lonely1]), code: 'NON_CANONICAL', offset: lonely0.length + R },
    { name: 'chunk-end-empty-chunk', description: 'CHUNK_END right after the header', bytes: seal(header({ max: 200n }), CHUNK_END), code: 'NON_CANONICAL', offset: R },
    { name: 'chunk-overflow', description: 'a record with used + S + 9 > M', bytes: seal(header({ max: 100n }), entry('a', 'x'.repeat(20)), tableEnd(1, [entry('a', 'x'.repeat(20))]), END), code: 'LIMIT_EXCEEDED', offset: R },
  ];
}
