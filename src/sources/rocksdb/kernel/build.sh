#!/bin/sh
# Regenerates merge-kernel-wasm.ts (or the file given as $1) from assembly/merge.ts
# (scripts/build-asc.sh); test/sources/rocksdb/kernel.test.ts checks it matches a fresh compile.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec sh "$here/../../../../scripts/build-asc.sh" "$here/assembly/merge.ts" MERGE_KERNEL_WASM_BASE64 'The merge kernel' "${1:-$here/merge-kernel-wasm.ts}"
