/**
 * The encoder's own xxhash64 streams and packed-batch scanner (src/format/encoder-wasm): digests
 * equal xxhash-wasm's and `xxh64sum`'s for any way of feeding the bytes, and the scanner stops
 * exactly where a batch stops being valid. That a writer using them gives the summaries and errors
 * of adding entries one by one is packed.test.ts's property.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHasher, packEntries, xxh64 } from '../../src/format/index.js';
import { CHUNK, EncoderHash, TABLE } from '../../src/format/encoder-wasm/encoder-hash.js';
import { ENCODER_HASH_WASM_BASE64 } from '../../src/format/encoder-wasm/encoder-hash-wasm.js';

const WASM_DIR = join(import.meta.dirname, '..', '..', 'src', 'format', 'encoder-wasm');

beforeAll(loadHasher);

describe('the encoder hash module', () => {
  it('encoder-hash-wasm.ts is wat2wasm of encoder-hash.wat (rerun src/format/encoder-wasm/build-wasm.sh if not)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'enc-wat-'));
    try {
      execFileSync('wat2wasm', [join(WASM_DIR, 'encoder-hash.wat'), '-o', join(dir, 'x.wasm')]);
      expect(readFileSync(join(dir, 'x.wasm')).toString('base64')).toBe(ENCODER_HASH_WASM_BASE64);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('both slots equal xxhash64 of what they were fed, however it is cut', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 8 }), fc.nat(300), (bytes, cuts, tableAt) => {
        const h = new EncoderHash();
        const t = Math.min(tableAt, bytes.length);
        let from = 0;
        for (const c of [...cuts.map((x) => x % (bytes.length + 1)).sort((a, b) => a - b), bytes.length]) {
          if (c < from) continue;
          h.update(bytes, from, t >= c ? -1 : Math.max(t, from), c);
          from = c;
        }
        expect(h.digest(CHUNK)).toBe(xxh64(bytes));
        expect(h.digest(TABLE)).toBe(xxh64(bytes.subarray(t)));
        h.reset(TABLE);
        expect(h.digest(TABLE)).toBe(xxh64(new Uint8Array(0)));
      }),
      { numRuns: 500 },
    );
  });

  it('the scanner accepts a sorted batch whole, and stops exactly at the first key out of order', () => {
    const keyArb = fc.tuple(fc.nat(20), fc.uint8Array({ maxLength: 12 })).map(([p, k]) => Uint8Array.from([...new Array<number>(p).fill(7), ...k]));
    fc.assert(
      fc.property(fc.uniqueArray(keyArb, { minLength: 2, maxLength: 40, selector: (k) => Buffer.from(k).toString('hex') }), fc.nat(), (keys, at) => {
        keys.sort((a, b) => Buffer.compare(a, b));
        const entries = keys.map((key) => ({ key, value: Uint8Array.of(key.length) }));
        const h = new EncoderHash();
        const whole = packEntries(entries);
        const r = h.scanPacked(whole.bytes, new Uint8Array(0), -1, 64, 64);
        expect([r.stop, r.entries]).toEqual([whole.bytes.length, keys.length]);
        expect(whole.bytes.subarray(r.lastKey, r.lastKey + r.lastKeyLength)).toEqual(keys.at(-1));
        // Swap records i and i + 1: the scanner stops at record i + 1.
        const i = at % (keys.length - 1);
        const swapped = [...entries];
        [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
        const stopAt = packEntries(swapped.slice(0, i + 1)).bytes.length;
        expect(new EncoderHash().scanPacked(packEntries(swapped).bytes, new Uint8Array(0), -1, 64, 64).stop).toBe(stopAt);
        // After a last key equal to the first, or above it (the last key of the batch): nothing accepted.
        expect(new EncoderHash().scanPacked(whole.bytes, keys[0]!, keys[0]!.length, 64, 64).stop).toBe(0);
        expect(new EncoderHash().scanPacked(whole.bytes, keys.at(-1)!, keys.at(-1)!.length, 64, 64).stop).toBe(0);
        // Just below the first (a proper prefix of it): the whole batch.
        const below = keys[0]!.subarray(0, keys[0]!.length - 1);
        if (keys[0]!.length > 0) expect(new EncoderHash().scanPacked(whole.bytes, below, below.length, 64, 64).stop).toBe(whole.bytes.length);
      }),
      { numRuns: 500 },
    );
  });

  it('a 3 MB input (copied in 1 MiB steps) hashes as xxh64sum says', () => {
    const bytes = new Uint8Array(3_000_017);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    const h = new EncoderHash();
    h.update(bytes, 0, 5, bytes.length);
    const dir = mkdtempSync(join(tmpdir(), 'enc-xxh-'));
    try {
      writeFileSync(join(dir, 'a'), bytes);
      writeFileSync(join(dir, 'b'), bytes.subarray(5));
      const sum = (f: string) => execFileSync('xxh64sum', [join(dir, f)], { encoding: 'utf8' }).split(' ')[0];
      expect(h.digest(CHUNK).toString(16).padStart(16, '0')).toBe(sum('a'));
      expect(h.digest(TABLE).toString(16).padStart(16, '0')).toBe(sum('b'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
