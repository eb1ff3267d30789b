import { FORMAT_VERSION } from '../format/constants.js';
import { toHex } from '../format/bytes.js';
import { formatDigest } from '../format/digest.js';
import type { EncoderOptions, SnapshotSummary } from '../format/encoder.js';
import { SnapshotError } from '../format/errors.js';
import { sameAnchor, type SnapshotAnchor } from '../format/header.js';
import { nullSink, type SnapshotSink } from '../format/sinks.js';
import { SnapshotWriter } from '../format/writer.js';
import type { Source } from '../sources/source.js';
import { RangeDigester } from './ranges.js';
import { REPORT_SCHEMA_VERSION, type DigestReport, type NodeInfo, type RangeDigestReport } from './schema.js';

export interface DigestOptions {
  readonly anchor: SnapshotAnchor;
  /** Where the snapshot bytes go; defaults to nowhere (digest only). */
  readonly sink?: SnapshotSink;
  /** Key ranges per table for range digests; 0 or absent for none. */
  readonly ranges?: number;
  readonly encoder?: EncoderOptions;
  /** Called now and then with the entries written so far (for a progress indicator). */
  readonly onProgress?: (entries: bigint, table: string) => void;
}

/**
 * Streams the anchor's tables from a source through the writer: the one pipeline behind
 * `digest`, whatever the source. Memory stays constant: entries pass in batches (packed ones
 * when the source offers them).
 */
export async function digestSource(source: Source, options: DigestOptions): Promise<{ summary: SnapshotSummary; ranges: RangeDigestReport[][] }> {
  const verbatim = await verbatimDigest(source, options);
  if (verbatim !== undefined) return verbatim;
  const writer = await SnapshotWriter.create(options.sink ?? nullSink(), options.anchor, options.encoder);
  const ranges: RangeDigestReport[][] = [];
  let entries = 0n;
  try {
    for (const table of options.anchor.tables) {
      const digester = options.ranges ? new RangeDigester(options.ranges) : undefined;
      if (source.packedEntries !== undefined) {
        for await (const packed of source.packedEntries(table.name)) {
          const r = writer.addPacked(packed); // checks the records before range digests hash them
          digester?.addPacked(packed, writer.lastKey);
          if (r !== undefined) await r;
          entries += BigInt(packed.count);
          options.onProgress?.(entries, table.name);
        }
        writer.endTable();
        if (digester !== undefined) ranges.push(digester.finish());
        continue;
      }
      for await (const batch of source.entries(table.name)) {
        const r = writer.addBatch(batch);
        if (r !== undefined) await r;
        if (digester !== undefined) for (const e of batch) digester.add(e.key, e.value);
        entries += BigInt(batch.length);
        options.onProgress?.(entries, table.name);
      }
      writer.endTable();
      if (digester !== undefined) ranges.push(digester.finish());
    }
    await source.complete?.();
    return { summary: await writer.finish(), ranges };
  } catch (e) {
    await writer.abort();
    throw e;
  }
}

/**
 * The digest of a snapshot file with the anchor it records: the snapshot the writer would write
 * is the file itself, so it is only read and verified (and its entries range-digested), not
 * re-encoded and hashed again. Undefined when that does not apply (the writer path runs).
 * This holds while the reader reads only the version the writer writes (FORMAT_VERSION); a
 * reader of another version must send such files down the writer path.
 */
async function verbatimDigest(source: Source, options: DigestOptions): Promise<{ summary: SnapshotSummary; ranges: RangeDigestReport[][] } | undefined> {
  const r = source.recorded;
  if (options.sink !== undefined || options.encoder?.limits !== undefined || source.verifiedSummary === undefined || source.packedEntries === undefined) return undefined;
  if (r?.epoch === undefined || r.cursor === undefined || r.maxChunkBytes === undefined || r.tables === undefined) return undefined;
  if (!sameAnchor({ epoch: r.epoch, cursor: r.cursor, maxChunkBytes: r.maxChunkBytes, tables: r.tables }, options.anchor)) return undefined;
  // Without range digests no entry is needed: the file is only verified.
  if (!options.ranges && source.verifyWhole !== undefined) return { summary: await source.verifyWhole(options.onProgress), ranges: [] };
  const ranges: RangeDigestReport[][] = [];
  let entries = 0n;
  for (const table of options.anchor.tables) {
    const digester = options.ranges ? new RangeDigester(options.ranges) : undefined;
    for await (const packed of source.packedEntries(table.name)) {
      digester?.addPacked(packed);
      entries += BigInt(packed.count);
      options.onProgress?.(entries, table.name);
    }
    if (digester !== undefined) ranges.push(digester.finish());
  }
  await source.complete?.();
  const summary = source.verifiedSummary();
  if (summary === undefined) throw new SnapshotError('TRUNCATED', 'the snapshot ended before its end record');
  return { summary, ranges };
}

/** The report of a digest run: comparable fields, plus node-local facts under `node`. */
export function buildReport(summary: SnapshotSummary, ranges: readonly RangeDigestReport[][], rangesPerTable: number, node: NodeInfo, anchorDigest?: string): DigestReport {
  const a = summary.anchor;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    formatVersion: FORMAT_VERSION,
    epoch: String(a.epoch),
    cursor: { index: String(a.cursor.index), eventIdHex: toHex(a.cursor.eventId ?? new Uint8Array(0)) },
    maxChunkBytes: String(a.maxChunkBytes),
    rangesPerTable,
    digest: formatDigest(summary.digest),
    entries: String(summary.entries),
    bytes: String(summary.bytes),
    tables: summary.tables.map((t, i) => ({
      id: t.id,
      name: t.name,
      entries: String(t.entries),
      bytes: String(t.bytes),
      digest: formatDigest(t.digest),
      ...(rangesPerTable > 0 ? { ranges: ranges[i] ?? [] } : {}),
    })),
    chunks: summary.chunks.map((c) => ({ index: c.index, bytes: c.bytes, digest: formatDigest(c.digest) })),
    node,
    ...(anchorDigest !== undefined ? { anchorDigest } : {}),
  };
}

/**
 * The catalog for `--tables`: `a,b,c` gives ids by bytewise name order (0, 1, 2, …) so that the
 * order the names are typed in never matters; `3=a,7=b` gives explicit ids.
 */
export function parseTableSelection(spec: string): { id: number; name: string }[] {
  const items = spec.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new SnapshotError('INVALID_ARGUMENT', '--tables names no table');
  const explicit = items.map((s) => /^(\d+)=(.+)$/.exec(s));
  if (explicit.every((m) => m !== null)) {
    return explicit
      .map((m) => ({ id: Number(m![1]), name: m![2]! }))
      .sort((x, y) => x.id - y.id);
  }
  if (explicit.some((m) => m !== null)) throw new SnapshotError('INVALID_ARGUMENT', '--tables: give ids for every table (3=a,7=b) or for none (a,b)');
  const names = [...items].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  return names.map((name, id) => ({ id, name }));
}
