/** Feeds bytes to a reader in pieces of the given sizes (cycled), as a network or disk might. */
export async function* inPieces(bytes: Uint8Array, sizes: readonly number[] = [1]): AsyncGenerator<Uint8Array> {
  let i = 0;
  let at = 0;
  while (at < bytes.length) {
    const n = Math.max(1, sizes[i++ % sizes.length]!);
    yield bytes.slice(at, at + n);
    at += n;
  }
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
