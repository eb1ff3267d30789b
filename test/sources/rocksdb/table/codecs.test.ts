import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cExtendJs, crc32cMask, crc32cUnmask } from '../../../../src/sources/rocksdb/util/crc32c.js';
import { DecodeFailure } from '../../../../src/sources/rocksdb/util/decode-failure.js';
import { decompressBlock, UnsupportedCompression } from '../../../../src/sources/rocksdb/table/compression.js';
import { lz4Decompress, lz4DecompressJs, lz4DecompressWasm } from '../../../../src/sources/rocksdb/util/lz4.js';
import { LZ4_WASM_BASE64 } from '../../../../src/sources/rocksdb/util/lz4-wasm.js';
import { snappyDecompress, snappyDecompressJs, snappyDecompressWasm } from '../../../../src/sources/rocksdb/util/snappy.js';
import { readVarint32, readVarint64, readVarsigned64 } from '../../../../src/sources/rocksdb/util/varint.js';
import { xxh3_64 } from '../../../../src/sources/rocksdb/util/xxh3.js';
import { XXH3_WASM_BASE64 } from '../../../../src/sources/rocksdb/util/xxh3-wasm.js';
import { SNAPPY_WASM_BASE64 } from '../../../../src/sources/rocksdb/util/snappy-wasm.js';
import { CRC32C_WASM_BASE64 } from '../../../../src/sources/rocksdb/util/crc32c-wasm.js';

const bytes = (...b: number[]) => Uint8Array.from(b);
const ascii = (s: string) => new TextEncoder().encode(s);

/** Runs `f`; passes if it returns or throws DecodeFailure, fails on any other exception. */
function onlyDecodeFailure(f: () => Uint8Array, declared?: number): void {
  try {
    const out = f();
    if (declared !== undefined) expect(out.length).toBe(declared);
  } catch (e) {
    if (!(e instanceof DecodeFailure)) throw e;
  }
}

describe('snappy', () => {
  it('decodes literals and overlapping copies (RLE)', () => {
    // length 10; literal "ab"; copy-1 len 4 offset 2 ("abab"); copy-2 len 4 offset 1 ("bbbb")
    const input = bytes(10, 0x04, 0x61, 0x62, 0x01, 0x02, 0x0e, 0x01, 0x00);
    expect(new TextDecoder().decode(snappyDecompress(input, 100))).toBe('ababab' + 'bbbb');
  });
  it('decodes a literal whose length is in a following byte (tag 60)', () => {
    const lit = new Uint8Array(70).fill(0x33);
    const input = new Uint8Array([70, 60 << 2, 69, ...lit]);
    expect(snappyDecompress(input, 100)).toEqual(lit);
  });
  it('rejects a declared length above the limit before allocating', () => {
    expect(() => snappyDecompress(bytes(0xff, 0xff, 0xff, 0xff, 0x0f), 1 << 20)).toThrow(DecodeFailure);
  });
  it('rejects a declared length at the limit + 1, accepts it at the limit', () => {
    expect(snappyDecompress(bytes(3, 0x08, 1, 2, 3), 3)).toEqual(bytes(1, 2, 3));
    expect(() => snappyDecompress(bytes(3, 0x08, 1, 2, 3), 2)).toThrow(DecodeFailure);
  });
  it('rejects a copy offset of 0 or before the start of output', () => {
    expect(() => snappyDecompress(bytes(8, 0x04, 0x61, 0x62, 0x01, 0x00), 100)).toThrow(/offset/);
    expect(() => snappyDecompress(bytes(8, 0x04, 0x61, 0x62, 0x01, 0x03), 100)).toThrow(/offset/);
  });
  it('rejects output longer or shorter than declared', () => {
    expect(() => snappyDecompress(bytes(1, 0x04, 0x61, 0x62), 100)).toThrow(/declared/);
    expect(() => snappyDecompress(bytes(5, 0x04, 0x61, 0x62), 100)).toThrow(/declared/);
  });
  it('rejects literals and copies running past the end of input', () => {
    expect(() => snappyDecompress(bytes(5, 0x10, 0x61), 100)).toThrow(/input/);
    expect(() => snappyDecompress(bytes(5, 0x04, 0x61, 0x62, 0x02, 0x01), 100)).toThrow(/truncated/);
    expect(() => snappyDecompress(bytes(5, 0x04, 0x61, 0x62, 0x03, 0x01, 0x00), 100)).toThrow(/truncated/);
    expect(() => snappyDecompress(bytes(0x80), 100)).toThrow(/preamble/);
  });
  it('fuzz: arbitrary bytes only ever raise DecodeFailure and never exceed the limit', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
        onlyDecodeFailure(() => {
          const out = snappyDecompress(input, 4096);
          expect(out.length).toBeLessThanOrEqual(4096);
          return out;
        });
      }),
      { numRuns: 5000 },
    );
  });
});

/** Element plans for a random valid stream: literal bytes, or a back-reference (offset, length). */
type Element = { lit: number[] } | { off: number; len: number };
const elements = fc.array(
  fc.oneof(
    fc.record({ lit: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 80 }) }),
    fc.record({ off: fc.integer({ min: 1, max: 70000 }), len: fc.integer({ min: 4, max: 64 }) }),
  ),
  { maxLength: 40 },
);

/**
 * Element plans shaped like RocksDB blocks for the wide copies of the WebAssembly decoders: copies
 * under 8, 8-15 and 16+ bytes back (up to 64 long, or longer for LZ4), literals of 1-70 bytes,
 * after a first literal long enough for every offset.
 */
const shortElements = fc.array(
  fc.oneof(
    fc.record({ lit: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 70 }) }),
    fc.record({ off: fc.integer({ min: 1, max: 40 }), len: fc.integer({ min: 4, max: 64 }) }),
    fc.record({ off: fc.integer({ min: 1, max: 40 }), len: fc.integer({ min: 65, max: 300 }) }),
  ),
  { maxLength: 60 },
);
const firstLiteral = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 40, maxLength: 200 });

/** Encodes a valid Snappy stream (and its expected output) from element plans. */
function snappyEncode(plan: Element[]): { input: Uint8Array; output: Uint8Array } {
  const out: number[] = [];
  const body: number[] = [];
  for (const e of plan) {
    if ('lit' in e) {
      const n = e.lit.length - 1;
      if (n < 60) body.push(n << 2);
      else body.push(60 << 2, n);
      body.push(...e.lit);
      out.push(...e.lit);
    } else {
      if (out.length === 0) continue;
      const off = 1 + ((e.off - 1) % out.length);
      if (off < 2048 && e.len <= 11) body.push(1 | ((e.len - 4) << 2) | ((off >> 8) << 5), off & 0xff);
      else if (off < 65536) body.push(2 | ((e.len - 1) << 2), off & 0xff, off >> 8);
      else body.push(3 | ((e.len - 1) << 2), off & 0xff, (off >> 8) & 0xff, off >> 16, 0);
      for (let i = 0; i < e.len; i++) out.push(out[out.length - off]!);
    }
  }
  const pre: number[] = [];
  let v = out.length;
  while (v >= 0x80) {
    pre.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  pre.push(v);
  return { input: Uint8Array.from([...pre, ...body]), output: Uint8Array.from(out) };
}

/** Encodes a valid LZ4 block from element plans (literals then a match per sequence). */
function lz4Encode(plan: Element[]): { input: Uint8Array; output: Uint8Array } {
  const out: number[] = [];
  const body: number[] = [];
  const ext = (n: number) => {
    while (n >= 255) {
      body.push(255);
      n -= 255;
    }
    body.push(n);
  };
  let lit: number[] = [];
  for (const e of plan) {
    if ('lit' in e) {
      lit.push(...e.lit);
      continue;
    }
    const total = out.length + lit.length;
    if (total === 0) continue;
    const off = 1 + ((e.off - 1) % Math.min(total, 65535));
    const ml = e.len - 4;
    body.push((Math.min(lit.length, 15) << 4) | Math.min(ml, 15));
    if (lit.length >= 15) ext(lit.length - 15);
    body.push(...lit);
    out.push(...lit);
    lit = [];
    body.push(off & 0xff, off >> 8);
    if (ml >= 15) ext(ml - 15);
    for (let i = 0; i < e.len; i++) out.push(out[out.length - off]!);
  }
  body.push(Math.min(lit.length, 15) << 4);
  if (lit.length >= 15) ext(lit.length - 15);
  body.push(...lit);
  out.push(...lit);
  return { input: Uint8Array.from(body), output: Uint8Array.from(out) };
}

describe('snappy: WebAssembly and JavaScript decoders agree', () => {
  it('on random valid streams (both produce the encoded output)', () => {
    fc.assert(
      fc.property(elements, (plan) => {
        const { input, output } = snappyEncode(plan);
        expect(snappyDecompressWasm(input, 1 << 20)).toEqual(output);
        expect(snappyDecompressJs(input, 1 << 20)).toEqual(output);
      }),
      { numRuns: 2000 },
    );
  });
  it('on streams of short offsets and literals around the 8- and 16-byte copy widths (RocksDB blocks)', () => {
    fc.assert(
      fc.property(firstLiteral, shortElements, (first, plan) => {
        // A Snappy copy is at most 64 bytes long.
        const { input, output } = snappyEncode([{ lit: first }, ...plan.filter((e) => !('len' in e) || e.len <= 64)]);
        expect(snappyDecompressWasm(input, 1 << 20)).toEqual(output);
      }),
      { numRuns: 2000 },
    );
  });
  it('on random corruptions of valid streams (same output or both DecodeFailure)', () => {
    fc.assert(
      fc.property(elements, fc.nat(), fc.integer({ min: 1, max: 255 }), (plan, at, x) => {
        const { input } = snappyEncode(plan);
        if (input.length === 0) return;
        input[at % input.length] = input[at % input.length]! ^ x;
        const run = (f: () => Uint8Array) => {
          try {
            return f();
          } catch (e) {
            if (e instanceof DecodeFailure) return 'fail';
            throw e;
          }
        };
        expect(run(() => snappyDecompressWasm(input, 1 << 20))).toEqual(run(() => snappyDecompressJs(input, 1 << 20)));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('lz4', () => {
  it('decodes random valid blocks', () => {
    fc.assert(
      fc.property(elements, (plan) => {
        const { input, output } = lz4Encode(plan);
        expect(lz4Decompress(input, output.length)).toEqual(output);
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes literals, matches and extended lengths', () => {
    // token 0x24: 2 literals "ab", match len 4+4=8 at offset 2 -> "ab" + "abababab"; then last literals "z"
    const input = bytes(0x24, 0x61, 0x62, 0x02, 0x00, 0x10, 0x7a);
    expect(new TextDecoder().decode(lz4Decompress(input, 11))).toBe('abababababz');
    // match length 15 + 255 + 1 extension -> 4 + 271 = 275 bytes of 'a' after one literal
    const ext = bytes(0x1f, 0x61, 0x01, 0x00, 0xff, 0x01, 0x10, 0x62);
    const out = lz4Decompress(ext, 1 + 275 + 1);
    expect(out[0]).toBe(0x61);
    expect(out[275]).toBe(0x61);
    expect(out[276]).toBe(0x62);
  });
  it('rejects a match offset of 0 or before the start of output', () => {
    expect(() => lz4Decompress(bytes(0x10, 0x61, 0x00, 0x00, 0x10, 0x62), 6)).toThrow(/offset/);
    expect(() => lz4Decompress(bytes(0x10, 0x61, 0x02, 0x00, 0x10, 0x62), 6)).toThrow(/offset/);
  });
  it('rejects output longer or shorter than declared', () => {
    expect(() => lz4Decompress(bytes(0x30, 1, 2, 3), 2)).toThrow(/declared/);
    expect(() => lz4Decompress(bytes(0x30, 1, 2, 3), 4)).toThrow(/declared/);
    expect(lz4Decompress(bytes(0x30, 1, 2, 3), 3)).toEqual(bytes(1, 2, 3));
  });
  it('rejects truncated literal runs, offsets and length extensions', () => {
    expect(() => lz4Decompress(bytes(0x50, 1, 2), 5)).toThrow(/input/);
    expect(() => lz4Decompress(bytes(0x14, 1, 2), 10)).toThrow(/offset/);
    expect(() => lz4Decompress(bytes(0xf0, 0xff), 1000)).toThrow(/truncated/);
    expect(() => lz4Decompress(new Uint8Array(0), 0)).toThrow(DecodeFailure);
  });
  it('rejects a huge extended literal length before copying', () => {
    const input = new Uint8Array(2 + 100).fill(0xff);
    input[0] = 0xf0;
    expect(() => lz4Decompress(input, 1000)).toThrow(/declared/);
  });
  it('fuzz: arbitrary bytes only ever raise DecodeFailure; success means exactly the declared size', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 300 }), (input, size) => {
        onlyDecodeFailure(() => lz4Decompress(input, size), size);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('lz4: WebAssembly and JavaScript decoders agree', () => {
  const outcome = (f: () => Uint8Array): string => {
    try {
      return `ok ${Buffer.from(f()).toString('hex')}`;
    } catch (e) {
      if (!(e instanceof DecodeFailure)) throw e;
      // The JavaScript decoder names the bad offset and the sizes; the WebAssembly one cannot.
      return `fail ${e.message.replace(/ \d+ /, ' ').replace(/produced.*|output shorter than declared size/, 'short output')}`;
    }
  };
  it('on blocks of short offsets and literals around the 8- and 16-byte copy widths (RocksDB blocks)', () => {
    fc.assert(
      fc.property(firstLiteral, shortElements, (first, plan) => {
        const { input, output } = lz4Encode([{ lit: first }, ...plan]);
        expect(lz4DecompressWasm(input, output.length)).toEqual(output);
      }),
      { numRuns: 500 },
    );
  });
  it('on random valid blocks (identical output)', () => {
    fc.assert(
      fc.property(elements, (plan) => {
        const { input, output } = lz4Encode(plan);
        expect(lz4DecompressWasm(input, output.length)).toEqual(output);
        expect(lz4DecompressJs(input, output.length)).toEqual(output);
      }),
      { numRuns: 1000 },
    );
  });
  it('on arbitrary bytes (same result, same error)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.integer({ min: 0, max: 300 }), (input, size) => {
        expect(outcome(() => lz4DecompressWasm(input, size))).toBe(outcome(() => lz4DecompressJs(input, size)));
      }),
      { numRuns: 5000 },
    );
  });
  it('on valid blocks with one byte changed (same result, same error)', () => {
    fc.assert(
      fc.property(elements, fc.nat(), fc.integer({ min: 0, max: 255 }), (plan, at, byte) => {
        const { input, output } = lz4Encode(plan);
        if (input.length === 0) return;
        const bad = input.slice();
        bad[at % bad.length] = byte;
        expect(outcome(() => lz4DecompressWasm(bad, output.length))).toBe(outcome(() => lz4DecompressJs(bad, output.length)));
      }),
      { numRuns: 2000 },
    );
  });
  it('above the WebAssembly size limit, the JavaScript decoder takes over', () => {
    const n = 1024 * 1024 + 10;
    // one literal byte, then a match of n - 1 bytes at offset 1, then no last literals: build it
    const ext: number[] = [0x1f, 0x61, 0x01, 0x00];
    let rest = n - 1 - 4 - 15;
    while (rest >= 255) {
      ext.push(255);
      rest -= 255;
    }
    ext.push(rest, 0x10, 0x62);
    const out = lz4Decompress(Uint8Array.from(ext), n + 1);
    expect(out.length).toBe(n + 1);
    expect(out[n - 1]).toBe(0x61);
    expect(out[n]).toBe(0x62);
  });
});

describe('varints', () => {
  const r = { value: 0, pos: 0 };
  it('decode the largest varint32 and reject a sixth byte or a value >= 2^32', () => {
    readVarint32(bytes(0xff, 0xff, 0xff, 0xff, 0x0f), 0, 5, r);
    expect(r).toEqual({ value: 0xffffffff, pos: 5 });
    readVarint32(bytes(0xff, 0xff, 0xff, 0xff, 0x1f), 0, 5, r);
    expect(r.pos).toBe(-1);
    readVarint32(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x00), 0, 6, r);
    expect(r.pos).toBe(-1);
  });
  it('never read past the end', () => {
    readVarint32(bytes(0x80, 0x01), 0, 1, r);
    expect(r.pos).toBe(-1);
    readVarint64(bytes(0x80, 0x01), 0, 1, r);
    expect(r.pos).toBe(-1);
  });
  it('varint64 accepts 2^53 - 1 and rejects 2^53', () => {
    const enc = (v: bigint) => {
      const out: number[] = [];
      while (v >= 0x80n) {
        out.push(Number(v & 0x7fn) | 0x80);
        v >>= 7n;
      }
      out.push(Number(v));
      return Uint8Array.from(out);
    };
    const max = enc(2n ** 53n - 1n);
    readVarint64(max, 0, max.length, r);
    expect(r.value).toBe(Number.MAX_SAFE_INTEGER);
    const over = enc(2n ** 53n);
    readVarint64(over, 0, over.length, r);
    expect(r.pos).toBe(-1);
  });
  it('zig-zag signed varints decode negatives', () => {
    readVarsigned64(bytes(0x03), 0, 1, r);
    expect(r.value).toBe(-2);
    readVarsigned64(bytes(0x04), 0, 1, r);
    expect(r.value).toBe(2);
  });
});

describe('crc32c', () => {
  it('matches the standard check value and RocksDB mask round-trips', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720 B.4
    const c = crc32c(ascii('hello'));
    expect(crc32cUnmask(crc32cMask(c))).toBe(c);
    expect(crc32cMask(c)).not.toBe(c);
  });
  it('slicing-by-8 agrees with a bitwise reference for all alignments and lengths', () => {
    const reference = (b: Uint8Array, start: number, end: number) => {
      let c = 0xffffffff;
      for (let i = start; i < end; i++) {
        c ^= b[i]!;
        for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      }
      return ~c >>> 0;
    };
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff);
    for (let start = 0; start < 9; start++) {
      for (const len of [0, 1, 7, 8, 9, 63, 64, 65, 200]) {
        expect(crc32c(data, start, start + len)).toBe(reference(data, start, start + len));
        expect(crc32cExtendJs(0, data, start, start + len)).toBe(reference(data, start, start + len));
      }
    }
  });
  it('the WebAssembly path agrees with JavaScript across its 56 KiB chunk boundary', () => {
    const big = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 2654435761) >>> 24);
    for (const [s, e] of [[0, 200_000], [3, 57_347], [1, 57_344], [100, 170_000]] as const) {
      expect(crc32c(big, s, e)).toBe(crc32cExtendJs(0, big, s, e));
    }
  });
});

describe('xxh3 (XXH3_64bits, seed 0) agrees with xxhsum -H3', () => {
  it('for every size class: 0, 1-3, 4-8, 9-16, 17-128, 129-240 and long inputs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sv-xxh3-'));
    try {
      const lens = [0, 1, 3, 4, 8, 9, 16, 17, 100, 128, 129, 200, 240, 241, 1024, 1025, 1088, 1089, 4096, 4101, 70000];
      for (const len of lens) {
        const b = Uint8Array.from({ length: len }, (_, i) => (i * 131 + len * 7 + (i >> 5)) & 0xff);
        const f = join(dir, `in${len}`);
        writeFileSync(f, b);
        const line = execFileSync('xxhsum', ['-H3', f], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        const expected = /([0-9a-f]{16})/.exec(line.split('=').pop() ?? line)?.[1];
        expect(xxh3_64(b).toString(16).padStart(16, '0'), `length ${len}`).toBe(expected);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const hasWat2wasm = (() => {
  try {
    execFileSync('wat2wasm', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('generated code', () => {
  it.skipIf(!hasWat2wasm).each([
    ['xxh3', XXH3_WASM_BASE64],
    ['snappy', SNAPPY_WASM_BASE64],
    ['crc32c', CRC32C_WASM_BASE64],
    ['lz4', LZ4_WASM_BASE64],
  ])('%s-wasm.ts is wat2wasm of %s.wat (rerun util/build-wasm.sh if not)', (name, embedded) => {
    const dir = mkdtempSync(join(tmpdir(), 'sv-wat-'));
    try {
      const wat = new URL(`../../../../src/sources/rocksdb/util/${name}.wat`, import.meta.url).pathname;
      execFileSync('wat2wasm', [wat, '-o', join(dir, 'x.wasm')]);
      expect(readFileSync(join(dir, 'x.wasm')).toString('base64')).toBe(embedded);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('decompressBlock', () => {
  it('fuzz: any codec byte and bytes give a block, DecodeFailure or UnsupportedCompression, nothing else', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 0x40, 0x80),
        fc.uint8Array({ maxLength: 80 }),
        fc.boolean(),
        (type, tail, zstdMagic) => {
          // Half the inputs start like a real zstd frame, so the frame decoder is reached.
          const input = zstdMagic ? Uint8Array.from([0x10, 0x28, 0xb5, 0x2f, 0xfd, ...tail]) : tail;
          try {
            decompressBlock(type, input);
          } catch (e) {
            if (!(e instanceof DecodeFailure) && !(e instanceof UnsupportedCompression)) throw e;
          }
        },
      ),
      { numRuns: 5000 },
    );
  });
  it('names codecs it does not implement', () => {
    expect(() => decompressBlock(3, bytes(1, 2))).toThrow(/BZip2/);
    expect(() => decompressBlock(6, bytes(1, 2))).toThrow(/Xpress/);
    expect(() => decompressBlock(0x81, bytes(1, 2))).toThrow(/custom compression 0x81/);
  });
});
