import { describe, expect, it } from 'vitest';
import { haveXxh64sum, rangeOfKey, snapshotDigest, tableDigest } from './oracle.js';

/** The independent oracle the scenario relies on must itself reproduce the spec's worked example. */
describe.skipIf(!haveXxh64sum())('the test oracle (spec/FORMAT.md section 10)', () => {
  const rows = [[Buffer.from('k1'), Buffer.from('v1')], [Buffer.from('k2'), Buffer.from('v2')]] as const;

  it('table digest of a is fd474d96fa44d300 and of an empty table xxh64("")', () => {
    expect(tableDigest(rows)).toBe('fd474d96fa44d300');
    expect(tableDigest([])).toBe('ef46db3751d8e999');
  });

  it('snapshot digest of the worked example is 98dc1621cee7c9fb', () => {
    expect(snapshotDigest(7n, 100n, [{ id: 1, name: 'a', rows }, { id: 2, name: 'b', rows: [] }], Buffer.from('ev'))).toBe('98dc1621cee7c9fb');
  });

  it('range of a key follows the documented boundaries', () => {
    expect(rangeOfKey(Buffer.from([0x00]), 16)).toBe(0);
    expect(rangeOfKey(Buffer.from([0x10, 0, 0, 0]), 16)).toBe(1);
    expect(rangeOfKey(Buffer.from([0x0f, 0xff, 0xff, 0xff, 0xff]), 16)).toBe(0);
    expect(rangeOfKey(Buffer.from([0xff, 0xff, 0xff, 0xff]), 3)).toBe(2);
    expect(rangeOfKey(Buffer.from([0x55, 0x55, 0x55, 0x55]), 3)).toBe(1); // floor(2^32/3) = 0x55555555
  });
});
