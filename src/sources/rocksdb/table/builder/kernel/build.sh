#!/bin/sh
# Regenerates block-kernel-wasm.ts (or the file given as $1) from assembly/blocks.ts
# (scripts/build-asc.sh); test/restore/block-kernel.test.ts checks it matches a fresh compile.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec sh "$here/../../../../../../scripts/build-asc.sh" "$here/assembly/blocks.ts" BLOCK_KERNEL_WASM_BASE64 'The data-block kernel' "${1:-$here/block-kernel-wasm.ts}"
