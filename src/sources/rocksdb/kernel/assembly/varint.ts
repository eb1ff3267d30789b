// AssemblyScript: the varint32 reader of the merge kernel (merge.ts, place.ts).

/** Reads a varint32 at p (before end) into varValue; returns the position after it, or 0 when bad. */
export let varValue: u32 = 0;
export function varint32(p: usize, end: usize): usize {
  let result: u32 = 0;
  for (let shift: u32 = 0; shift <= 28; shift += 7) {
    if (p >= end) return 0;
    const b = <u32>load<u8>(p);
    p++;
    if (shift == 28 && b > 0x0f) return 0; // more than 32 bits
    result |= (b & 0x7f) << shift;
    if (b < 0x80) {
      varValue = result;
      return p;
    }
  }
  return 0;
}
