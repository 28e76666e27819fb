"""Column-chunk compression, as H2O stores a frame's chunks.

Each column of a chunk is kept in the smallest *exact* representation (H2O's C0/C1/C2/C4/C8
chunk family):

=========  ===========================================================================
``const``  every value equal (or every value missing): no buffer at all
``int``    whole numbers as uint8 / int8 / int16 / int32, ``value = stored + offset``;
           when the chunk has NAs one value of the type is the NA sentinel
``float``  float32 when every value round-trips exactly, else float64; NaN is NA
``enum``   factor codes as uint8 / int16 / int32 against the chunk's own *local* domain
           (sorted); ``decode_column(enc, global_domain)`` maps them to the frame's domain
``str``    UTF-8 bytes + int32 offsets, an Arrow-style validity bitmap only with NAs
=========  ===========================================================================

A chunk travels as ``(meta: JSON-able dict, buffers: list[bytes])`` — no pickle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from h2ocloud.frame._kernels import cast_rows, scan_block

NUMERIC, ENUM, STRING = "numeric", "enum", "string"
COLUMN_TYPES = (NUMERIC, ENUM, STRING)

# Integer encodings: dtype -> (lowest storable, highest storable, NA sentinel).
# Unsigned bytes first (MNIST pixels 0..255 fit with no offset); the NA sentinel is taken
# from the top of uint8 and the bottom of the signed types, as H2O's C1/C2/C4 chunks do.
_INT_KINDS: dict[str, tuple[int, int, int]] = {
    "u1": (0, 255, 255),
    "i1": (-128, 127, -128),
    "i2": (-32768, 32767, -32768),
    "i4": (-(2**31), 2**31 - 1, -(2**31)),
}
# (dtype, with offset?) from narrowest to widest; no offset preferred at equal width
# (int8 with an offset would never beat uint8 with an offset).
_INT_PLAN = (("u1", False), ("i1", False), ("u1", True), ("i2", False), ("i2", True),
             ("i4", False), ("i4", True))


@dataclass
class EncodedColumn:
    """One column of one chunk: JSON-able ``meta`` plus raw ``buffers``.

    ``meta`` always has ``ctype`` (numeric/enum/string), ``enc`` (the encoding name) and ``n``
    (row count); the rest depends on the encoding (dtype, offset, na sentinel, domain, ...).
    """

    meta: dict[str, Any]
    buffers: list[bytes | np.ndarray] = field(default_factory=list)

    @property
    def nbytes(self) -> int:
        """Stored bytes of the buffers (meta not counted)."""
        return sum(_nbytes(b) for b in self.buffers)

    @property
    def ctype(self) -> str:
        """The column type: numeric, enum or string."""
        return self.meta["ctype"]

    def __len__(self) -> int:
        return int(self.meta["n"])


def _nbytes(buf: bytes | np.ndarray) -> int:
    return int(buf.nbytes) if isinstance(buf, np.ndarray) else len(buf)


def _as_array(buf: bytes | np.ndarray, dtype: str) -> np.ndarray:
    """A 1-D view of a buffer as ``dtype`` (zero copy for bytes received off the wire)."""
    if isinstance(buf, np.ndarray):
        if buf.dtype == np.dtype(dtype):
            return buf
        return np.ascontiguousarray(buf).view(dtype)
    return np.frombuffer(buf, dtype=dtype)


# --------------------------------------------------------------------------- numeric


def scan_numeric(x: np.ndarray) -> dict[str, np.ndarray]:
    """One pass over a (columns x rows) float64 block: count (non-NA), min, max, mean, m2,
    zeros, whole (all finite whole numbers), f32 (all exact in float32) per column."""
    x = np.asarray(x, dtype=np.float64)  # the kernel takes strided views too
    keys = ("count", "min", "max", "mean", "m2", "zeros", "whole", "f32")
    return dict(zip(keys, scan_block(x), strict=True))


def encode_numeric_block(
    x: np.ndarray, scan: dict[str, np.ndarray] | None = None
) -> list[EncodedColumn]:
    """Encode each row of a 2-D float64 block ``x`` (one row per column, NaN = NA).

    The choice of encoding is made for all columns at once from one scan (``scan_numeric``;
    pass it when you have it): a chunk of MNIST has 785 columns, and a Python loop of numpy
    calls per column would dominate the parse time.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError("encode_numeric_block expects a 2-D array (columns x rows)")
    k, n = x.shape
    if scan is None:
        scan = scan_numeric(x)
    out: list[EncodedColumn | None] = [None] * k
    count, lo, hi = scan["count"], scan["min"], scan["max"]
    nas = n - count
    has_na = nas > 0
    # Constant columns: all NA, or all equal with no NA.
    const = (count == 0) | (~has_na & (lo == hi))
    for j in np.flatnonzero(const):
        value = None if count[j] == 0 else float(lo[j])
        out[j] = EncodedColumn({"ctype": NUMERIC, "enc": "const", "n": n, "value": value})
    whole_idx = np.flatnonzero(~const & scan["whole"])
    if whole_idx.size:
        _encode_ints(x, lo, hi, has_na, scan["f32"], whole_idx, out)
    float_idx = np.flatnonzero(~const & ~scan["whole"])
    if float_idx.size:
        _encode_floats(x, scan["f32"], float_idx, out)
    return out  # type: ignore[return-value]


def _encode_ints(
    x: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    has_na: np.ndarray,
    f32ok: np.ndarray,
    idx: np.ndarray,
    out: list[EncodedColumn | None],
) -> None:
    """Whole-number columns: the narrowest integer type (see _INT_PLAN), one cast per type."""
    n = x.shape[1]
    todo = np.ones(idx.size, dtype=bool)
    na_j = has_na[idx]
    for dtype, use_offset in _INT_PLAN:
        tmin, tmax, sentinel = _INT_KINDS[dtype]
        # The sentinel takes one value of the range when the column has NAs.
        vmin = np.where(na_j & (sentinel == tmin), tmin + 1, tmin)
        vmax = np.where(na_j & (sentinel == tmax), tmax - 1, tmax)
        if use_offset:
            fits = todo & ((hi[idx] - lo[idx]) <= (vmax - vmin))
            offsets = np.where(fits, lo[idx] - vmin, 0.0)
        else:
            fits = todo & (lo[idx] >= vmin) & (hi[idx] <= vmax)
            offsets = np.zeros(idx.size)
        if not fits.any():
            continue
        pos = np.flatnonzero(fits)
        cols = idx[pos]
        stored = np.empty((cols.size, n), dtype=dtype)
        cast_rows(x, cols.astype(np.int64), offsets[pos].astype(np.float64), sentinel, stored)
        for r, (j, p) in enumerate(zip(cols, pos, strict=True)):
            meta = {
                "ctype": NUMERIC,
                "enc": "int",
                "n": n,
                "dtype": dtype,
                "offset": int(offsets[p]),
                "na": int(sentinel) if has_na[j] else None,
            }
            out[j] = EncodedColumn(meta, [stored[r]])
        todo &= ~fits
        if not todo.any():
            return
    # Spans beyond int32: float64 holds any whole number up to 2**53 exactly.
    _encode_floats(x, f32ok, idx[todo], out)


def _encode_floats(
    x: np.ndarray, f32ok: np.ndarray, idx: np.ndarray, out: list[EncodedColumn | None]
) -> None:
    """Real-valued columns: float32 when it round-trips exactly (``f32ok``), else float64."""
    n = x.shape[1]
    for j in idx:
        if f32ok[j]:
            meta, buf = {"ctype": NUMERIC, "enc": "float", "n": n, "dtype": "f4"}, x[j].astype("f4")
        else:
            meta, buf = {"ctype": NUMERIC, "enc": "float", "n": n, "dtype": "f8"}, x[j].copy()
        out[j] = EncodedColumn(meta, [buf])


def _decode_numeric(enc: EncodedColumn) -> np.ndarray:
    m = enc.meta
    n = int(m["n"])
    kind = m["enc"]
    if kind == "const":
        value = m.get("value")
        return np.full(n, np.nan if value is None else float(value))
    if kind == "float":
        return _as_array(enc.buffers[0], m["dtype"]).astype(np.float64)
    if kind == "int":
        stored = _as_array(enc.buffers[0], m["dtype"])
        values = stored.astype(np.float64)
        if m.get("offset"):
            values += m["offset"]
        if m.get("na") is not None:
            values[stored == m["na"]] = np.nan
        return values
    raise ValueError(f"unknown numeric encoding {kind!r}")


# --------------------------------------------------------------------------- enum


def encode_enum_codes(codes: np.ndarray, domain: Sequence[str]) -> EncodedColumn:
    """Encode factor codes (-1 = NA) against a chunk-local ``domain`` list."""
    codes = np.asarray(codes)
    n = codes.size
    domain = [str(d) for d in domain]
    base = {"ctype": ENUM, "n": n, "domain": domain}
    if n and codes.min() == codes.max():
        return EncodedColumn({**base, "enc": "const", "code": int(codes[0])})
    nlev = len(domain)
    if nlev <= 255:  # 255 is the NA sentinel of uint8 codes
        stored = np.where(codes < 0, 255, codes).astype(np.uint8)
        return EncodedColumn({**base, "enc": "enum", "dtype": "u1", "na": 255}, [stored])
    dtype = "i2" if nlev <= 32767 else "i4"
    return EncodedColumn({**base, "enc": "enum", "dtype": dtype, "na": -1}, [codes.astype(dtype)])


def enum_from_arrow(arr: pa.Array | pa.ChunkedArray) -> EncodedColumn:
    """Encode a string (or dictionary) Arrow array as factor codes with a sorted local domain."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if not pa.types.is_dictionary(arr.type):
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            arr = pc.cast(arr, pa.string())
        arr = arr.dictionary_encode()
    local = arr.dictionary.to_pylist()
    idx = arr.indices.to_numpy(zero_copy_only=False)
    if arr.null_count:
        idx = np.where(arr.is_null().to_numpy(zero_copy_only=False), -1, idx)
    # The Arrow dictionary is in order of appearance (and may hold unused or NA-ish values);
    # sort it so local codes are monotone in the global, lexicographically sorted domain.
    order = sorted(range(len(local)), key=local.__getitem__)
    rank = np.empty(len(local) + 1, dtype=np.int32)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(len(local), dtype=np.int32)
    rank[-1] = -1  # so idx -1 (NA) maps to -1
    codes = rank[np.asarray(idx, dtype=np.int64)]
    return encode_enum_codes(codes, [local[i] for i in order])


def _decode_enum(enc: EncodedColumn, global_domain: Sequence[str] | None) -> np.ndarray:
    m = enc.meta
    n = int(m["n"])
    if m["enc"] == "const":
        local = np.full(n, int(m["code"]), dtype=np.int32)
    else:
        stored = _as_array(enc.buffers[0], m["dtype"])
        local = stored.astype(np.int32)
        if m["dtype"] == "u1":
            local[stored == 255] = -1
    if global_domain is None:
        return local
    lut = enum_lookup(m["domain"], global_domain)
    return lut[local]  # index -1 picks lut[-1] == -1: NA stays NA


def enum_lookup(local_domain: Sequence[str], global_domain: Sequence[str]) -> np.ndarray:
    """Table mapping local codes to global codes; its last entry (-1) serves NA (index -1)."""
    pos = {lev: i for i, lev in enumerate(global_domain)}
    try:
        lut = [pos[lev] for lev in local_domain]
    except KeyError as exc:
        raise ValueError(f"level {exc.args[0]!r} of a chunk is not in the frame's domain") from None
    return np.asarray([*lut, -1], dtype=np.int32)


# --------------------------------------------------------------------------- string


def string_from_arrow(arr: pa.Array | pa.ChunkedArray) -> EncodedColumn:
    """Encode an Arrow string array as UTF-8 bytes + int32 offsets (+ validity when NAs)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if not pa.types.is_string(arr.type):
        arr = pc.cast(arr, pa.string())
    n = len(arr)
    # Re-base offsets: a sliced Arrow array shares its parent's buffers.
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + n + 1]
    start, end = (int(offsets[0]), int(offsets[-1])) if n else (0, 0)
    data_buf = arr.buffers()[2]
    data = data_buf.to_pybytes()[start:end] if data_buf is not None else b""
    meta = {"ctype": STRING, "enc": "str", "n": n, "nulls": bool(arr.null_count)}
    buffers: list[bytes | np.ndarray] = [(offsets - start).astype(np.int32), data]
    if arr.null_count:
        valid = arr.is_valid().to_numpy(zero_copy_only=False)
        buffers.append(np.packbits(valid, bitorder="little"))  # Arrow's bit order
    return EncodedColumn(meta, buffers)


def _decode_string(enc: EncodedColumn) -> np.ndarray:
    return _string_arrow(enc).to_numpy(zero_copy_only=False)


def _string_arrow(enc: EncodedColumn) -> pa.Array:
    m = enc.meta
    n = int(m["n"])
    offsets = _as_array(enc.buffers[0], "i4")
    data = enc.buffers[1]
    data = data.tobytes() if isinstance(data, np.ndarray) else bytes(data)
    validity = None
    if m.get("nulls"):
        validity = pa.py_buffer(_as_array(enc.buffers[2], "u1").tobytes())
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data), validity
    )


# --------------------------------------------------------------------------- public API


def encode_column(values: np.ndarray | Sequence[Any], ctype: str) -> EncodedColumn:
    """Encode one column in its smallest exact representation.

    ``ctype`` is numeric (values convertible to float64, NaN = NA), enum (strings, None/NaN =
    NA; the local domain is the sorted distinct values) or string.
    """
    if ctype == NUMERIC:
        return encode_numeric_block(np.asarray(values, dtype=np.float64).reshape(1, -1))[0]
    if ctype in (ENUM, STRING):
        arr = _to_arrow_strings(values)
        return enum_from_arrow(arr) if ctype == ENUM else string_from_arrow(arr)
    raise ValueError(f"unknown column type {ctype!r}; expected one of {COLUMN_TYPES}")


def _to_arrow_strings(values: np.ndarray | Sequence[Any]) -> pa.Array:
    arr = np.asarray(values)
    if arr.dtype.kind in "fiub":
        # Numbers used as factor levels print as H2O does: whole numbers without ".0".
        floats = arr.astype(np.float64)
        items = [None if np.isnan(v) else (str(int(v)) if v == int(v) else repr(v)) for v in floats]
        return pa.array(items, type=pa.string())
    return pa.array(list(arr), type=pa.string(), from_pandas=True)


def decode_column(enc: EncodedColumn, global_domain: Sequence[str] | None = None) -> np.ndarray:
    """Decode a column: numeric -> float64 with NaN; enum -> int32 codes (-1 = NA) in the
    global domain when given (else the chunk's local domain); string -> object array (None=NA)."""
    ctype = enc.meta["ctype"]
    if ctype == NUMERIC:
        return _decode_numeric(enc)
    if ctype == ENUM:
        return _decode_enum(enc, global_domain)
    if ctype == STRING:
        return _decode_string(enc)
    raise ValueError(f"unknown column type {ctype!r}")


# --------------------------------------------------------------------------- chunk


def name_position(owner: Any, names: list[str], name: str) -> int | None:
    """The first position of `name` in `names` (list.index's answer), or None.

    Frames with many columns (MNIST: 785) look every column up by name for every chunk, and
    list.index made that quadratic. The map is kept on `owner` and rebuilt whenever it does not
    match the list as it is now (another list, another length, or a renamed entry), so code that
    edits `names` in place still gets the right answer.
    """
    cached = owner.__dict__.get("_name_positions")
    if cached is None or cached[0] is not names or cached[1] != len(names):
        cached = owner.__dict__["_name_positions"] = (names, len(names), _positions(names))
    j = cached[2].get(name)
    if j is None or names[j] != name:  # a stale entry (renamed in place): rebuild once
        cached = owner.__dict__["_name_positions"] = (names, len(names), _positions(names))
        j = cached[2].get(name)
    return j


def _positions(names: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, n in enumerate(names):
        out.setdefault(n, i)
    return out


@dataclass
class Chunk:
    """The columns of one row range of a frame.

    ``row_offset`` is the global index of the chunk's first row (split_rows draws its
    per-row random numbers from it, so a split does not depend on where chunks live).
    """

    names: list[str]
    columns: list[EncodedColumn]
    nrows: int
    row_offset: int = 0
    # What readers work out from the columns' metadata and keep while the chunk lives (a chunk
    # read from the DKV lives with its stored value: framedata.stored_chunk), keyed by reader;
    # e.g. the standardize plan of a model's columns. Not part of the chunk's data.
    derived: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.names) != len(self.columns):
            raise ValueError("a chunk needs one name per column")
        for c in self.columns:
            if len(c) != self.nrows:
                raise ValueError(f"column of {len(c)} rows in a chunk of {self.nrows} rows")

    @property
    def nbytes(self) -> int:
        """Stored bytes of all columns."""
        return sum(c.nbytes for c in self.columns)

    @property
    def types(self) -> list[str]:
        """Column types (numeric/enum/string)."""
        return [c.ctype for c in self.columns]

    def index(self, name: str) -> int:
        """Position of a column by name."""
        j = name_position(self, self.names, name)
        if j is None:
            raise KeyError(f"no column {name!r} in chunk")
        return j

    def indices(self, names: Sequence[str]) -> list[int]:
        """Positions of columns by name: index's answer for each, from one look at the map
        (a model reads hundreds of a wide frame's columns, for every chunk)."""
        if not names:
            return []
        name_position(self, self.names, names[0])  # the map, (re)built if it is stale
        pos, cols = self.__dict__["_name_positions"][2], self.names
        out = []
        for n in names:
            j = pos.get(n)
            out.append(j if j is not None and cols[j] == n else self.index(n))
        return out

    def column(self, key: int | str, domain: Sequence[str] | None = None) -> np.ndarray:
        """Decoded values of one column (by position or name); see decode_column."""
        i = self.index(key) if isinstance(key, str) else key
        return decode_column(self.columns[i], domain)

    def numeric_matrix(self, keys: Sequence[int | str], dtype: Any = np.float64) -> np.ndarray:
        """Rows x columns matrix of the given numeric columns (NaN = NA)."""
        out = np.empty((self.nrows, len(keys)), dtype=dtype)
        for j, key in enumerate(keys):
            out[:, j] = self.column(key)
        return out

    def to_wire(self) -> tuple[dict[str, Any], list[bytes]]:
        """JSON-able meta and raw byte buffers; the inverse is ``Chunk.from_wire``."""
        cols, buffers = [], []
        for c in self.columns:
            bmeta = []
            for b in c.buffers:
                if isinstance(b, np.ndarray):
                    bmeta.append(b.dtype.str)
                    buffers.append(np.ascontiguousarray(b).tobytes())
                else:
                    bmeta.append("|u1")
                    buffers.append(bytes(b))
            cols.append({**c.meta, "bufs": bmeta})
        meta = {
            "nrows": self.nrows,
            "row_offset": self.row_offset,
            "names": list(self.names),
            "columns": cols,
        }
        return meta, buffers

    @classmethod
    def from_wire(cls, meta: dict[str, Any], buffers: Sequence[bytes]) -> Chunk:
        """Rebuild a chunk from ``to_wire`` output (arrays are zero-copy views of the bytes)."""
        # Per column as little as can be: a wide frame (MNIST: 785 columns) is rebuilt for every
        # map over it, and this loop was a tenth of a prediction. The column keeps the wire's
        # meta dict (its "bufs" entry is ignored) and the raw bytes, which are viewed as arrays
        # where they are read (_as_array; the standardize kernel joins them without any).
        cols, pos = [], 0
        checked: set[str] = set()
        for cm in meta["columns"]:
            kinds = cm.get("bufs", ())
            for kind in kinds:
                if kind not in checked:
                    if np.dtype(kind).hasobject:
                        raise ValueError("object dtype refused in a chunk")
                    checked.add(kind)
            end = pos + len(kinds)
            cols.append(EncodedColumn(cm, list(buffers[pos:end])))
            pos = end
        if pos != len(buffers):
            raise ValueError(f"chunk meta describes {pos} buffers, got {len(buffers)}")
        return cls(list(meta["names"]), cols, int(meta["nrows"]), int(meta.get("row_offset", 0)))

    def take_columns(self, names: Sequence[str]) -> Chunk:
        """A chunk of the named columns (shared buffers, no re-encoding)."""
        idx = [self.index(n) for n in names]
        return Chunk([self.names[i] for i in idx], [self.columns[i] for i in idx], self.nrows,
                     self.row_offset)

    def slice_rows(self, lo: int, hi: int, row_offset: int = 0) -> Chunk:
        """Rows lo..hi-1 as a chunk that keeps every column's encoding: each per-row buffer
        is sliced (a view), nothing is decoded. A rebalance cuts chunks into contiguous pieces,
        and decoding and re-encoding every column (take_rows) was most of its time."""
        if not 0 <= lo <= hi <= self.nrows:
            raise ValueError(f"rows {lo}..{hi} out of range 0..{self.nrows}")
        n = hi - lo
        cols = []
        for c in self.columns:
            m = c.meta
            if m["enc"] == "const":
                cols.append(EncodedColumn({**m, "n": n}))
            elif m["enc"] == "str":
                cols.append(string_from_arrow(_string_arrow(c).slice(lo, n)))
            else:  # int, float, enum: one buffer of one value per row
                cols.append(EncodedColumn({**m, "n": n}, [_as_array(c.buffers[0], m["dtype"])[lo:hi]]))
        return Chunk(list(self.names), cols, n, row_offset)

    def take_rows(self, rows: np.ndarray, row_offset: int = 0) -> Chunk:
        """A chunk of the given row positions, re-encoded (enum columns keep their domain)."""
        rows = np.asarray(rows, dtype=np.int64)
        cols: list[EncodedColumn | None] = [None] * len(self.columns)
        num = [i for i, c in enumerate(self.columns) if c.ctype == NUMERIC]
        if num:
            block = np.empty((len(num), rows.size))
            for r, i in enumerate(num):
                block[r] = self.column(i)[rows]
            for i, enc in zip(num, encode_numeric_block(block), strict=True):
                cols[i] = enc
        for i, c in enumerate(self.columns):
            if c.ctype == ENUM:
                cols[i] = encode_enum_codes(decode_column(c)[rows], c.meta["domain"])
            elif c.ctype == STRING:
                cols[i] = string_from_arrow(pc.take(_string_arrow(c), pa.array(rows)))
        return Chunk(list(self.names), cols, int(rows.size), row_offset)  # type: ignore[arg-type]
