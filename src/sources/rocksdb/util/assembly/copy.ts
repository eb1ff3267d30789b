// Shared by the AssemblyScript kernels (kernel/assembly/merge.ts, table/builder/kernel/assembly/
// blocks.ts): asc inlines it into each build; it is not a module of its own.

/**
 * Copies n bytes (no overlap). Copies up to `inlineMax` bytes, the usual key and value sizes, run
 * inline eight bytes at a time: memory.copy is a call out of the module, which costs more than a
 * short copy itself. Each kernel passes the limit measured for it as a constant.
 */
@inline export function copy(dst: usize, src: usize, n: usize, inlineMax: usize): void {
  if (n > inlineMax) {
    memory.copy(dst, src, n);
    return;
  }
  let i: usize = 0;
  for (; i + 8 <= n; i += 8) store<u64>(dst + i, load<u64>(src + i));
  for (; i < n; i++) store<u8>(dst + i, load<u8>(src + i));
}
