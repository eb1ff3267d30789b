/**
 * Test-only: rewrites a RocksDB-written format_version 5 table into format_version 6 as
 * table/format.cc (FooterBuilder::Build) and block_based_table_builder.cc describe it: the index
 * handle moves into the metaindex as "rocksdb.index", every block checksum gets the context
 * modifier of its offset, and the footer carries the extended magic, its own checksum, the base
 * context checksum and the metaindex size. Debian's RocksDB 7.8 cannot write format_version 6
 * (it needs RocksDB >= 8.6), so this is how those code paths are exercised until a newer RocksDB
 * fixture is available. Data blocks are byte-identical to RocksDB's.
 */
import { BLOCK_TRAILER_SIZE, type BlockHandle, decodeBlockHandle } from '../../../../src/sources/rocksdb/table/block-handle.js';
import { readBlockEntries } from '../../../../src/sources/rocksdb/table/block.js';
import { computeChecksum, contextModifier, loadChecksums } from '../../../../src/sources/rocksdb/table/checksum.js';
import { decompressBlock } from '../../../../src/sources/rocksdb/table/compression.js';
import { decodeFooter, FOOTER_SIZE } from '../../../../src/sources/rocksdb/table/footer.js';
import { decodeIndexBlock } from '../../../../src/sources/rocksdb/table/index-iterator.js';
import { parseProperties } from '../../../../src/sources/rocksdb/table/properties.js';

function varint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}
function fixed32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

function contents(buf: Uint8Array, h: BlockHandle): Uint8Array {
  const raw = buf.subarray(h.offset, h.offset + h.size);
  const type = buf[h.offset + h.size]!;
  return type === 0 ? raw : decompressBlock(type, raw);
}

/** Returns the format_version 6 bytes of the format_version 5 table `v5`. */
export async function toFormatVersion6(v5: Uint8Array, baseContextChecksum = 0x5eed1234): Promise<Uint8Array> {
  await loadChecksums();
  const file = 'fv5';
  const footer = decodeFooter(file, v5.subarray(v5.length - FOOTER_SIZE), v5.length - FOOTER_SIZE);
  if (footer.formatVersion !== 5 || footer.index === undefined) throw new Error('expected a format_version 5 table');
  const checksumType = footer.checksumType;
  const meta = readBlockEntries(file, footer.metaindex.offset, contents(v5, footer.metaindex));
  const pos = { pos: 0 };
  const metaHandles = meta.map((e) => decodeBlockHandle(e.value, 0, e.value.length, pos)!);
  const propsEntry = meta.findIndex((e) => new TextDecoder().decode(e.key) === 'rocksdb.properties');
  const props = parseProperties(file, 0, readBlockEntries(file, 0, contents(v5, metaHandles[propsEntry]!)), 5, checksumType);
  const enc = { valueDeltaEncoded: props.indexValueIsDeltaEncoded, haveFirstKey: props.indexType === 3, keyIsUserKey: props.indexKeyIsUserKey };

  // Every block whose checksum must carry its offset's context.
  const blocks: BlockHandle[] = [footer.index, ...metaHandles];
  const top = decodeIndexBlock(file, footer.index.offset, contents(v5, footer.index), enc);
  if (props.indexType === 2) {
    for (const part of top) {
      blocks.push(part, ...decodeIndexBlock(file, part.offset, contents(v5, part), enc));
    }
  } else {
    blocks.push(...top);
  }

  // New metaindex: the old entries plus rocksdb.index, sorted, restart interval 1.
  const entries = meta.map((e) => ({ key: e.key, value: e.value }));
  entries.push({ key: new TextEncoder().encode('rocksdb.index'), value: Uint8Array.from([...varint(footer.index.offset), ...varint(footer.index.size)]) });
  entries.sort((a, b) => Buffer.compare(a.key, b.key));
  const metaBytes: number[] = [];
  const restarts: number[] = [];
  for (const e of entries) {
    restarts.push(metaBytes.length);
    metaBytes.push(...varint(0), ...varint(e.key.length), ...varint(e.value.length), ...e.key, ...e.value);
  }
  for (const r of restarts) metaBytes.push(...fixed32(r));
  metaBytes.push(...fixed32(restarts.length));

  const metaOffset = footer.metaindex.offset;
  const footerOffset = metaOffset + metaBytes.length + BLOCK_TRAILER_SIZE;
  const out = new Uint8Array(footerOffset + FOOTER_SIZE);
  out.set(v5.subarray(0, metaOffset));
  out.set(metaBytes, metaOffset);
  out[metaOffset + metaBytes.length] = 0; // uncompressed
  blocks.push({ offset: metaOffset, size: metaBytes.length });

  const dv = new DataView(out.buffer);
  for (const h of blocks) {
    if (h.offset === footer.metaindex.offset && h.size === footer.metaindex.size && h !== blocks[blocks.length - 1]) continue;
    const c = computeChecksum(checksumType, out, h.offset, h.offset + h.size + 1);
    dv.setUint32(h.offset + h.size + 1, (c + contextModifier(baseContextChecksum, h.offset)) >>> 0, true);
  }

  // Footer: checksum type, extended magic, checksum (zero while computing), base context
  // checksum, metaindex size, 24 reserved zero bytes, format_version 6, magic.
  const f = footerOffset;
  out[f] = checksumType;
  out.set([0x3e, 0x00, 0x7a, 0x00], f + 1);
  dv.setUint32(f + 9, baseContextChecksum, true);
  dv.setUint32(f + 13, metaBytes.length, true);
  dv.setUint32(f + 41, 6, true);
  dv.setUint32(f + 45, 0x85f4cff7, true);
  dv.setUint32(f + 49, 0x88e241b7, true);
  const fc = computeChecksum(checksumType, out, f, f + FOOTER_SIZE);
  dv.setUint32(f + 5, (fc + contextModifier(baseContextChecksum, f)) >>> 0, true);
  return out;
}
