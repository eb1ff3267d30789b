/**
 * The decode kernel's chunk pass (`chunks` in src/format/wasm/decode-kernel.wat, #readChunks in
 * decoder.ts) decides exactly as the JavaScript decoder: whole chunks read in one call must leave
 * the same summary, and any chunk it does not accept must be read by the JavaScript path with the
 * same code, offset and message. Streams are built here record by record with chosen cuts
 * (canonical or not), hashed with xxhash-wasm (the reference), then damaged at the chunk level
 * (headers, trailers, order, foreign chunks) and at the byte level, and decoded three ways: the
 * pass on, the pass off (the scanner alone), and the JavaScript path alone.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeChunkHeader, validateAnchor, type SnapshotAnchor } from '../../src/format/header.js';
import { resolveLimits } from '../../src/format/limits.js';
import { chunkCount } from '../../src/format/decoder.js';
import { loadHasher, SnapshotDecoder, SnapshotError, verifySnapshot, xxh64, type SnapshotLimits } from '../../src/format/index.js';
import { decodeKernel, READ_BUFFER_BYTES, scanKernel } from '../../src/format/wasm/decode-kernel.js';

beforeAll(loadHasher);
afterEach(() => {
  scanKernel.enabled = true;
  scanKernel.chunks = true;
});

type Mode = 'pass' | 'scanner' | 'javascript';

interface Outcome {
  summary?: string;
  error?: { code: string; offset: number | undefined; message: string };
}

const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));

/**
 * Decodes `bytes` with no events (as verify does) in pieces of `sizes` (cycled), each placed in a
 * kernel read buffer at an odd alignment (as the reader reads files) when one is free.
 */
function decode(bytes: Uint8Array, sizes: readonly number[], mode: Mode, limits: SnapshotLimits = {}): Outcome {
  scanKernel.enabled = mode !== 'javascript';
  scanKernel.chunks = mode === 'pass';
  const k = decodeKernel();
  const held = new Set<Uint8Array>();
  const release = (piece: Uint8Array): void => {
    const b = k.readBufferOf(piece);
    if (b !== undefined && held.delete(b)) k.releaseReadBuffer(b);
  };
  const d = new SnapshotDecoder({}, { limits, transientEntries: true, onPieceConsumed: release });
  try {
    for (let at = 0, i = 0; at < bytes.length; i++) {
      const piece = bytes.subarray(at, at + sizes[i % sizes.length]!);
      const buffer = piece.length + 3 <= READ_BUFFER_BYTES ? k.takeReadBuffer() : undefined;
      if (buffer !== undefined) {
        held.add(buffer);
        buffer.set(piece, 3);
        d.push(buffer.subarray(3, 3 + piece.length));
      } else {
        d.push(piece.slice());
      }
      at += piece.length;
    }
    return { summary: json(d.end()) };
  } catch (e) {
    if (!(e instanceof SnapshotError)) throw e;
    return { error: { code: e.code, offset: e.offset, message: e.message } };
  } finally {
    for (const b of held) k.releaseReadBuffer(b);
    scanKernel.enabled = true;
    scanKernel.chunks = true;
  }
}

/** The three outcomes must agree; returns the reference's, and how many chunks the pass accepted. */
function agree(bytes: Uint8Array, sizes: readonly number[], limits: SnapshotLimits = {}): { outcome: Outcome; accepted: number } {
  const before = scanKernel.passChunks;
  const pass = decode(bytes, sizes, 'pass', limits);
  const accepted = scanKernel.passChunks - before;
  const reference = decode(bytes, sizes, 'javascript', limits);
  expect(pass).toEqual(reference);
  expect(decode(bytes, sizes, 'scanner', limits)).toEqual(reference);
  return { outcome: reference, accepted };
}

interface Built {
  bytes: Uint8Array;
  /** Where each chunk starts (and, last, the end). */
  starts: number[];
  anchor: SnapshotAnchor;
}

/**
 * A stream of `tables` cut into chunks of at most `max` bytes, record by record: `early(i)` true
 * ends a chunk before record i even if it fits (a non-canonical cut, when it did fit); records
 * that do not fit start a new chunk (a record too large for any chunk ends the build: undefined).
 */
function build(tables: readonly (readonly { key: Uint8Array; value: Uint8Array }[])[], max: number, early: (i: number) => boolean, epoch = 5n): Built | undefined {
  const anchor: SnapshotAnchor = { epoch, cursor: { index: 2n, eventId: Uint8Array.of(1, 2, 3) }, maxChunkBytes: BigInt(max), tables: tables.map((_, i) => ({ id: 10 + i, name: `t${i}` })) };
  const names = validateAnchor(anchor, resolveLimits());
  // Records in stream order, each with the table position after it.
  const records: { bytes: Uint8Array; tableAfter: number }[] = [];
  tables.forEach((entries, t) => {
    const table: Uint8Array[] = [];
    for (const e of entries) {
      const r = new Uint8Array(9 + e.key.length + e.value.length);
      const dv = new DataView(r.buffer);
      r[0] = 1;
      dv.setUint32(1, e.key.length, true);
      dv.setUint32(5, e.value.length, true);
      r.set(e.key, 9);
      r.set(e.value, 9 + e.key.length);
      table.push(r);
      records.push({ bytes: r, tableAfter: t });
    }
    const end = new Uint8Array(21);
    const dv = new DataView(end.buffer);
    end[0] = 2;
    dv.setUint32(1, 10 + t, true);
    dv.setBigUint64(5, BigInt(entries.length), true);
    dv.setBigUint64(13, xxh64(Buffer.concat(table)), true);
    records.push({ bytes: end, tableAfter: t + 1 });
  });
  const chunks: Uint8Array[] = [];
  let previous = 0n;
  let table = 0;
  let current: Uint8Array[] = [];
  let used = 0;
  const close = (tag: number): void => {
    const body = Buffer.concat([...current, Uint8Array.of(tag)]);
    previous = xxh64(body);
    const trailer = Buffer.alloc(8);
    trailer.writeBigUInt64LE(previous);
    chunks.push(Buffer.concat([body, trailer]));
  };
  const open = (): void => {
    const header = encodeChunkHeader(anchor, names, chunks.length, previous, table);
    current = [header];
    used = header.length;
  };
  open();
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const fits = used + r.bytes.length + 9 <= max;
    if ((!fits || early(i)) && current.length > 1) {
      close(3);
      open();
    }
    if (used + r.bytes.length + 9 > max) return undefined;
    current.push(r.bytes);
    used += r.bytes.length;
    table = r.tableAfter;
  }
  if (used + 9 > max && current.length > 1) {
    close(3);
    open();
  }
  close(4);
  const starts = [0];
  for (const c of chunks) starts.push(starts.at(-1)! + c.length);
  return { bytes: new Uint8Array(Buffer.concat(chunks)), starts, anchor };
}

/** Tables of 20 to 300 sorted distinct keys of 0 to 24 bytes, values of 0 to 90 bytes (a few of 100 to 250). */
const tablesArb = fc.array(
  fc.tuple(fc.uniqueArray(fc.uint8Array({ maxLength: 24 }), { minLength: 20, maxLength: 300, selector: (k) => Buffer.from(k).toString('hex') }), fc.nat()),
  { minLength: 1, maxLength: 3 },
).map((ts) =>
  ts.map(([keys, seed]) =>
    [...keys].sort((a, b) => Buffer.compare(a, b)).map((key, i) => ({ key, value: Uint8Array.from({ length: (seed + i * 7) % 13 === 0 ? 100 + ((seed + i) % 150) : (seed + i * 31) % 91 }, (_, j) => (seed + i + j) & 0xff) })),
  ),
);
const sizesArb = fc.oneof(fc.constant([READ_BUFFER_BYTES - 8]), fc.constant([1 << 16]), fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1, maxLength: 4 }));

describe('the chunk pass decides exactly as the JavaScript decoder', () => {
  it('valid streams, any chunk size and piece sizes: the same summary, and the pass read most chunks', async () => {
    // In pieces of 64 KiB or more: chunks in all, and those the pass read.
    let chunks = 0;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(tablesArb, fc.integer({ min: 0, max: 1200 }), sizesArb, async (tables, extra, sizes) => {
        const built = build(tables, 400 + extra, () => false);
        if (built === undefined) return;
        const { outcome, accepted: n } = agree(built.bytes, sizes);
        expect(outcome.error).toBeUndefined();
        if (sizes[0]! >= 1 << 16) {
          chunks += built.starts.length - 1;
          accepted += n;
        }
      }),
      { numRuns: 120, seed: 8 },
    );
    expect(accepted).toBeGreaterThan(chunks / 2);
  });

  it('random cuts, canonical or not: NON_CANONICAL where the JavaScript path says, at the same offset', async () => {
    const codes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(tablesArb, fc.integer({ min: 0, max: 1200 }), fc.nat(), sizesArb, async (tables, extra, seed, sizes) => {
        const built = build(tables, 400 + extra, (i) => (seed >> i % 29) % 7 === 0);
        if (built === undefined) return;
        const { outcome } = agree(built.bytes, sizes);
        codes.add(outcome.error?.code ?? 'OK');
      }),
      { numRuns: 120, seed: 9 },
    );
    expect(codes).toContain('NON_CANONICAL');
    expect(codes).toContain('OK');
  });

  it('chunks swapped, dropped, repeated or from another snapshot; headers, CHUNK_END and trailers damaged; bytes flipped; tight limits', async () => {
    const codes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(tablesArb, fc.integer({ min: 0, max: 1200 }), fc.nat(8), fc.nat(), fc.nat(), sizesArb, async (tables, extra, kind, a, b, sizes) => {
        const built = build(tables, 400 + extra, () => false);
        if (built === undefined) return;
        const { starts } = built;
        const n = starts.length - 1;
        if (n < 3) return;
        const chunk = (i: number): Uint8Array => built.bytes.subarray(starts[i]!, starts[i + 1]!);
        const i = 1 + (a % (n - 2));
        const j = 1 + (b % (n - 2));
        const order = [...Array(n).keys()];
        let bytes: Uint8Array;
        let limits: SnapshotLimits = {};
        if (kind === 0) {
          [order[i], order[j]] = [order[j]!, order[i]!]; // swapped
          bytes = Buffer.concat(order.map(chunk));
        } else if (kind === 1) {
          bytes = Buffer.concat(order.filter((x) => x !== i).map(chunk)); // dropped
        } else if (kind === 2) {
          order.splice(i, 0, i); // repeated
          bytes = Buffer.concat(order.map(chunk));
        } else if (kind === 3) {
          const other = build(tables, 400 + extra, () => false, 6n)!; // the same content, another epoch
          bytes = Buffer.concat([built.bytes.subarray(0, starts[i]!), other.bytes.subarray(other.starts[i]!, other.starts[i + 1]!), built.bytes.subarray(starts[i + 1]!)]);
        } else {
          bytes = built.bytes.slice();
          const header = 30 + 3; // the fixed prefix and the 3-byte event id: the chain's fields follow
          const at =
            kind === 4 ? starts[i]! + header + 8 + (b % 24) // index, previous digest, table position
            : kind === 5 ? starts[i + 1]! - 9 // CHUNK_END
            : kind === 6 ? starts[i + 1]! - 1 - (b % 8) // trailer
            : a % bytes.length;
          bytes[at] = bytes[at]! ^ (1 << (b % 8));
          if (kind === 8) limits = { maxKeyBytes: a % 20, maxValueBytes: b % 120 };
        }
        const { outcome } = agree(bytes, sizes, limits);
        codes.add(outcome.error?.code ?? 'OK');
      }),
      { numRuns: 300, seed: 10 },
    );
    for (const code of ['CHUNK_SEQUENCE', 'CHECKSUM_MISMATCH', 'BAD_RECORD', 'LIMIT_EXCEEDED']) expect(codes).toContain(code);
  });

  it('a chunk set read from files (the reader packs them into its read buffers): the same summary and errors with the pass on and off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chunk-pass-'));
    try {
      const tables = [Array.from({ length: 6000 }, (_, i) => ({ key: Buffer.from(i.toString(16).padStart(8, '0')), value: new Uint8Array(40 + (i % 50)).fill(i) }))];
      const built = build(tables, 4096, () => false)!;
      const files = built.starts.slice(0, -1).map((s, i) => {
        const f = join(dir, `s.${String(i).padStart(6, '0')}`);
        writeFileSync(f, built.bytes.subarray(s, built.starts[i + 1]!));
        return f;
      });
      const outcome = async (list: string[]): Promise<string> => {
        try {
          return json(await verifySnapshot(list));
        } catch (e) {
          return json({ code: (e as SnapshotError).code, file: (e as SnapshotError).file, offset: (e as SnapshotError).offset, message: (e as Error).message });
        }
      };
      for (const list of [files, [...files.slice(0, 20), files[21]!, files[20]!, ...files.slice(22)]]) {
        const before = scanKernel.passChunks;
        const pass = await outcome(list);
        // A piece is handed on before a file that may not fit in it: every chunk file lies whole in
        // a piece, and the pass reads all but the first and those holding the table's end.
        if (list === files) expect(scanKernel.passChunks - before).toBe(files.length - 2);
        else expect(scanKernel.passChunks).toBeGreaterThan(before);
        scanKernel.chunks = false;
        expect(await outcome(list)).toEqual(pass);
        scanKernel.enabled = false;
        expect(await outcome(list)).toEqual(pass);
        scanKernel.enabled = true;
        scanKernel.chunks = true;
      }
      expect(await outcome(files)).toContain(`"chunks":[{"index":0`);
      // The summary's chunk list is made when read (chunkCount counts it without), as a plain property would be.
      const summary = await verifySnapshot(files);
      expect(chunkCount(summary)).toBe(files.length);
      expect(Object.keys(summary)).toEqual(['anchor', 'digest', 'entries', 'bytes', 'tables', 'chunks']);
      expect(summary.chunks.map((c) => c.bytes)).toEqual(built.starts.slice(1).map((e, i) => e - built.starts[i]!));
      expect(summary.chunks.at(-1)!.digest).toBe(summary.digest);
      expect({ ...summary }).toEqual({ anchor: summary.anchor, digest: summary.digest, entries: summary.entries, bytes: summary.bytes, tables: summary.tables, chunks: summary.chunks });
      expect(await outcome([...files.slice(0, 20), files[21]!, files[20]!, ...files.slice(22)])).toContain('CHUNK_SEQUENCE');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
