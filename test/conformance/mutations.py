#!/usr/bin/python3
"""Mutation sweep over golden/v1 with the independent reference decoder.

For every golden case: single-byte flips (xor 0x01 and xor 0xff), truncations and extensions,
plus (for chunked cases) whole-chunk drop / duplicate / swap / alone, and a list of hand-crafted
vectors with recomputed digests that reach checks a plain byte flip cannot (non-canonical
cuts, limits, catalog rules, the check order and offsets of spec section 7.1, ...). Each result
is one JSON line on stdout:

  {"case": "...", "kind": "xor01", "offset": 17, "length": 149,
   "code": "NON_CANONICAL", "errorOffset": 10}

  kind         xor01 / xorff      : byte at `offset` of golden/v1/<case file> xored with 0x01 / 0xff
               truncate           : the first `offset` bytes of the file (offset = new length)
               extend             : the file followed by bytes `appendHex` (offset = original length)
               chunk-drop/-dup/-swap/-alone : chunk-level edits of chunked cases (`detail`; full
                                    input in `hex`)
               crafted            : whole input in `hex`; `detail` says what it tests;
                                    `expected` / `expectedOffset` are what spec section 7.1
                                    decides (null = the spec leaves it open, or not asserted)
  code         the reference decoder's error code, or "OK" if it accepted the input
  errorOffset  byte offset of the error in the mutated input (null when OK)
  (when OK, also: digest, epoch, cursorIndex, maxChunkBytes as decoded, and the chunk count)

A cross-checking test can rebuild every input from golden/v1/<case file> and these fields
(crafted and chunk-level vectors carry their full bytes in `hex`).

By default the byte-level sweep is sampled (to keep a cross-check with another decoder within
its time budget): a case larger than MAX_FLIP_OFFSETS / MAX_TRUNCATIONS bytes gets every byte of
each chunk's header region (first 200 bytes), every byte within 24 bytes of each chunk end, and
an even stride of the remaining offsets up to the cap. Smaller cases are swept at every offset.
`--full` sweeps every offset of every case (about 55,000 inputs for golden/v1).

Usage: python3 mutations.py [golden-dir] [--full] > results.jsonl

A summary goes to stderr; exit status is 1 if any mutated input was accepted (or a crafted
vector got a result different from its expectation), else 0.
"""

import json
import os
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ next to the sources
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_decoder as rd  # noqa: E402

MAX_FLIP_OFFSETS = 2500   # per case and per flip kind, unless --full
MAX_TRUNCATIONS = 2500    # per case, unless --full
GOLDEN_DEFAULT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "golden", "v1")

EXTENSIONS = [
    ("00", "one zero byte"),
    ("ff", "one 0xff byte"),
    ("04", "a stray SNAPSHOT_END tag"),
    ("0000000000000000", "eight zero bytes"),
    ("89534e50560d0a1a", "a magic (start of another chunk)"),
]


def emit(rec):
    sys.stdout.write(json.dumps(rec, sort_keys=False) + "\n")


def run(case, kind, data, offset=None, **extra):
    res = rd.try_decode(data)
    rec = {"case": case, "kind": kind, "offset": offset, "length": len(data)}
    if res[0] == "OK":
        snap = res[1]
        rec.update({"code": "OK", "errorOffset": None, "digest": rd.hex16(snap.digest),
                    "epoch": str(snap.epoch), "cursorIndex": str(snap.cursor_index),
                    "maxChunkBytes": str(snap.max_chunk_bytes), "chunks": len(snap.chunks)})
    else:
        rec.update({"code": res[0], "errorOffset": res[1]})
    rec.update(extra)
    emit(rec)
    return rec


def select_offsets(size, chunks, cap, full):
    if full or size <= cap:
        return list(range(size))
    must = set()
    for c in chunks:
        o, n = c["offset"], c["size"]
        must.update(range(o, min(o + 200, o + n)))        # header (and first record prefix)
        must.update(range(max(o, o + n - 24), o + n))     # last record tail, end record, trailer
    rest = [i for i in range(size) if i not in must]
    budget = max(0, cap - len(must))
    if budget and rest:
        step = max(1, len(rest) // budget)
        must.update(rest[::step][:budget])
    return sorted(must)


# ---------------------------------------------------------------------------
# low-level assembler for crafted vectors (recomputes chaining and trailers)

def header(epoch=0, cursor=0, event_id=b"", m=0, index=0, prev=0, position=0, catalog=(),
           version=1, flags=0, table_count=None, magic=rd.MAGIC):
    out = bytearray(magic)
    out += struct.pack("<HHQQH", version, flags, epoch, cursor, len(event_id)) + event_id
    out += struct.pack("<QIQII", m, index, prev, position, len(catalog) if table_count is None else table_count)
    for (tid, name) in catalog:
        out += struct.pack("<IB", tid, len(name)) + name
    return bytes(out)


def entry(k, v):
    return struct.pack("<BII", 1, len(k), len(v)) + k + v


def table_end(tid, entries, count=None, digest=None):
    d = rd.xxh64(b"".join(entry(k, v) for (k, v) in entries))
    return struct.pack("<BIQQ", 2, tid, len(entries) if count is None else count, d if digest is None else digest)


CHUNK_END = b"\x03"
SNAP_END = b"\x04"


def assemble_l(chunks, **hdr):
    """chunks: list of lists of raw records (the last record of each list is its end record).
    Header fields come from hdr; index, previous digest and table position are computed
    (table position = TABLE_END records in earlier chunks) unless a chunk is given as
    (records, overrides_dict). Returns (bytes, layout) with layout[i] = (chunk start, header
    size, [record offsets])."""
    out = bytearray()
    prev = 0
    ended = 0
    layout = []
    for i, ch in enumerate(chunks):
        if isinstance(ch, tuple):
            recs, ov = ch
        else:
            recs, ov = ch, {}
        h = dict(hdr)
        h.update({"index": i, "prev": prev, "position": ended})
        h.update(ov)
        hb = header(**h)
        start = len(out)
        offs = []
        o = start + len(hb)
        for r in recs:
            offs.append(o)
            o += len(r)
        layout.append((start, len(hb), offs))
        body = hb + b"".join(recs)
        prev = rd.xxh64(body)
        out += body + struct.pack("<Q", prev)
        ended += sum(1 for r in recs if r[:1] == b"\x02")
    return bytes(out), layout


def assemble(chunks, **hdr):
    return assemble_l(chunks, **hdr)[0]


def chunk_records(anchor, tables, cut):
    """Cut the record sequence into chunks: cut(used, size) -> True to cut before the record
    (never before the first record of a chunk). Returns list of record lists (with end records)."""
    H = len(header(epoch=anchor["epoch"], cursor=anchor["cursor_index"], event_id=anchor["event_id"],
                   m=anchor["max_chunk_bytes"], catalog=anchor["catalog"]))
    recs = []
    for (tid, _n), ents in zip(anchor["catalog"], tables):
        for (k, v) in ents:
            recs.append(entry(k, v))
        recs.append(table_end(tid, ents))
    chunks = [[]]
    used = H
    for r in recs:
        if chunks[-1] and cut(used, len(r)):
            chunks[-1].append(CHUNK_END)
            chunks.append([])
            used = H
        chunks[-1].append(r)
        used += len(r)
    chunks[-1].append(SNAP_END)
    return chunks


def hdr_kw(anchor, **over):
    kw = dict(epoch=anchor["epoch"], cursor=anchor["cursor_index"], event_id=anchor["event_id"],
              m=anchor["max_chunk_bytes"], catalog=anchor["catalog"])
    kw.update(over)
    return kw


def first_overflow(layout, chunks, m):
    """Offset of the first ENTRY/TABLE_END whose chunk would exceed M (used + S + 9 > M)."""
    for (start, _h, offs), ch in zip(layout, chunks):
        recs = ch[0] if isinstance(ch, tuple) else ch
        for o, r in zip(offs, recs):
            if r[:1] in (b"\x01", b"\x02") and (o - start) + len(r) + 9 > m:
                return o
    return None


def crafted_vectors(manifest):
    """(name, bytes, expected_code, expected_offset) tuples. The expectations are what spec
    section 7.1 decides, worked out by hand from the layout (not by running the decoder);
    None = the spec leaves it open (see NOTES.md Round 2) or the value is not asserted."""
    cases = {c["name"]: c for c in manifest["cases"]}
    V = []

    def X(name, data, code, offset=None):
        V.append((name, data, code, offset))

    cat2 = [(1, b"a"), (2, b"b")]
    ents_a = [(b"k1", b"v1"), (b"k2", b"v2")]
    base = dict(epoch=7, cursor=100, event_id=b"ev", catalog=cat2)
    E = 2
    H = 58 + E + 2 * 6   # 72: the base header size; the first record is at offset 72
    std = [entry(*ents_a[0]), entry(*ents_a[1]), table_end(1, ents_a), table_end(2, []), SNAP_END]
    # sanity: the assembler reproduces the worked example
    X("assembler-reproduces-worked-example", assemble([std], **base), "OK")

    def one(recs=None, **over):
        kw = dict(base)
        kw.update(over)
        return assemble([std if recs is None else recs], **kw)

    def one_ov(ov, recs=None, **over):
        kw = dict(base)
        kw.update(over)
        return assemble([(std if recs is None else recs, ov)], **kw)

    # ------------------------------------------------------------------ chunk header (7.1)
    # magic: byte by byte, even if the input then ends
    X("magic-first-byte", b"\x00" + one()[1:], "BAD_MAGIC", 0)
    X("magic-then-eof", rd.MAGIC[:3] + b"\x00", "BAD_MAGIC", 3)
    X("magic-partial-eof", rd.MAGIC[:5], "TRUNCATED", 5)
    X("empty-input", b"", "TRUNCATED", 0)
    # bytes c ... c+29: version, then flags, then E, only once all 30 bytes are there
    X("version-2", one(version=2), "UNSUPPORTED_VERSION", 8)
    X("version-0", one(version=0), "UNSUPPORTED_VERSION", 8)
    X("version-2-input-ends-at-29", one(version=2)[:29], "TRUNCATED", 29)
    X("version-2-input-ends-at-10", one(version=2)[:10], "TRUNCATED", 10)
    X("version-2-input-is-30-bytes", one(version=2)[:30], "UNSUPPORTED_VERSION", 8)
    X("version-2-and-flags-1", one(version=2, flags=1), "UNSUPPORTED_VERSION", 8)
    X("flags-1", one(flags=1), "NON_CANONICAL", 10)
    X("flags-8000", one(flags=0x8000), "NON_CANONICAL", 10)
    X("flags-1-input-ends-at-20", one(flags=1)[:20], "TRUNCATED", 20)
    X("flags-1-and-event-id-1025", one(flags=1, event_id=b"e" * 1025), "NON_CANONICAL", 10)
    X("event-id-1024-ok", one(event_id=b"e" * 1024), "OK")
    X("event-id-1025", one(event_id=b"e" * 1025), "LIMIT_EXCEEDED", 28)
    X("event-id-1025-input-is-30-bytes", one(event_id=b"e" * 1025)[:30], "LIMIT_EXCEEDED", 28)
    X("event-id-65535-input-is-30-bytes", rd.MAGIC + struct.pack("<HHQQH", 1, 0, 0, 0, 0xFFFF), "LIMIT_EXCEEDED", 28)
    X("event-id-length-input-ends-at-29", one(event_id=b"e" * 1025)[:29], "TRUNCATED", 29)
    # bytes up to c + 58 + E: table count limit (c+54+E), then position <= count (c+50+E)
    X("table-count-1024-ok", one(catalog=[(i, b"t%d" % i) for i in range(1024)],
                                 recs=[table_end(i, []) for i in range(1024)] + [SNAP_END]), "OK")
    X("table-count-1025", one(catalog=[(i, b"t%d" % i) for i in range(1025)],
                              recs=[table_end(i, []) for i in range(1025)] + [SNAP_END]), "LIMIT_EXCEEDED", 54 + E)
    X("table-count-huge-no-catalog", one(catalog=[], table_count=0xFFFFFFFF, recs=[SNAP_END]), "LIMIT_EXCEEDED", 54 + E)
    X("table-count-1025-input-ends-after-count", one(catalog=[], table_count=1025, recs=[SNAP_END])[:58 + E],
      "LIMIT_EXCEEDED", 54 + E)
    X("table-count-1025-input-ends-inside-count", one(catalog=[], table_count=1025, recs=[SNAP_END])[:57 + E],
      "TRUNCATED", 57 + E)
    X("table-count-1025-and-position-2000", one_ov({"position": 2000}, catalog=[], table_count=1025, recs=[SNAP_END]),
      "LIMIT_EXCEEDED", 54 + E)
    X("position-3-over-count-2", one_ov({"position": 3}), "NON_CANONICAL", 50 + E)
    X("position-3-over-count-2-input-ends-after-count", one_ov({"position": 3})[:58 + E], "NON_CANONICAL", 50 + E)
    X("position-3-over-count-2-and-duplicate-name",
      one_ov({"position": 3}, catalog=[(1, b"a"), (2, b"a")]), "NON_CANONICAL", 50 + E)
    # chunk 0: previous digest then position, once the header is complete (after catalog checks)
    X("chunk0-prev-digest-nonzero", one_ov({"prev": 5}), "NON_CANONICAL", 42 + E)
    X("chunk0-position-1", one_ov({"position": 1}), "NON_CANONICAL", 50 + E)
    X("chunk0-prev-digest-and-position", one_ov({"prev": 5, "position": 1}), "NON_CANONICAL", 42 + E)
    X("chunk0-position-1-and-duplicate-name", one_ov({"position": 1}, catalog=[(1, b"a"), (2, b"a")]),
      "NON_CANONICAL", 58 + E + 6 + 5)
    X("chunk0-prev-digest-input-ends-in-catalog", one_ov({"prev": 5})[:H - 1], "TRUNCATED", H - 1)
    X("chunk0-prev-digest-and-M-too-small", one_ov({"prev": 5}, m=H + 8), "NON_CANONICAL", 42 + E)
    # M > 0 and H + 9 > M, at the M field, after the chunk-0 checks and before the chain
    X("M-equals-H+8", one(m=H + 8), "LIMIT_EXCEEDED", 30 + E)
    X("M-1", one(m=1), "LIMIT_EXCEEDED", 30 + E)
    X("M-too-small-and-index-1", one_ov({"index": 1}, m=H + 8), "LIMIT_EXCEEDED", 30 + E)
    X("M-too-small-input-ends-in-catalog", one(m=H + 8)[:H - 1], "TRUNCATED", H - 1)
    # the chain: the first chunk must have index 0, at c
    X("chunk0-index-1", one_ov({"index": 1}), "CHUNK_SEQUENCE", 0)
    # a first chunk with index 1 and a non-zero previous digest: golden invalid/chunks-swapped.bin
    # decides this one (CHUNK_SEQUENCE at 0), see NOTES.md Round 2 #Z1
    X("chunk0-index-1-prev-digest-nonzero", one_ov({"index": 1, "prev": 5}), "CHUNK_SEQUENCE", 0)
    # catalog entries: id (at the id field), then name length (at the length byte), then the
    # name: UTF-8 then duplicate (at the name's first byte)
    cat0 = 58 + E   # first catalog entry
    X("table-ids-equal", one(catalog=[(1, b"a"), (1, b"b")], recs=[table_end(1, []), table_end(1, []), SNAP_END]),
      "NON_CANONICAL", cat0 + 6)
    X("table-ids-descending", one(catalog=[(2, b"a"), (1, b"b")], recs=[table_end(2, []), table_end(1, []), SNAP_END]),
      "NON_CANONICAL", cat0 + 6)
    X("table-ids-descending-and-empty-name", one(catalog=[(2, b"a"), (1, b"")], recs=[SNAP_END]), "NON_CANONICAL", cat0 + 6)
    X("table-ids-descending-input-ends-after-length",
      one(catalog=[(2, b"a"), (1, b"b")], recs=[SNAP_END])[:cat0 + 11], "NON_CANONICAL", cat0 + 6)
    X("table-ids-descending-input-ends-in-id",
      one(catalog=[(2, b"a"), (1, b"b")], recs=[SNAP_END])[:cat0 + 10], "TRUNCATED", cat0 + 10)
    X("name-empty", one(catalog=[(1, b"")], recs=[table_end(1, []), SNAP_END]), "NON_CANONICAL", cat0 + 4)
    X("name-empty-input-ends-after-length", one(catalog=[(1, b"")], recs=[SNAP_END])[:cat0 + 5], "NON_CANONICAL", cat0 + 4)
    X("name-255-ok", one(catalog=[(1, b"n" * 255)], recs=[table_end(1, []), SNAP_END]), "OK")
    X("name-duplicate", one(catalog=[(1, b"a"), (2, b"a")], recs=[table_end(1, []), table_end(2, []), SNAP_END]),
      "NON_CANONICAL", cat0 + 11)
    X("name-duplicate-of-first-of-three", one(catalog=[(1, b"ab"), (2, b"c"), (3, b"ab")], recs=[SNAP_END]),
      "NON_CANONICAL", cat0 + 7 + 6 + 5)
    for label, nm in [("overlong-slash", b"\xc0\xaf"), ("overlong-nul", b"\xc0\x80"), ("overlong-3byte", b"\xe0\x80\xaf"),
                      ("overlong-4byte", b"\xf0\x8f\xbf\xbf"), ("surrogate-d800", b"\xed\xa0\x80"),
                      ("surrogate-dfff", b"\xed\xbf\xbf"), ("above-10ffff", b"\xf4\x90\x80\x80"),
                      ("lead-f5", b"\xf5\x80\x80\x80"), ("lone-continuation", b"\x80"), ("truncated-seq", b"a\xe2\x82"),
                      ("truncated-then-ascii", b"\xe2\x82a"), ("byte-ff", b"\xff"), ("byte-fe", b"\xfe")]:
        X("name-invalid-utf8-" + label, one(catalog=[(1, nm)], recs=[table_end(1, []), SNAP_END]), "NON_CANONICAL", cat0 + 5)
    X("name-invalid-utf8-input-ends-in-name", one(catalog=[(1, b"\xc0\xafxyz")], recs=[SNAP_END])[:cat0 + 6],
      "TRUNCATED", cat0 + 6)
    X("name-invalid-utf8-second-entry", one(catalog=[(1, b"a"), (2, b"\xc3")], recs=[SNAP_END]), "NON_CANONICAL", cat0 + 11)
    for label, nm in [("nul", b"\x00"), ("nonchar-fffe", b"\xef\xbf\xbe"), ("4byte", b"\xf0\x9f\x98\x80"),
                      ("max-10ffff", b"\xf4\x8f\xbf\xbf"), ("bom", b"\xef\xbb\xbf"), ("ud7ff", b"\xed\x9f\xbf"),
                      ("ue000", b"\xee\x80\x80")]:
        X("name-valid-utf8-" + label, one(catalog=[(1, nm)], recs=[table_end(1, []), SNAP_END]), "OK")
    # compared byte by byte: precomposed and decomposed e-acute are two different names
    X("names-differ-only-by-normalization-ok", one(catalog=[(1, b"\xc3\xa9"), (2, b"e\xcc\x81")]), "OK")
    X("u64-extremes-ok", one(epoch=2**64 - 1, cursor=2**53 + 1, m=2**64 - 1), "OK")
    X("u64-high-bit-ok", one(epoch=2**63, cursor=2**63 + 12345), "OK")
    X("table-id-0-ok", one(catalog=[(0, b"a")], recs=[table_end(0, []), SNAP_END]), "OK")
    X("table-id-max-ok", one(catalog=[(0xFFFFFFFF, b"a")], recs=[table_end(0xFFFFFFFF, []), SNAP_END]), "OK")
    # header says T = 1 but two entries follow: entry 2 ("02 00 00 00 01 62") is read as records:
    # a TABLE_END (tag 02) whose table id is 0x62010000 -> TABLE_MISMATCH at its id field
    X("table-count-too-small", one(catalog=cat2, table_count=1), "TABLE_MISMATCH", cat0 + 6 + 1)

    # ------------------------------------------------------------------ records (7.1)
    r0 = H
    X("unknown-tag-00", one(recs=[b"\x00", SNAP_END]), "BAD_RECORD", r0)
    X("unknown-tag-05", one(recs=[b"\x05", SNAP_END]), "BAD_RECORD", r0)
    X("unknown-tag-ff-then-eof", one(recs=[b"\xff"])[:-8], "BAD_RECORD", r0)
    X("unknown-tag-after-entry", one(recs=[entry(b"k", b"v"), b"\x80"]), "BAD_RECORD", r0 + 11)
    after = r0 + 42   # after two TABLE_ENDs
    X("entry-after-last-table", one(recs=[table_end(1, []), table_end(2, []), entry(b"k", b"v"), SNAP_END]),
      "BAD_RECORD", after)
    X("entry-after-last-table-input-ends-in-prefix",
      one(recs=[table_end(1, []), table_end(2, []), entry(b"k", b"v")])[:after + 8], "TRUNCATED", after + 8)
    X("entry-after-last-table-prefix-only",
      one(recs=[table_end(1, []), table_end(2, []), entry(b"k", b"v")])[:after + 9], "BAD_RECORD", after)
    X("entry-after-last-table-key-over-limit",
      one(recs=[table_end(1, []), table_end(2, []), struct.pack("<BII", 1, 70000, 0)]), "BAD_RECORD", after)
    X("table-end-after-last-table", one(recs=[table_end(1, []), table_end(2, []), table_end(2, []), SNAP_END]),
      "BAD_RECORD", after)
    X("table-end-after-last-table-input-ends-at-20",
      one(recs=[table_end(1, []), table_end(2, []), table_end(2, [])])[:after + 20], "TRUNCATED", after + 20)
    X("entry-with-empty-catalog", one(catalog=[], recs=[entry(b"k", b"v"), SNAP_END]), "BAD_RECORD", 58 + E)
    X("table-end-with-empty-catalog", one(catalog=[], recs=[table_end(1, []), SNAP_END]), "BAD_RECORD", 58 + E)
    X("snapshot-end-early", one(recs=[table_end(1, []), SNAP_END]), "BAD_RECORD", r0 + 21)
    X("snapshot-end-first", one(recs=[SNAP_END]), "BAD_RECORD", r0)
    X("snapshot-end-early-input-ends-after-tag", one(recs=[table_end(1, []), SNAP_END])[:r0 + 22], "BAD_RECORD", r0 + 21)
    X("chunk-end-unchunked", one(recs=[table_end(1, []), CHUNK_END]), "BAD_RECORD", r0 + 21)
    X("chunk-end-unchunked-first-record", one(recs=[CHUNK_END]), "BAD_RECORD", r0)
    X("table-end-wrong-id", one(recs=[table_end(2, []), table_end(2, []), SNAP_END]), "TABLE_MISMATCH", r0 + 1)
    te = r0 + 26   # TABLE_END of table 1 after two 13-byte entries
    X("table-end-wrong-id-and-count", one(recs=std[:2] + [struct.pack("<BIQQ", 2, 2, 5, 0)] + std[3:]),
      "TABLE_MISMATCH", te + 1)
    X("table-end-wrong-count", one(recs=std[:2] + [table_end(1, ents_a, count=1)] + std[3:]), "TABLE_MISMATCH", te + 5)
    X("table-end-wrong-count-and-digest", one(recs=std[:2] + [table_end(1, ents_a, count=3, digest=0)] + std[3:]),
      "TABLE_MISMATCH", te + 5)
    X("table-end-wrong-digest", one(recs=std[:2] + [table_end(1, ents_a, digest=0)] + std[3:]), "CHECKSUM_MISMATCH", te + 13)
    X("table-end-wrong-id-input-ends-at-20", one(recs=[table_end(9, [])])[:r0 + 20], "TRUNCATED", r0 + 20)
    X("table-end-wrong-digest-input-ends-at-21", one(recs=std[:2] + [table_end(1, ents_a, digest=0)])[:te + 21],
      "CHECKSUM_MISMATCH", te + 13)
    # key order: once the whole record is complete, at r + 9
    X("keys-equal", one(recs=[entry(b"k", b"1"), entry(b"k", b"2"), table_end(1, [(b"k", b"1"), (b"k", b"2")]),
                              table_end(2, []), SNAP_END]), "UNSORTED_KEYS", r0 + 11 + 9)
    X("keys-descending", one(recs=[entry(b"k2", b""), entry(b"k1", b""), table_end(1, [(b"k2", b""), (b"k1", b"")]),
                                   table_end(2, []), SNAP_END]), "UNSORTED_KEYS", r0 + 11 + 9)
    X("keys-prefix-longer-first", one(recs=[entry(b"ab", b""), entry(b"a", b""), table_end(1, [(b"ab", b""), (b"a", b"")]),
                                            table_end(2, []), SNAP_END]), "UNSORTED_KEYS", r0 + 11 + 9)
    X("keys-high-byte-first", one(recs=[entry(b"\xff", b""), entry(b"\x7f", b""), SNAP_END]), "UNSORTED_KEYS", r0 + 10 + 9)
    X("empty-key-twice", one(recs=[entry(b"", b""), entry(b"", b""), table_end(1, [(b"", b""), (b"", b"")]),
                                   table_end(2, []), SNAP_END]), "UNSORTED_KEYS", r0 + 9 + 9)
    X("unsorted-key-then-truncated-value", one(recs=[entry(b"k2", b""), struct.pack("<BII", 1, 2, 10) + b"k1"])[:-8],
      "TRUNCATED", r0 + 11 + 11)
    X("unsorted-key-record-complete-then-eof", one(recs=[entry(b"k2", b""), entry(b"k1", b"xyz")])[:-8],
      "UNSORTED_KEYS", r0 + 11 + 9)
    X("key-order-restarts-per-table", one(recs=[entry(b"z", b""), table_end(1, [(b"z", b"")]), entry(b"a", b""),
                                                table_end(2, [(b"a", b"")]), SNAP_END]), "OK")
    # limits: after the 9-byte prefix, K then V
    X("key-65536-ok", one(recs=[entry(b"k" * 65536, b""), table_end(1, [(b"k" * 65536, b"")]), table_end(2, []), SNAP_END]), "OK")
    X("key-65537", one(recs=[entry(b"k" * 65537, b""), table_end(1, [(b"k" * 65537, b"")]), table_end(2, []), SNAP_END]),
      "LIMIT_EXCEEDED", r0 + 1)
    X("key-length-huge-prefix-only", one(recs=[struct.pack("<BII", 1, 0xFFFFFFFF, 0)])[:-8], "LIMIT_EXCEEDED", r0 + 1)
    X("key-length-huge-input-ends-in-prefix", one(recs=[struct.pack("<BII", 1, 0xFFFFFFFF, 0)])[:r0 + 5], "TRUNCATED", r0 + 5)
    X("key-and-value-over-limit", one(recs=[struct.pack("<BII", 1, 65537, 0xFFFFFFFF)]), "LIMIT_EXCEEDED", r0 + 1)
    X("value-length-huge-no-body", one(recs=[struct.pack("<BII", 1, 1, 0xFFFFFFFF)]), "LIMIT_EXCEEDED", r0 + 5)
    X("value-length-64MiB+1-no-body", one(recs=[struct.pack("<BII", 1, 1, 67108865)]), "LIMIT_EXCEEDED", r0 + 5)
    X("value-length-64MiB-truncated", one(recs=[struct.pack("<BII", 1, 1, 67108864) + b"k"]), "TRUNCATED", r0 + 10 + 8)
    X("key-length-near-u32-max", one(recs=[struct.pack("<BII", 1, 0xFFFFFFF8, 8)]), "LIMIT_EXCEEDED", r0 + 1)
    # trailer
    w = one()
    X("trailer-wrong", w[:-1] + bytes([w[-1] ^ 1]), "CHECKSUM_MISMATCH", len(w) - 8)
    X("trailer-wrong-and-trailing-byte", w[:-1] + bytes([w[-1] ^ 1]) + b"\x00", "CHECKSUM_MISMATCH", len(w) - 8)
    X("trailer-input-ends-in-trailer", w[:-1], "TRUNCATED", len(w) - 1)
    X("trailing-byte", w + b"\x04", "TRAILING_BYTES", len(w))

    # ------------------------------------------------------------------ chunking (section 6)
    cb = cases["chunk-boundaries"]
    anchor, tables = rd.content_from_manifest_case(cb)
    M = anchor["max_chunk_bytes"]
    kw = hdr_kw(anchor)
    Hc = len(header(**kw))
    Ec = len(anchor["event_id"])
    greedy = chunk_records(anchor, tables, lambda used, s: used + s + 9 > M)
    gb, gl = assemble_l(greedy, **kw)
    X("assembler-reproduces-chunk-boundaries", gb, "OK")
    c1, c3 = gl[1][0], gl[3][0]

    def lay(chs, **k):
        b, l = assemble_l(chs, **k)
        return b, l, chs

    b, l, chs = lay(chunk_records(anchor, tables, lambda u, s: False), **kw)
    X("chunked-all-in-one-chunk", b, "LIMIT_EXCEEDED", first_overflow(l, chs, M))
    for alt in (M + 30, 1000):
        b, l, chs = lay(chunk_records(anchor, tables, lambda u, s, a=alt: u + s + 9 > a), **kw)
        X("cut-late-M%d" % alt, b, "LIMIT_EXCEEDED", first_overflow(l, chs, M))
    # with M = 110 and H = 79 every record is alone in its chunk anyway, so this is canonical
    X("one-record-per-chunk-is-canonical-here", assemble(chunk_records(anchor, tables, lambda u, s: True), **kw), "OK")
    # early / late cuts on the blob-info content with M = 1024
    bc = cases["blob-info-chunked"]
    b_anchor, b_tables = rd.content_from_manifest_case(bc)
    bM = b_anchor["max_chunk_bytes"]
    bkw = hdr_kw(b_anchor)
    bg = chunk_records(b_anchor, b_tables, lambda u, s: u + s + 9 > bM)
    X("assembler-reproduces-blob-info-chunked", assemble(bg, **bkw), "OK")
    b, l = assemble_l(chunk_records(b_anchor, b_tables, lambda u, s: u + s + 9 > 900), **bkw)
    X("cut-early-as-if-M900", b, "NON_CANONICAL", l[1][2][0])
    g = [list(c) for c in bg]
    g[1].insert(0, g[0].pop(-2))   # last record of chunk 0 moved to chunk 1
    b, l = assemble_l(g, **bkw)
    X("cut-one-record-early-chunk0", b, "NON_CANONICAL", l[1][2][0])
    g = [list(c) for c in bg]
    g[5].insert(0, g[4].pop(-2))
    b, l = assemble_l(g, **bkw)
    X("cut-one-record-early-chunk4", b, "NON_CANONICAL", l[5][2][0])
    g = [list(c) for c in bg]
    g[0].insert(len(g[0]) - 1, g[1].pop(0))   # first record of chunk 1 appended to chunk 0: chunk 0 exceeds M
    b, l = assemble_l(g, **bkw)
    X("cut-one-record-late-chunk0", b, "LIMIT_EXCEEDED", l[0][2][-2])
    # M = H + 9 exactly / one less, empty catalog
    e_anchor = dict(anchor, catalog=[])
    He = len(header(**hdr_kw(e_anchor)))
    X("M-equals-H+9-ok", assemble([[SNAP_END]], **hdr_kw(e_anchor, m=He + 9)), "OK")
    X("M-equals-H+8-empty-catalog", assemble([[SNAP_END]], **hdr_kw(e_anchor, m=He + 8)), "LIMIT_EXCEEDED", 30 + Ec)
    X("M-below-H+9-with-catalog", assemble(greedy, **hdr_kw(anchor, m=Hc + 8)), "LIMIT_EXCEEDED", 30 + Ec)
    # records that exactly fill a chunk (used + S + 9 == M) are kept
    m_exact = Hc + 21 + 9
    ex = chunk_records(dict(anchor, max_chunk_bytes=m_exact), tables, lambda u, s: u + s + 9 > m_exact)
    X("record-exactly-fills-chunk-ok", assemble(ex, **hdr_kw(anchor, m=m_exact)), "OK")
    # a record that fits "used + S <= M" but not with the 9 reserved bytes
    t1 = tables[0]
    m_tight = Hc + len(entry(*t1[0])) + 5
    b, l, chs = lay(chunk_records(anchor, tables, lambda u, s: u + s + 9 > m_tight), **hdr_kw(anchor, m=m_tight))
    X("record-fits-without-reserve", b, "LIMIT_EXCEEDED", first_overflow(l, chs, m_tight))
    # limits come before the size check: an over-limit key in a record that also overflows M
    X("key-over-limit-and-overflow", assemble([[struct.pack("<BII", 1, 65537, 0)]], **kw), "LIMIT_EXCEEDED", Hc + 1)
    # CHUNK_END as the first record of a chunk
    g = [list(c) for c in greedy]
    g.insert(1, [CHUNK_END])
    b, l = assemble_l(g, **kw)
    X("empty-chunk-in-the-middle", b, "NON_CANONICAL", l[1][2][0])
    X("chunk0-only-chunk-end", assemble([[CHUNK_END]] + [list(c) for c in greedy], **kw), "NON_CANONICAL", Hc)
    X("chunk-end-first-unchunked", assemble([[CHUNK_END], [table_end(10, []), SNAP_END]], **hdr_kw(anchor, m=0)),
      "BAD_RECORD", Hc)
    # CHUNK_END after the last TABLE_END, then a chunk holding only SNAPSHOT_END (at the SNAPSHOT_END)
    g = [list(c) for c in greedy]
    g[-1][-1] = CHUNK_END
    g.append([SNAP_END])
    b, l = assemble_l(g, **kw)
    X("chunk-with-only-snapshot-end", b, "NON_CANONICAL", l[-1][2][0])
    X("chunk-with-only-snapshot-end-input-ends-after-tag", b[:l[-1][2][0] + 1], "NON_CANONICAL", l[-1][2][0])
    # ... or an ENTRY there: no current table (BAD_RECORD) comes before the cut rule
    g = [list(c) for c in greedy]
    g[-1][-1] = CHUNK_END
    g.append([entry(b"zz", b""), SNAP_END])
    b, l = assemble_l(g, **kw)
    X("entry-in-chunk-after-last-table", b, "BAD_RECORD", l[-1][2][0])
    # SNAPSHOT_END as the first record of chunk 1 while tables remain: BAD_RECORD first
    b, l = assemble_l([list(greedy[0]), [SNAP_END]], **kw)
    X("snapshot-end-first-in-chunk1-tables-remain", b, "BAD_RECORD", l[1][2][0])
    # a TABLE_END starting a chunk although it fitted, with a wrong id: the cut is checked first
    fit = [[entry(*t1[0]), CHUNK_END], [table_end(99, t1[:1]), SNAP_END]]
    mt = Hc + len(entry(*t1[0])) + 21 + 9
    b, l = assemble_l(fit, **hdr_kw(anchor, m=mt))
    X("table-end-cut-early-and-wrong-id", b, "NON_CANONICAL", l[1][2][0])
    # key order continues across chunk boundaries
    k1, k2 = (b"a", b"1" * 20), (b"b", b"2" * 20)
    m2 = Hc + 2 * len(entry(*k1)) + 9    # exactly two such entries per chunk
    b, l = assemble_l([[entry(*k1), entry(*k2), CHUNK_END], [entry(*k2), SNAP_END]], **hdr_kw(anchor, m=m2))
    X("key-equal-across-chunk-boundary", b, "UNSORTED_KEYS", l[1][2][0] + 9)
    b, l = assemble_l([[entry(*k1), entry(*k2), CHUNK_END], [entry(*k1), SNAP_END]], **hdr_kw(anchor, m=m2))
    X("key-lower-across-chunk-boundary", b, "UNSORTED_KEYS", l[1][2][0] + 9)
    # a chunk trailer wrong in the middle of the stream
    b = bytearray(gb)
    b[c1 - 1] ^= 1
    X("chunk0-trailer-wrong", bytes(b), "CHECKSUM_MISMATCH", c1 - 8)
    # chain of chunk 1 (all CHUNK_SEQUENCE at c)
    g = [list(c) for c in greedy]
    X("chunk1-index-2", assemble([g[0], (g[1], {"index": 2})] + g[2:], **kw), "CHUNK_SEQUENCE", c1)
    X("chunk1-prev-digest-0", assemble([g[0], (g[1], {"prev": 0})] + g[2:], **kw), "CHUNK_SEQUENCE", c1)
    X("chunk3-position-2", assemble(g[:3] + [(g[3], {"position": 2})] + g[4:], **kw), "CHUNK_SEQUENCE", c3)
    X("chunk1-epoch-differs", assemble([g[0], (g[1], {"epoch": anchor["epoch"] + 1})] + g[2:], **kw), "CHUNK_SEQUENCE", c1)
    X("chunk1-cursor-differs", assemble([g[0], (g[1], {"cursor": 0})] + g[2:], **kw), "CHUNK_SEQUENCE", c1)
    X("chunk1-event-id-differs", assemble([g[0], (g[1], {"event_id": b"x"})] + g[2:], **kw), "CHUNK_SEQUENCE", c1)
    X("chunk1-M-differs", assemble([g[0], (g[1], {"m": M + 1})] + g[2:], **kw), "CHUNK_SEQUENCE", c1)
    X("chunk1-M-differs-and-too-small", assemble([g[0], (g[1], {"m": Hc + 8})] + g[2:], **kw), "LIMIT_EXCEEDED", c1 + 30 + Ec)
    X("chunk1-catalog-name-differs", assemble([g[0], (g[1], {"catalog": [(10, b"t1"), (11, b"t2"), (12, b"t4")]})] + g[2:], **kw),
      "CHUNK_SEQUENCE", c1)
    X("chunk1-catalog-id-differs", assemble([g[0], (g[1], {"catalog": [(10, b"t1"), (11, b"t2"), (13, b"t3")]})] + g[2:], **kw),
      "CHUNK_SEQUENCE", c1)
    X("chunk1-catalog-one-table-less", assemble([g[0], (g[1], {"catalog": [(10, b"t1"), (11, b"t2")]})] + g[2:], **kw),
      "CHUNK_SEQUENCE", c1)
    X("chunk1-index-1-anchor-and-prev-wrong", assemble([g[0], (g[1], {"epoch": 1, "prev": 1})] + g[2:], **kw),
      "CHUNK_SEQUENCE", c1)
    # intrinsic header checks of chunk 1 come before the chain
    X("chunk1-flags-1", assemble([g[0], (g[1], {"flags": 1})] + g[2:], **kw), "NON_CANONICAL", c1 + 10)
    X("chunk1-version-2", assemble([g[0], (g[1], {"version": 2})] + g[2:], **kw), "UNSUPPORTED_VERSION", c1 + 8)
    X("chunk1-version-2-input-ends-at-c+20", assemble([g[0], (g[1], {"version": 2})] + g[2:], **kw)[:c1 + 20],
      "TRUNCATED", c1 + 20)
    X("chunk1-bad-magic", assemble([g[0], (g[1], {"magic": b"\x89SNPX\r\n\x1a"})] + g[2:], **kw), "BAD_MAGIC", c1 + 4)
    X("chunk1-event-id-1025", assemble([g[0], (g[1], {"event_id": b"e" * 1025})] + g[2:], **kw), "LIMIT_EXCEEDED", c1 + 28)
    X("chunk1-table-count-5000", assemble([g[0], (g[1], {"table_count": 5000})] + g[2:], **kw),
      "LIMIT_EXCEEDED", c1 + 54 + Ec)
    X("chunk3-table-count-0", assemble(g[:3] + [(g[3], {"table_count": 0, "catalog": []})] + g[4:], **kw),
      "NON_CANONICAL", c3 + 50 + Ec)
    X("chunk1-duplicate-name", assemble([g[0], (g[1], {"catalog": [(10, b"t1"), (11, b"t1"), (12, b"t3")]})] + g[2:], **kw),
      "NON_CANONICAL", c1 + 58 + Ec + 7 + 5)
    X("chunk1-empty-name", assemble([g[0], (g[1], {"catalog": [(10, b""), (11, b"t2"), (12, b"t3")]})] + g[2:], **kw),
      "NON_CANONICAL", c1 + 58 + Ec + 4)
    X("chunk1-ids-descending", assemble([g[0], (g[1], {"catalog": [(10, b"t1"), (9, b"t2"), (12, b"t3")]})] + g[2:], **kw),
      "NON_CANONICAL", c1 + 58 + Ec + 7)
    # size / cut checks wait for the 9-byte prefix (ENTRY) or the 21 bytes (TABLE_END), no more
    b, l, chs = lay(chunk_records(anchor, tables, lambda u, s: False), **kw)
    ov = first_overflow(l, chs, M)
    X("overflow-record-input-ends-after-9-bytes", b[:ov + 9],
      "LIMIT_EXCEEDED" if b[ov] == 1 else "TRUNCATED", ov if b[ov] == 1 else ov + 9)
    X("overflow-record-input-ends-after-8-bytes", b[:ov + 8], "TRUNCATED", ov + 8)
    te_over = assemble([[entry(*t1[0]), table_end(10, t1[:1])]], **hdr_kw(anchor, m=Hc + len(entry(*t1[0])) + 21 + 8))
    r_te = Hc + len(entry(*t1[0]))
    X("table-end-overflow", te_over, "LIMIT_EXCEEDED", r_te)
    X("table-end-overflow-input-ends-at-20", te_over[:r_te + 20], "TRUNCATED", r_te + 20)
    b, l = assemble_l(fit, **hdr_kw(anchor, m=mt))
    X("table-end-cut-early-input-ends-at-21", b[:l[1][2][0] + 21], "NON_CANONICAL", l[1][2][0])
    X("table-end-cut-early-input-ends-at-20", b[:l[1][2][0] + 20], "TRUNCATED", l[1][2][0] + 20)
    g = [list(c) for c in greedy]
    g[-1][-1] = CHUNK_END
    g.append([table_end(12, []), SNAP_END])
    b, l = assemble_l(g, **kw)
    X("table-end-in-chunk-after-last-table", b, "BAD_RECORD", l[-1][2][0])
    g = [list(c) for c in greedy]
    X("chunk1-M-0", assemble([g[0], (g[1], {"m": 0})] + g[2:], **kw), "CHUNK_SEQUENCE", c1)
    X("chunk-end-input-ends-in-trailer", gb[:c1 - 3], "TRUNCATED", c1 - 3)
    X("chunk1-missing-input-ends-at-boundary", gb[:c1], "TRUNCATED", c1)
    # u64 fields above 2^53 (not exactly representable as a JavaScript number): M is still > 0,
    # so CHUNK_END is allowed (7.1) and the cut rule decides; anchors differing by 1 still differ
    for label, mbig in (("2^53-1", 2**53 - 1), ("2^53", 2**53), ("2^53+1", 2**53 + 1), ("2^63", 2**63),
                        ("u64-max", 2**64 - 1)):
        b, l = assemble_l(greedy, **hdr_kw(anchor, m=mbig))
        X("M-%s-cut-as-if-M%d" % (label, M), b, "NON_CANONICAL", l[1][2][0])
    X("M-2^60-chunk-end-in-empty-chunk0", assemble([[CHUNK_END]] + [list(c) for c in greedy], **hdr_kw(anchor, m=2**60)),
      "NON_CANONICAL", Hc)
    X("M-2^60-single-chunk-ok", assemble([sum((c[:-1] for c in greedy), []) + [SNAP_END]], **hdr_kw(anchor, m=2**60)), "OK")
    big = dict(kw, epoch=2**60, cursor=2**60)
    X("chunk1-epoch-differs-by-1-above-2^53", assemble([g[0], (g[1], {"epoch": 2**60 + 1})] + g[2:], **big), "CHUNK_SEQUENCE", c1)
    X("chunk1-cursor-differs-by-1-above-2^53", assemble([g[0], (g[1], {"cursor": 2**60 + 1})] + g[2:], **big), "CHUNK_SEQUENCE", c1)
    X("chunked-epoch-cursor-above-2^53-ok", assemble(g, **big), "OK")
    # chunk 1 with index 0: "chunk 0 only" (7.1) is open for a chunk that is not first in the
    # stream (NOTES.md Round 2 #Z1): NON_CANONICAL at c+42+E (index-field reading, this decoder)
    # or CHUNK_SEQUENCE at c (stream-position reading). Not asserted.
    X("chunk1-index-0", assemble([g[0], (g[1], {"index": 0})] + g[2:], **kw), None, None)
    # chunk 1 with index 0, previous digest 0 and position 0: CHUNK_SEQUENCE at c in both readings
    X("chunk1-index-0-prev-0", assemble([g[0], (g[1], {"index": 0, "prev": 0, "position": 0})] + g[2:], **kw),
      "CHUNK_SEQUENCE", c1)
    return V


def main(argv):
    full = "--full" in argv
    args = [a for a in argv if not a.startswith("--")]
    gdir = args[0] if args else GOLDEN_DEFAULT
    manifest = rd.load_manifest(gdir)
    t0 = time.time()
    stats = {}
    accepted = []
    capped = []
    total = 0

    def note(rec):
        nonlocal total
        total += 1
        stats.setdefault(rec["kind"], {}).setdefault(rec["code"], 0)
        stats[rec["kind"]][rec["code"]] += 1

    for case in manifest["cases"]:
        name = case["name"]
        with open(os.path.join(gdir, case["file"]), "rb") as f:
            data = f.read()
        snap = rd.decode_bytes(data, collect_entries=False)
        chunks = snap.chunks
        n = len(data)

        for kind, x in (("xor01", 0x01), ("xorff", 0xFF)):
            sel = select_offsets(n, chunks, MAX_FLIP_OFFSETS, full)
            if len(sel) < n:
                capped.append("%s/%s" % (name, kind))
            for i in sel:
                m = bytearray(data)
                m[i] ^= x
                rec = run(name, kind, bytes(m), i)
                note(rec)
                if rec["code"] == "OK":
                    accepted.append(rec)

        sel = select_offsets(n, chunks, MAX_TRUNCATIONS, full)
        if len(sel) < n:
            capped.append("%s/truncate" % name)
        for L in sel:
            rec = run(name, "truncate", data[:L], L)
            note(rec)
            if rec["code"] == "OK":
                accepted.append(rec)

        for hx, what in EXTENSIONS + [(data[:16].hex(), "the first 16 bytes of the file")]:
            rec = run(name, "extend", data + bytes.fromhex(hx), n, appendHex=hx, detail=what)
            note(rec)
            if rec["code"] == "OK":
                accepted.append(rec)
        rec = run(name, "extend", data + data, n, appendHex=data.hex(), detail="the whole file again")
        note(rec)

        if len(chunks) > 1:
            parts = [data[c["offset"]:c["offset"] + c["size"]] for c in chunks]
            variants = []
            for i in range(len(parts)):
                variants.append(("chunk-drop", "drop chunk %d" % i, parts[:i] + parts[i + 1:], chunks[i]["offset"]))
                variants.append(("chunk-dup", "duplicate chunk %d" % i, parts[:i + 1] + [parts[i]] + parts[i + 1:], chunks[i]["offset"] + chunks[i]["size"]))
                variants.append(("chunk-alone", "chunk %d alone" % i, [parts[i]], 0))
            for i in range(len(parts) - 1):
                p = list(parts)
                p[i], p[i + 1] = p[i + 1], p[i]
                variants.append(("chunk-swap", "swap chunks %d and %d" % (i, i + 1), p, chunks[i]["offset"]))
            for kind, detail, p, at in variants:
                b = b"".join(p)
                rec = run(name, kind, b, at, detail=detail, hex=b.hex())
                note(rec)
                if rec["code"] == "OK":
                    accepted.append(rec)

    mismatched = []
    for (label, b, expect, expect_off) in crafted_vectors(manifest):
        rec = run("crafted", "crafted", b, None, detail=label, expected=expect, expectedOffset=expect_off, hex=b.hex())
        note(rec)
        if expect is not None and (rec["code"] != expect or (expect_off is not None and rec["errorOffset"] != expect_off)):
            mismatched.append(rec)

    dt = time.time() - t0
    sys.stderr.write("%d mutated inputs in %.1f s; %s\n" % (
        total, dt, ("offsets sampled for: " + ", ".join(capped) + " (--full for all)") if capped else "every offset of every case covered"))
    for kind in stats:
        sys.stderr.write("  %-12s %s\n" % (kind, ", ".join("%s=%d" % kv for kv in sorted(stats[kind].items()))))
    for r in accepted:
        sys.stderr.write("ACCEPTED (should be rejected): %s %s %s %s\n" % (r["case"], r["kind"], r["offset"], r.get("detail", "")))
    for r in mismatched:
        sys.stderr.write("CRAFTED MISMATCH: %s expected %s@%s got %s@%s\n" % (
            r["detail"], r["expected"], r["expectedOffset"], r["code"], r["errorOffset"]))
    return 1 if (accepted or mismatched) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
