"""Column-chunk encodings: exact round trips and sizes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from h2ocloud.frame import Chunk, decode_column, encode_column
from h2ocloud.frame.chunk import encode_numeric_block

RNG = np.random.default_rng(7)

NUMERIC_CASES = {
    "uint8": (np.arange(256.0), "int", "u1", 1),
    "uint8_na": (np.array([0.0, np.nan, 254.0]), "int", "u1", 1),
    "int8_neg": (np.array([-5.0, 0.0, 5.0, -128.0, 127.0]), "int", "i1", 1),
    "offset_u1": (np.array([1000.0, 1200.0, np.nan]), "int", "u1", 1),
    "int16": (np.array([-300.0, 30000.0, np.nan]), "int", "i2", 2),
    "int32": (np.array([-100000.0, 100000.0, np.nan]), "int", "i4", 4),
    "big_offset": (np.array([1e9, 1e9 + 3]), "int", "u1", 1),
    "f32": (np.array([0.5, -0.25, np.nan, 1e10]), "float", "f4", 4),
    "f64": (np.array([0.1, 0.2, np.nan]), "float", "f8", 8),
    "huge_whole": (np.array([0.0, 2.0**40 + 1]), "float", "f8", 8),
    "const": (np.full(5, 7.5), "const", None, 0),
    "all_na": (np.full(4, np.nan), "const", None, 0),
    "inf": (np.array([np.inf, 1.0, np.nan]), "float", "f4", 4),
}


@pytest.mark.parametrize("name", sorted(NUMERIC_CASES))
def test_numeric_round_trip(name: str) -> None:
    values, enc, dtype, width = NUMERIC_CASES[name]
    col = encode_column(values, "numeric")
    assert col.meta["enc"] == enc
    if dtype:
        assert col.meta["dtype"] == dtype
    assert col.nbytes == width * values.size
    json.dumps(col.meta)  # JSON-able
    out = decode_column(col)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, values)  # NaN == NaN here


def test_na_marked_only_when_present() -> None:
    assert encode_column(np.array([1.0, 2.0]), "numeric").meta["na"] is None
    assert encode_column(np.array([1.0, np.nan]), "numeric").meta["na"] == 255
    # 0..255 with an NA no longer fits uint8 without an offset trick: still exact
    v = np.append(np.arange(256.0), np.nan)
    col = encode_column(v, "numeric")
    assert col.meta["dtype"] in ("i2", "u1") and col.nbytes <= 2 * v.size
    np.testing.assert_array_equal(decode_column(col), v)


def test_random_block_round_trip() -> None:
    k, n = 40, 500
    block = np.empty((k, n))
    for j in range(k):
        kind = j % 5
        if kind == 0:
            block[j] = RNG.integers(-(2**20), 2**20, n)
        elif kind == 1:
            block[j] = RNG.normal(size=n)
        elif kind == 2:
            block[j] = RNG.normal(size=n).astype(np.float32)
        elif kind == 3:
            block[j] = RNG.integers(0, 3, n) + 77
        else:
            block[j] = RNG.integers(-100, 100, n)
        block[j, RNG.random(n) < 0.1 * (j % 2)] = np.nan
    cols = encode_numeric_block(block)
    for j, col in enumerate(cols):
        np.testing.assert_array_equal(decode_column(col), block[j])
    assert cols[3].meta["dtype"] == "u1" and cols[2].meta["dtype"] == "f4"


def test_enum_round_trip_and_global_mapping() -> None:
    values = np.array(["b", "a", None, "c", "a", np.nan], dtype=object)
    col = encode_column(values, "enum")
    assert col.meta["domain"] == ["a", "b", "c"]
    assert col.nbytes == values.size  # uint8 codes
    np.testing.assert_array_equal(decode_column(col), [1, 0, -1, 2, 0, -1])
    glob = ["0", "a", "b", "bb", "c"]
    np.testing.assert_array_equal(decode_column(col, glob), [2, 1, -1, 4, 1, -1])
    with pytest.raises(ValueError, match="not in the frame's domain"):
        decode_column(col, ["a", "b"])


def test_enum_wide_domain_uses_int16() -> None:
    levels = np.array([f"L{i:04d}" for i in range(1000)], dtype=object)
    values = np.concatenate([levels, [None]])
    col = encode_column(values, "enum")
    assert col.meta["dtype"] == "i2"
    codes = decode_column(col)
    assert codes[-1] == -1
    np.testing.assert_array_equal(np.asarray(col.meta["domain"], dtype=object)[codes[:-1]], levels)


def test_enum_constant_has_no_buffer() -> None:
    col = encode_column(np.array(["x"] * 10, dtype=object), "enum")
    assert col.nbytes == 0
    np.testing.assert_array_equal(decode_column(col, ["w", "x"]), np.ones(10))


@pytest.mark.parametrize("with_na", [False, True])
def test_string_round_trip(with_na: bool) -> None:
    values = ["héllo", "", "wörld ✓", "a,b"] + ([None] if with_na else [])
    col = encode_column(np.array(values, dtype=object), "string")
    assert len(col.buffers) == (3 if with_na else 2)  # validity bitmap only with NAs
    assert list(decode_column(col)) == values


def test_mnist_like_bytes_per_cell() -> None:
    n, k = 2000, 784
    pixels = np.zeros((k, n))
    pixels[100:700] = RNG.integers(0, 256, (600, n))
    pixels[700:] = RNG.integers(0, 2, (84, n)) * 255
    cols = encode_numeric_block(pixels)
    chunk = Chunk([f"C{j + 1}" for j in range(k)], cols, n)
    assert chunk.nbytes / (n * k) <= 1.05
    assert {c.meta["dtype"] for c in cols if c.meta["enc"] == "int"} == {"u1"}


def test_chunk_wire_round_trip_is_pickle_free() -> None:
    names = ["x", "f", "e", "s"]
    cols = [
        encode_column(np.array([1.0, np.nan, 3.0]), "numeric"),
        encode_column(np.array([0.1, 0.2, 0.3]), "numeric"),
        encode_column(np.array(["u", None, "v"], dtype=object), "enum"),
        encode_column(np.array(["p", "q", None], dtype=object), "string"),
    ]
    chunk = Chunk(names, cols, 3, row_offset=42)
    meta, bufs = chunk.to_wire()
    meta = json.loads(json.dumps(meta))  # travels as JSON
    assert all(isinstance(b, bytes) for b in bufs)
    back = Chunk.from_wire(meta, [bytes(b) for b in bufs])
    assert back.row_offset == 42 and back.nrows == 3 and back.names == names
    assert back.nbytes == chunk.nbytes
    np.testing.assert_array_equal(back.column("x"), [1.0, np.nan, 3.0])
    np.testing.assert_array_equal(back.column("f"), [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(back.column("e", ["u", "v"]), [0, -1, 1])
    assert list(back.column("s")) == ["p", "q", None]
    sub = back.take_rows(np.array([2, 0]))
    np.testing.assert_array_equal(sub.column("x"), [3.0, 1.0])
    assert list(sub.column("s")) == [None, "p"]
    np.testing.assert_array_equal(sub.column("e", ["u", "v"]), [1, 0])
    only = back.take_columns(["s", "x"])
    assert only.names == ["s", "x"] and only.columns[1] is back.columns[0]


def test_chunk_rejects_mismatched_columns() -> None:
    with pytest.raises(ValueError):
        Chunk(["a"], [encode_column(np.arange(3.0), "numeric")], 4)


@pytest.mark.parametrize("lo,hi", [(0, 6), (0, 2), (2, 5), (5, 6), (3, 3)])
def test_slice_rows_keeps_encodings_and_values_and_survives_the_wire(lo: int, hi: int) -> None:
    cases = {name: v for name, (v, *_rest) in NUMERIC_CASES.items()}
    numeric = {n: np.resize(v, 6) for n, v in cases.items()}
    enums = {"e": np.array(["u", None, "v", "u", "w", "v"], dtype=object),
             "e_const": np.array(["x"] * 6, dtype=object),
             "e_wide": np.array([f"l{i}" for i in (0, 300, 5, 299, 1, 7)], dtype=object)}
    strings = {"s": np.array(["héllo", None, "", "a,b", "wörld ✓", "z"], dtype=object)}
    names = [*numeric, *enums, *strings]
    cols = ([encode_column(v, "numeric") for v in numeric.values()]
            + [encode_column(v, "enum") for v in enums.values()]
            + [encode_column(v, "string") for v in strings.values()])
    chunk = Chunk(names, cols, 6, row_offset=100)
    part = chunk.slice_rows(lo, hi, row_offset=100 + lo)
    assert part.nrows == hi - lo and part.row_offset == 100 + lo and part.names == names
    for c, p in zip(chunk.columns, part.columns, strict=True):
        assert p.meta["enc"] == c.meta["enc"] and p.meta.get("dtype") == c.meta.get("dtype")
    meta, bufs = part.to_wire()
    back = Chunk.from_wire(json.loads(json.dumps(meta)), [bytes(b) for b in bufs])
    for got in (part, back):
        for n in numeric:
            np.testing.assert_array_equal(got.column(n), chunk.column(n)[lo:hi])
        for n in enums:
            domain = sorted({x for x in enums[n] if x is not None})
            np.testing.assert_array_equal(got.column(n, domain), chunk.column(n, domain)[lo:hi])
        assert list(got.column("s")) == list(chunk.column("s"))[lo:hi]
    with pytest.raises(ValueError, match="out of range"):
        chunk.slice_rows(4, 7)


def test_a_stored_chunk_is_decoded_once_and_kept_on_its_value():
    from h2ocloud.node.store.local import Value
    from h2ocloud.node.tasks.framedata import stored_chunk

    chunk = Chunk(["a", "b"], [encode_column(np.arange(5.0), "numeric"),
                               encode_column(np.array([1.5, np.nan, 2, 3, 4]), "numeric")], 5)
    meta, blobs = chunk.to_wire()
    v = Value("chunk", meta, blobs)
    first = stored_chunk(v)
    assert stored_chunk(v) is first  # every later map reads the kept one
    assert np.array_equal(first.column("a"), np.arange(5.0))
    # Kept beside the data, not part of it: equality and the byte count ignore it.
    assert v == Value("chunk", meta, blobs, v.stamp) and v.nbytes == sum(len(b) for b in blobs)
    # Another value (the key stored again) is decoded on its own.
    other = Value("chunk", *Chunk(["a"], [encode_column(np.ones(2), "numeric")], 2).to_wire())
    assert stored_chunk(other).names == ["a"] and stored_chunk(v) is first


def test_a_malformed_stored_chunk_raises_on_every_read():
    from h2ocloud.node.store.local import Value
    from h2ocloud.node.tasks.framedata import stored_chunk

    meta, blobs = Chunk(["a"], [encode_column(np.arange(3.0), "numeric")], 3).to_wire()
    v = Value("chunk", meta, blobs + [b"extra"])
    for _ in range(2):
        with pytest.raises(ValueError, match="describes 1 buffers, got 2"):
            stored_chunk(v)
    assert v.decoded is None


def test_a_stored_header_is_parsed_once_and_keeps_its_json_text():
    from h2ocloud.frame.header import FrameHeader
    from h2ocloud.node.store.local import Value
    from h2ocloud.node.tasks.framedata import stored_header

    h = FrameHeader("f.hex", ["a", "b"], ["numeric", "enum"], [None, ["x", "y"]], 3, [3],
                    [{"mean": 1.0, "sigma": 0.5}, {"cardinality": 2}])
    v = Value("frame", h.to_dict())
    first = stored_header(v)
    assert stored_header(v) is first and first == h
    text = first.to_json()
    assert first.to_json() is text  # made once
    assert FrameHeader.from_dict(json.loads(text)) == first
    # The column metadata models read are made once per header too.
    from h2ocloud.node.tasks.framedata import metas

    m = metas(first)
    assert metas(stored_header(v)) is m and [c["name"] for c in m] == ["a", "b"]
    assert m[1]["domain"] == ["x", "y"] and m[0]["sigma"] == 0.5
