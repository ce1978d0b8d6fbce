#!/usr/bin/env python3
"""Generate rvc's test vectors from an implementation independent of rvc.

This script re-derives every id from the definitions in docs/format.md,
without reading rvc's source: file ids, rows hashes (with the canonical row
stream computed by `bytes.replace`), tree listings and tree ids, combined
rows of trees, and pointer files (rendered by its own TOML string rules and
read back with Python's `tomllib`). When the `b3sum` command is found (on
PATH or in ~/.cargo/bin) every digest is checked against it as well, and
`gzip`/`zstd` commands, when present, cross-check decompression.

    pip install blake3 zstandard
    python3 tests/vectors/generate.py          # rewrite the JSON files
    python3 tests/vectors/generate.py --check  # fail if they would change

`cargo test --test vectors` then checks rvc against the JSON files.

Inputs in the JSON files are *specs* (see `build`), so that multi-megabyte
inputs are described by a deterministic pattern instead of being stored:

    {"utf8": "a,b\\r\\n"}                 the UTF-8 bytes of the string
    {"hex": "1f8b08..."}                  bytes in hex
    {"pattern": "i % 251", "len": N}      N bytes, byte i being i mod 251
    {"repeat": "row\\r\\n", "count": N}    the UTF-8 string N times
    {"concat": [spec, spec, ...]}         the specs' bytes one after another

Compressed inputs are stored as hex. Compressor output can differ between
library versions, so when a vector file already holds compressed bytes for a
vector of the same name that still decompress to the intended content, those
bytes are kept and the files do not churn.
"""

import argparse
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib

try:
    import blake3
    import zstandard
except ImportError as e:  # pragma: no cover
    sys.exit(f"{e}: run `pip install blake3 zstandard` first")

HERE = os.path.dirname(os.path.abspath(__file__))
TREE_CONTEXT = "rvc tree v1"
TREE_ROWS_CONTEXT = "rvc tree rows v1"
ROW_EXTENSIONS = ("csv", "tsv", "jsonl", "ndjson", "txt")
POINTER_COMMENT = "# rvc pointer: commit this file. `rvc checkout` restores the data it names.\n"

# --------------------------------------------------------------------------
# Definitions (docs/format.md), written from the spec.


def build(spec):
    """The bytes an input spec stands for."""
    if "utf8" in spec:
        return spec["utf8"].encode("utf-8")
    if "hex" in spec:
        return bytes.fromhex(spec["hex"])
    if "pattern" in spec:
        assert spec["pattern"] == "i % 251", spec
        n = spec["len"]
        return (bytes(range(251)) * (n // 251 + 1))[:n]
    if "repeat" in spec:
        return spec["repeat"].encode("utf-8") * spec["count"]
    if "concat" in spec:
        return b"".join(build(s) for s in spec["concat"])
    raise ValueError(f"unknown input spec {spec}")


def file_id(data):
    return blake3.blake3(data).hexdigest()


def row_format(name):
    """None for an opaque file, else 'plain', 'gzip' or 'zstd'."""
    lower = name.lower()
    fmt = "plain"
    for suffix, f in ((".gz", "gzip"), (".zst", "zstd")):
        if lower.endswith(suffix):
            lower, fmt = lower[: -len(suffix)], f
            break
    if "." not in lower:
        return None
    return fmt if lower.rsplit(".", 1)[1] in ROW_EXTENSIONS else None


def decompress(data, fmt):
    # An empty file holds no rows, whatever its suffix promises.
    if fmt == "plain" or not data:
        return data
    if fmt == "gzip":
        return gzip.decompress(data)  # reads every member
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
    return reader.read()


def canonical(stream):
    """The canonical row stream: "\\r\\n" -> "\\n" in one left-to-right pass
    (bytes.replace scans left to right without overlap), then a final "\\n"
    when the stream is not empty and does not end with one."""
    out = stream.replace(b"\r\n", b"\n")
    if out and not out.endswith(b"\n"):
        out += b"\n"
    return out


def data_rows(canon, name):
    """The row count (docs/format.md, "Row count"): records that are not
    blank (only spaces and tabs), and for .csv/.tsv not the first such
    record (the header). In .csv/.tsv a field that starts with a double
    quote runs to the closing quote, newlines included ("" is a quote)."""
    stem = name.lower().removesuffix(".gz").removesuffix(".zst")
    delim = {"csv": ",", "tsv": "\t"}.get(stem.rsplit(".", 1)[-1])
    text = canon.decode("utf-8", errors="surrogateescape")
    if delim is None:
        records = text.split("\n")
    else:
        records, cur, i = [], [], 0
        field_start = True
        while i < len(text):
            ch = text[i]
            if ch == '"' and field_start:
                close = i + 1
                while True:
                    close = text.find('"', close)
                    if close == -1:
                        close = len(text)
                        break
                    if text.startswith('""', close):
                        close += 2
                        continue
                    break
                cur.append(text[i:close + 1])
                i = close + 1
                field_start = False
                continue
            if ch == "\n":
                records.append("".join(cur))
                cur = []
                field_start = True
            else:
                cur.append(ch)
                field_start = ch == delim
            i += 1
        records.append("".join(cur))
    filled = [r for r in records if r.strip(" \t")]
    return len(filled) - (1 if delim is not None and filled else 0)


def rows_of(data, name):
    fmt = row_format(name)
    if fmt is None:
        return None
    c = canonical(decompress(data, fmt))
    return {"count": data_rows(c, name), "hash": file_id(c)}, c


def listing_of(entries):
    """Tree listing bytes: one line per file, sorted bytewise on UTF-8 paths."""
    ordered = sorted(entries, key=lambda e: e["path"].encode("utf-8"))
    return "".join(f'{e["kind"]} {e["size"]} {e["id"]} {e["path"]}\n' for e in ordered)


def tree_id(listing):
    return blake3.blake3(listing.encode("utf-8"), derive_key_context=TREE_CONTEXT).hexdigest()


def rows_listing_of(items):
    ordered = sorted(items, key=lambda it: it[0].encode("utf-8"))
    return "".join(f'{r["count"]} {r["hash"]} {p}\n' for p, r in ordered)


def combined_rows(items):
    if not items:
        return None
    listing = rows_listing_of(items)
    h = blake3.blake3(listing.encode("utf-8"), derive_key_context=TREE_ROWS_CONTEXT).hexdigest()
    return {"count": sum(r["count"] for _, r in items), "hash": h, "listing": listing}


def toml_string(s):
    """How rvc writes the `path` value: always a TOML basic string, with
    backslash and double quote escaped (names hold no control characters)."""
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in s), "names have no control characters"
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pointer_text(p):
    text = POINTER_COMMENT + (
        f"version = 1\npath = {toml_string(p['path'])}\nkind = \"{p['kind']}\"\n"
        f"id = \"{p['id']}\"\nsize = {p['size']}\nfiles = {p['files']}\n"
    )
    if p["rows"] is not None:
        text += f"rows = {p['rows']}\nrows_hash = \"{p['rows_hash']}\"\n"
    return text


# --------------------------------------------------------------------------
# Cross-checks with other tools.


def find_b3sum():
    for cand in (shutil.which("b3sum"), os.path.expanduser("~/.cargo/bin/b3sum")):
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


class Tools:
    def __init__(self, require):
        self.b3sum = find_b3sum()
        self.gzip = shutil.which("gzip")
        self.zstd = shutil.which("zstd")
        self.tmp = tempfile.mkdtemp(prefix="rvc-vectors-")
        self.checked = 0
        if require and not self.b3sum:
            sys.exit("b3sum not found (cargo install b3sum)")
        if not self.b3sum:
            print("warning: b3sum not found; ids are not cross-checked", file=sys.stderr)

    def _file(self, data):
        path = os.path.join(self.tmp, "input")
        with open(path, "wb") as f:
            f.write(data)
        return path

    def digest(self, data, expected, context=None):
        if not self.b3sum:
            return
        args = [self.b3sum, "--no-names"]
        if context is not None:
            args += ["--derive-key", context]
        out = subprocess.run(args + [self._file(data)], check=True, capture_output=True, text=True).stdout
        if out.strip() != expected:
            sys.exit(f"b3sum disagrees: {out.strip()} != {expected} (context {context!r})")
        self.checked += 1

    def decompressed(self, data, fmt, expected):
        tool = {"gzip": self.gzip, "zstd": self.zstd}.get(fmt)
        if not tool:
            return
        out = subprocess.run([tool, "-dc", self._file(data)], capture_output=True)
        if out.returncode != 0 or out.stdout != expected:
            sys.exit(f"{tool} -dc disagrees with Python on a {fmt} vector")

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


# --------------------------------------------------------------------------
# The vectors.

U = lambda s: {"utf8": s}  # noqa: E731
P = lambda n: {"pattern": "i % 251", "len": n}  # noqa: E731
MiB = 1 << 20

FILE_ID_INPUTS = [
    ("empty", U("")),
    ("one zero byte", {"hex": "00"}),
    ("abc", U("abc")),
    ("text with CRLF (ids see bytes as they are)", U("a,b\r\n1,2\r\n")),
    ("unicode text", U("héllo wörld 🤗\n")),
    ("pattern 1", P(1)),
    ("pattern 64 (one block)", P(64)),
    ("pattern 65", P(65)),
    ("pattern 1023", P(1023)),
    ("pattern 1024 (one chunk)", P(1024)),
    ("pattern 1025 (two chunks)", P(1025)),
    ("pattern 2048", P(2048)),
    ("pattern 2049", P(2049)),
    ("pattern 3073", P(3073)),
    ("pattern 31745", P(31745)),
    ("pattern 102400", P(102400)),
    ("pattern 1 MiB + 1", P(MiB + 1)),
    ("pattern 4 MiB - 1 (below the parallel threshold)", P(4 * MiB - 1)),
    ("pattern 4 MiB (parallel threshold)", P(4 * MiB)),
    ("pattern 4 MiB + 1", P(4 * MiB + 1)),
    ("pattern 5000000", P(5_000_000)),
]

# (name, file name, content spec, compression or None). For a compressed
# vector the spec is the content before compression; a list of strings means
# one gzip member or zstd frame per string.
ROWS_INPUTS = [
    ("empty file: 0 rows", "t.csv", U(""), None),
    ("one empty row", "t.csv", U("\n"), None),
    ("LF, already canonical: rows hash = file id", "t.csv", U("a,b\n1,2\n"), None),
    ("CRLF", "t.csv", U("a,b\r\n1,2\r\n"), None),
    ("no final newline", "t.csv", U("a,b\n1,2"), None),
    ("mixed endings, no final newline", "t.csv", U("a\nb\r\nc"), None),
    ("single row without newline", "t.txt", U("x"), None),
    ("\\r\\r\\n becomes \\r\\n", "t.csv", U("\r\r\n"), None),
    ("lone \\r inside a row is kept", "t.csv", U("a\rb\n"), None),
    ("lone \\r alone: \\r then an added \\n", "t.csv", U("\r"), None),
    ("final \\r without \\n", "t.csv", U("x\r"), None),
    ("\\n\\r: the \\r is a row of its own", "t.csv", U("\n\r"), None),
    ("blank lines are not rows", "t.csv", U("\n\n\r\n"), None),
    ("a CSV header is not a row", "t.csv", U("id,text\n"), None),
    ("blank lines around CSV rows", "t.csv", U("\nid,text\n\n1,a\n \t\n2,b\n"), None),
    ("quoted CSV field with newlines and quotes", "t.csv",
     U('id,text\r\n1,"two\r\nlines, ""quoted"""\r\n2,"x"\r\n'), None),
    ("a quote inside an unquoted field is content", "t.csv", U('id,size\n1,5" disk\n2,6" disk\n'), None),
    ("quoted TSV field", "t.tsv", U('a\tb\n1\t"x\ny"\n'), None),
    ("blank JSONL lines are not records", "t.jsonl", U('{"a":1}\n\n{"a":2}\n  \n'), None),
    ("\\r\\n\\r\\n", "t.csv", U("\r\n\r\n"), None),
    ("unicode rows", "t.jsonl", U('{"t":"héllo"}\r\n{"t":"wörld 🤗"}'), None),
    ("tsv", "t.tsv", U("a\tb\r\n"), None),
    ("ndjson", "t.ndjson", U("{}\r\n{}\r\n"), None),
    ("extension is case-insensitive", "DATA.CSV", U("a\r\nb\r\n"), None),
    ("\\r\\n across a 1 MiB boundary", "big.csv",
     {"concat": [{"repeat": "a", "count": MiB - 1}, U("\r\n"), U("b\n")]}, None),
    ("large LF file above 4 MiB: rows hash = file id", "big.csv",
     {"repeat": "0123456789,abcdef\n", "count": 250_000}, None),
    ("large CRLF file above 4 MiB", "big.csv", {"repeat": "0123456789,abcdef\r\n", "count": 250_000}, None),
    ("large file ending in \\r", "big.txt", {"concat": [{"repeat": "row\r\n", "count": 1_000_000}, U("\r")]}, None),
    ("not a row file: .bin", "t.bin", U("a\r\nb"), None),
    ("not a row file: no extension", "csv", U("a\r\nb"), None),
    ("not a row file: bare .gz", "t.gz", U("a\r\nb"), None),
    ("not a row file: .csv.bz2", "t.csv.bz2", U("a\r\nb"), None),
    ("not a row file: .csv.zst.gz", "t.csv.zst.gz", U("a\r\nb"), None),
    ("gzip CRLF: same rows as the LF file", "t.csv.gz", U("a,b\r\n1,2\r\n"), "gzip"),
    ("gzip, no final newline", "t.csv.gz", U("a,b\n1,2"), "gzip"),
    ("gzip of nothing: 0 rows", "t.csv.gz", U(""), "gzip"),
    ("empty file named .gz: 0 rows", "t.csv.gz", U(""), None),
    ("empty file named .zst: 0 rows", "t.csv.zst", U(""), None),
    ("gzip suffix is case-insensitive", "T.JSONL.GZ", U('{"a":1}\r\n'), "gzip"),
    ("gzip, two members, \\r\\n split between them", "t.csv.gz", ["a\r", "\nb"], "gzip"),
    ("gzip, large CRLF stream above 4 MiB", "big.csv.gz", {"repeat": "id,text\r\n", "count": 600_000}, "gzip"),
    ("zstd CRLF: same rows as the LF file", "t.csv.zst", U("a,b\r\n1,2\r\n"), "zstd"),
    ("zstd of nothing: 0 rows", "t.csv.zst", U(""), "zstd"),
    ("zstd, two frames, \\r\\n split between them", "t.tsv.zst", ["a\r", "\nb"], "zstd"),
    ("zstd, large stream ending in a lone \\r", "big.txt.zst",
     {"concat": [{"repeat": "x\r\n", "count": 2_000_000}, U("\r")]}, "zstd"),
]

# (name, file name, raw bytes spec): row files whose rows cannot be read.
ROWS_ERRORS = [
    ("not gzip", "t.csv.gz", U("not gzip")),
    ("not zstd", "t.csv.zst", U("not zstd")),
]


def compress(parts, fmt):
    if fmt == "gzip":
        return b"".join(gzip.compress(p, compresslevel=9, mtime=0) for p in parts)
    return b"".join(zstandard.ZstdCompressor(level=19).compress(p) for p in parts)


def make_file_ids(tools):
    out = []
    for name, spec in FILE_ID_INPUTS:
        data = build(spec)
        v = {"name": name, "input": spec, "len": len(data), "id": file_id(data)}
        tools.digest(data, v["id"])
        out.append(v)
    return {
        "about": "file id = BLAKE3-256 of the file's bytes, as `b3sum FILE` prints it. "
        "Input specs are described in generate.py.",
        "vectors": out,
    }


def existing(name):
    try:
        with open(os.path.join(HERE, name), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def make_rows(tools):
    old = {v["name"]: v for v in existing("rows.json").get("vectors", [])}
    out = []
    for name, fname, spec, fmt in ROWS_INPUTS:
        if fmt is None:
            data, plain, source = build(spec), build(spec), None
        else:
            parts = [p.encode() for p in spec] if isinstance(spec, list) else [build(spec)]
            plain = b"".join(parts)
            kept = old.get(name, {}).get("input", {}).get("hex")
            if kept is not None and decompress(bytes.fromhex(kept), fmt) == plain:
                data = bytes.fromhex(kept)
            else:
                data = compress(parts, fmt)
            tools.decompressed(data, fmt, plain)
            source = {"concat": [U(p) for p in spec]} if isinstance(spec, list) else spec
        v = {"name": name, "file_name": fname}
        v["input"] = {"hex": data.hex()} if fmt else spec
        if source is not None:
            v["decompressed"] = source
        v["size"] = len(data)
        v["id"] = file_id(data)
        tools.digest(data, v["id"])
        r = rows_of(data, fname)
        if r is None:
            v["rows"] = None
        else:
            rows, canon = r
            v["rows"] = rows
            tools.digest(canon, rows["hash"])
            if len(canon) <= 64:
                v["canonical"] = U(canon.decode("utf-8"))
        out.append(v)
    errors = []
    for name, fname, spec in ROWS_ERRORS:
        errors.append({"name": name, "file_name": fname, "input": spec})
    return {
        "about": "rows of row files (.csv .tsv .jsonl .ndjson .txt, optionally .gz or .zst; "
        "case-insensitive): decompress, replace each \\r\\n by \\n in one left-to-right pass, "
        "add a final \\n when the stream is not empty and lacks one. count = number of \\n; "
        "hash = BLAKE3 of that stream. `rows` is null for a file that is not a row file. "
        "`decompressed` and `canonical` are informative.",
        "vectors": out,
        "errors": errors,
    }


def entry(path, kind, spec):
    data = build(spec)
    e = {"path": path, "kind": kind, "content": spec, "size": len(data), "id": file_id(data)}
    r = rows_of(data, path.rsplit("/", 1)[-1])
    e["rows"] = r[0] if r else None
    return e


def gz(text):
    return {"hex": gzip.compress(text.encode(), compresslevel=9, mtime=0).hex()}


def tree_inputs(old_trees):
    def kept_gz(tree, path, text):
        for t in old_trees:
            if t["name"] == tree:
                for e in t["entries"]:
                    if e["path"] == path and "hex" in e.get("content", {}):
                        if gzip.decompress(bytes.fromhex(e["content"]["hex"])) == text.encode():
                            return e["content"]
        return gz(text)

    nested = "nested directories, exec file, row files (one gzip)"
    placeholder = {"path": "model.safetensors", "kind": "file", "size": 10737418240,
                   "id": file_id(b"stand-in id: trees do not check ids against sizes"), "rows": None}
    return [
        ("empty tree", []),
        ("one empty row file", [entry("only.csv", "file", U(""))]),
        ("no row files", [entry("weights.bin", "file", P(3000)), entry("config.json", "file", U('{"lr": 0.1}\n'))]),
        (nested, [
            entry("scripts/prepare.sh", "exec", U("#!/bin/sh\necho hi\n")),
            entry("data/val.csv", "file", U("id,text\n3,foo\n")),
            entry("README.md", "file", U("# data\r\n")),
            entry("data/train.csv", "file", U("id,text\r\n1,hello\r\n2,world\r\n")),
            entry("data/images/0001.png", "file", {"hex": "89504e470d0a1a0a0000000d49484452"}),
            entry("data/test.jsonl.gz", "file", kept_gz(nested, "data/test.jsonl.gz", '{"a":1}\n{"a":2}')),
        ]),
        ("sort order is bytewise on the whole path", [
            entry(p, "file", U(p + "\n"))
            for p in ["ab", "a_b", "a0", "a/c/d.txt", "a/b", "a.b", "a-b", "a b", "Z", "A", "b"]
        ]),
        ("unicode paths sort by UTF-8 bytes", [
            entry(p, "file", U(p + "\n"))
            for p in ["🤗.txt", "｡.txt", "日本語/データ.jsonl", "Ω.csv", "z.txt", "é.txt", "e\u0301.txt", "Zebra.txt"]
        ]),
        ("spaces in paths", [
            entry("my data/file name.csv", "file", U("a b\r\n")),
            entry(" leading space", "file", U("x")),
            entry("trailing space ", "exec", U("y")),
        ]),
        ("a size beyond 4 GiB, given without content; exec entry", [
            placeholder,
            entry("run.py", "exec", U("print('hi')\n")),
        ]),
    ]


# Listings Tree::parse must refuse: (name, listing bytes as text or hex, line).
def tree_rejects():
    i = file_id(b"")
    j = file_id(b"x")
    return [
        ("unterminated last line", f"file 0 {i} a", 1),
        ("empty line", f"file 0 {i} a\n\nfile 0 {i} b\n", 2),
        ("out of order", f"file 0 {i} b\nfile 0 {i} a\n", 2),
        ("repeated path", f"file 0 {i} a\nfile 1 {j} a\n", 2),
        ("UTF-16 order instead of UTF-8 bytes", f"file 0 {i} 🤗\nfile 0 {i} ｡\n", 2),
        ("component-wise order instead of bytewise", f"file 0 {i} a/b\nfile 0 {i} a.b\n", 2),
        ("a path inside a file", f"file 0 {i} a\nfile 0 {i} a/b\n", 2),
        ("a path inside a file, another entry between", f"file 0 {i} a\nfile 0 {i} a.b\nfile 0 {i} a/b\n", 3),
        ("CRLF line ending", f"file 0 {i} a\r\n", 1),
        ("unknown kind", f"link 0 {i} a\n", 1),
        ("uppercase kind", f"FILE 0 {i} a\n", 1),
        ("size with a leading zero", f"file 00 {i} a\n", 1),
        ("negative size", f"file -1 {i} a\n", 1),
        ("size with a plus sign", f"file +1 {i} a\n", 1),
        ("size above u64", f"file 18446744073709551616 {i} a\n", 1),
        ("uppercase id", f"file 0 {i.upper()} a\n", 1),
        ("short id", f"file 0 {i[:63]} a\n", 1),
        ("two spaces between fields", f"file  0 {i} a\n", 1),
        ("missing path", f"file 0 {i}\n", 1),
        ("absolute path", f"file 0 {i} /etc/passwd\n", 1),
        ("parent component", f"file 0 {i} ../x\n", 1),
        ("dot component", f"file 0 {i} a/./b\n", 1),
        ("empty component", f"file 0 {i} a//b\n", 1),
        ("trailing slash", f"file 0 {i} a/\n", 1),
        (".git component, any case", f"file 0 {i} x/.GIT/hooks/pre-commit\n", 1),
        ("tab in path", f"file 0 {i} a\tb\n", 1),
        ("byte-order mark", f"\ufefffile 0 {i} a\n", 1),
        ("not UTF-8", {"hex": (f"file 0 {i} a\nfile 0 {i} b".encode() + b"\xff\n").hex()}, 2),
    ]


# Entry sets Tree::from_entries must refuse.
def entries_rejects():
    i = file_id(b"")
    e = lambda p: {"path": p, "kind": "file", "size": 0, "id": i}  # noqa: E731
    return [
        ("duplicate path", [e("a"), e("a")]),
        ("empty path", [e("")]),
        ("absolute path", [e("/a")]),
        ("parent component", [e("a/../b")]),
        ("dot component", [e("./a")]),
        ("empty component", [e("a//b")]),
        (".git component", [e(".git/config")]),
        (".Git component", [e("x/.Git")]),
        ("newline in path", [e("a\nb")]),
        ("a file and a path inside it", [e("a"), e("a/b")]),
    ]


def make_trees(tools):
    old = existing("trees.json").get("vectors", [])
    out = []
    for name, entries in tree_inputs(old):
        listing = listing_of(entries)
        tid = tree_id(listing)
        tools.digest(listing.encode(), tid, TREE_CONTEXT)
        items = [(e["path"], e["rows"]) for e in entries if e["rows"] is not None]
        comb = combined_rows(items)
        if comb:
            tools.digest(comb["listing"].encode(), comb["hash"], TREE_ROWS_CONTEXT)
        out.append({
            "name": name,
            "entries": entries,
            "listing": listing,
            "id": tid,
            "size": sum(e["size"] for e in entries),
            "files": len(entries),
            "combined_rows": comb,
        })
    rejects = []
    for name, listing, line in tree_rejects():
        rejects.append({"name": name, "listing": listing if isinstance(listing, dict) else U(listing), "line": line})
    return {
        "about": "tree listing = `<kind> <size> <file id> <path>\\n` per file, sorted bytewise by "
        "UTF-8 path; tree id = BLAKE3 derive_key(\"rvc tree v1\") of the listing "
        "(b3sum --derive-key \"rvc tree v1\"). Entries are given in a scrambled order; `content` is "
        "the file's bytes when known. combined_rows: count = sum, hash = BLAKE3 "
        "derive_key(\"rvc tree rows v1\") of `listing` (`<count> <rows hash> <path>\\n` per row "
        "file, sorted by path); null when the tree has no row file. `rejects`: listings a reader "
        "must refuse (`line` is the first bad line). `entries_rejects`: entry sets that cannot form a tree.",
        "vectors": out,
        "rejects": rejects,
        "entries_rejects": [{"name": n, "entries": es} for n, es in entries_rejects()],
    }


def make_pointers(trees, rows):
    by_name = {t["name"]: t for t in trees["vectors"]}
    nested = by_name["nested directories, exec file, row files (one gzip)"]
    empty = by_name["empty tree"]
    csv_gz = next(v for v in rows["vectors"] if v["name"] == "gzip CRLF: same rows as the LF file")
    model_id = file_id(build(P(5_000_000)))

    def ptr(path, kind, tid, size, files, rows):
        return {"path": path, "kind": kind, "id": tid, "size": size, "files": files,
                "rows": rows["count"] if rows else None, "rows_hash": rows["hash"] if rows else None}

    valid = [
        ("directory with rows", "data.rvc",
         ptr("data", "dir", nested["id"], nested["size"], nested["files"], nested["combined_rows"])),
        ("file without rows, in a subdirectory", "models/model.safetensors.rvc",
         ptr("model.safetensors", "file", model_id, 5_000_000, 1, None)),
        ("compressed row file", "train.csv.gz.rvc", ptr("train.csv.gz", "file", csv_gz["id"], csv_gz["size"], 1, csv_gz["rows"])),
        ("empty directory", "empty.rvc", ptr("empty", "dir", empty["id"], 0, 0, None)),
        ("large size", "ckpt.rvc", ptr("ckpt", "file", file_id(b"ckpt"), 10737418240, 1, None)),
        ("space and unicode in the name", "my données 🤗.rvc",
         ptr("my données 🤗", "file", file_id(b""), 0, 1, None)),
        ("double quote: escaped", 'say "hi".rvc', ptr('say "hi"', "file", file_id(b""), 0, 1, None)),
        ("backslash: escaped", "a\\b.rvc", ptr("a\\b", "file", file_id(b""), 0, 1, None)),
        ("both quotes", "it's \"x\".rvc",
         ptr("it's \"x\"", "file", file_id(b""), 0, 1, None)),
        ("quote and backslash", "a\\'\"b.rvc",
         ptr("a\\'\"b", "file", file_id(b""), 0, 1, None)),
        ("every quote kind and a backslash", "'''\"\"\"\\.rvc",
         ptr("'''\"\"\"\\", "file", file_id(b""), 0, 1, None)),
    ]
    out = []
    for name, fname, p in valid:
        text = pointer_text(p)
        parsed = tomllib.loads(text)
        expect = {k: v for k, v in p.items() if v is not None}
        assert parsed == {"version": 1, **expect}, (parsed, expect)
        out.append({"name": name, "file_name": fname, "pointer": p, "text": text})

    base = out[0]["text"]
    fid = file_id(b"")
    file_ptr = out[5]["text"].replace("my données 🤗", "x")
    invalid = [
        ("path names another file", "data.rvc", base.replace('path = "data"', 'path = "other"'), 3),
        ("path escapes the directory", "data.rvc", base.replace('path = "data"', 'path = "../etc"'), 3),
        ("path with a directory", "data.rvc", base.replace('path = "data"', 'path = "sub/data"'), 3),
        ("file name does not end in .rvc", "data.toml", base, 3),
        ("file name is only .rvc", ".rvc", base, 3),
        ("unknown key", "data.rvc", base + "extra = 1\n", 10),
        ("unknown table", "data.rvc", base + "[remote]\nurl = \"s3://x\"\n", 10),
        ("version 2", "data.rvc", base.replace("version = 1", "version = 2"), 2),
        ("version missing", "data.rvc", base.replace("version = 1\n", ""), None),
        ("rows without rows_hash", "data.rvc", "\n".join(l for l in base.split("\n") if not l.startswith("rows_hash")), 8),
        ("rows_hash without rows", "data.rvc", "\n".join(l for l in base.split("\n") if not l.startswith("rows =")), None),
        ("file pointer with files = 2", "x.rvc", file_ptr.replace("files = 1", "files = 2"), 7),
        ("unknown kind", "x.rvc", file_ptr.replace('kind = "file"', 'kind = "link"'), 4),
        ("uppercase id", "x.rvc", file_ptr.replace(fid, fid.upper()), 5),
        ("short id", "x.rvc", file_ptr.replace(fid, fid[:12]), 5),
        ("id not a string", "x.rvc", file_ptr.replace(f'"{fid}"', "1"), 5),
        ("negative size", "x.rvc", file_ptr.replace("size = 0", "size = -1"), 6),
        ("size as a string", "x.rvc", file_ptr.replace("size = 0", 'size = "0"'), 6),
        ("duplicate key", "x.rvc", file_ptr + "size = 1\n", 8),
        ("not TOML", "x.rvc", "version = 1\npath = x\n", 2),
    ]
    return {
        "about": "pointer files PATH.rvc: `text` is the exact rendering of `pointer`; "
        "`invalid` pointers must be refused, with an error `<file name>:<line>: ...` "
        "when `line` is not null.",
        "vectors": out,
        "invalid": [{"name": n, "file_name": f, "text": t, "line": line} for n, f, t, line in invalid],
    }


def make_remote_index():
    """The text of a remote index object (before compression) for a few
    objects, and texts that must be refused."""
    def oid(label):
        return blake3.blake3(label.encode()).hexdigest()

    loose = [["chunk", oid("chunk a")], ["manifest", oid("model.bin")], ["tree", oid("data")]]
    packs = [{"name": oid("pack 1"), "entries": [[oid("x.txt"), 8, 17], [oid("y.txt"), 25, 3]]}]
    lines = ["rvc remote index v1"]
    lines += [f"{kind} {i}" for kind, i in loose]
    for p in packs:
        lines.append(f"pack {p['name']} {len(p['entries'])}")
        lines += [f"{i} {off} {ln}" for i, off, ln in p["entries"]]
    text = "\n".join(lines) + "\n"
    head = "rvc remote index v1\n"
    rejects = [
        {"why": "no header", "text": text[len(head):]},
        {"why": "truncated (no final newline)", "text": text[:-1]},
        {"why": "a pack lacking entries", "text": text.replace(" 2\n", " 3\n")},
        {"why": "an entry inside the pack magic", "text": text.replace(" 8 17", " 7 17")},
        {"why": "an empty entry", "text": text.replace(" 25 3", " 25 0")},
        {"why": "an entry larger than any chunk (16 MiB)", "text": text.replace(" 25 3", " 25 16777217")},
        {"why": "an unknown kind", "text": text.replace("manifest ", "blob ")},
        {"why": "an id that is not 64 hex digits", "text": head + "chunk abc\n"},
        {"why": "a blank line inside", "text": text + "\n"},
        {"why": "upper-case hex", "text": head + "chunk " + oid("chunk a").upper() + "\n"},
    ]
    return {"loose": loose, "packs": packs, "text": text, "rejects": rejects}


# ---- chunk objects (docs/format.md, "Files and chunks") ------------------

def weights(n, width, seed):
    """n little-endian numbers like trained weights (about normal, sd 0.02),
    as bf16 (width 2) or fp32 (width 4), from a seeded xorshift64."""
    import struct
    x = (seed * 0x9E3779B97F4A7C15 | 1) & (2**64 - 1)
    out = bytearray()
    for _ in range(n):
        u = 0.0
        for _ in range(4):
            x ^= (x << 13) & (2**64 - 1)
            x ^= x >> 7
            x ^= (x << 17) & (2**64 - 1)
            u += (x >> 11) / 2**53
        f = struct.pack("<f", (u - 2.0) * 0.035)
        out += f[2:] if width == 2 else f
    return bytes(out)


def planes_object(data, width, zstd_planes):
    """Kind 2: every number rotated left by one bit, its bytes sent to the
    planes from the most significant; each plane raw or one zstd frame; the
    last len % width bytes raw after the planes."""
    n = len(data) // width
    bits = 8 * width
    planes = [bytearray() for _ in range(width)]
    for i in range(n):
        v = int.from_bytes(data[i * width:(i + 1) * width], "little")
        r = ((v << 1) | (v >> (bits - 1))) & ((1 << bits) - 1)
        for k, b in enumerate(r.to_bytes(width, "big")):
            planes[k].append(b)
    out = bytearray([2, width]) + len(data).to_bytes(4, "little")
    for k, plane in enumerate(planes):
        if k in zstd_planes:
            body = zstandard.ZstdCompressor(level=3).compress(bytes(plane))
            out += bytes([1]) + len(body).to_bytes(4, "little") + body
        else:
            out += bytes([0]) + len(plane).to_bytes(4, "little") + plane
    out += data[n * width:]
    return bytes(out)


def make_chunks(tools):
    hexs = lambda b: b.hex()
    objects = []

    def add(name, data, stored, note):
        tools.digest(data, file_id(data))
        objects.append({"name": name, "note": note, "input": {"hex": hexs(data)},
                        "id": file_id(data), "stored": hexs(stored)})

    add("raw", b"hello\n", b"\x00hello\n", "kind 0: the bytes as they are")
    text = b"step,loss\n" + b"".join(b"%d,0.5\n" % i for i in range(200))
    add("zstd", text, b"\x01" + zstandard.ZstdCompressor(level=3).compress(text),
        "kind 1: one zstd frame")
    bf = weights(300, 2, 1)
    add("planes bf16, exponents zstd, 1 trailing byte", bf + b"\x7f",
        planes_object(bf + b"\x7f", 2, {0}),
        "kind 2, width 2: plane 0 (exponents) is a zstd frame, plane 1 is raw")
    add("planes bf16, both raw", bf[:64], planes_object(bf[:64], 2, set()),
        "kind 2, width 2, no zstd at all: every byte of the object follows from the text")
    f32 = weights(200, 4, 2)
    add("planes fp32, 3 trailing bytes", f32 + b"abc", planes_object(f32 + b"abc", 4, {0, 1}),
        "kind 2, width 4: planes 0 and 1 zstd, planes 2 and 3 raw")
    zeros = bytes(4000)
    add("planes fp32 of zeros", zeros, planes_object(zeros, 4, {0, 1, 2, 3}), "kind 2, every plane zstd")
    add("planes, one trailing byte only", b"\x05", planes_object(b"\x05", 2, set()),
        "kind 2 with no whole number: two empty raw planes, then the byte")
    # A number whose rotation matters: sign bit set, exponent 0x80.
    neg = bytes.fromhex("0080") + bytes.fromhex("01c0")
    add("planes, sign bits", neg, planes_object(neg, 2, set()),
        "0x8000 -> rotated 0x0001 (planes 00 / 01); 0xc001 -> 0x8003 (80 / 03)")

    good = planes_object(bf, 2, {0})
    ok_id = file_id(bf)
    rejects = []

    def reject(name, stored):
        rejects.append({"name": name, "id": ok_id, "stored": hexs(stored)})

    reject("unknown kind 3", b"\x03" + good[1:])
    reject("width 3", good[:1] + b"\x03" + good[2:])
    reject("width 8", good[:1] + b"\x08" + good[2:])
    reject("length over 16 MiB", good[:2] + (16 * 2**20 + 2).to_bytes(4, "little") + good[6:])
    reject("length one more than the planes hold", good[:2] + (len(bf) + 1).to_bytes(4, "little") + good[6:])
    reject("one byte too many after the planes", good + b"\x00")
    reject("cut short", good[:-1])
    reject("plane 0 has an unknown mode", good[:6] + b"\x02" + good[7:])
    reject("plane 0 longer than the object", good[:7] + (2**32 - 1).to_bytes(4, "little") + good[11:])
    raw2 = planes_object(bf, 2, set())
    reject("raw plane 1 one byte short", raw2[:-1])
    reject("no planes at all", good[:6])
    reject("empty object", b"")

    # Cut points of tensor files: the header, every tensor, gaps, a tail.
    def st(entries, body, meta=True):
        header = {"__metadata__": {"format": "pt"}} if meta else {}
        for name, dtype, b, e in entries:
            header[name] = {"dtype": dtype, "shape": [e - b], "data_offsets": [b, e]}
        h = json.dumps(header, separators=(",", ":")).encode()
        h += b" " * ((8 - len(h) % 8) % 8)
        return len(h).to_bytes(8, "little") + h + body

    widths = {"BF16": 2, "F16": 2, "F32": 4}

    def cuts_of(entries, data):
        start = 8 + int.from_bytes(data[:8], "little")
        out = [[0, start, None]]
        cursor = start
        for name, dtype, b, e in sorted(entries, key=lambda t: t[2]):
            if start + b > cursor:
                out.append([cursor, start + b - cursor, None])
            if e > b:
                out.append([start + b, e - b, widths.get(dtype)])
            cursor = start + e
        if cursor < len(data):
            out.append([cursor, len(data) - cursor, None])
        return out

    cuts = []
    layouts = [
        ("three tensors in file order", [("a", "BF16", 0, 100), ("b", "F32", 100, 140), ("c", "I64", 140, 156)], 156),
        ("listed out of order, a gap, an empty tensor, trailing bytes",
         [("z", "F16", 40, 72), ("y", "BF16", 0, 32), ("e", "F32", 72, 72)], 80),
    ]
    for name, entries, size in layouts:
        data = st(entries, bytes((i * 7) % 251 for i in range(size)))
        cuts.append({"name": name, "input": {"hex": hexs(data)}, "cuts": cuts_of(entries, data)})
    for name, data in [
        ("not safetensors: one piece", b"plain bytes, no header" * 10),
        ("a header length past the end: one piece", (10**6).to_bytes(8, "little") + b"{}"),
        ("overlapping tensors: one piece",
         st([("a", "F16", 0, 8), ("b", "F16", 4, 12)], bytes(12))),
    ]:
        cuts.append({"name": name, "input": {"hex": hexs(data)}, "cuts": [[0, len(data), None]]})
    return {
        "comment": "Chunk objects (kinds 0, 1, 2) and the cut points of tensor files, "
                   "written from docs/format.md by tests/vectors/generate.py, not by rvc. "
                   "zstd frames come from Python's zstandard; readers accept any valid frame.",
        "objects": objects,
        "rejects": rejects,
        "tensor_cuts": cuts,
    }


def dump(obj):
    return json.dumps(obj, indent=1, ensure_ascii=False) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="fail if a checked-in file would change")
    ap.add_argument("--require-b3sum", action="store_true", help="fail when b3sum is not installed")
    args = ap.parse_args()
    tools = Tools(args.require_b3sum)
    try:
        trees = make_trees(tools)
        rows = make_rows(tools)
        files = {
            "file_ids.json": make_file_ids(tools),
            "rows.json": rows,
            "trees.json": trees,
            "pointers.json": make_pointers(trees, rows),
            "remote_index.json": make_remote_index(),
            "chunks.json": make_chunks(tools),
        }
    finally:
        tools.close()
    stale = []
    for name, obj in files.items():
        path = os.path.join(HERE, name)
        text = dump(obj)
        try:
            with open(path, encoding="utf-8") as f:
                same = f.read() == text
        except OSError:
            same = False
        if same:
            continue
        stale.append(name)
        if not args.check:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    print(f"{tools.checked} digests cross-checked with b3sum", file=sys.stderr)
    if args.check and stale:
        sys.exit(f"out of date: {', '.join(stale)} (run tests/vectors/generate.py)")
    print("written: " + (", ".join(stale) if stale else "nothing (up to date)"), file=sys.stderr)


if __name__ == "__main__":
    main()
