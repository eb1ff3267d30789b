#!/bin/sh
# Regenerates NAME-wasm.ts from every NAME.wat here (scripts/build-wasm.sh; needs wat2wasm).
here=$(cd "$(dirname "$0")" && pwd)
exec sh "$here/../../../scripts/build-wasm.sh" "$here"
