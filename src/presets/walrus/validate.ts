/**
 * A fast check that bytes are the canonical BCS of one of the three snapshotted value types,
 * without building objects: the snapshot writer and reader check every value, and decoding
 * each through @mysten/bcs (then re-encoding it) costs about ten times as much. It accepts
 * exactly what the strict codecs of schema.ts accept (test/presets/walrus-validate.test.ts
 * compares them on mutated values) and raises the same errors.
 */
import { UnknownVariantError, WalrusDecodeError } from './schema.js';

/** The value types of Walrus's snapshot sections. */
export type WalrusValueType = 'PerObjectBlobInfo' | 'StoragePoolInfo' | 'PerObjectPooledBlobInfo';

class Invalid extends Error {}

/** Throws UnknownVariantError (an enum variant this preset does not know) or WalrusDecodeError. */
export function validateWalrusValue(type: WalrusValueType, bytes: Uint8Array): void {
  let p = 0;
  const need = (n: number) => {
    if (p + n > bytes.length) throw new Invalid('out of bounds');
  };
  const skip = (n: number) => {
    need(n);
    p += n;
  };
  const bool = () => {
    need(1);
    if (bytes[p++]! > 1) throw new Invalid('a bool other than 0 or 1');
  };
  const optionU32 = () => {
    need(1);
    const tag = bytes[p++]!;
    if (tag === 1) skip(4);
    else if (tag !== 0) throw new Invalid('an option tag other than 0 or 1');
  };
  const eventId = () => {
    need(1);
    if (bytes[p++] !== 32) throw new Invalid('a transaction digest that is not a 32-byte string');
    skip(32 + 8);
  };
  try {
    const variant = uleb(bytes);
    p = variant.length;
    if (variant.value !== 0) throw new UnknownVariantError(type, variant.value, `a ${type}`);
    switch (type) {
      case 'PerObjectBlobInfo':
        skip(32 + 4); // blob_id, registered_epoch
        optionU32(); // certified_epoch
        skip(4); // end_epoch
        bool(); // deletable
        eventId();
        bool(); // deleted
        break;
      case 'StoragePoolInfo':
        skip(8); // start_epoch, end_epoch
        break;
      case 'PerObjectPooledBlobInfo':
        skip(32 + 4); // blob_id, registered_epoch
        optionU32(); // certified_epoch
        skip(32); // storage_pool_id
        eventId();
        break;
    }
    if (p !== bytes.length) throw new Invalid('trailing bytes');
  } catch (e) {
    if (e instanceof Invalid) throw new WalrusDecodeError(`${bytes.length} bytes`, `${type} (${e.message})`);
    throw e;
  }
}

/** A canonical ULEB128 enum variant index, as @mysten/bcs reads it (at most a safe integer). */
function uleb(bytes: Uint8Array): { value: number; length: number } {
  let value = 0;
  let scale = 1;
  for (let i = 0; ; i++) {
    if (i >= bytes.length) throw new Invalid('out of bounds');
    const b = bytes[i]!;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) {
      if (b === 0 && i > 0) throw new Invalid('a non-canonical ULEB128');
      if (!Number.isSafeInteger(value)) throw new Invalid('a ULEB128 beyond 2^53');
      return { value, length: i + 1 };
    }
    scale *= 128;
  }
}
