"""Arrow columns as the chunk builder wants them, from any typed source.

Numeric columns become Arrow numbers (words read leniently as NA, times as milliseconds),
enum and string columns Arrow strings; a column's own NA strings become nulls. Also turns
in-memory inputs (pandas, dict, numpy) into an Arrow table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from h2ocloud.frame.builder import NUMPY_OF
from h2ocloud.frame.chunk import NUMERIC
from h2ocloud.frame.errors import ParseError
from h2ocloud.frame.setup import NUMBER_RE, ParseSetup


def _lenient_float(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Strings -> float64 where they read as numbers, NA elsewhere (as H2O)."""
    arr = pc.utf8_trim_whitespace(arr)
    ok = pc.match_substring_regex(arr, NUMBER_RE.pattern, ignore_case=True)
    return pc.cast(pc.if_else(ok, arr, pa.scalar(None, pa.string())), pa.float64())


def _typed_column(arr: pa.Array, ctype: str, extra_na: Sequence[str], is_time: bool = False) -> pa.Array:
    """One column as the builder wants it: float64 for numeric, string otherwise; values in
    ``extra_na`` (the column's own NA strings) become null; ``is_time``: text dates become
    milliseconds since the epoch."""
    t = arr.type
    if ctype == NUMERIC and not extra_na and t in NUMPY_OF:
        return arr  # the common case: the builder reads the Arrow buffer as it is
    if pa.types.is_dictionary(t):
        arr = pc.cast(arr, t.value_type)  # decode to plain values
        t = arr.type
    is_text = pa.types.is_string(t) or pa.types.is_large_string(t)
    if extra_na and is_text:
        arr = pc.if_else(pc.is_in(arr, pa.array(list(extra_na), t)), pa.scalar(None, t), arr)
    if ctype == NUMERIC:
        if is_text:
            return _text_dates_as_millis(arr) if is_time else _lenient_float(arr)
        if pa.types.is_temporal(t):
            arr = _time_as_millis(arr)
        elif pa.types.is_decimal(t):
            arr = pc.cast(arr, pa.float64(), safe=False)
        out = pc.cast(arr, pa.float64())
        if extra_na:  # numeric NA strings such as "-999"
            nums = [float(v) for v in extra_na if _is_float(v)]
            if nums:
                out = pc.if_else(pc.is_in(out, pa.array(nums, pa.float64())),
                                 pa.scalar(None, pa.float64()), out)
        return out
    if not is_text:
        arr = _numbers_as_text(arr)
    return pc.cast(arr, pa.string())


def _time_as_millis(arr: pa.Array) -> pa.Array:
    """Dates and times as milliseconds since the epoch, as H2O stores its time columns."""
    try:
        return pc.cast(pc.cast(arr, pa.timestamp("ms")), pa.int64())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        return pc.cast(arr, pa.int64())  # durations and times of day: their own unit


# The spellings DATE_RE accepts, as strptime formats (Arrow's strptime takes one- or two-digit
# months and days).
_DATE_FORMATS = [f"%Y{sep}%m{sep}%d{tail}" for sep in "-/"
                 for tail in ("", " %H:%M:%S", "T%H:%M:%S", " %H:%M", "T%H:%M")]


def _text_dates_as_millis(arr: pa.Array) -> pa.Array:
    """Text dates and times as float64 milliseconds since the epoch (UTC); a field in none of
    the date spellings is NA, as a stray word in a numeric column."""
    arr = pc.utf8_trim_whitespace(arr)
    out = pa.nulls(len(arr), pa.timestamp("ms"))
    for fmt in _DATE_FORMATS:
        out = pc.coalesce(out, pc.strptime(arr, format=fmt, unit="ms", error_is_null=True))
    return pc.cast(pc.cast(out, pa.int64()), pa.float64())


def _numbers_as_text(arr: pa.Array) -> pa.Array:
    """Numbers used as factor levels print as H2O does: whole floats without '.0'."""
    if pa.types.is_floating(arr.type):
        x = arr.to_numpy(zero_copy_only=False)
        whole = np.isfinite(x) & (x == np.rint(x))
        if whole.all() or not np.isfinite(x).any():
            return pc.cast(pc.cast(arr, pa.int64(), safe=False), pa.string())
    return pc.cast(arr, pa.string())


def _is_float(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def typed_batch(batch: pa.RecordBatch, setup: ParseSetup) -> pa.RecordBatch:
    times = set(setup.time_columns)
    cols = [
        _typed_column(batch.column(j), setup.column_types[j], setup.na_strings[j], j in times)
        for j in range(setup.ncols)
    ]
    return pa.RecordBatch.from_arrays(cols, names=setup.column_names)


def as_arrow_table(data: Any) -> pa.Table:
    """A pyarrow Table from a Table, RecordBatch, pandas DataFrame, dict of columns or a
    1-/2-D numpy array (columns C1..Cn)."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, np.ndarray):
        arr = data.reshape(-1, 1) if data.ndim == 1 else data
        if arr.ndim != 2:
            raise ParseError("<array>", f"expected a 1-D or 2-D array, got {arr.ndim}-D")
        return pa.table({f"C{j + 1}": _np_column(arr[:, j]) for j in range(arr.shape[1])})
    try:
        import pandas as pd

        if isinstance(data, pd.DataFrame):
            return pa.Table.from_pandas(data, preserve_index=False)
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    if isinstance(data, Mapping):
        return pa.table({str(k): _np_column(np.asarray(v)) if isinstance(v, np.ndarray) else v
                         for k, v in data.items()})
    raise ParseError("<table>", f"cannot parse a {type(data).__name__}")


def _np_column(col: np.ndarray) -> pa.Array:
    if col.dtype.kind in "OUS":
        return pa.array(list(col), type=pa.string(), from_pandas=True)
    return pa.array(col, from_pandas=True)
