"""Write Parquet and Arrow files with pyarrow, and the rows each must have
(expected.json), computed here from the definition in docs/format.md
("Tables") without reading rvc's source.

    pip install pyarrow blake3
    python3 tests/vectors/tables/generate.py

Each *case* is one logical table written several ways (row-group and page
sizes, codecs, dictionary or plain encoding, statistics on or off, format
versions, Parquet and Arrow IPC file and stream). Every file of a case must
give the case's row count and rows hash; `cargo test --test vectors` checks
that. The stream is computed from the table read back by pyarrow, value by
value, by the rules below.
"""
import decimal
import datetime
import json
import os
import shutil
import struct

import blake3
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

here = os.path.dirname(os.path.abspath(__file__))

MAGIC = b"rvc table v1\n"


def u64(n):
    return n.to_bytes(8, "little")


def string(b):
    return u64(len(b)) + b


UNIT = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def type_code(t):
    """The logical type's encoding (docs/format.md, "Type codes")."""
    if pa.types.is_dictionary(t):
        return type_code(t.value_type)
    simple = [
        (pa.types.is_null, 0x00),
        (pa.types.is_boolean, 0x01),
        (lambda t: t == pa.int8(), 0x02),
        (lambda t: t == pa.int16(), 0x03),
        (lambda t: t == pa.int32(), 0x04),
        (lambda t: t == pa.int64(), 0x05),
        (lambda t: t == pa.uint8(), 0x06),
        (lambda t: t == pa.uint16(), 0x07),
        (lambda t: t == pa.uint32(), 0x08),
        (lambda t: t == pa.uint64(), 0x09),
        (lambda t: t == pa.float16(), 0x0A),
        (lambda t: t == pa.float32(), 0x0B),
        (lambda t: t == pa.float64(), 0x0C),
        (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t), 0x0D),
        (
            lambda t: pa.types.is_binary(t)
            or pa.types.is_large_binary(t)
            or pa.types.is_fixed_size_binary(t),
            0x0E,
        ),
        (pa.types.is_date32, 0x0F),
        (pa.types.is_date64, 0x10),
        (pa.types.is_time, 0x11),
        (pa.types.is_duration, 0x13),
    ]
    for test, code in simple:
        if test(t):
            return bytes([code])
    if pa.types.is_timestamp(t):
        return b"\x12" + string((t.tz or "").encode())
    if pa.types.is_decimal(t):
        return bytes([0x14, t.precision, t.scale & 0xFF])
    if pa.types.is_map(t):
        return b"\x17" + type_code(t.key_type) + type_code(t.item_type)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return b"\x15" + type_code(t.value_type)
    if pa.types.is_struct(t):
        out = b"\x16" + u64(t.num_fields)
        for i in range(t.num_fields):
            f = t.field(i)
            out += string(f.name.encode()) + type_code(f.type)
        return out
    raise ValueError(f"no type code for {t}")


def signed(n, width):
    return n.to_bytes(width, "little", signed=True)


def value(t, v):
    """One value's encoding: a presence byte, then the value."""
    if v is None:
        return b"\x00"
    if pa.types.is_dictionary(t):
        return value(t.value_type, v)
    return b"\x01" + body(t, v)


def body(t, v):
    if pa.types.is_boolean(t):
        return bytes([1 if v else 0])
    if pa.types.is_integer(t):
        return v.to_bytes(t.bit_width // 8, "little", signed=pa.types.is_signed_integer(t))
    if t == pa.float16():
        return struct.pack("<e", float(v))
    if t == pa.float32():
        return struct.pack("<f", v)
    if t == pa.float64():
        return struct.pack("<d", v)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return string(v.encode())
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return string(v)
    if pa.types.is_date32(t):
        return signed((v - datetime.date(1970, 1, 1)).days, 4)
    if pa.types.is_time(t) or pa.types.is_timestamp(t) or pa.types.is_duration(t):
        # `v` is the stored integer (the column was cast to int64 first).
        width = 8 if pa.types.is_time(t) else 16
        return signed(v * UNIT[t.unit], width)
    if pa.types.is_decimal(t):
        unscaled = int(v.scaleb(t.scale, context=decimal.Context(prec=100)))
        return signed(unscaled, 32)
    if pa.types.is_map(t):
        out = u64(len(v))
        for k, x in v:
            out += b"\x01" + value(t.key_type, k) + value(t.item_type, x)
        return out
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return u64(len(v)) + b"".join(value(t.value_type, x) for x in v)
    if pa.types.is_struct(t):
        return b"".join(value(t.field(i).type, v[t.field(i).name]) for i in range(t.num_fields))
    raise ValueError(f"no encoding for {t}")


def python_values(column):
    """The column's values as Python objects; times, timestamps and
    durations as their stored integers."""
    t = column.type
    if pa.types.is_time32(t):
        column = column.cast(pa.int32())
    elif pa.types.is_timestamp(t) or pa.types.is_time64(t) or pa.types.is_duration(t):
        column = column.cast(pa.int64())
    return column.to_pylist()


def stream(table):
    out = bytearray(MAGIC)
    out += u64(table.num_columns)
    for f in table.schema:
        out += string(f.name.encode()) + type_code(f.type)
    columns = [python_values(table.column(i)) for i in range(table.num_columns)]
    types = [f.type for f in table.schema]
    for r in range(table.num_rows):
        for t, values in zip(types, columns):
            out += value(t, values[r])
    return bytes(out)


def cases():
    n = 2500
    text = pa.table(
        {
            "id": pa.array(range(n), pa.int64()),
            "text": [("row %d " % i) * (i % 9) + "é🤗" * (i % 2) for i in range(n)],
            "label": pa.array([["neg", "pos", None][i % 3] for i in range(n)]).dictionary_encode(),
            "score": [None if i % 11 == 0 else i / 7 for i in range(n)],
            "ok": [i % 5 != 0 for i in range(n)],
        }
    )
    yield "text", text, [
        ("default.parquet", lambda p, t: pq.write_table(t, p)),
        (
            "small_groups_zstd_plain.parquet",
            lambda p, t: pq.write_table(
                t,
                p,
                row_group_size=97,
                compression="zstd",
                use_dictionary=False,
                write_statistics=False,
                data_page_size=512,
            ),
        ),
        (
            "gzip_v1_pages_v2.parquet",
            lambda p, t: pq.write_table(
                t, p, row_group_size=1000, compression="gzip", version="1.0", data_page_version="2.0"
            ),
        ),
        ("lz4_no_stats.parquet", lambda p, t: pq.write_table(t, p, compression="lz4", write_statistics=False)),
        (
            "uncompressed_large_string.parquet",
            lambda p, t: pq.write_table(
                t.cast(
                    pa.schema(
                        [
                            ("id", pa.int64()),
                            ("text", pa.large_string()),
                            ("label", pa.string()),
                            ("score", pa.float64()),
                            ("ok", pa.bool_()),
                        ]
                    )
                ),
                p,
                compression="none",
            ),
        ),
        (
            "metadata.parquet",
            lambda p, t: pq.write_table(t.replace_schema_metadata({"huggingface": '{"info": 1}'}), p),
        ),
        ("file.feather", lambda p, t: feather.write_feather(t, p, compression="uncompressed")),
        ("zstd.arrow", lambda p, t: feather.write_feather(t, p, compression="zstd")),
        ("stream.arrow", write_stream),
    ]

    types = pa.table(
        {
            "i8": pa.array([-128, 0, None, 127], pa.int8()),
            "i16": pa.array([-32768, 1, 2, None], pa.int16()),
            "i32": pa.array([None, -1, 2**31 - 1, 0], pa.int32()),
            "u8": pa.array([0, 255, None, 1], pa.uint8()),
            "u16": pa.array([65535, 0, 1, None], pa.uint16()),
            "u32": pa.array([2**32 - 1, None, 0, 7], pa.uint32()),
            "u64": pa.array([2**64 - 1, 0, None, 1], pa.uint64()),
            "f16": pa.array([1.5, -0.0, None, 65504.0], pa.float16()),
            "f32": pa.array([0.1, float("inf"), None, -2.5], pa.float32()),
            "f64": pa.array([0.1, -0.0, float("-inf"), None], pa.float64()),
            "s": pa.array(["", "a", None, "ünï"], pa.string()),
            "b": pa.array([b"", b"\x00\xff", None, b"x"], pa.binary()),
            "fb": pa.array([b"ab", b"cd", None, b"\x00\x00"], pa.binary(2)),
            "null": pa.array([None] * 4, pa.null()),
            "d32": pa.array([datetime.date(1970, 1, 1), datetime.date(1900, 3, 1), None, datetime.date(2026, 12, 3)]),
            "ts_s": pa.array([0, -1, None, 1700000000], pa.timestamp("s")),
            "ts_ms_utc": pa.array([0, 1, None, 1700000000123], pa.timestamp("ms", tz="UTC")),
            "ts_us": pa.array([0, 1, None, -5], pa.timestamp("us")),
            "ts_ns_tz": pa.array([0, 1, None, 5], pa.timestamp("ns", tz="Europe/Paris")),
            "t32": pa.array([0, 1, None, 86399], pa.time32("s")),
            "t64": pa.array([0, 1, None, 86399999999], pa.time64("us")),
            "dur": pa.array([0, -1, None, 10**12], pa.duration("ms")),
            "dec": pa.array(
                [decimal.Decimal("1.23"), decimal.Decimal("-0.01"), None, decimal.Decimal("99999.99")],
                pa.decimal128(7, 2),
            ),
            "dec256": pa.array(
                [decimal.Decimal("-1"), decimal.Decimal("0"), None, decimal.Decimal("123456789012345678901234567890")],
                pa.decimal256(40, 0),
            ),
            "list": pa.array([[1, 2], [], None, [None, 3]], pa.list_(pa.int64())),
            "list_s": pa.array([["a"], ["b", None], [], None], pa.large_list(pa.string())),
            "nested": pa.array([[[1], []], None, [[None]], []], pa.list_(pa.list_(pa.int32()))),
            "st": pa.array(
                [{"x": 1, "y": "a"}, {"x": None, "y": "b"}, None, {"x": 3, "y": None}],
                pa.struct([("x", pa.int64()), ("y", pa.string())]),
            ),
            "st_list": pa.array(
                [{"tags": ["a", "b"], "n": 1.0}, None, {"tags": [], "n": None}, {"tags": None, "n": 2.0}],
                pa.struct([("tags", pa.list_(pa.string())), ("n", pa.float64())]),
            ),
            "map": pa.array(
                [[("a", 1), ("b", None)], [], None, [("z", 26)]],
                pa.map_(pa.string(), pa.int64()),
            ),
            "dict_s": pa.array(["x", "y", None, "x"]).dictionary_encode(),
        }
    )
    yield "types", types, [
        ("default.parquet", lambda p, t: pq.write_table(t, p)),
        ("plain_one_row_groups.parquet", lambda p, t: pq.write_table(t, p, row_group_size=1, use_dictionary=False)),
        ("file.arrow", lambda p, t: feather.write_feather(t, p, compression="uncompressed")),
        ("stream.arrow", write_stream),
    ]

    empty = pa.table({"a": pa.array([], pa.int64()), "b": pa.array([], pa.string())})
    yield "empty", empty, [
        ("default.parquet", lambda p, t: pq.write_table(t, p)),
        ("stream.arrow", write_stream),
    ]

    renamed = text.rename_columns(["id", "body", "label", "score", "ok"])
    yield "renamed", renamed, [("default.parquet", lambda p, t: pq.write_table(t, p))]

    reordered = text.take(pa.array(list(range(n - 1, -1, -1))))
    yield "reordered", reordered, [("default.parquet", lambda p, t: pq.write_table(t, p))]


def write_stream(path, table):
    with pa.OSFile(path, "wb") as sink:
        with pa.ipc.new_stream(sink, table.schema) as writer:
            for batch in table.to_batches(max_chunksize=300):
                writer.write_batch(batch)


def main():
    expected = {}
    for case, table, writers in cases():
        d = os.path.join(here, case)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        want = None
        for name, write in writers:
            path = os.path.join(d, name)
            write(path, table)
            # Computed from what pyarrow reads back, file by file: every
            # writer's output must agree, or the case is wrong.
            if name.endswith(".parquet"):
                back = pq.read_table(path)
            else:
                with pa.memory_map(path) as source:
                    try:
                        back = pa.ipc.open_file(source).read_all()
                    except pa.ArrowInvalid:
                        source.seek(0)
                        back = pa.ipc.open_stream(source).read_all()
            got = {"rows": back.num_rows, "rows_hash": blake3.blake3(stream(back)).hexdigest()}
            if want is None:
                want = got
            assert got == want, (case, name, got, want)
        expected[case] = dict(want, files=[name for name, _ in writers])
    # Different tables must differ.
    hashes = [e["rows_hash"] for e in expected.values()]
    assert len(set(hashes)) == len(hashes), hashes
    with open(os.path.join(here, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
