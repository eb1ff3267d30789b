/**
 * Walrus's merge operators, pinned to Walrus's own unit-test expectations (file and test named
 * on each block; Walrus commit in docs/WALRUS.md). Every case goes through the operator as
 * RocksDB calls it: BCS bytes in (existing value, operands), BCS bytes out.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { emptyV1, emptyV2, loadWalrusPreset, WALRUS_OPERATOR_NAMES, WalrusMergePanic } from '../../src/presets/walrus/index.js';
import type {
  BlobInfo,
  BlobInfoMergeOperand,
  ChangeType,
  PermanentBlobInfo,
  ValidBlobInfoV1,
  ValidBlobInfoV2,
  WalrusSchemas,
} from '../../src/presets/walrus/schema.js';
import type { MergeOperator } from '../../src/sources/merge-operator.js';
import { blobIdFromU64, fixedEventIdForTesting, objectIdFromSingleByte } from '../interop/walrus-sample.js';

let s: WalrusSchemas;
let ops: Record<string, MergeOperator>;
beforeAll(async () => {
  const preset = await loadWalrusPreset();
  s = preset.schemas;
  ops = Object.fromEntries(preset.mergeOperators.map((o) => [o.name, o]));
});

const KEY = objectIdFromSingleByte(1);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** `event_id_for_testing()` is random in Walrus; any fixed digest stands for it here. */
const eventIdForTesting = () => ({ tx_digest: new Uint8Array(32).fill(7), event_seq: 0n });
const Register: ChangeType = { Register: null };
const Certify: ChangeType = { Certify: null };
const Extend: ChangeType = { Extend: null };
const Delete = (was_certified: boolean): ChangeType => ({ Delete: { was_certified } });

/** `BlobInfoMergeOperand::new_change_for_testing` (blob_info.rs). */
const change = (change_type: ChangeType, deletable: boolean, epoch: number, end_epoch: number, status_event = eventIdForTesting()): BlobInfoMergeOperand => ({
  ChangeStatus: { change_type, change_info: { blob_id: blobIdFromU64(42n), deletable, epoch, end_epoch, status_event } },
});
/** `PermanentBlobInfo::new_fixed_for_testing(count, end_epoch, event_seq)` (perm_blob_info.rs). */
const perm = (count: number, end_epoch: number, seq: number): PermanentBlobInfo => ({ count, end_epoch, event: fixedEventIdForTesting(BigInt(seq)) });
/** `ValidBlobInfoV1 { ..fields, ..Default::default() }` and the same for V2. */
const v1 = (f: Partial<ValidBlobInfoV1> = {}): ValidBlobInfoV1 => ({ ...emptyV1(), ...f });
const v2 = (f: Partial<ValidBlobInfoV2> = {}): ValidBlobInfoV2 => ({ ...emptyV2(), ...f });
/** blob_info_v2.rs tests' `pool_op`. */
const poolOp = (change_type: ChangeType, epoch: number): BlobInfoMergeOperand => ({
  PooledBlobChangeStatus: { change_type, change_info: { blob_id: blobIdFromU64(1n), epoch, storage_pool_id: objectIdFromSingleByte(42), status_event: eventIdForTesting() } },
});

function mergeBlobInfo(existing: BlobInfo | undefined, ...operands: BlobInfoMergeOperand[]): Uint8Array {
  return ops[WALRUS_OPERATOR_NAMES.blobInfo]!.fullMerge(KEY, existing === undefined ? undefined : s.blobInfo.encode(existing), operands.map((o) => s.blobInfoMergeOperand.encode(o)));
}
const expectBlobInfo = (got: Uint8Array, expected: BlobInfo) => expect(hex(got)).toBe(hex(s.blobInfo.encode(expected)));

describe('"merge blob info", V1 (blob_info_v1.rs)', () => {
  // test_merge_preexisting_expected_successes
  const successes: [string, ValidBlobInfoV1, BlobInfoMergeOperand, ValidBlobInfoV1][] = [
    ['register_first_deletable', v1(), change(Register, true, 1, 2), v1({ count_deletable_total: 1, latest_seen_deletable_registered_end_epoch: 2 })],
    ['register_additional_deletable1', v1({ count_deletable_total: 3, latest_seen_deletable_registered_end_epoch: 2 }), change(Register, true, 1, 5), v1({ count_deletable_total: 4, latest_seen_deletable_registered_end_epoch: 5 })],
    ['register_additional_deletable2', v1({ count_deletable_total: 3, latest_seen_deletable_registered_end_epoch: 4 }), change(Register, true, 1, 3), v1({ count_deletable_total: 4, latest_seen_deletable_registered_end_epoch: 4 })],
    ['certify_first_deletable', v1({ count_deletable_total: 3, latest_seen_deletable_registered_end_epoch: 4 }), change(Certify, true, 1, 4),
      v1({ count_deletable_total: 3, count_deletable_certified: 1, initial_certified_epoch: 1, latest_seen_deletable_registered_end_epoch: 4, latest_seen_deletable_certified_end_epoch: 4 })],
    ['certify_additional_deletable1',
      v1({ count_deletable_total: 3, count_deletable_certified: 1, initial_certified_epoch: 0, latest_seen_deletable_registered_end_epoch: 4, latest_seen_deletable_certified_end_epoch: 4 }),
      change(Certify, true, 1, 2),
      v1({ count_deletable_total: 3, count_deletable_certified: 2, initial_certified_epoch: 0, latest_seen_deletable_registered_end_epoch: 4, latest_seen_deletable_certified_end_epoch: 4 })],
    ['certify_additional_deletable2',
      v1({ count_deletable_total: 3, count_deletable_certified: 1, initial_certified_epoch: 1, latest_seen_deletable_registered_end_epoch: 5, latest_seen_deletable_certified_end_epoch: 4 }),
      change(Certify, true, 0, 5),
      v1({ count_deletable_total: 3, count_deletable_certified: 2, initial_certified_epoch: 0, latest_seen_deletable_registered_end_epoch: 5, latest_seen_deletable_certified_end_epoch: 5 })],
    ['register_first_permanent', v1(), change(Register, false, 1, 2, fixedEventIdForTesting(0n)), v1({ permanent_total: perm(1, 2, 0) })],
    ['extend_deletable',
      v1({ count_deletable_total: 3, count_deletable_certified: 1, initial_certified_epoch: 0, latest_seen_deletable_registered_end_epoch: 4, latest_seen_deletable_certified_end_epoch: 4 }),
      change(Extend, true, 3, 42),
      v1({ count_deletable_total: 3, count_deletable_certified: 1, initial_certified_epoch: 0, latest_seen_deletable_registered_end_epoch: 42, latest_seen_deletable_certified_end_epoch: 42 })],
    ['extend_permanent',
      v1({ initial_certified_epoch: 0, permanent_total: perm(2, 4, 0), permanent_certified: perm(1, 4, 1) }),
      change(Extend, false, 3, 42, fixedEventIdForTesting(2n)),
      v1({ initial_certified_epoch: 0, permanent_total: perm(2, 42, 2), permanent_certified: perm(1, 42, 2) })],
    ['certify_outdated_deletable',
      v1({ count_deletable_total: 3, count_deletable_certified: 1, initial_certified_epoch: 1, latest_seen_deletable_registered_end_epoch: 8, latest_seen_deletable_certified_end_epoch: 4 }),
      change(Certify, true, 4, 6),
      v1({ count_deletable_total: 3, count_deletable_certified: 2, initial_certified_epoch: 4, latest_seen_deletable_registered_end_epoch: 8, latest_seen_deletable_certified_end_epoch: 6 })],
    ['certify_outdated_permanent',
      // `PermanentBlobInfo::new_for_testing(1, 5)` has a random event; the merge replaces it.
      v1({ initial_certified_epoch: 2, permanent_total: perm(2, 42, 0), permanent_certified: { count: 1, end_epoch: 5, event: eventIdForTesting() } }),
      change(Certify, false, 7, 42, fixedEventIdForTesting(1n)),
      v1({ initial_certified_epoch: 7, permanent_total: perm(2, 42, 0), permanent_certified: perm(2, 42, 1) })],
    ['register_additional_permanent', v1({ permanent_total: perm(1, 2, 0) }), change(Register, false, 2, 3, fixedEventIdForTesting(1n)), v1({ permanent_total: perm(2, 3, 1) })],
    ['expire_permanent_blob',
      v1({ permanent_total: perm(3, 5, 0), permanent_certified: perm(2, 5, 1), initial_certified_epoch: 1 }),
      { PermanentExpired: { was_certified: true } },
      v1({ permanent_total: perm(2, 5, 0), permanent_certified: perm(1, 5, 1), initial_certified_epoch: 1 })],
    ['expire_last_permanent_blob',
      v1({ permanent_total: perm(2, 5, 0), permanent_certified: perm(1, 5, 1), initial_certified_epoch: 1 }),
      { PermanentExpired: { was_certified: true } },
      v1({ permanent_total: perm(1, 5, 0) })],
    ['delete_deletable_blob',
      v1({ count_deletable_total: 3, count_deletable_certified: 2, initial_certified_epoch: 1, latest_seen_deletable_registered_end_epoch: 5, latest_seen_deletable_certified_end_epoch: 4 }),
      change(Delete(true), true, 1, 6),
      v1({ count_deletable_total: 2, count_deletable_certified: 1, initial_certified_epoch: 1, latest_seen_deletable_registered_end_epoch: 5, latest_seen_deletable_certified_end_epoch: 4 })],
    ['expire_deletable_blob',
      v1({ count_deletable_total: 3, count_deletable_certified: 2, initial_certified_epoch: 1, latest_seen_deletable_registered_end_epoch: 5, latest_seen_deletable_certified_end_epoch: 4 }),
      { DeletableExpired: { was_certified: true } },
      v1({ count_deletable_total: 2, count_deletable_certified: 1, initial_certified_epoch: 1, latest_seen_deletable_registered_end_epoch: 5, latest_seen_deletable_certified_end_epoch: 4 })],
    ['delete_last_deletable_blob',
      v1({ count_deletable_total: 2, count_deletable_certified: 1, initial_certified_epoch: 1, latest_seen_deletable_registered_end_epoch: 5, latest_seen_deletable_certified_end_epoch: 4 }),
      change(Delete(true), true, 1, 4),
      v1({ count_deletable_total: 1, latest_seen_deletable_registered_end_epoch: 5 })],
    ['expire_last_deletable_blob',
      v1({ count_deletable_total: 2, count_deletable_certified: 1, initial_certified_epoch: 1, latest_seen_deletable_registered_end_epoch: 5, latest_seen_deletable_certified_end_epoch: 4 }),
      { DeletableExpired: { was_certified: true } },
      v1({ count_deletable_total: 1, latest_seen_deletable_registered_end_epoch: 5 })],
    ['expire_uncertified_permanent_blob', v1({ permanent_total: perm(3, 5, 0) }), { PermanentExpired: { was_certified: false } }, v1({ permanent_total: perm(2, 5, 0) })],
    ['expire_last_uncertified_permanent_blob', v1({ permanent_total: perm(1, 5, 0) }), { PermanentExpired: { was_certified: false } }, v1()],
    ['delete_uncertified_deletable_blob', v1({ count_deletable_total: 3, latest_seen_deletable_registered_end_epoch: 5 }), change(Delete(false), true, 1, 6),
      v1({ count_deletable_total: 2, latest_seen_deletable_registered_end_epoch: 5 })],
    ['delete_last_uncertified_deletable_blob', v1({ count_deletable_total: 1, latest_seen_deletable_registered_end_epoch: 5 }), change(Delete(false), true, 2, 6), v1()],
  ];
  for (const [name, before, op, after] of successes) {
    it(`test_merge_preexisting_expected_successes::${name}`, () => {
      expectBlobInfo(mergeBlobInfo({ V1: { Valid: before } }, op), { V1: { Valid: after } });
    });
  }

  // test_merge_preexisting_expected_failures: Walrus logs an error and keeps the value.
  for (const [name, op] of [
    ['certify_permanent_without_register', change(Certify, false, 42, 314)],
    ['extend_permanent_without_certify', change(Extend, false, 42, 314)],
    ['certify_deletable_without_register', change(Certify, true, 42, 314)],
  ] as const) {
    it(`test_merge_preexisting_expected_failures::${name} keeps the existing value`, () => {
      expectBlobInfo(mergeBlobInfo({ V1: { Valid: v1() } }, op), { V1: { Valid: v1() } });
    });
  }

  // test_invalid_status_is_not_changed
  const everyOperand: [string, BlobInfoMergeOperand][] = [
    ['invalidate', { MarkInvalid: { epoch: 0, status_event: eventIdForTesting() } }],
    ['metadata_true', { MarkMetadataStored: true }],
    ['metadata_false', { MarkMetadataStored: false }],
    ['register_permanent', change(Register, false, 42, 314)],
    ['register_deletable', change(Register, true, 42, 314)],
    ['certify_permanent', change(Certify, false, 42, 314)],
    ['certify_deletable', change(Certify, true, 42, 314)],
    ['extend', change(Extend, false, 42, 314)],
    ['delete_true', change(Delete(true), false, 42, 314)],
    ['delete_false', change(Delete(false), false, 42, 314)],
  ];
  for (const [name, op] of everyOperand) {
    it(`test_invalid_status_is_not_changed::${name}`, () => {
      const invalid: BlobInfo = { V1: { Invalid: { epoch: 42, event: eventIdForTesting() } } };
      expectBlobInfo(mergeBlobInfo(invalid, op), invalid);
    });
  }

  it('test_mark_metadata_stored_keeps_everything_else_unchanged::permanent_certified', () => {
    const before = v1({ permanent_total: perm(2, 3, 0), permanent_certified: perm(1, 2, 0), initial_certified_epoch: 1 });
    expectBlobInfo(mergeBlobInfo({ V1: { Valid: before } }, { MarkMetadataStored: true }), { V1: { Valid: { ...before, is_metadata_stored: true } } });
  });

  it('test_mark_invalid_marks_everything_invalid::deletable_certified', () => {
    const event = eventIdForTesting();
    const before = v1({ count_deletable_total: 2, count_deletable_certified: 1, initial_certified_epoch: 0 });
    expectBlobInfo(mergeBlobInfo({ V1: { Valid: before } }, { MarkInvalid: { epoch: 2, status_event: event } }), { V1: { Invalid: { epoch: 2, event } } });
  });

  // test_merge_new_expected_success_cases_invariants: a first operand that starts a value.
  it('test_merge_new_expected_success_cases_invariants: register, invalidate and metadata start a V1 value', () => {
    expectBlobInfo(mergeBlobInfo(undefined, change(Register, false, 42, 314, fixedEventIdForTesting(9n))), { V1: { Valid: v1({ permanent_total: perm(1, 314, 9) }) } });
    expectBlobInfo(mergeBlobInfo(undefined, change(Register, true, 42, 314)), { V1: { Valid: v1({ count_deletable_total: 1, latest_seen_deletable_registered_end_epoch: 314 }) } });
    expectBlobInfo(mergeBlobInfo(undefined, { MarkMetadataStored: true }), { V1: { Valid: v1({ is_metadata_stored: true }) } });
  });

  // test_merge_new_expected_failure_cases (should_panic in Walrus's debug tests; a release node
  // logs an error and merge_new returns None, which RocksDB reports as a failed merge).
  for (const [name, op] of [
    ['certify_permanent', change(Certify, false, 42, 314)],
    ['certify_deletable', change(Certify, true, 42, 314)],
    ['extend', change(Extend, false, 42, 314)],
    ['delete_deletable', change(Delete(true), false, 42, 314)],
    ['delete_permanent', change(Delete(false), false, 42, 314)],
  ] as const) {
    it(`test_merge_new_expected_failure_cases::${name} fails the merge`, () => {
      expect(() => mergeBlobInfo(undefined, op)).toThrow(/yields no value/);
    });
  }

  it('operands apply oldest first, and a value started by a later operand is kept', () => {
    // Certify with no value: merge_new gives None (logged); the following Register starts it.
    expectBlobInfo(mergeBlobInfo(undefined, change(Certify, true, 1, 4), change(Register, true, 1, 4), change(Certify, true, 2, 4)), {
      V1: { Valid: v1({ count_deletable_total: 1, count_deletable_certified: 1, initial_certified_epoch: 2, latest_seen_deletable_registered_end_epoch: 4, latest_seen_deletable_certified_end_epoch: 4 }) },
    });
  });
});

describe('"merge blob info", V2 and the V1→V2 upgrade (blob_info_v2.rs)', () => {
  // test_v2_merge_preexisting_expected_successes
  const successes: [string, ValidBlobInfoV2, BlobInfoMergeOperand, ValidBlobInfoV2][] = [
    ['register_first_deletable', v2(), change(Register, true, 1, 2), v2({ count_deletable_total: 1 })],
    ['register_additional_deletable', v2({ count_deletable_total: 3 }), change(Register, true, 1, 5), v2({ count_deletable_total: 4 })],
    ['certify_first_deletable', v2({ count_deletable_total: 3 }), change(Certify, true, 1, 4), v2({ count_deletable_total: 3, count_deletable_certified: 1, initial_certified_epoch: 1 })],
    ['certify_additional_deletable_keeps_earlier_epoch', v2({ count_deletable_total: 3, count_deletable_certified: 1, initial_certified_epoch: 0 }), change(Certify, true, 1, 2),
      v2({ count_deletable_total: 3, count_deletable_certified: 2, initial_certified_epoch: 0 })],
    ['delete_deletable_blob', v2({ count_deletable_total: 3, count_deletable_certified: 2, initial_certified_epoch: 1 }), change(Delete(true), true, 1, 6),
      v2({ count_deletable_total: 2, count_deletable_certified: 1, initial_certified_epoch: 1 })],
    ['delete_last_certified_deletable_clears_epoch', v2({ count_deletable_total: 2, count_deletable_certified: 1, initial_certified_epoch: 1 }), change(Delete(true), true, 1, 4),
      v2({ count_deletable_total: 1 })],
    ['expire_deletable_blob', v2({ count_deletable_total: 3, count_deletable_certified: 2, initial_certified_epoch: 1 }), { DeletableExpired: { was_certified: true } },
      v2({ count_deletable_total: 2, count_deletable_certified: 1, initial_certified_epoch: 1 })],
    ['expire_last_certified_deletable_clears_epoch', v2({ count_deletable_total: 2, count_deletable_certified: 1, initial_certified_epoch: 1 }), { DeletableExpired: { was_certified: true } },
      v2({ count_deletable_total: 1 })],
    ['register_first_permanent', v2(), change(Register, false, 1, 2, fixedEventIdForTesting(0n)), v2({ permanent_total: perm(1, 2, 0) })],
    ['register_additional_permanent', v2({ permanent_total: perm(1, 2, 0) }), change(Register, false, 2, 3, fixedEventIdForTesting(1n)), v2({ permanent_total: perm(2, 3, 1) })],
    ['extend_permanent', v2({ initial_certified_epoch: 0, permanent_total: perm(2, 4, 0), permanent_certified: perm(1, 4, 1) }), change(Extend, false, 3, 42, fixedEventIdForTesting(2n)),
      v2({ initial_certified_epoch: 0, permanent_total: perm(2, 42, 2), permanent_certified: perm(1, 42, 2) })],
    ['expire_permanent_blob', v2({ permanent_total: perm(3, 5, 0), permanent_certified: perm(2, 5, 1), initial_certified_epoch: 1 }), { PermanentExpired: { was_certified: true } },
      v2({ permanent_total: perm(2, 5, 0), permanent_certified: perm(1, 5, 1), initial_certified_epoch: 1 })],
    ['expire_last_certified_permanent_clears_epoch', v2({ permanent_total: perm(2, 5, 0), permanent_certified: perm(1, 5, 1), initial_certified_epoch: 1 }),
      { PermanentExpired: { was_certified: true } }, v2({ permanent_total: perm(1, 5, 0) })],
    ['pool_register', v2(), poolOp(Register, 1), v2({ count_pooled_refs_total: 1 })],
    ['pool_certify', v2({ count_pooled_refs_total: 1 }), poolOp(Certify, 3), v2({ count_pooled_refs_total: 1, count_pooled_refs_certified: 1, initial_certified_epoch: 3 })],
    ['pool_delete_certified', v2({ count_pooled_refs_total: 2, count_pooled_refs_certified: 2, initial_certified_epoch: 1 }), poolOp(Delete(true), 5),
      v2({ count_pooled_refs_total: 1, count_pooled_refs_certified: 1, initial_certified_epoch: 1 })],
    ['pool_delete_last_certified_clears_epoch', v2({ count_pooled_refs_total: 2, count_pooled_refs_certified: 1, initial_certified_epoch: 1 }), poolOp(Delete(true), 5),
      v2({ count_pooled_refs_total: 1 })],
    ['pool_expired', v2({ count_pooled_refs_total: 2, count_pooled_refs_certified: 1, initial_certified_epoch: 1 }), { PoolExpired: { storage_pool_id: objectIdFromSingleByte(42), was_certified: true } },
      v2({ count_pooled_refs_total: 1 })],
    ['mixed_regular_delete_pool_cert_keeps_epoch',
      v2({ count_deletable_total: 1, count_deletable_certified: 1, count_pooled_refs_total: 1, count_pooled_refs_certified: 1, initial_certified_epoch: 3 }),
      { DeletableExpired: { was_certified: true } },
      v2({ count_pooled_refs_total: 1, count_pooled_refs_certified: 1, initial_certified_epoch: 3 })],
  ];
  for (const [name, before, op, after] of successes) {
    it(`test_v2_merge_preexisting_expected_successes::${name}`, () => {
      expectBlobInfo(mergeBlobInfo({ V2: { Valid: before } }, op), { V2: { Valid: after } });
    });
  }

  it('test_v2_invalid_status_is_not_changed (pool operands included)', () => {
    const invalid: BlobInfo = { V2: { Invalid: { epoch: 42, event: eventIdForTesting() } } };
    for (const op of [poolOp(Register, 1), poolOp(Certify, 1), poolOp(Delete(true), 1), { PoolExpired: { storage_pool_id: objectIdFromSingleByte(42), was_certified: false } }, change(Certify, true, 42, 314)]) {
      expectBlobInfo(mergeBlobInfo(invalid, op), invalid);
    }
  });

  it('blob_info_upgrades_v1_to_v2_on_pool_operand', () => {
    const before = v1({ count_deletable_total: 2, count_deletable_certified: 1, initial_certified_epoch: 3, latest_seen_deletable_registered_end_epoch: 10, latest_seen_deletable_certified_end_epoch: 10 });
    expectBlobInfo(mergeBlobInfo({ V1: { Valid: before } }, poolOp(Register, 1)), {
      V2: { Valid: v2({ count_deletable_total: 2, count_deletable_certified: 1, initial_certified_epoch: 3, count_pooled_refs_total: 1 }) },
    });
  });

  it('blob_info_stays_v1_for_regular_operand', () => {
    expectBlobInfo(mergeBlobInfo({ V1: { Valid: v1() } }, change(Register, true, 1, 10)), { V1: { Valid: v1({ count_deletable_total: 1, latest_seen_deletable_registered_end_epoch: 10 }) } });
  });

  it('blob_info_merge_new_creates_v2_for_pool_v1_for_regular', () => {
    expectBlobInfo(mergeBlobInfo(undefined, poolOp(Register, 1)), { V2: { Valid: v2({ count_pooled_refs_total: 1 }) } });
    expect(() => mergeBlobInfo(undefined, { PoolExpired: { storage_pool_id: objectIdFromSingleByte(42), was_certified: true } })).toThrow(/yields no value/);
  });
});

describe('"merge per object pooled blob info" (per_object_pooled_blob_info.rs)', () => {
  const op = (change_type: ChangeType, blob: bigint, epoch: number) =>
    s.perObjectPooledBlobInfoMergeOperand.encode({
      V1: { change_type, change_info: { blob_id: blobIdFromU64(blob), epoch, storage_pool_id: objectIdFromSingleByte(42), status_event: eventIdForTesting() } },
    });
  const merge = (existing: Uint8Array | undefined, ...operands: Uint8Array[]) => ops[WALRUS_OPERATOR_NAMES.perObjectPooledBlobInfo]!.fullMerge(KEY, existing, operands);

  it('register_and_certify', () => {
    const registered = merge(undefined, op(Register, 1n, 5));
    expect(s.perObjectPooledBlobInfo.decode(registered).V1).toMatchObject({ registered_epoch: 5, certified_epoch: null, storage_pool_id: objectIdFromSingleByte(42) });
    expect(s.perObjectPooledBlobInfo.decode(merge(registered, op(Certify, 1n, 7))).V1.certified_epoch).toBe(7);
  });

  it('non_register_merge_new_panics: a release node logs it and the merge yields no value', () => {
    expect(() => merge(undefined, op(Certify, 1n, 1))).toThrow(/yields no value/);
  });

  it('extend_panics', () => {
    const certified = merge(undefined, op(Register, 1n, 1), op(Certify, 1n, 2));
    expect(() => merge(certified, op(Extend, 1n, 3))).toThrow(WalrusMergePanic);
    expect(() => merge(certified, op(Extend, 1n, 3))).toThrow(/cannot extend a pooled blob/);
  });

  it('delete_via_merge_panics', () => {
    expect(() => merge(merge(undefined, op(Register, 1n, 1)), op(Delete(false), 1n, 2))).toThrow(/blob deletion deletes the entry directly/);
  });
});

describe('"merge storage pool info" (storage_pool_info.rs)', () => {
  const merge = (existing: Uint8Array | undefined, ...operands: { Create: { start_epoch: number; end_epoch: number } }[] | { Extend: { end_epoch: number } }[]) =>
    ops[WALRUS_OPERATOR_NAMES.storagePoolInfo]!.fullMerge(KEY, existing, operands.map((o) => s.storagePoolInfoMergeOperand.encode(o)));
  const pool = (start_epoch: number, end_epoch: number) => s.storagePoolInfo.encode({ V1: { start_epoch, end_epoch } });

  it('create_and_extend', () => {
    const created = merge(undefined, { Create: { start_epoch: 1, end_epoch: 10 } });
    expect(hex(created)).toBe(hex(pool(1, 10)));
    expect(hex(merge(created, { Extend: { end_epoch: 20 } }))).toBe(hex(pool(1, 20)));
    expect(hex(merge(created, { Extend: { end_epoch: 5 } }))).toBe(hex(pool(1, 10)));
  });

  it('extend_non_existent_returns_none (should_panic: "received extend operand for non-existent storage pool")', () => {
    expect(() => merge(undefined, { Extend: { end_epoch: 10 } })).toThrow(/received extend operand for non-existent storage pool/);
  });

  it('create on an existing pool panics (unreachable! in StoragePoolInfo::merge_with)', () => {
    expect(() => merge(pool(1, 10), { Create: { start_epoch: 1, end_epoch: 10 } })).toThrow(WalrusMergePanic);
  });
});

describe('"merge per object blob info" (blob_info.rs, PerObjectBlobInfoV1::merge_with/merge_new; Walrus has no unit test for it)', () => {
  const op = (change_type: ChangeType, deletable: boolean, epoch: number, end_epoch: number, seq = 0n) =>
    s.perObjectBlobInfoMergeOperand.encode({ change_type, change_info: { blob_id: blobIdFromU64(10n), deletable, epoch, end_epoch, status_event: fixedEventIdForTesting(seq) } });
  const merge = (existing: Uint8Array | undefined, ...operands: Uint8Array[]) => ops[WALRUS_OPERATOR_NAMES.perObjectBlobInfo]!.fullMerge(KEY, existing, operands);
  const value = (registered: number, certified: number | null, end: number, deletable: boolean, seq: bigint, deleted: boolean) =>
    s.perObjectBlobInfo.encode({ V1: { blob_id: blobIdFromU64(10n), registered_epoch: registered, certified_epoch: certified, end_epoch: end, deletable, event: fixedEventIdForTesting(seq), deleted } });

  it('register, certify, extend, delete: the event is always the latest operand\'s', () => {
    expect(hex(merge(undefined, op(Register, false, 1, 5, 1n)))).toBe(hex(value(1, null, 5, false, 1n, false)));
    expect(hex(merge(undefined, op(Register, false, 1, 5, 1n), op(Certify, false, 2, 5, 2n), op(Extend, false, 3, 9, 3n)))).toBe(hex(value(1, 2, 9, false, 3n, false)));
    expect(hex(merge(value(1, 2, 9, true, 3n, false), op(Delete(true), true, 4, 9, 4n)))).toBe(hex(value(1, 2, 9, true, 4n, true)));
  });

  it('the panics of merge_with fail the merge', () => {
    expect(() => merge(value(1, null, 5, false, 1n, false), op(Register, false, 1, 5))).toThrow(/cannot register an already registered blob/);
    expect(() => merge(value(1, 2, 5, false, 1n, false), op(Certify, false, 3, 5))).toThrow(/cannot certify an already certified blob/);
    expect(() => merge(value(1, null, 5, false, 1n, false), op(Extend, false, 3, 9))).toThrow(/cannot extend an uncertified blob/);
    expect(() => merge(value(1, null, 5, false, 1n, true), op(Certify, false, 3, 5))).toThrow(/already deleted/);
    expect(() => merge(value(1, null, 5, true, 1n, false), op(Certify, false, 3, 5))).toThrow(/deletable mismatch/);
    expect(() => merge(value(1, null, 5, true, 1n, false), op(Delete(true), true, 3, 5))).toThrow(WalrusMergePanic);
  });
});

describe('bytes Walrus cannot decode', () => {
  it('an unknown enum variant is an error naming the enum and the variant, never a guess', () => {
    const newer = Uint8Array.of(1, ...s.storagePoolInfo.encode({ V1: { start_epoch: 1, end_epoch: 2 } }).subarray(1)); // StoragePoolInfo::V2
    expect(() => ops[WALRUS_OPERATOR_NAMES.storagePoolInfo]!.fullMerge(KEY, newer, [s.storagePoolInfoMergeOperand.encode({ Extend: { end_epoch: 9 } })])).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_FEATURE', message: expect.stringMatching(/unknown variant 1 of Walrus enum StoragePoolInfo/) }),
    );
    const newerOp = Uint8Array.of(2, 0, 0, 0, 0);
    expect(() => ops[WALRUS_OPERATOR_NAMES.storagePoolInfo]!.fullMerge(KEY, undefined, [newerOp])).toThrow(/unknown variant 2 of Walrus enum StoragePoolInfoMergeOperand/);
  });

  it('an operand that does not decode is skipped, and an undecodable existing value counts as absent (deserialize_from_db logs an error)', () => {
    const create = s.storagePoolInfoMergeOperand.encode({ Create: { start_epoch: 1, end_epoch: 10 } });
    const truncated = create.subarray(0, 3);
    const merge = ops[WALRUS_OPERATOR_NAMES.storagePoolInfo]!;
    expect(hex(merge.fullMerge(KEY, undefined, [truncated, create]))).toBe(hex(s.storagePoolInfo.encode({ V1: { start_epoch: 1, end_epoch: 10 } })));
    expect(hex(merge.fullMerge(KEY, Uint8Array.of(0, 1), [create]))).toBe(hex(s.storagePoolInfo.encode({ V1: { start_epoch: 1, end_epoch: 10 } })));
  });
});
