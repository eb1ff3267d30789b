import xxhash, { type XXHashAPI } from 'xxhash-wasm';
import { DIGEST_SEED } from './constants.js';

/** A streaming xxhash64 (seed 0), the only hash of the format. */
export interface Hasher64 {
  update(bytes: Uint8Array): unknown;
  digest(): bigint;
}

let api: XXHashAPI | undefined;

/** Loads the WebAssembly xxhash once; every writer and reader awaits it before starting. */
export async function loadHasher(): Promise<void> {
  api ??= await xxhash();
}

/** A new xxhash64 state with the format's seed. `loadHasher()` must have completed. */
export function newHasher(): Hasher64 {
  if (api === undefined) throw new Error('loadHasher() must be awaited before hashing');
  return api.create64(DIGEST_SEED);
}

/** xxhash64 (seed 0) of a byte string, after `loadHasher()`. */
export function xxh64(bytes: Uint8Array): bigint {
  if (api === undefined) throw new Error('loadHasher() must be awaited before hashing');
  return api.h64Raw(bytes, DIGEST_SEED); // one call: no streaming state (a chunk's trailer, once per 4 KiB chunk)
}

/** A digest as written by humans and tools: 16 lowercase hex digits, like `xxh64sum` prints. */
export function formatDigest(digest: bigint): string {
  return digest.toString(16).padStart(16, '0');
}

/** Parses 16 hex digits back into a digest; undefined when malformed. */
export function parseDigest(text: string): bigint | undefined {
  return /^[0-9a-f]{16}$/.test(text) ? BigInt(`0x${text}`) : undefined;
}
