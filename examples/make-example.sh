#!/usr/bin/env bash
# Makes examples/: a real RocksDB checkpoint shaped like a Walrus storage node's blob-info state
# at epoch 42 (made with Debian's ldb, RocksDB 7.8), and the same tables dumped with
# `ldb scan --hex` as a dump directory. Deterministic content; re-running replaces both.
#
# Tables, as Walrus names its column families:
#   per_object_blob_info, per_object_pooled_blob_info, storage_pool_info
#       deterministic: identical on every honest node after GC; these are the ones to digest
#   aggregate_blob_info
#       node-local (per-node `is_metadata_stored`, GC-timing-dependent deletions): honest nodes
#       differ on it, so it is never selected for the digest; it is here to show that
# Values are written with put/load, not merge: the checkpoint holds no merge operands.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/db"

# Deterministic pseudo-random content: 32-byte blob ids, small values.
python3 - "$work" <<'PY'
import hashlib, sys
out = sys.argv[1]
def lines(name, n, vlen):
    rows = []
    for i in range(n):
        key = hashlib.sha256(f"{name}/{i}".encode()).digest()
        val = hashlib.shake_256(f"v/{name}/{i}".encode()).digest(vlen(i))
        rows.append(f"0x{key.hex()} ==> 0x{val.hex()}\n")
    open(f"{out}/{name}.load", "w").writelines(rows)
lines("per_object_blob_info", 2000, lambda i: 96)
lines("per_object_pooled_blob_info", 500, lambda i: 104)
lines("storage_pool_info", 20, lambda i: 48)
lines("aggregate_blob_info", 3000, lambda i: 48 + i % 40)   # node-local: never selected for the digest
PY

ldb --db="$db" --create_if_missing put --hex 0x00 0x00 >/dev/null   # creates the DB
ldb --db="$db" delete --hex 0x00 >/dev/null
for cf in per_object_blob_info per_object_pooled_blob_info storage_pool_info aggregate_blob_info; do
  ldb --db="$db" create_column_family "$cf" >/dev/null
  ldb --db="$db" --column_family="$cf" --hex load < "$work/$cf.load" >/dev/null
done
# Overwrite and delete some entries so that the checkpoint holds tombstones and several versions.
head -n 200 "$work/aggregate_blob_info.load" | sed 's/ ==> 0x../ ==> 0xff/' | ldb --db="$db" --column_family=aggregate_blob_info --hex load >/dev/null
head -n 50 "$work/per_object_pooled_blob_info.load" | sed 's/ ==> 0x../ ==> 0x01/' | ldb --db="$db" --column_family=per_object_pooled_blob_info --hex load >/dev/null
for k in $(sed -n '300,320p' "$work/per_object_blob_info.load" | cut -d' ' -f1); do
  ldb --db="$db" --column_family=per_object_blob_info --hex delete "$k" >/dev/null
done
ldb --db="$db" --column_family=per_object_blob_info compact >/dev/null

rm -rf checkpoint_epoch_42 dump
ldb --db="$db" checkpoint --checkpoint_dir="$PWD/checkpoint_epoch_42" >/dev/null
rm -f checkpoint_epoch_42/LOG* 2>/dev/null || true
mkdir -p dump/checkpoint_epoch_42
for cf in per_object_blob_info per_object_pooled_blob_info storage_pool_info aggregate_blob_info; do
  ldb --db="$db" --column_family="$cf" scan --hex > "dump/checkpoint_epoch_42/$cf.hex"
done
du -sh checkpoint_epoch_42 dump
