#!/usr/bin/python3
"""Independent reference decoder/encoder for snapshot format v1.

Written from spec/FORMAT.md alone (plus golden/v1/), as a conformance check of the
specification. It does not share code or reading of the TypeScript implementation.

Round 2: the decoder follows the revised spec's section 7.1 ("Which error, and at which
offset") row by row: which check is made when, in which order, at which offset. The one
reading the revised text still leaves open is marked "ASSUMPTION (NOTES.md Round 2, #Zn)";
see test/conformance/NOTES.md, heading "Round 2".

Usage:
    python3 reference_decoder.py check-golden <golden-dir>
        every cases[] entry: decode to exactly the manifest content, encode to exactly the bytes;
        every invalid[] entry: rejected with exactly the listed code and offset.
        Last line "N passed, M failed"; exit status 1 on any failure.
    python3 reference_decoder.py decode <file> [<file> ...]
        several files = one stream, concatenated in the order given (one file per chunk);
        an error is printed as {"error", "offset"} (+ "file", "fileOffset" for several files).
    python3 reference_decoder.py encode <manifest.json> <case> <out-file>

Only the standard library and the `xxhash` module (XXH64, seed 0) are used.
"""

import io
import json
import re
import os
import struct
import sys

import xxhash

# ---------------------------------------------------------------------------
# constants (spec sections 4 and 8)

MAGIC = b"\x89SNPV\r\n\x1a"
FORMAT_VERSION = 1
TAG_ENTRY = 0x01
TAG_TABLE_END = 0x02
TAG_CHUNK_END = 0x03
TAG_SNAPSHOT_END = 0x04
END_AND_TRAILER = 9  # end record (1) + trailer (8)
TABLE_END_SIZE = 21
ENTRY_FIXED = 9
MAX_EVENT_ID = 1024
U32_MAX = 0xFFFFFFFF
U64_MAX = 0xFFFFFFFFFFFFFFFF

DEFAULT_LIMITS = {
    "key": 65536,
    "value": 67108864,
    "tables": 1024,
}

ERROR_CODES = (
    "BAD_MAGIC",
    "UNSUPPORTED_VERSION",
    "NON_CANONICAL",
    "LIMIT_EXCEEDED",
    "BAD_RECORD",
    "TABLE_MISMATCH",
    "UNSORTED_KEYS",
    "CHECKSUM_MISMATCH",
    "CHUNK_SEQUENCE",
    "TRUNCATED",
    "TRAILING_BYTES",
)


def xxh64(data):
    return xxhash.xxh64(data, seed=0).intdigest()


def hex16(v):
    return "%016x" % v


class FormatError(Exception):
    """A rejection by the decoder (or a refusal by the encoder)."""

    def __init__(self, code, offset, detail=""):
        assert code in ERROR_CODES, code
        super().__init__("%s at %s%s" % (code, offset, (": " + detail) if detail else ""))
        self.code = code
        self.offset = offset
        self.detail = detail


# ---------------------------------------------------------------------------
# byte source: strictly sequential, never looks ahead

class Source:
    """Sequential reader over a binary file object. Tracks the absolute offset.

    read(n) returns exactly n bytes or raises TRUNCATED. The offset reported for
    TRUNCATED is the offset at which the input ended (spec 7.1, last paragraph).
    """

    def __init__(self, fileobj):
        self.f = fileobj
        self.pos = 0

    def read(self, n):
        if n == 0:
            return b""
        b = self.f.read(n)
        if len(b) == n:
            self.pos += n
            return b
        parts = [b] if b else []
        got = len(b)
        while got < n:
            b = self.f.read(n - got)
            if not b:
                raise FormatError("TRUNCATED", self.pos + got, "input ended, %d more bytes needed" % (n - got))
            parts.append(b)
            got += len(b)
        data = b"".join(parts)
        self.pos += n
        return data

    def at_eof(self):
        """True iff no byte follows. Consumes (at most) one byte; used only after the last trailer."""
        b = self.f.read(1)
        return not b


def is_valid_utf8(b):
    # Python's strict UTF-8 codec rejects overlong forms, surrogates (ED A0..BF xx),
    # code points above U+10FFFF and truncated sequences, as required by section 4.1.
    try:
        b.decode("utf-8", errors="strict")
        return True
    except UnicodeDecodeError:
        return False


def key_lt(a, b):
    # Bytewise lexicographic order (section 2) is exactly Python's bytes ordering.
    return a < b


# ---------------------------------------------------------------------------
# decoder

class Snapshot:
    def __init__(self):
        self.epoch = None
        self.cursor_index = None
        self.event_id = None
        self.max_chunk_bytes = None
        self.catalog = []  # list of (id, name bytes)
        self.tables = []  # per catalog table: dict(id, name, entries=[(k,v)], count, digest)
        self.chunks = []  # list of dict(index, offset, size, digest)
        self.size = 0

    @property
    def digest(self):
        return self.chunks[-1]["digest"]

    def summary(self, with_entries=True):
        out = {
            "size": self.size,
            "anchor": {
                "epoch": str(self.epoch),
                "cursorIndex": str(self.cursor_index),
                "eventIdHex": self.event_id.hex(),
                "maxChunkBytes": str(self.max_chunk_bytes),
                "tables": [{"id": i, "name": n.decode("utf-8")} for (i, n) in self.catalog],
            },
            "digest": hex16(self.digest),
            "entries": str(sum(t["count"] for t in self.tables)),
            "chunks": [{"index": c["index"], "size": c["size"], "digest": hex16(c["digest"])} for c in self.chunks],
            "tables": [],
        }
        for t in self.tables:
            d = {
                "id": t["id"],
                "name": t["name"].decode("utf-8"),
                "entryCount": str(t["count"]),
                "digest": hex16(t["digest"]),
            }
            if with_entries:
                d["entries"] = [[k.hex(), v.hex()] for (k, v) in t["entries"]]
            out["tables"].append(d)
        return out


class Decoder:
    """Single-pass decoder for a whole snapshot stream (all chunks concatenated).

    Follows spec section 7.1 ("Which error, and at which offset") row by row: every check is
    made at the point the table names ("when"), in the order it names, and reports the offset
    it names. Offsets are absolute offsets in the stream. TRUNCATED is raised by the byte
    source when the input ends before the bytes a check waits for are complete, at the input
    length (7.1, last paragraph).
    """

    def __init__(self, src, limits=None, collect_entries=True, on_entry=None):
        self.src = src
        self.limits = dict(DEFAULT_LIMITS)
        if limits:
            self.limits.update(limits)
        self.collect = collect_entries
        self.on_entry = on_entry
        self.snap = Snapshot()
        self.h = None  # running chunk hasher
        self.anchor0 = None  # (epoch, cursor index, event id, M, catalog) of the first chunk

    # -- low-level reads; every byte of a chunk before its trailer is hashed
    def take(self, n):
        b = self.src.read(n)
        self.h.update(b)
        return b

    def fail(self, code, offset, detail=""):
        raise FormatError(code, offset, detail)

    # -- chunk header (sections 4.1 and 7.1 "Chunk header")
    def read_header(self, chunk_no, prev_trailer, tables_ended):
        """Read one chunk header; chunk_no is the position of this chunk in the stream.
        Returns (chunk start c, chunk index field, header size H)."""
        s = self.snap
        c = self.src.pos
        self.h = xxhash.xxh64(seed=0)

        # 7.1: "as each magic byte arrives: it equals the magic", offset = that byte.
        for i in range(8):
            b = self.take(1)
            if b[0] != MAGIC[i]:
                self.fail("BAD_MAGIC", c + i)

        # 7.1: "bytes c … c+29 complete": version (c+8), flags (c+10), E (c+28), in this order.
        version, flags, epoch, cursor, e = struct.unpack("<HHQQH", self.take(22))
        if version != FORMAT_VERSION:
            self.fail("UNSUPPORTED_VERSION", c + 8, "version %d" % version)
        if flags != 0:
            self.fail("NON_CANONICAL", c + 10, "flags %#x" % flags)
        if e > MAX_EVENT_ID:
            self.fail("LIMIT_EXCEEDED", c + 28, "event id length %d" % e)

        # 7.1: "bytes up to c + 58 + E complete" (the event id, M, index, previous digest,
        # position and table count): table count limit (c+54+E), then position <= count (c+50+E).
        event_id = self.take(e)
        m, index, prev, position, t = struct.unpack("<QIQII", self.take(28))
        if t > self.limits["tables"]:
            self.fail("LIMIT_EXCEEDED", c + 54 + e, "table count %d" % t)
        if position > t:
            self.fail("NON_CANONICAL", c + 50 + e, "table position %d > table count %d" % (position, t))

        # 7.1: catalog entries, each checked as its id + length byte and then its name complete.
        catalog = []
        names = set()
        prev_id = None
        for _ in range(t):
            off = self.src.pos
            tid, n = struct.unpack("<IB", self.take(5))
            if prev_id is not None and tid <= prev_id:
                self.fail("NON_CANONICAL", off, "table ids not strictly ascending")
            if n == 0:
                self.fail("NON_CANONICAL", off + 4, "empty table name")
            name_off = self.src.pos
            name = self.take(n)
            if not is_valid_utf8(name):
                self.fail("NON_CANONICAL", name_off, "table name is not well-formed UTF-8")
            if name in names:
                self.fail("NON_CANONICAL", name_off, "duplicate table name")
            names.add(name)
            catalog.append((tid, name))
            prev_id = tid
        hsize = self.src.pos - c

        # 7.1: "the header complete".
        # (1) "chunk 0 only: previous chunk digest = 0, then table position = 0".
        # ASSUMPTION (NOTES.md Round 2, #Z1): "chunk 0" is the chunk whose index field is 0
        # (wherever it stands in the stream), as in section 7's "the stream does not start with
        # chunk 0". golden/v1/invalid/chunks-swapped.bin (a first chunk with index 1 and a non-zero
        # previous digest -> CHUNK_SEQUENCE at 0) excludes the reading "the first chunk of the
        # stream".
        if index == 0:
            if prev != 0:
                self.fail("NON_CANONICAL", c + 42 + e, "chunk 0 with a non-zero previous chunk digest")
            if position != 0:
                self.fail("NON_CANONICAL", c + 50 + e, "chunk 0 with a non-zero table position")
        # (2) M > 0 and H + 9 > M, reported at the M field.
        if m > 0 and hsize + END_AND_TRAILER > m:
            self.fail("LIMIT_EXCEEDED", c + 30 + e, "M=%d < H+9=%d" % (m, hsize + END_AND_TRAILER))
        # (3) the chain, reported at the chunk's first byte.
        anchor = (epoch, cursor, event_id, m, catalog)
        if chunk_no == 0:
            if index != 0:
                self.fail("CHUNK_SEQUENCE", c, "the stream does not start with chunk 0 (index %d)" % index)
            self.anchor0 = anchor
            s.epoch, s.cursor_index, s.event_id, s.max_chunk_bytes = epoch, cursor, event_id, m
            s.catalog = catalog
        else:
            if anchor != self.anchor0:
                self.fail("CHUNK_SEQUENCE", c, "anchor differs from chunk 0")
            if index != chunk_no:
                self.fail("CHUNK_SEQUENCE", c, "chunk index %d, expected %d" % (index, chunk_no))
            if prev != prev_trailer:
                self.fail("CHUNK_SEQUENCE", c, "previous chunk digest is not the previous trailer")
            if position != tables_ended:
                self.fail("CHUNK_SEQUENCE", c, "table position %d, expected %d" % (position, tables_ended))
        return c, index, hsize

    # -- whole stream (sections 4.2-4.4, 6, 7.1 "Records")
    def decode(self):
        s = self.snap
        chunk_no = 0
        prev_trailer = 0
        prev_used = None  # used(i-1): size of the previous chunk minus 9
        tables_ended = 0
        count = 0  # entries of the current table read so far
        prev_key = None  # previous key of the current table (kept across chunk boundaries)
        th = xxhash.xxh64(seed=0)  # running table digest
        cur_entries = []

        while True:
            c, index, _hsize = self.read_header(chunk_no, prev_trailer, tables_ended)
            if chunk_no == 0:
                for (tid, name) in s.catalog:
                    s.tables.append({"id": tid, "name": name, "entries": [], "count": 0, "digest": None})
            m = s.max_chunk_bytes
            T = len(s.catalog)
            has_record = False

            while True:
                r = self.src.pos
                used = r - c  # bytes of this chunk before the record
                tag = self.take(1)[0]

                if tag not in (TAG_ENTRY, TAG_TABLE_END, TAG_CHUNK_END, TAG_SNAPSHOT_END):
                    # 7.1: "the tag arrives: a known tag (0x01-0x04), else BAD_RECORD", at r.
                    self.fail("BAD_RECORD", r, "unknown tag %#04x" % tag)

                if tag == TAG_ENTRY or tag == TAG_TABLE_END:
                    if tag == TAG_ENTRY:
                        # 7.1: checks made once the 9-byte prefix is complete.
                        k, v = struct.unpack("<II", self.take(8))
                        if tables_ended >= T:
                            self.fail("BAD_RECORD", r, "ENTRY after the last table ended")
                        if k > self.limits["key"]:
                            self.fail("LIMIT_EXCEEDED", r + 1, "key length %d" % k)
                        if v > self.limits["value"]:
                            self.fail("LIMIT_EXCEEDED", r + 5, "value length %d" % v)
                        size = ENTRY_FIXED + k + v  # Python ints: no 32-bit overflow
                    else:
                        # 7.1: checks made once the 21 bytes are complete.
                        tid, n, d = struct.unpack("<IQQ", self.take(20))
                        if tables_ended >= T:
                            self.fail("BAD_RECORD", r, "TABLE_END after the last table ended")
                        size = TABLE_END_SIZE
                    if m > 0:
                        if used + size + END_AND_TRAILER > m:
                            self.fail("LIMIT_EXCEEDED", r, "used %d + S %d + 9 > M %d" % (used, size, m))
                        if chunk_no > 0 and not has_record and prev_used + size + END_AND_TRAILER <= m:
                            self.fail("NON_CANONICAL", r, "chunk cut not forced: the record fitted in the previous chunk")

                    if tag == TAG_ENTRY:
                        key = self.take(k)
                        value = self.take(v)
                        # 7.1: "the whole record is complete: key order", at r + 9.
                        if prev_key is not None and not key_lt(prev_key, key):
                            self.fail("UNSORTED_KEYS", r + 9, "key not greater than the previous key")
                        th.update(struct.pack("<BII", TAG_ENTRY, k, v))
                        th.update(key)
                        th.update(value)
                        count += 1
                        prev_key = key
                        if self.collect:
                            cur_entries.append((key, value))
                        if self.on_entry:
                            self.on_entry(tables_ended, key, value)
                    else:
                        if tid != s.catalog[tables_ended][0]:
                            self.fail("TABLE_MISMATCH", r + 1, "TABLE_END for table %d, current table %d"
                                      % (tid, s.catalog[tables_ended][0]))
                        if n != count:
                            self.fail("TABLE_MISMATCH", r + 5, "entry count %d, read %d" % (n, count))
                        if d != th.intdigest():
                            self.fail("CHECKSUM_MISMATCH", r + 13, "table digest")
                        t = s.tables[tables_ended]
                        t["count"] = count
                        t["digest"] = d
                        t["entries"] = cur_entries
                        tables_ended += 1
                        count = 0
                        prev_key = None
                        th = xxhash.xxh64(seed=0)
                        cur_entries = []
                    has_record = True
                    continue

                if tag == TAG_CHUNK_END:
                    # 7.1: "M > 0, else BAD_RECORD; then the chunk holds a record, else NON_CANONICAL".
                    if m == 0:
                        self.fail("BAD_RECORD", r, "CHUNK_END in an unchunked snapshot")
                    if not has_record:
                        self.fail("NON_CANONICAL", r, "CHUNK_END in a chunk with no record")
                else:
                    # 7.1: "every table ended, else BAD_RECORD; then, in chunk i > 0, the chunk
                    # holds a record, else NON_CANONICAL".
                    if tables_ended < T:
                        self.fail("BAD_RECORD", r, "SNAPSHOT_END before every table ended")
                    if chunk_no > 0 and not has_record:
                        self.fail("NON_CANONICAL", r, "a chunk i > 0 whose first record is SNAPSHOT_END")

                digest = self.h.intdigest()
                off = self.src.pos
                trailer = struct.unpack("<Q", self.src.read(8))[0]
                if trailer != digest:
                    self.fail("CHECKSUM_MISMATCH", off, "chunk trailer")
                s.chunks.append({"index": index, "offset": c, "size": self.src.pos - c, "digest": trailer})
                if tag == TAG_CHUNK_END:
                    prev_trailer = trailer
                    prev_used = used
                    chunk_no += 1
                    break
                end = self.src.pos
                if not self.src.at_eof():
                    self.fail("TRAILING_BYTES", end, "bytes after the last trailer")
                s.size = end
                return s


def decode_bytes(data, limits=None, collect_entries=True):
    return Decoder(Source(io.BytesIO(data)), limits, collect_entries).decode()


def decode_file(path, limits=None, collect_entries=True):
    with open(path, "rb") as f:
        return Decoder(Source(io.BufferedReader(f, 65536)), limits, collect_entries).decode()


def try_decode(data, limits=None):
    """Returns ("OK", snapshot) or (code, offset)."""
    try:
        return ("OK", decode_bytes(data, limits, collect_entries=False))
    except FormatError as e:
        return (e.code, e.offset)


# ---------------------------------------------------------------------------
# encoder (sections 4, 5, 6)

class EncodeResult:
    def __init__(self, data, chunks, table_digests):
        self.data = data
        self.chunks = chunks  # list of dict(index, size, digest)
        self.table_digests = table_digests

    @property
    def digest(self):
        return self.chunks[-1]["digest"]


def _encode_header(anchor, index, prev_digest, position):
    out = bytearray()
    out += MAGIC
    out += struct.pack("<HH", FORMAT_VERSION, 0)
    out += struct.pack("<QQ", anchor["epoch"], anchor["cursor_index"])
    ev = anchor["event_id"]
    out += struct.pack("<H", len(ev)) + ev
    out += struct.pack("<QIQII", anchor["max_chunk_bytes"], index, prev_digest, position, len(anchor["catalog"]))
    for (tid, name) in anchor["catalog"]:
        out += struct.pack("<IB", tid, len(name)) + name
    return out


def validate_content(anchor, tables, limits=None):
    """Refuses content that the format cannot represent or a default reader would refuse.

    anchor: dict(epoch, cursor_index, event_id (bytes), max_chunk_bytes, catalog=[(id, name bytes)])
    tables: list (one per catalog entry) of lists of (key bytes, value bytes)
    Error offsets are -1 (no byte offset applies to content).
    """
    lim = dict(DEFAULT_LIMITS)
    if limits:
        lim.update(limits)
    for f in ("epoch", "cursor_index", "max_chunk_bytes"):
        if not (0 <= anchor[f] <= U64_MAX):
            raise FormatError("LIMIT_EXCEEDED", -1, "%s out of u64 range" % f)
    if len(anchor["event_id"]) > MAX_EVENT_ID:
        raise FormatError("LIMIT_EXCEEDED", -1, "event id over 1,024 bytes")
    cat = anchor["catalog"]
    if len(cat) > lim["tables"]:
        raise FormatError("LIMIT_EXCEEDED", -1, "table count")
    if len(tables) != len(cat):
        raise FormatError("TABLE_MISMATCH", -1, "one entry list per catalog table required")
    seen = set()
    prev = None
    for (tid, name) in cat:
        if not (0 <= tid <= U32_MAX):
            raise FormatError("LIMIT_EXCEEDED", -1, "table id out of u32 range")
        if prev is not None and tid <= prev:
            raise FormatError("NON_CANONICAL", -1, "table ids not strictly ascending")
        prev = tid
        if not (1 <= len(name) <= 255):
            raise FormatError("NON_CANONICAL" if len(name) == 0 else "LIMIT_EXCEEDED", -1, "table name length")
        if not is_valid_utf8(name):
            raise FormatError("NON_CANONICAL", -1, "table name not valid UTF-8")
        if name in seen:
            raise FormatError("NON_CANONICAL", -1, "duplicate table name")
        seen.add(name)
    for ents in tables:
        pk = None
        for (k, v) in ents:
            if len(k) > lim["key"]:
                raise FormatError("LIMIT_EXCEEDED", -1, "key length")
            if len(v) > lim["value"]:
                raise FormatError("LIMIT_EXCEEDED", -1, "value length")
            if pk is not None and not key_lt(pk, k):
                raise FormatError("UNSORTED_KEYS", -1, "keys not strictly ascending")
            pk = k


def encode(anchor, tables, limits=None):
    validate_content(anchor, tables, limits)
    m = anchor["max_chunk_bytes"]
    chunks = []
    out = bytearray()
    table_digests = []

    cur = _encode_header(anchor, 0, 0, 0)
    hsize = len(cur)
    if m > 0 and hsize + END_AND_TRAILER > m:
        raise FormatError("LIMIT_EXCEEDED", -1, "M < H + 9")
    state = {"cur": cur, "has_record": False, "index": 0, "ended": 0}

    def finish_chunk(end_tag):
        c = state["cur"]
        c.append(end_tag)
        d = xxh64(bytes(c))
        c += struct.pack("<Q", d)
        chunks.append({"index": state["index"], "size": len(c), "digest": d})
        out.extend(c)
        return d

    def emit(rec):
        s = len(rec)
        if m > 0 and len(state["cur"]) + s + END_AND_TRAILER > m:   # section 6 step 1 fails
            if hsize + s + END_AND_TRAILER > m:                      # step 2: fits no chunk
                raise FormatError("LIMIT_EXCEEDED", -1, "record of %d bytes cannot fit any chunk of M=%d" % (s, m))
            d = finish_chunk(TAG_CHUNK_END)                          # step 3
            state["index"] += 1
            state["cur"] = _encode_header(anchor, state["index"], d, state["ended"])
            state["has_record"] = False
        state["cur"] += rec
        state["has_record"] = True

    for (tid, _name), ents in zip(anchor["catalog"], tables):
        th = xxhash.xxh64(seed=0)
        for (k, v) in ents:
            rec = struct.pack("<BII", TAG_ENTRY, len(k), len(v)) + k + v
            th.update(rec)
            emit(rec)
        td = th.intdigest()
        table_digests.append(td)
        emit(struct.pack("<BIQQ", TAG_TABLE_END, tid, len(ents), td))
        state["ended"] += 1
    finish_chunk(TAG_SNAPSHOT_END)
    return EncodeResult(bytes(out), chunks, table_digests)


# ---------------------------------------------------------------------------
# golden manifest

def content_from_manifest_case(case):
    a = case["anchor"]
    anchor = {
        "epoch": int(a["epoch"]),
        "cursor_index": int(a["cursorIndex"]),
        "event_id": bytes.fromhex(a["eventIdHex"]),
        "max_chunk_bytes": int(a["maxChunkBytes"]),
        "catalog": [(int(t["id"]), t["name"].encode("utf-8")) for t in a["tables"]],
    }
    by_id = {int(t["id"]): t for t in case["tables"]}
    tables = []
    for (tid, _n) in anchor["catalog"]:
        t = by_id.get(tid)
        tables.append([(bytes.fromhex(k), bytes.fromhex(v)) for (k, v) in (t["entries"] if t else [])])
    return anchor, tables


def _diff(path, exp, got, problems):
    if isinstance(exp, dict) and isinstance(got, dict):
        for k in sorted(set(exp) | set(got)):
            if k not in got:
                problems.append("%s.%s missing in decoded" % (path, k))
            elif k not in exp:
                problems.append("%s.%s not in manifest" % (path, k))
            else:
                _diff("%s.%s" % (path, k), exp[k], got[k], problems)
    elif isinstance(exp, list) and isinstance(got, list):
        if len(exp) != len(got):
            problems.append("%s: length %d expected, got %d" % (path, len(exp), len(got)))
        for i, (x, y) in enumerate(zip(exp, got)):
            _diff("%s[%d]" % (path, i), x, y, problems)
    else:
        if exp != got:
            problems.append("%s: expected %r, got %r" % (path, exp, got))


def check_case(golden_dir, case):
    problems = []
    path = os.path.join(golden_dir, case["file"])
    with open(path, "rb") as f:
        data = f.read()

    # (a) decode
    try:
        snap = decode_file(path)
        got = snap.summary(with_entries=True)
        exp = {k: case[k] for k in ("size", "anchor", "digest", "entries", "chunks", "tables")}
        _diff(case["name"], exp, got, problems)
        if len(data) != case["size"]:
            problems.append("file size %d != manifest size %d" % (len(data), case["size"]))
        if sum(c["size"] for c in case["chunks"]) != case["size"]:
            problems.append("manifest chunk sizes do not add up to size")
    except FormatError as e:
        problems.append("decode rejected: %s" % e)

    # (b) encode
    try:
        anchor, tables = content_from_manifest_case(case)
        enc = encode(anchor, tables)
        if enc.data != data:
            n = min(len(enc.data), len(data))
            first = next((i for i in range(n) if enc.data[i] != data[i]), n)
            problems.append("encode differs from .snap (encoded %d bytes, file %d bytes, first difference at %d)"
                            % (len(enc.data), len(data), first))
        if hex16(enc.digest) != case["digest"]:
            problems.append("encoded digest %s != manifest %s" % (hex16(enc.digest), case["digest"]))
        enc_chunks = [{"index": c["index"], "size": c["size"], "digest": hex16(c["digest"])} for c in enc.chunks]
        if enc_chunks != case["chunks"]:
            problems.append("encoded chunk list differs from manifest")
        for td, t in zip(enc.table_digests, [t for t in case["tables"]]):
            if hex16(td) != t["digest"]:
                problems.append("encoded table digest for %s differs" % t["name"])
        if sum(len(x) for x in tables) != int(case["entries"]):
            problems.append("manifest 'entries' is not the sum of table entry lists")
        for t in case["tables"]:
            if int(t["entryCount"]) != len(t["entries"]):
                problems.append("manifest entryCount of %s != len(entries)" % t["name"])
    except FormatError as e:
        problems.append("encode refused: %s" % e)
    return problems


def check_invalid(golden_dir, vec):
    problems = []
    for k in ("name", "file", "code", "offset"):
        if k not in vec:
            problems.append("manifest entry lacks %r" % k)
            return problems
    if vec["code"] not in ERROR_CODES:
        problems.append("manifest code %r is not an error code of section 7" % vec["code"])
    path = os.path.join(golden_dir, vec["file"])
    with open(path, "rb") as f:
        data = f.read()
    if "size" in vec and len(data) != vec["size"]:
        problems.append("file size %d != manifest size %d" % (len(data), vec["size"]))
    streamed = ("OK", None)
    try:
        decode_file(path, collect_entries=False)
        problems.append("accepted, expected %s at %d" % (vec["code"], vec["offset"]))
    except FormatError as e:
        streamed = (e.code, e.offset)
        if streamed != (vec["code"], vec["offset"]):
            problems.append("expected %s at %d, got %s" % (vec["code"], vec["offset"], e))
    # the streaming (file) reader and the in-memory reader must agree
    got = try_decode(data)
    got = ("OK", None) if got[0] == "OK" else got
    if got != streamed:
        problems.append("in-memory decode gives %s at %s, file decode %s at %s" % (got + streamed))
    return problems


def load_manifest(golden_dir):
    """manifest.json, then the manifest-N.json files appended later in order of N (section 11):
    their cases[] and invalid[] lists, concatenated."""
    names = ["manifest.json"] + sorted(
        (fn for fn in os.listdir(golden_dir) if re.fullmatch(r"manifest-\d+\.json", fn)),
        key=lambda fn: int(fn[len("manifest-"):-len(".json")]))
    manifest = None
    for fn in names:
        with open(os.path.join(golden_dir, fn)) as f:
            part = json.load(f)
        if manifest is None:
            manifest = dict(part, cases=list(part.get("cases", [])), invalid=list(part.get("invalid", [])))
        else:
            if part.get("formatVersion") != manifest.get("formatVersion"):
                manifest["formatVersion"] = None  # mixed versions: check_golden reports it
            manifest["cases"] += part.get("cases", [])
            manifest["invalid"] += part.get("invalid", [])
    return manifest


def check_golden(golden_dir):
    manifest = load_manifest(golden_dir)
    passed = failed = 0
    if manifest.get("formatVersion") != FORMAT_VERSION:
        print("manifest formatVersion is %r, expected 1" % manifest.get("formatVersion"))
        failed += 1
    listed = set()
    for case in manifest["cases"]:
        listed.add(case["file"])
        problems = check_case(golden_dir, case)
        if problems:
            failed += 1
            print("FAIL %s" % case["name"])
            for p in problems:
                print("     %s" % p)
        else:
            passed += 1
            print("PASS %s (%d bytes, %d chunk%s, digest %s)" % (
                case["name"], case["size"], len(case["chunks"]), "" if len(case["chunks"]) == 1 else "s",
                case["digest"]))
    for fn in sorted(os.listdir(golden_dir)):
        if fn.endswith(".snap") and fn not in listed:
            print("FAIL %s: .snap file not listed in manifest" % fn)
            failed += 1

    # invalid[] (section 11): exactly the listed code and offset (section 7.1), default limits
    listed_invalid = set()
    for vec in manifest.get("invalid", []):
        listed_invalid.add(vec["file"])
        problems = check_invalid(golden_dir, vec)
        if problems:
            failed += 1
            print("FAIL invalid/%s" % vec["name"])
            for p in problems:
                print("     %s" % p)
        else:
            passed += 1
            print("PASS invalid/%s (%s at %d)" % (vec["name"], vec["code"], vec["offset"]))
    inv_dir = os.path.join(golden_dir, "invalid")
    if os.path.isdir(inv_dir):
        for fn in sorted(os.listdir(inv_dir)):
            if "invalid/" + fn not in listed_invalid:
                print("FAIL invalid/%s: file not listed in manifest invalid[]" % fn)
                failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


# ---------------------------------------------------------------------------
# CLI

class _Concat(io.RawIOBase):
    """Several files read as one stream (the one-file-per-chunk form, section 4.4), in the order
    given. Remembers where each file starts, so that an error offset can be reported as the file
    holding that byte and the offset within it (section 7.1)."""

    def __init__(self, paths):
        self.paths = list(paths)
        self.todo = list(paths)
        self.cur = None
        self.starts = []  # (stream offset of the file's first byte, path)
        self.pos = 0

    def readable(self):
        return True

    def readinto(self, b):
        while True:
            if self.cur is None:
                if not self.todo:
                    return 0
                path = self.todo.pop(0)
                self.cur = open(path, "rb")
                self.starts.append((self.pos, path))
            n = self.cur.readinto(b)
            if n:
                self.pos += n
                return n
            self.cur.close()
            self.cur = None

    def locate(self, offset):
        """(path, offset within that file) of a stream offset. An offset at the very end of the
        input (TRUNCATED) is reported as the end of the last file."""
        sizes = [(p, os.path.getsize(p)) for p in self.paths]
        start = 0
        for i, (p, n) in enumerate(sizes):
            if offset < start + n or i == len(sizes) - 1:
                return p, offset - start
            start += n
        return None, offset


def main(argv):
    if len(argv) >= 2 and argv[0] == "check-golden":
        return check_golden(argv[1])
    if len(argv) >= 2 and argv[0] == "decode":
        cat = None
        try:
            if len(argv) == 2:
                snap = decode_file(argv[1])
            else:
                cat = _Concat(argv[1:])
                snap = Decoder(Source(io.BufferedReader(cat, 65536))).decode()
        except FormatError as e:
            out = {"error": e.code, "offset": e.offset}
            if cat is not None:
                out["file"], out["fileOffset"] = cat.locate(e.offset)
            print(json.dumps(out))
            sys.stderr.write("%s\n" % e)
            return 3
        print(json.dumps(snap.summary(with_entries=True), indent=2))
        return 0
    if len(argv) == 4 and argv[0] == "encode":
        with open(argv[1]) as f:
            manifest = json.load(f)
        case = next(c for c in manifest["cases"] if c["name"] == argv[2])
        anchor, tables = content_from_manifest_case(case)
        try:
            enc = encode(anchor, tables)
        except FormatError as e:
            print(json.dumps({"error": e.code, "detail": e.detail}))
            return 3
        with open(argv[3], "wb") as f:
            f.write(enc.data)
        print(hex16(enc.digest))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
