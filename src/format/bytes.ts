/**
 * Bytewise lexicographic order (a proper prefix sorts first): the only key order of the format.
 * The sign is the answer. A loop, not Buffer.compare: keys are short, and a native call per
 * comparison costs more than comparing them here.
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return compareRanges(a, 0, a.length, b, 0, b.length);
}

/** Bytewise comparison of a[as, as + al) with b[bs, bs + bl), without making views. */
export function compareRanges(a: Uint8Array, as: number, al: number, b: Uint8Array, bs: number, bl: number): number {
  const n = al < bl ? al : bl;
  for (let i = 0; i < n; i++) {
    const d = a[as + i]! - b[bs + i]!;
    if (d !== 0) return d;
  }
  return al - bl;
}

/** Hex of a byte string, for messages and reports. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
