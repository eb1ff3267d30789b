/**
 * The content of Walrus's test `serialization_is_byte_stable`
 * (crates/walrus-service/src/node/storage/blob_info_snapshot.rs, `sample_header`,
 * `sample_per_object`, `sample_pooled`, `sample_pools`), rebuilt with Walrus's test helpers'
 * definitions:
 * - `ObjectID::from_single_byte(b)`: 31 zero bytes, then b (sui-types base_types.rs);
 * - `blob_id_from_u64(n)`: 24 zero bytes, then n as u64 big-endian (walrus-core test_utils.rs);
 * - `fixed_event_id_for_testing(seq)`: tx digest [42; 32], event_seq = seq (walrus-sui test_utils.rs);
 * - the `new_for_testing` constructors: the V1 variant with the fields in order.
 */
import type { WalrusSchemas } from '../../src/presets/walrus/schema.js';
import type { WalrusSnapshotHeader } from '../../src/interop/walrus/writer.js';
import type { Entry } from '../../src/sources/source.js';

export const objectIdFromSingleByte = (b: number): Uint8Array => {
  const id = new Uint8Array(32);
  id[31] = b;
  return id;
};

export const blobIdFromU64 = (n: bigint): Uint8Array => {
  const id = new Uint8Array(32);
  new DataView(id.buffer).setBigUint64(24, n, false);
  return id;
};

export const fixedEventIdForTesting = (seq: bigint) => ({ tx_digest: new Uint8Array(32).fill(42), event_seq: seq });

/** `SnapshotHeader::new(7, fixed_event_id_for_testing(3), 42)`. */
export const sampleHeader: WalrusSnapshotHeader = { epoch: 7, eventId: { txDigest: new Uint8Array(32).fill(42), eventSeq: 3n }, nextEventIndex: 42n };

export function sampleSections(s: WalrusSchemas): [Entry[], Entry[], Entry[]] {
  const perObject = (blob: bigint, registered: number, certified: number | null, end: number, deletable: boolean, seq: bigint, deleted: boolean) =>
    s.perObjectBlobInfo.encode({
      V1: { blob_id: blobIdFromU64(blob), registered_epoch: registered, certified_epoch: certified, end_epoch: end, deletable, event: fixedEventIdForTesting(seq), deleted },
    });
  const perObjectEntries = [
    { key: objectIdFromSingleByte(1), value: perObject(10n, 1, 2, 5, false, 1n, false) },
    { key: objectIdFromSingleByte(2), value: perObject(11n, 3, null, 9, true, 2n, true) },
  ];
  const pooled = [
    {
      key: objectIdFromSingleByte(3),
      value: s.perObjectPooledBlobInfo.encode({
        V1: { blob_id: blobIdFromU64(20n), registered_epoch: 2, certified_epoch: 4, storage_pool_id: objectIdFromSingleByte(8), event: fixedEventIdForTesting(5n) },
      }),
    },
  ];
  const pools = [
    { key: objectIdFromSingleByte(4), value: s.storagePoolInfo.encode({ V1: { start_epoch: 1, end_epoch: 100 } }) },
    { key: objectIdFromSingleByte(5), value: s.storagePoolInfo.encode({ V1: { start_epoch: 2, end_epoch: 50 } }) },
  ];
  // File order: per_object_blob_info (1), storage_pool_info (2), per_object_pooled_blob_info (3).
  return [perObjectEntries, pools, pooled];
}
