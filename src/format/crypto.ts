import { createRequire } from 'node:module';
import type * as Crypto from 'node:crypto';

let loaded: typeof Crypto | undefined;

/**
 * node:crypto, loaded on first use. Loading it takes several milliseconds of start-up (bench/
 * startup.mjs), and a digest never needs it: only temp names, keys and signatures, and restore do.
 */
export function crypto(): typeof Crypto {
  return (loaded ??= createRequire(import.meta.url)('node:crypto') as typeof Crypto);
}
