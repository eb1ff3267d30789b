/**
 * BCS layouts of Walrus's blob-info values, merge operands and snapshot header, written from
 * Walrus's Rust types (`crates/walrus-service/src/node/storage/blob_info.rs`, `blob_info/*.rs`,
 * `event_cursor_table.rs`, Walrus commit in docs/WALRUS.md) with Mysten's own BCS library.
 *
 * `@mysten/bcs` is loaded on first use only (`loadWalrusSchemas`): the CLI's other paths never
 * pay for it.
 *
 * Sui types, as serde serializes them in BCS (non-human-readable):
 * - `ObjectID`, `BlobId`: 32 raw bytes (a newtype over `[u8; 32]`, a serde tuple: no length).
 * - `EventID { tx_digest, event_seq: u64 }`: `tx_digest` is a `Digest` serialized through
 *   `serde_with::Bytes`, i.e. as a byte string: ULEB128 length (always 32) then 32 bytes.
 * - `Epoch` is `u32`; `NonZeroU32` is a `u32` that must not be 0.
 */
import { SnapshotError } from '../../format/errors.js';

type BcsModule = typeof import('@mysten/bcs');

/** Decoded `EventID`. */
export interface EventId {
  txDigest: Uint8Array;
  eventSeq: bigint;
}

/** What a BCS type decodes to and encodes from, as @mysten/bcs shapes it. */
export interface WalrusCodec<T> {
  readonly name: string;
  /** Strict decode: the bytes must be exactly the canonical encoding of the value. */
  decode(bytes: Uint8Array): T;
  encode(value: T): Uint8Array;
}

// The shapes below follow @mysten/bcs: enums are `{ Variant: payload, $kind }`, unit variants
// carry `true` (we write `null`), options are `T | null`, u32 are numbers, u64 are decoded as
// strings and accepted as bigint.

export type ChangeType =
  | { Register: true | null; $kind?: 'Register' }
  | { Certify: true | null; $kind?: 'Certify' }
  | { Extend: true | null; $kind?: 'Extend' }
  | { Delete: { was_certified: boolean }; $kind?: 'Delete' };

export interface EventIdShape {
  tx_digest: Uint8Array | number[];
  event_seq: string | bigint;
}

export interface BlobStatusChangeInfo {
  blob_id: Uint8Array | number[];
  deletable: boolean;
  epoch: number;
  end_epoch: number;
  status_event: EventIdShape;
}

export interface PooledBlobChangeInfo {
  blob_id: Uint8Array | number[];
  epoch: number;
  storage_pool_id: Uint8Array | number[];
  status_event: EventIdShape;
}

export interface PermanentBlobInfo {
  count: number;
  end_epoch: number;
  event: EventIdShape;
}

export interface ValidBlobInfoV1 {
  is_metadata_stored: boolean;
  count_deletable_total: number;
  count_deletable_certified: number;
  permanent_total: PermanentBlobInfo | null;
  permanent_certified: PermanentBlobInfo | null;
  initial_certified_epoch: number | null;
  latest_seen_deletable_registered_end_epoch: number | null;
  latest_seen_deletable_certified_end_epoch: number | null;
}

export interface ValidBlobInfoV2 {
  is_metadata_stored: boolean;
  initial_certified_epoch: number | null;
  count_deletable_total: number;
  count_deletable_certified: number;
  permanent_total: PermanentBlobInfo | null;
  permanent_certified: PermanentBlobInfo | null;
  count_pooled_refs_total: number;
  count_pooled_refs_certified: number;
}

export type InvalidOrValid<V> = { Invalid: { epoch: number; event: EventIdShape }; $kind?: 'Invalid' } | { Valid: V; $kind?: 'Valid' };

export type BlobInfo = { V1: InvalidOrValid<ValidBlobInfoV1>; $kind?: 'V1' } | { V2: InvalidOrValid<ValidBlobInfoV2>; $kind?: 'V2' };

export type BlobInfoMergeOperand =
  | { MarkMetadataStored: boolean; $kind?: 'MarkMetadataStored' }
  | { MarkInvalid: { epoch: number; status_event: EventIdShape }; $kind?: 'MarkInvalid' }
  | { ChangeStatus: { change_type: ChangeType; change_info: BlobStatusChangeInfo }; $kind?: 'ChangeStatus' }
  | { DeletableExpired: { was_certified: boolean }; $kind?: 'DeletableExpired' }
  | { PermanentExpired: { was_certified: boolean }; $kind?: 'PermanentExpired' }
  | { PooledBlobChangeStatus: { change_type: ChangeType; change_info: PooledBlobChangeInfo }; $kind?: 'PooledBlobChangeStatus' }
  | { PoolExpired: { storage_pool_id: Uint8Array | number[]; was_certified: boolean }; $kind?: 'PoolExpired' };

export interface PerObjectBlobInfoV1 {
  blob_id: Uint8Array | number[];
  registered_epoch: number;
  certified_epoch: number | null;
  end_epoch: number;
  deletable: boolean;
  event: EventIdShape;
  deleted: boolean;
}
export type PerObjectBlobInfo = { V1: PerObjectBlobInfoV1; $kind?: 'V1' };
export interface PerObjectBlobInfoMergeOperand {
  change_type: ChangeType;
  change_info: BlobStatusChangeInfo;
}

export interface PerObjectPooledBlobInfoV1 {
  blob_id: Uint8Array | number[];
  registered_epoch: number;
  certified_epoch: number | null;
  storage_pool_id: Uint8Array | number[];
  event: EventIdShape;
}
export type PerObjectPooledBlobInfo = { V1: PerObjectPooledBlobInfoV1; $kind?: 'V1' };
export type PerObjectPooledBlobInfoMergeOperand = {
  V1: { change_type: ChangeType; change_info: PooledBlobChangeInfo };
  $kind?: 'V1';
};

export type StoragePoolInfo = { V1: { start_epoch: number; end_epoch: number }; $kind?: 'V1' };
export type StoragePoolInfoMergeOperand =
  | { Create: { start_epoch: number; end_epoch: number }; $kind?: 'Create' }
  | { Extend: { end_epoch: number }; $kind?: 'Extend' };

/** `SnapshotHeader { epoch: Epoch, event_cursor: EventIdWithProgress }` (blob_info_snapshot.rs). */
export interface SnapshotHeaderShape {
  epoch: number;
  event_cursor: { V1: { event_id: EventIdShape; next_event_index: string | bigint }; $kind?: 'V1' };
}

/** Every codec the preset and the Walrus snapshot format use. */
export interface WalrusSchemas {
  readonly objectId: WalrusCodec<Uint8Array | number[]>;
  readonly blobInfo: WalrusCodec<BlobInfo>;
  readonly blobInfoMergeOperand: WalrusCodec<BlobInfoMergeOperand>;
  readonly perObjectBlobInfo: WalrusCodec<PerObjectBlobInfo>;
  readonly perObjectBlobInfoMergeOperand: WalrusCodec<PerObjectBlobInfoMergeOperand>;
  readonly perObjectPooledBlobInfo: WalrusCodec<PerObjectPooledBlobInfo>;
  readonly perObjectPooledBlobInfoMergeOperand: WalrusCodec<PerObjectPooledBlobInfoMergeOperand>;
  readonly storagePoolInfo: WalrusCodec<StoragePoolInfo>;
  readonly storagePoolInfoMergeOperand: WalrusCodec<StoragePoolInfoMergeOperand>;
  readonly snapshotHeader: WalrusCodec<SnapshotHeaderShape>;
  /** Base58 (Sui prints transaction digests in Base58). */
  readonly fromBase58: (text: string) => Uint8Array;
  readonly toBase58: (bytes: Uint8Array) => string;
}

/**
 * Thrown when bytes name an enum variant this preset does not know (a newer Walrus): the value
 * cannot be interpreted, and guessing would give a wrong digest.
 */
export class UnknownVariantError extends SnapshotError {
  constructor(readonly enumName: string, readonly variant: number, what: string) {
    super('UNSUPPORTED_FEATURE', `${what}: unknown variant ${variant} of Walrus enum ${enumName} (a newer Walrus version? this preset follows the commit named in docs/WALRUS.md)`);
  }
}

/** Bytes that are not a canonical BCS encoding of the expected Walrus type. */
export class WalrusDecodeError extends SnapshotError {
  constructor(what: string, detail: string) {
    super('BAD_RECORD', `${what} is not a valid BCS ${detail}`);
  }
}

function build(m: BcsModule): WalrusSchemas {
  const { bcs } = m;
  const id32 = bcs.bytes(32);
  const epoch = bcs.u32();
  const nonZeroU32 = bcs.u32({ validate: (v) => { if (Number(v) === 0) throw new TypeError('NonZeroU32 is 0'); } });
  // `Digest` goes through serde_with::Bytes: a length-prefixed byte string that must hold 32 bytes.
  const txDigest = bcs.byteVector({
    validate: (v) => {
      const n = Array.from(v).length;
      if (n !== 32) throw new TypeError(`a digest has 32 bytes, not ${n}`);
    },
  });
  const eventId = bcs.struct('EventID', { tx_digest: txDigest, event_seq: bcs.u64() });
  const changeType = bcs.enum('BlobStatusChangeType', {
    Register: null,
    Certify: null,
    Extend: null,
    Delete: bcs.struct('Delete', { was_certified: bcs.bool() }),
  });
  const changeInfo = bcs.struct('BlobStatusChangeInfo', {
    blob_id: id32,
    deletable: bcs.bool(),
    epoch,
    end_epoch: epoch,
    status_event: eventId,
  });
  const pooledChangeInfo = bcs.struct('PooledBlobChangeInfo', {
    blob_id: id32,
    epoch,
    storage_pool_id: id32,
    status_event: eventId,
  });
  const permanent = bcs.struct('PermanentBlobInfo', { count: nonZeroU32, end_epoch: epoch, event: eventId });
  const validV1 = bcs.struct('ValidBlobInfoV1', {
    is_metadata_stored: bcs.bool(),
    count_deletable_total: bcs.u32(),
    count_deletable_certified: bcs.u32(),
    permanent_total: bcs.option(permanent),
    permanent_certified: bcs.option(permanent),
    initial_certified_epoch: bcs.option(epoch),
    latest_seen_deletable_registered_end_epoch: bcs.option(epoch),
    latest_seen_deletable_certified_end_epoch: bcs.option(epoch),
  });
  const validV2 = bcs.struct('ValidBlobInfoV2', {
    is_metadata_stored: bcs.bool(),
    initial_certified_epoch: bcs.option(epoch),
    count_deletable_total: bcs.u32(),
    count_deletable_certified: bcs.u32(),
    permanent_total: bcs.option(permanent),
    permanent_certified: bcs.option(permanent),
    count_pooled_refs_total: bcs.u32(),
    count_pooled_refs_certified: bcs.u32(),
  });
  const invalid = bcs.struct('Invalid', { epoch, event: eventId });
  const blobInfo = bcs.enum('BlobInfo', {
    V1: bcs.enum('BlobInfoV1', { Invalid: invalid, Valid: validV1 }),
    V2: bcs.enum('BlobInfoV2', { Invalid: invalid, Valid: validV2 }),
  });
  const wasCertified = (name: string) => bcs.struct(name, { was_certified: bcs.bool() });
  const blobInfoMergeOperand = bcs.enum('BlobInfoMergeOperand', {
    MarkMetadataStored: bcs.bool(),
    MarkInvalid: bcs.struct('MarkInvalid', { epoch, status_event: eventId }),
    ChangeStatus: bcs.struct('ChangeStatus', { change_type: changeType, change_info: changeInfo }),
    DeletableExpired: wasCertified('DeletableExpired'),
    PermanentExpired: wasCertified('PermanentExpired'),
    PooledBlobChangeStatus: bcs.struct('PooledBlobChangeStatus', { change_type: changeType, change_info: pooledChangeInfo }),
    PoolExpired: bcs.struct('PoolExpired', { storage_pool_id: id32, was_certified: bcs.bool() }),
  });
  const perObjectBlobInfo = bcs.enum('PerObjectBlobInfo', {
    V1: bcs.struct('PerObjectBlobInfoV1', {
      blob_id: id32,
      registered_epoch: epoch,
      certified_epoch: bcs.option(epoch),
      end_epoch: epoch,
      deletable: bcs.bool(),
      event: eventId,
      deleted: bcs.bool(),
    }),
  });
  const perObjectBlobInfoMergeOperand = bcs.struct('PerObjectBlobInfoMergeOperand', { change_type: changeType, change_info: changeInfo });
  const perObjectPooledBlobInfo = bcs.enum('PerObjectPooledBlobInfo', {
    V1: bcs.struct('PerObjectPooledBlobInfoV1', {
      blob_id: id32,
      registered_epoch: epoch,
      certified_epoch: bcs.option(epoch),
      storage_pool_id: id32,
      event: eventId,
    }),
  });
  const perObjectPooledBlobInfoMergeOperand = bcs.enum('PerObjectPooledBlobInfoMergeOperand', {
    V1: bcs.struct('PerObjectPooledBlobInfoMergeOperandV1', { change_type: changeType, change_info: pooledChangeInfo }),
  });
  const storagePoolInfo = bcs.enum('StoragePoolInfo', {
    V1: bcs.struct('StoragePoolInfoV1', { start_epoch: epoch, end_epoch: epoch }),
  });
  const storagePoolInfoMergeOperand = bcs.enum('StoragePoolInfoMergeOperand', {
    Create: bcs.struct('Create', { start_epoch: epoch, end_epoch: epoch }),
    Extend: bcs.struct('Extend', { end_epoch: epoch }),
  });
  const snapshotHeader = bcs.struct('SnapshotHeader', {
    epoch,
    event_cursor: bcs.enum('EventIdWithProgress', {
      V1: bcs.struct('EventIdWithProgressV1', { event_id: eventId, next_event_index: bcs.u64() }),
    }),
  });

  return {
    objectId: codec(id32),
    blobInfo: codec(blobInfo),
    blobInfoMergeOperand: codec(blobInfoMergeOperand),
    perObjectBlobInfo: codec(perObjectBlobInfo),
    perObjectBlobInfoMergeOperand: codec(perObjectBlobInfoMergeOperand),
    perObjectPooledBlobInfo: codec(perObjectPooledBlobInfo),
    perObjectPooledBlobInfoMergeOperand: codec(perObjectPooledBlobInfoMergeOperand),
    storagePoolInfo: codec(storagePoolInfo),
    storagePoolInfoMergeOperand: codec(storagePoolInfoMergeOperand),
    snapshotHeader: codec(snapshotHeader),
    fromBase58: m.fromBase58,
    toBase58: m.toBase58,
  };
}

interface BcsTypeLike {
  readonly name: string;
  parse(bytes: Uint8Array): unknown;
  serialize(value: never): { toBytes(): Uint8Array };
}

/**
 * A strict codec: Rust's `bcs::from_bytes` rejects trailing bytes and non-canonical encodings
 * (a bool other than 0/1, an overlong ULEB128, an option tag other than 0/1); @mysten/bcs's
 * parser is more lenient, so a decoded value must re-encode to exactly the input.
 */
function codec<T>(type: BcsTypeLike): WalrusCodec<T> {
  return {
    name: type.name,
    decode(input) {
      // @mysten/bcs reads byte arrays as views of the underlying buffer without a bounds check,
      // so a view into a larger buffer (a block, a WAL record) would read past its end: parse a copy.
      const bytes = input.byteOffset === 0 && input.byteLength === input.buffer.byteLength ? input : input.slice();
      let value: unknown;
      try {
        value = type.parse(bytes);
      } catch (e) {
        const m = /Unknown value (\d+) for enum (\S+)/.exec(e instanceof Error ? e.message : '');
        // An option tag other than 0/1 is invalid BCS, not a variant from a newer Walrus.
        if (m !== null && !m[2]!.startsWith('Option<')) throw new UnknownVariantError(m[2]!, Number(m[1]), `a ${type.name}`);
        throw new WalrusDecodeError(`${bytes.length} bytes`, `${type.name} (${e instanceof Error ? e.message : String(e)})`);
      }
      let again: Uint8Array;
      try {
        again = type.serialize(value as never).toBytes();
      } catch (e) {
        throw new WalrusDecodeError(`${bytes.length} bytes`, `${type.name} (${e instanceof Error ? e.message : String(e)})`);
      }
      if (!sameBytes(again, bytes)) {
        throw new WalrusDecodeError(`${bytes.length} bytes`, `${type.name} (${again.length < bytes.length ? 'trailing bytes' : 'not in canonical form'})`);
      }
      return value as T;
    },
    encode(value) {
      return type.serialize(value as never).toBytes();
    },
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

let loaded: Promise<WalrusSchemas> | undefined;

/** Loads @mysten/bcs (once) and builds the Walrus schemas. */
export function loadWalrusSchemas(): Promise<WalrusSchemas> {
  loaded ??= import('@mysten/bcs').then(build);
  return loaded;
}

/** The `EventID` shape of a transaction digest and sequence number. */
export function eventIdShape(e: EventId): EventIdShape {
  return { tx_digest: e.txDigest, event_seq: e.eventSeq };
}

/** Converts a decoded `EventID` back to bytes and a bigint. */
export function eventIdFromShape(s: EventIdShape): EventId {
  return { txDigest: Uint8Array.from(s.tx_digest), eventSeq: BigInt(s.event_seq) };
}
