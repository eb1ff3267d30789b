#!/usr/bin/env python3
"""An encoder of signed statements written from spec/STATEMENT.md section 2 alone (standard
library only), to check the golden statement bytes independently of the TypeScript encoder.

Usage: statement_reference.py MANIFEST  -> prints one line per case: "<name> <hex>"
"""
import json
import struct
import sys

MAGIC = b"snapshot-verify statement\x00"


def u16(v):
    return struct.pack(">H", v)


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def digest(hex_digits):
    assert len(hex_digits) == 16
    return u64(int(hex_digits, 16))


def text(s, length_format):
    b = s.encode("utf-8")  # strict: an unpaired surrogate raises
    return struct.pack(length_format, len(b)) + b


def encode(report):
    sig = report["signature"]
    k = report["rangesPerTable"]
    out = bytearray(MAGIC)
    out += u16(sig["statementVersion"])
    out += u16(report["formatVersion"])
    out += u64(int(report["epoch"]))
    out += u64(int(report["cursor"]["index"]))
    event_id = bytes.fromhex(report["cursor"]["eventIdHex"])
    out += u16(len(event_id)) + event_id
    out += u64(int(report["maxChunkBytes"]))
    out += u32(k)
    out += u32(len(report["tables"]))
    for t in report["tables"]:
        out += u32(t["id"])
        out += text(t["name"], ">B")
        out += u64(int(t["entries"])) + u64(int(t["bytes"])) + digest(t["digest"])
        for j, g in enumerate(t.get("ranges", [])):
            out += bytes.fromhex(g["start"])
            if j < k - 1:
                out += bytes.fromhex(g["end"])
            out += u64(int(g["entries"])) + digest(g["digest"])
    out += digest(report["digest"])
    out += u64(int(report["entries"])) + u64(int(report["bytes"]))
    out += u32(len(report["chunks"]))
    for c in report["chunks"]:
        out += u64(c["bytes"]) + digest(c["digest"])
    out += text(report["node"]["name"], ">H")
    out += bytes.fromhex(sig["publicKey"])
    return bytes(out)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        manifest = json.load(f)
    for case in manifest["statements"]:
        print(case["name"], encode(case["report"]).hex())


if __name__ == "__main__":
    main()
