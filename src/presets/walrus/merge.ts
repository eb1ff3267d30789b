/**
 * Walrus's four blob-info merge operators, written from its Rust sources (`blob_info.rs`:
 * `merge_mergeable` and the `Mergeable` impls; `blob_info/blob_info_v1.rs`, `blob_info_v2.rs`,
 * `perm_blob_info.rs`, `per_object_pooled_blob_info.rs`, `storage_pool_info.rs`; the commit is
 * named in docs/WALRUS.md), with the semantics of a release build (the one nodes run):
 *
 * - Where Walrus logs an error and keeps the existing value, so does this code (marked "Walrus
 *   logs an error"): the merged value is what the node holds, not what it should hold.
 * - `debug_assert!` does nothing in release builds; `assert!`, `panic!`, `unreachable!` abort the
 *   node (panic = 'abort'): here they throw `WalrusMergePanic`, which fails the merge.
 * - A merge that ends with no value (`merge_new` refusing the first operand) makes RocksDB report
 *   a failed merge: here it throws too.
 * - `u32 += 1` wraps on overflow in release builds (no overflow checks); `saturating_*` saturates.
 * - Bytes that do not decode: Walrus's `deserialize_from_db` logs an error and treats an
 *   existing value as absent and skips an operand; so does this code. Except an unknown enum
 *   variant (a newer Walrus): that throws `UnknownVariantError` naming it, never a guess.
 */
import { SnapshotError } from '../../format/errors.js';
import type { MergeOperator } from '../../sources/merge-operator.js';
import {
  UnknownVariantError,
  type BlobInfo,
  type BlobInfoMergeOperand,
  type BlobStatusChangeInfo,
  type ChangeType,
  type InvalidOrValid,
  type PerObjectBlobInfo,
  type PerObjectBlobInfoMergeOperand,
  type PerObjectPooledBlobInfo,
  type PerObjectPooledBlobInfoMergeOperand,
  type PermanentBlobInfo,
  type StoragePoolInfo,
  type StoragePoolInfoMergeOperand,
  type ValidBlobInfoV1,
  type ValidBlobInfoV2,
  type WalrusCodec,
  type WalrusSchemas,
} from './schema.js';

/** The operator names Walrus registers (blob_info.rs, `set_merge_operator`). */
export const WALRUS_OPERATOR_NAMES = {
  blobInfo: 'merge blob info',
  perObjectBlobInfo: 'merge per object blob info',
  perObjectPooledBlobInfo: 'merge per object pooled blob info',
  storagePoolInfo: 'merge storage pool info',
} as const;

/** Where a Walrus node panics (`assert!`, `panic!`, `unreachable!`): the merge fails. */
export class WalrusMergePanic extends SnapshotError {
  constructor(message: string) {
    super('CORRUPT_CHECKPOINT', `Walrus would panic merging this key: ${message}`);
  }
}

function panic(message: string): never {
  throw new WalrusMergePanic(message);
}

const U32_MAX = 0xffff_ffff;
const wrappingInc = (x: number): number => (x + 1) >>> 0;
const saturatingInc = (x: number): number => Math.min(x + 1, U32_MAX);
const saturatingDec = (x: number): number => Math.max(x - 1, 0);

function kindOf(v: object): string {
  const k = (v as { $kind?: string }).$kind;
  return k ?? Object.keys(v).find((key) => key !== '$kind')!;
}

function sameId(a: Uint8Array | number[], b: Uint8Array | number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const hex = (id: Uint8Array | number[]): string => Buffer.from(Uint8Array.from(id)).toString('hex');

/** The generic driver, Walrus's `merge_mergeable`. */
function mergeOperator<V, O>(
  name: string,
  valueCodec: WalrusCodec<V>,
  operandCodec: WalrusCodec<O>,
  merge: (existing: V | undefined, operand: O) => V | undefined,
): MergeOperator {
  const tryDecode = <T>(codec: WalrusCodec<T>, bytes: Uint8Array): T | undefined => {
    try {
      return codec.decode(bytes);
    } catch (e) {
      if (e instanceof UnknownVariantError) throw e;
      return undefined; // Walrus logs an error ("failed to deserialize value stored in database")
    }
  };
  return {
    name,
    fullMerge(_key, existing, operands) {
      let current = existing === undefined ? undefined : tryDecode(valueCodec, existing);
      for (const bytes of operands) {
        const operand = tryDecode(operandCodec, bytes);
        if (operand === undefined) continue;
        current = merge(current, operand);
      }
      if (current === undefined) {
        throw new SnapshotError('CORRUPT_CHECKPOINT', `Walrus's "${name}" yields no value for this key (RocksDB reports a failed merge): no operand can start a value without an existing one`);
      }
      return valueCodec.encode(current);
    },
  };
}

// ---- per_object_blob_info ("merge per object blob info") --------------------------------------

function mergePerObject(existing: PerObjectBlobInfo | undefined, op: PerObjectBlobInfoMergeOperand): PerObjectBlobInfo | undefined {
  const { change_type, change_info } = op;
  const kind = kindOf(change_type);
  if (existing === undefined) {
    if (kind !== 'Register') return undefined; // Walrus logs an error (update other than 'register' for an untracked blob object)
    return {
      V1: {
        blob_id: change_info.blob_id,
        registered_epoch: change_info.epoch,
        certified_epoch: null,
        end_epoch: change_info.end_epoch,
        deletable: change_info.deletable,
        event: change_info.status_event,
        deleted: false,
      },
    };
  }
  const v = existing.V1;
  if (!sameId(v.blob_id, change_info.blob_id)) panic('blob ID mismatch in merge operand');
  if (v.deletable !== change_info.deletable) panic('deletable mismatch in merge operand');
  if (v.deleted) panic(`attempt to update an already deleted blob ${hex(v.blob_id)}`);
  v.event = change_info.status_event;
  switch (kind) {
    case 'Register':
      panic(`cannot register an already registered blob ${hex(v.blob_id)}`);
    case 'Certify':
      if (v.certified_epoch !== null) panic(`cannot certify an already certified blob ${hex(v.blob_id)}`);
      v.certified_epoch = change_info.epoch;
      break;
    case 'Extend':
      if (v.certified_epoch === null) panic(`cannot extend an uncertified blob ${hex(v.blob_id)}`);
      v.end_epoch = change_info.end_epoch;
      break;
    case 'Delete': {
      const wasCertified = (change_type as { Delete: { was_certified: boolean } }).Delete.was_certified;
      if ((v.certified_epoch !== null) !== wasCertified) panic('Delete: was_certified does not match the certified epoch');
      v.deleted = true;
      break;
    }
  }
  return { V1: v };
}

// ---- per_object_pooled_blob_info ("merge per object pooled blob info") ------------------------

function mergePerObjectPooled(existing: PerObjectPooledBlobInfo | undefined, op: PerObjectPooledBlobInfoMergeOperand): PerObjectPooledBlobInfo | undefined {
  const { change_type, change_info } = op.V1;
  const kind = kindOf(change_type);
  if (existing === undefined) {
    if (kind !== 'Register') return undefined; // Walrus logs an error (update other than 'register' for an untracked pooled blob object)
    return {
      V1: {
        blob_id: change_info.blob_id,
        registered_epoch: change_info.epoch,
        certified_epoch: null,
        storage_pool_id: change_info.storage_pool_id,
        event: change_info.status_event,
      },
    };
  }
  const v = existing.V1;
  if (!sameId(v.blob_id, change_info.blob_id)) panic('blob ID mismatch in merge operand');
  v.event = change_info.status_event;
  switch (kind) {
    case 'Certify':
      if (v.certified_epoch !== null) panic(`cannot certify an already certified pooled blob ${hex(v.blob_id)}`);
      v.certified_epoch = change_info.epoch;
      break;
    case 'Register':
      panic(`cannot register an already registered pooled blob ${hex(v.blob_id)}`);
    case 'Extend':
      panic(`cannot extend a pooled blob ${hex(v.blob_id)}; pool lifetime is managed by the pool`);
    default:
      panic(`blob deletion deletes the entry directly, not via merge operation; blob ID: ${hex(v.blob_id)}`);
  }
  return { V1: v };
}

// ---- storage_pool_info ("merge storage pool info") --------------------------------------------

function mergeStoragePool(existing: StoragePoolInfo | undefined, op: StoragePoolInfoMergeOperand): StoragePoolInfo {
  if (existing === undefined) {
    if ('Create' in op) return { V1: { start_epoch: op.Create.start_epoch, end_epoch: op.Create.end_epoch } };
    panic(`received extend operand for non-existent storage pool: ${(op as { Extend: { end_epoch: number } }).Extend.end_epoch}`);
  }
  if ('Extend' in op) return { V1: { start_epoch: existing.V1.start_epoch, end_epoch: Math.max(existing.V1.end_epoch, op.Extend.end_epoch) } };
  const c = (op as { Create: { start_epoch: number; end_epoch: number } }).Create;
  panic(`create operand should not be applied to an existing storage pool: start_epoch: ${c.start_epoch}, end_epoch: ${c.end_epoch}`);
}

// ---- aggregate blob_info ("merge blob info") ----------------------------------------------------

type Valid = ValidBlobInfoV1 | ValidBlobInfoV2;

function newFirst(end_epoch: number, event: PermanentBlobInfo['event']): PermanentBlobInfo {
  return { count: 1, end_epoch, event };
}

/** PermanentBlobInfo::update. */
function permanentUpdate(p: PermanentBlobInfo, info: BlobStatusChangeInfo, increaseCount: boolean): void {
  if (info.deletable) panic('PermanentBlobInfo::update with a deletable change');
  if (increaseCount) p.count = saturatingInc(p.count);
  if (info.end_epoch > p.end_epoch) {
    p.end_epoch = info.end_epoch;
    p.event = info.status_event;
  }
}

/** PermanentBlobInfo::update_optional (also `register`). */
function permanentUpdateOptional(p: PermanentBlobInfo | null, info: BlobStatusChangeInfo): PermanentBlobInfo {
  if (info.deletable) panic('PermanentBlobInfo::update_optional with a deletable change');
  if (p === null) return newFirst(info.end_epoch, info.status_event);
  permanentUpdate(p, info, true);
  return p;
}

/** PermanentBlobInfo::decrement. */
function permanentDecrement(p: PermanentBlobInfo | null): PermanentBlobInfo | null {
  if (p === null) return null; // Walrus logs an error (delete a permanent blob when none is tracked)
  if (p.count === 1) return null;
  p.count -= 1;
  return p;
}

function isV1(v: Valid): v is ValidBlobInfoV1 {
  return 'latest_seen_deletable_registered_end_epoch' in v;
}

function isCertified(v: Valid, epoch: number): boolean {
  const permanent = v.permanent_certified !== null && v.permanent_certified.end_epoch > epoch;
  const initial = v.initial_certified_epoch !== null && v.initial_certified_epoch <= epoch;
  if (isV1(v)) {
    const deletable = v.count_deletable_certified > 0 && v.latest_seen_deletable_certified_end_epoch !== null && v.latest_seen_deletable_certified_end_epoch > epoch;
    return initial && (permanent || deletable);
  }
  return initial && (permanent || v.count_deletable_certified > 0 || v.count_pooled_refs_certified > 0);
}

function updateInitialCertifiedEpoch(v: Valid, epoch: number, force: boolean): void {
  if (force || v.initial_certified_epoch === null || v.initial_certified_epoch > epoch) v.initial_certified_epoch = epoch;
}

function maybeUnsetInitialCertifiedEpoch(v: Valid): void {
  const pooled = isV1(v) ? 0 : v.count_pooled_refs_certified;
  if (pooled === 0 && v.count_deletable_certified === 0 && v.permanent_certified === null) v.initial_certified_epoch = null;
}

const maxEpoch = (epoch: number, existing: number | null): number => Math.max(epoch, existing ?? 0);

/** V1: decrement_deletable_counter_and_maybe_unset_latest_end_epoch for both counters. */
function v1DeletableGone(v: ValidBlobInfoV1, wasCertified: boolean): void {
  // Walrus logs an error when a counter is already 0 (checked_sub), and keeps 0.
  v.count_deletable_total = Math.max(v.count_deletable_total - 1, 0);
  if (v.count_deletable_total === 0) v.latest_seen_deletable_registered_end_epoch = null;
  if (wasCertified) {
    v.count_deletable_certified = Math.max(v.count_deletable_certified - 1, 0);
    if (v.count_deletable_certified === 0) v.latest_seen_deletable_certified_end_epoch = null;
  }
}

function v2DeletableGone(v: ValidBlobInfoV2, wasCertified: boolean): void {
  v.count_deletable_total = saturatingDec(v.count_deletable_total);
  if (wasCertified) v.count_deletable_certified = saturatingDec(v.count_deletable_certified);
}

/** ValidBlobInfoV1/V2::update_status. */
function updateStatus(v: Valid, changeType: ChangeType, info: BlobStatusChangeInfo): void {
  const kind = kindOf(changeType);
  const wasCertified = isCertified(v, info.epoch);
  if (info.deletable) {
    switch (kind) {
      case 'Register':
        v.count_deletable_total = wrappingInc(v.count_deletable_total);
        if (isV1(v)) v.latest_seen_deletable_registered_end_epoch = maxEpoch(info.end_epoch, v.latest_seen_deletable_registered_end_epoch);
        break;
      case 'Certify':
        if (v.count_deletable_total <= v.count_deletable_certified) return; // Walrus logs an error (certify before register)
        v.count_deletable_certified = wrappingInc(v.count_deletable_certified);
        if (isV1(v)) v.latest_seen_deletable_certified_end_epoch = maxEpoch(info.end_epoch, v.latest_seen_deletable_certified_end_epoch);
        break;
      case 'Extend':
        if (isV1(v)) {
          v.latest_seen_deletable_registered_end_epoch = maxEpoch(info.end_epoch, v.latest_seen_deletable_registered_end_epoch);
          v.latest_seen_deletable_certified_end_epoch = maxEpoch(info.end_epoch, v.latest_seen_deletable_certified_end_epoch);
        }
        break;
      case 'Delete': {
        const wc = (changeType as { Delete: { was_certified: boolean } }).Delete.was_certified;
        if (isV1(v)) v1DeletableGone(v, wc);
        else v2DeletableGone(v, wc);
        break;
      }
    }
  } else {
    switch (kind) {
      case 'Register':
        v.permanent_total = permanentUpdateOptional(v.permanent_total, info);
        break;
      case 'Certify': {
        // PermanentBlobInfo::certify: each refusal is logged by Walrus, and nothing changes.
        const total = v.permanent_total;
        if (total === null) return;
        if (info.end_epoch > total.end_epoch) return;
        if (total.count <= (v.permanent_certified?.count ?? 0)) return;
        v.permanent_certified = permanentUpdateOptional(v.permanent_certified, info);
        break;
      }
      case 'Extend':
        // PermanentBlobInfo::extend: Walrus logs an error when none is tracked.
        if (v.permanent_total !== null) permanentUpdate(v.permanent_total, info, false);
        if (v.permanent_certified !== null) permanentUpdate(v.permanent_certified, info, false);
        break;
      case 'Delete':
        return; // Walrus logs an error ("attempt to delete a permanent blob")
    }
  }
  if (kind === 'Certify') updateInitialCertifiedEpoch(v, info.epoch, !wasCertified);
  else if (kind === 'Delete') maybeUnsetInitialCertifiedEpoch(v);
}

function permanentExpired(v: Valid, wasCertified: boolean): void {
  v.permanent_total = permanentDecrement(v.permanent_total);
  if (wasCertified) v.permanent_certified = permanentDecrement(v.permanent_certified);
  maybeUnsetInitialCertifiedEpoch(v);
}

function poolDelete(v: ValidBlobInfoV2, wasCertified: boolean): void {
  if (v.count_pooled_refs_total === 0) return; // Walrus logs an error (delete a pool blob that is not registered)
  v.count_pooled_refs_total = saturatingDec(v.count_pooled_refs_total);
  if (wasCertified) v.count_pooled_refs_certified = saturatingDec(v.count_pooled_refs_certified);
  maybeUnsetInitialCertifiedEpoch(v);
}

/** BlobInfoV1/V2::merge_with on the inner enum; returns the new inner value. */
function mergeWithInner<V extends Valid>(info: InvalidOrValid<V>, op: BlobInfoMergeOperand): InvalidOrValid<V> {
  if ('Invalid' in info) return info; // an invalid blob never changes
  if ('MarkInvalid' in op) return { Invalid: { epoch: op.MarkInvalid.epoch, event: op.MarkInvalid.status_event } };
  const v: Valid = info.Valid;
  if ('MarkMetadataStored' in op) v.is_metadata_stored = op.MarkMetadataStored;
  else if ('ChangeStatus' in op) updateStatus(v, op.ChangeStatus.change_type, op.ChangeStatus.change_info);
  else if ('DeletableExpired' in op) {
    if (isV1(v)) v1DeletableGone(v, op.DeletableExpired.was_certified);
    else v2DeletableGone(v, op.DeletableExpired.was_certified);
    maybeUnsetInitialCertifiedEpoch(v);
  } else if ('PermanentExpired' in op) permanentExpired(v, op.PermanentExpired.was_certified);
  else if (isV1(v)) panic('pool operands should be handled in BlobInfoV2');
  else if ('PooledBlobChangeStatus' in op) {
    const ct = op.PooledBlobChangeStatus.change_type;
    switch (kindOf(ct)) {
      case 'Register':
        v.count_pooled_refs_total = saturatingInc(v.count_pooled_refs_total);
        break;
      case 'Certify': {
        const epoch = op.PooledBlobChangeStatus.change_info.epoch;
        const wasCertified = isCertified(v, epoch);
        if (v.count_pooled_refs_total <= v.count_pooled_refs_certified) break; // Walrus logs an error
        v.count_pooled_refs_certified = saturatingInc(v.count_pooled_refs_certified);
        updateInitialCertifiedEpoch(v, epoch, !wasCertified);
        break;
      }
      case 'Extend':
        break; // the pool's end epoch is tracked separately
      case 'Delete':
        poolDelete(v, (ct as { Delete: { was_certified: boolean } }).Delete.was_certified);
        break;
    }
  } else if ('PoolExpired' in op) poolDelete(v, op.PoolExpired.was_certified);
  return info;
}

function v1ToV2(info: InvalidOrValid<ValidBlobInfoV1>): InvalidOrValid<ValidBlobInfoV2> {
  if ('Invalid' in info) return { Invalid: info.Invalid };
  const v = info.Valid;
  return {
    Valid: {
      is_metadata_stored: v.is_metadata_stored,
      initial_certified_epoch: v.initial_certified_epoch,
      count_deletable_total: v.count_deletable_total,
      count_deletable_certified: v.count_deletable_certified,
      permanent_total: v.permanent_total,
      permanent_certified: v.permanent_certified,
      count_pooled_refs_total: 0,
      count_pooled_refs_certified: 0,
    },
  };
}

/** `ValidBlobInfoV1::default()`. */
export const emptyV1 = (): ValidBlobInfoV1 => ({
  is_metadata_stored: false,
  count_deletable_total: 0,
  count_deletable_certified: 0,
  permanent_total: null,
  permanent_certified: null,
  initial_certified_epoch: null,
  latest_seen_deletable_registered_end_epoch: null,
  latest_seen_deletable_certified_end_epoch: null,
});

/** `ValidBlobInfoV2::default()`. */
export const emptyV2 = (): ValidBlobInfoV2 => ({
  is_metadata_stored: false,
  initial_certified_epoch: null,
  count_deletable_total: 0,
  count_deletable_certified: 0,
  permanent_total: null,
  permanent_certified: null,
  count_pooled_refs_total: 0,
  count_pooled_refs_certified: 0,
});

/** BlobInfo::merge_new: V2 only when the first operand is a pool event. */
function blobInfoMergeNew(op: BlobInfoMergeOperand): BlobInfo | undefined {
  if ('PoolExpired' in op) return undefined;
  if ('PooledBlobChangeStatus' in op) {
    if (kindOf(op.PooledBlobChangeStatus.change_type) !== 'Register') return undefined; // Walrus logs an error
    return { V2: { Valid: { ...emptyV2(), count_pooled_refs_total: 1 } } };
  }
  if ('MarkInvalid' in op) return { V1: { Invalid: { epoch: op.MarkInvalid.epoch, event: op.MarkInvalid.status_event } } };
  if ('MarkMetadataStored' in op) return { V1: { Valid: { ...emptyV1(), is_metadata_stored: op.MarkMetadataStored } } };
  if ('ChangeStatus' in op && kindOf(op.ChangeStatus.change_type) === 'Register') {
    const info = op.ChangeStatus.change_info;
    return {
      V1: {
        Valid: info.deletable
          ? { ...emptyV1(), count_deletable_total: 1, latest_seen_deletable_registered_end_epoch: info.end_epoch }
          : { ...emptyV1(), permanent_total: newFirst(info.end_epoch, info.status_event) },
      },
    };
  }
  return undefined; // Walrus logs an error (unexpected update for an untracked blob ID)
}

/** BlobInfo::merge (merge_new or merge_with), exported for tests. */
export function mergeBlobInfo(existing: BlobInfo | undefined, op: BlobInfoMergeOperand): BlobInfo | undefined {
  if (existing === undefined) return blobInfoMergeNew(op);
  if ('V2' in existing) return { V2: mergeWithInner(existing.V2, op) };
  // Only a pool operand upgrades a V1 entry to V2, so every node agrees whatever its version.
  if ('PooledBlobChangeStatus' in op || 'PoolExpired' in op) return { V2: mergeWithInner(v1ToV2(existing.V1), op) };
  return { V1: mergeWithInner(existing.V1, op) };
}

/** The four operators, under the names Walrus registers. */
export function walrusMergeOperators(s: WalrusSchemas): MergeOperator[] {
  return [
    mergeOperator(WALRUS_OPERATOR_NAMES.blobInfo, s.blobInfo, s.blobInfoMergeOperand, mergeBlobInfo),
    mergeOperator(WALRUS_OPERATOR_NAMES.perObjectBlobInfo, s.perObjectBlobInfo, s.perObjectBlobInfoMergeOperand, mergePerObject),
    mergeOperator(WALRUS_OPERATOR_NAMES.perObjectPooledBlobInfo, s.perObjectPooledBlobInfo, s.perObjectPooledBlobInfoMergeOperand, mergePerObjectPooled),
    mergeOperator(WALRUS_OPERATOR_NAMES.storagePoolInfo, s.storagePoolInfo, s.storagePoolInfoMergeOperand, mergeStoragePool),
  ];
}
