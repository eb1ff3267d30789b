#!/usr/bin/env bash
# Installs the Debian packages the test suite uses, if any is missing:
#   rocksdb-tools + librocksdb-dev + g++  real RocksDB: fixture generator and the `ldb`/`sst_dump` oracles
#   xxhash                                xxh64sum, an independent implementation of the digest
#   python3-xxhash                        the conformance decoder written from spec/FORMAT.md alone
#   openssl                               independent Ed25519 signing/verifying of golden statements (pkeyutl -rawin)
#   wabt                                  wat2wasm: checks the embedded WebAssembly matches its .wat source
#   prometheus                            promtool: checks docs/alerts.yml (the only Debian package with it;
#                                         its service is not started by these tests)
#   strace                                kills a writer at each rename (test/cli/outputs.test.ts, fuzz)
set -euo pipefail
packages=(rocksdb-tools librocksdb-dev g++ xxhash python3-xxhash openssl wabt prometheus strace)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "test dependencies present: ${packages[*]}"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
