import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeSnapshot,
  readSnapshotContent,
  SnapshotDecoder,
  SnapshotEncoder,
  SnapshotError,
  loadHasher,
  type SnapshotAnchor,
} from '../../src/format/index.js';
import type { Entry } from '../../src/sources/source.js';
import { hex, inPieces } from '../helpers/bytes.js';
import { goldenBytes, loadManifest } from '../helpers/golden.js';

/** Codes a reader may raise for bad bytes (spec/FORMAT.md section 7). */
const DOCUMENTED = new Set([
  'BAD_MAGIC', 'UNSUPPORTED_VERSION', 'TRUNCATED', 'CHECKSUM_MISMATCH', 'UNSORTED_KEYS', 'LIMIT_EXCEEDED',
  'NON_CANONICAL', 'TRAILING_BYTES', 'CHUNK_SEQUENCE', 'BAD_RECORD', 'TABLE_MISMATCH',
]);

const bytesArb = (max: number) => fc.uint8Array({ maxLength: max });

/** Arbitrary logical content: 0–4 tables of sorted, unique keys. */
const contentArb = fc
  .record({
    epoch: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    index: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    eventId: bytesArb(40),
    tables: fc.array(fc.array(fc.tuple(bytesArb(24), bytesArb(64)), { maxLength: 30 }), { maxLength: 4 }),
  })
  .map(({ epoch, index, eventId, tables }) => {
    const sorted: Entry[][] = tables.map((entries) => {
      const byKey = new Map<string, Entry>();
      for (const [key, value] of entries) byKey.set(hex(key), { key, value });
      return [...byKey.values()].sort((a, b) => Buffer.compare(a.key, b.key));
    });
    const anchor: SnapshotAnchor = {
      epoch,
      cursor: eventId.length === 0 ? { index } : { index, eventId },
      maxChunkBytes: 0n,
      tables: sorted.map((_, i) => ({ id: i * 3 + 1, name: `table-${i}` })),
    };
    return { anchor, tables: sorted };
  });

function contentOf(read: Awaited<ReturnType<typeof readSnapshotContent>>): string[][][] {
  return read.tables.map((t) => t.entries.map((e) => [hex(e.key), hex(e.value)]));
}

async function rejectCode(input: AsyncIterable<Uint8Array>): Promise<string> {
  try {
    await readSnapshotContent(input);
  } catch (e) {
    if (e instanceof SnapshotError) return e.code;
    throw new Error(`a non-SnapshotError escaped: ${String(e)}`);
  }
  return 'ACCEPTED';
}

describe('format v1 properties', () => {
  it('round trip: decoding an encoding gives the content back', async () => {
    await fc.assert(
      fc.asyncProperty(contentArb, async ({ anchor, tables }) => {
        const enc = await encodeSnapshot(anchor, tables);
        const back = await readSnapshotContent(inPieces(enc.bytes, [4096]));
        expect(contentOf(back)).toEqual(tables.map((t) => t.map((e) => [hex(e.key), hex(e.value)])));
        expect(back.summary.digest).toBe(enc.summary.digest);
        expect(back.summary.anchor.epoch).toBe(anchor.epoch);
      }),
      { numRuns: 150 },
    );
  });

  it('determinism: the same content gives the same bytes whatever the output buffer size', async () => {
    await fc.assert(
      fc.asyncProperty(contentArb, fc.integer({ min: 1, max: 300 }), async ({ anchor, tables }, bufferBytes) => {
        const a = await encodeSnapshot(anchor, tables);
        const b = await encodeSnapshot(anchor, tables, { bufferBytes });
        expect(hex(b.bytes)).toBe(hex(a.bytes));
      }),
      { numRuns: 100 },
    );
  });

  it('determinism: feeding entries one by one or through the async writer in batches gives the same bytes', async () => {
    const { SnapshotWriter, streamSink } = await import('../../src/format/index.js');
    const { PassThrough } = await import('node:stream');
    await fc.assert(
      fc.asyncProperty(contentArb, fc.integer({ min: 1, max: 7 }), async ({ anchor, tables }, batch) => {
        const reference = await encodeSnapshot(anchor, tables);
        const stream = new PassThrough();
        const pieces: Buffer[] = [];
        stream.on('data', (d: Buffer) => pieces.push(d));
        const w = await SnapshotWriter.create(streamSink(stream), anchor);
        for (const entries of tables) {
          for (let i = 0; i < entries.length; i += batch) {
            const r = w.addBatch(entries.slice(i, i + batch));
            if (r) await r;
          }
          w.endTable();
        }
        await w.finish();
        expect(hex(Buffer.concat(pieces))).toBe(hex(reference.bytes));
      }),
      { numRuns: 60 },
    );
  });

  it('chunked and unchunked snapshots decode to the same content and the same table digests', async () => {
    await fc.assert(
      fc.asyncProperty(contentArb, fc.integer({ min: 0, max: 400 }), async ({ anchor, tables }, extra) => {
        const whole = await encodeSnapshot(anchor, tables);
        const headerBytes = 58 + (anchor.cursor.eventId?.length ?? 0) + anchor.tables.reduce((n, t) => n + 5 + t.name.length, 0);
        // Large enough for the largest record: 9 + 24 + 64 for an entry.
        const max = BigInt(headerBytes + 9 + 9 + 24 + 64 + extra);
        const chunked = await encodeSnapshot({ ...anchor, maxChunkBytes: max }, tables);
        for (const c of chunked.chunks) expect(BigInt(c.length) <= max).toBe(true);
        const back = await readSnapshotContent(inPieces(chunked.bytes, [1000]));
        expect(contentOf(back)).toEqual(tables.map((t) => t.map((e) => [hex(e.key), hex(e.value)])));
        expect(back.summary.tables.map((t) => t.digest)).toEqual(whole.summary.tables.map((t) => t.digest));
        expect(back.summary.chunks.length).toBe(chunked.chunks.length);
      }),
      { numRuns: 120 },
    );
  });

  it('a reader fed in 1- and 2-byte pieces behaves exactly as one fed whole, for valid and invalid input', async () => {
    const golden = loadManifest('v1').cases.map((c) => goldenBytes('v1', c));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...golden), fc.nat(), fc.integer({ min: 0, max: 255 }), async (bytes, at, xor) => {
        const mutated = bytes.slice();
        mutated[at % mutated.length]! ^= xor;
        const whole = await rejectCode(inPieces(mutated, [mutated.length]));
        expect(await rejectCode(inPieces(mutated, [1]))).toBe(whole);
        expect(await rejectCode(inPieces(mutated, [2]))).toBe(whole);
      }),
      { numRuns: 200 },
    );
  });

  it('random bytes are rejected cleanly with a documented code', async () => {
    await fc.assert(
      fc.asyncProperty(bytesArb(400), async (bytes) => {
        const code = await rejectCode(inPieces(bytes, [bytes.length || 1]));
        expect(DOCUMENTED.has(code)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes behind a valid magic and version are rejected cleanly', async () => {
    const prefix = goldenBytes('v1', loadManifest('v1').cases[0]!).subarray(0, 12);
    await fc.assert(
      fc.asyncProperty(bytesArb(400), async (tail) => {
        const code = await rejectCode(inPieces(new Uint8Array(Buffer.concat([prefix, tail])), [64]));
        expect(DOCUMENTED.has(code)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('the writer refuses unsorted or duplicate keys', async () => {
    await loadHasher();
    await fc.assert(
      fc.property(bytesArb(8), bytesArb(8), (a, b) => {
        const enc = new SnapshotEncoder({ epoch: 0n, cursor: { index: 0n }, maxChunkBytes: 0n, tables: [{ id: 0, name: 't' }] }, { data() {}, chunkEnd() {} });
        const order = Buffer.compare(a, b);
        enc.add(a, new Uint8Array(0));
        let code = 'ACCEPTED';
        try {
          enc.add(b, new Uint8Array(0));
        } catch (e) {
          code = (e as SnapshotError).code;
        }
        expect(code).toBe(order < 0 ? 'ACCEPTED' : 'UNSORTED_KEYS');
      }),
    );
  });
});

describe('mutations of every golden file', () => {
  const manifest = loadManifest('v1');
  for (const c of manifest.cases) {
    it(`${c.name}: every single-byte flip, truncation and extension is rejected with a documented code`, async () => {
      const bytes = goldenBytes('v1', c);
      const seen = new Map<string, number>();
      const check = (mutated: Uint8Array, what: string): string => {
        let code = 'ACCEPTED';
        const decoder = new SnapshotDecoder();
        try {
          decoder.push(mutated);
          decoder.end();
        } catch (e) {
          if (!(e instanceof SnapshotError)) throw new Error(`${what}: ${String(e)} escaped`);
          code = e.code;
          expect(e.offset, what).toBeTypeOf('number');
          expect(e.offset! <= mutated.length, what).toBe(true);
        }
        if (!DOCUMENTED.has(code)) throw new Error(`${what} gave ${code}`);
        seen.set(code, (seen.get(code) ?? 0) + 1);
        return code;
      };
      await loadHasher();
      for (let i = 0; i < bytes.length; i++) {
        for (const x of [0x01, 0x80, 0xff]) {
          const m = bytes.slice();
          m[i]! ^= x;
          check(m, `flip 0x${x.toString(16)} at ${i}`);
        }
      }
      for (let n = 0; n < bytes.length; n++) expect(check(bytes.slice(0, n), `truncation to ${n}`)).toBe('TRUNCATED');
      for (const tail of [[0], [0x04], [0x89, 0x53], Array.from(bytes.subarray(0, 16))]) {
        expect(check(new Uint8Array([...bytes, ...tail]), `extension by ${tail.length}`)).toBe('TRAILING_BYTES');
      }
      expect(seen.has('ACCEPTED')).toBe(false);
    });
  }
});

describe('convenience functions', () => {
  it('writeSnapshot to a file, readSnapshotContent and digestSnapshot agree with the in-memory encoding', async () => {
    const { writeSnapshot, fileSink, digestSnapshot } = await import('../../src/format/index.js');
    const { mkdtemp, readFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'sv-conv-'));
    await fc.assert(
      fc.asyncProperty(contentArb, async ({ anchor, tables }) => {
        const file = join(dir, 'x.snap');
        const written = await writeSnapshot(fileSink(file), anchor, tables);
        const reference = await encodeSnapshot(anchor, tables);
        expect(hex(await readFile(file))).toBe(hex(reference.bytes));
        expect((await digestSnapshot(anchor, tables)).digest).toBe(written.digest);
        const back = await readSnapshotContent(file);
        expect(back.summary.digest).toBe(reference.summary.digest);
        const { rm } = await import('node:fs/promises');
        await rm(file);
      }),
      { numRuns: 25 },
    );
  });
});
