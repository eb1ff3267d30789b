import { beforeAll, describe, expect, it } from 'vitest';
import { loadWalrusSchemas, UnknownVariantError, type WalrusCodec, type WalrusSchemas } from '../../src/presets/walrus/schema.js';
import { validateWalrusValue, type WalrusValueType } from '../../src/presets/walrus/validate.js';
import { blobIdFromU64, fixedEventIdForTesting, objectIdFromSingleByte } from '../interop/walrus-sample.js';

let s: WalrusSchemas;
beforeAll(async () => {
  s = await loadWalrusSchemas();
});

type Verdict = 'ok' | 'unknown-variant' | 'invalid';
function verdict(f: () => unknown): Verdict {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof UnknownVariantError) return 'unknown-variant';
    expect(e).toMatchObject({ code: 'BAD_RECORD' });
    return 'invalid';
  }
}

describe('the fast value check accepts exactly what the strict @mysten/bcs codecs accept', () => {
  it('on valid values and ~30,000 seeded mutations (byte changes, truncations, insertions, variant bytes)', () => {
    const samples: [WalrusValueType, WalrusCodec<unknown>, Uint8Array[]][] = [
      ['PerObjectBlobInfo', s.perObjectBlobInfo as WalrusCodec<unknown>, [
        s.perObjectBlobInfo.encode({ V1: { blob_id: blobIdFromU64(10n), registered_epoch: 1, certified_epoch: 2, end_epoch: 5, deletable: false, event: fixedEventIdForTesting(1n), deleted: false } }),
        s.perObjectBlobInfo.encode({ V1: { blob_id: blobIdFromU64(11n), registered_epoch: 3, certified_epoch: null, end_epoch: 9, deletable: true, event: fixedEventIdForTesting(2n), deleted: true } }),
      ]],
      ['StoragePoolInfo', s.storagePoolInfo as WalrusCodec<unknown>, [s.storagePoolInfo.encode({ V1: { start_epoch: 1, end_epoch: 100 } })]],
      ['PerObjectPooledBlobInfo', s.perObjectPooledBlobInfo as WalrusCodec<unknown>, [
        s.perObjectPooledBlobInfo.encode({ V1: { blob_id: blobIdFromU64(20n), registered_epoch: 2, certified_epoch: 4, storage_pool_id: objectIdFromSingleByte(8), event: fixedEventIdForTesting(5n) } }),
        s.perObjectPooledBlobInfo.encode({ V1: { blob_id: blobIdFromU64(21n), registered_epoch: 2, certified_epoch: null, storage_pool_id: objectIdFromSingleByte(8), event: fixedEventIdForTesting(6n) } }),
      ]],
    ];
    let seed = 0x9e3779b9;
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) % n);
    const counts: Record<Verdict, number> = { ok: 0, 'unknown-variant': 0, invalid: 0 };
    for (const [type, codec, values] of samples) {
      const check = (bytes: Uint8Array) => {
        const fast = verdict(() => validateWalrusValue(type, bytes));
        const strict = verdict(() => codec.decode(bytes));
        expect(fast, `${type} ${Buffer.from(bytes).toString('hex')}`).toBe(strict);
        counts[fast]++;
      };
      for (const v of values) {
        check(v);
        for (const head of [[1], [0x7f], [0x80, 0x01], [0x80, 0x00], [0xff, 0xff, 0xff, 0xff, 0x0f]]) check(Uint8Array.of(...head, ...v.subarray(1)));
        for (let i = 0; i < 5000; i++) {
          const b = Array.from(v);
          const k = rnd(3);
          if (k === 0) b[rnd(b.length)] = rnd(4) === 0 ? rnd(256) : rnd(3); // small values hit bool/option/variant edges
          else if (k === 1) b.length = rnd(b.length);
          else b.splice(rnd(b.length + 1), 0, rnd(256));
          check(Uint8Array.from(b));
        }
      }
    }
    // The mutations reach every verdict.
    expect(counts.ok).toBeGreaterThan(100);
    expect(counts['unknown-variant']).toBeGreaterThan(10);
    expect(counts.invalid).toBeGreaterThan(1000);
  });
});

describe('strict codecs on views', () => {
  it('a truncated operand inside a larger buffer is invalid; bytes past its end are never read (they would look like an unknown variant)', () => {
    const padded = new Uint8Array(64).fill(7);
    padded[0] = 2; // BlobInfoMergeOperand::ChangeStatus, cut before its change_type
    expect(() => s.blobInfoMergeOperand.decode(padded.subarray(0, 1))).toThrow(expect.objectContaining({ code: 'BAD_RECORD' }));
    const full = s.storagePoolInfo.encode({ V1: { start_epoch: 1, end_epoch: 100 } });
    const big = new Uint8Array(full.length + 16);
    big.set(full, 4);
    expect(s.storagePoolInfo.decode(big.subarray(4, 4 + full.length)).V1.end_epoch).toBe(100);
  });
});
