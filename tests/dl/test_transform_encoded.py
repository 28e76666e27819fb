"""DataInfo.transform on a chunk's still-encoded columns (framedata.ChunkColumns, the prediction
path) gives the same float32 inputs, to the bit, as on the decoded columns, for every numeric
encoding a chunk stores (const, uint8 / int8 / int16 / int32 with offsets and NA sentinels,
float32, float64), with and without missing_values_handling=Skip and standardize, in either
matrix order."""

import numpy as np
import pytest

from h2ocloud.dl.datainfo import DataInfo
from h2ocloud.frame.chunk import Chunk, encode_column
from h2ocloud.frame.header import FrameHeader
from h2ocloud.node.tasks import framedata

N = 300


def _columns() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    nan = np.nan
    cols = {
        "u1": rng.integers(0, 255, N).astype(float),  # uint8, no NA
        "u1na": np.where(rng.random(N) < 0.1, nan, rng.integers(0, 200, N)),  # uint8, sentinel 255
        "i1": rng.integers(-100, 100, N).astype(float),  # int8
        "u1off": rng.integers(1000, 1200, N).astype(float),  # uint8 with an offset
        "i2": np.where(rng.random(N) < 0.05, nan, rng.integers(-30000, 30000, N)),  # int16 + NA
        "i4": rng.integers(-(2**30), 2**30, N).astype(float),  # int32
        "f4": rng.standard_normal(N).astype(np.float32).astype(float),  # float32 exact
        "f8": np.where(rng.random(N) < 0.1, nan, rng.standard_normal(N)),  # float64 + NaN
        "signed0": np.where(rng.random(N) < 0.5, -0.0, 0.5),  # -0.0 must stay -0.0
        "const": np.full(N, 3.0),  # const, dropped in training unless ignore_const_cols=False
        "allna": np.full(N, nan),  # const NA
        "label": rng.integers(0, 2, N).astype(float),
    }
    return cols


def _frame(cols: dict[str, np.ndarray], train_cols: dict[str, np.ndarray]) -> tuple[FrameHeader, Chunk, list]:
    names = list(cols)
    chunk = Chunk(names, [encode_column(cols[n], "numeric") for n in names], N)
    stats = []
    for n in names:
        v = train_cols[n][~np.isnan(train_cols[n])]
        stats.append({"mean": float(v.mean()) if v.size else np.nan,
                      "sigma": float(v.std(ddof=1)) if v.size > 1 else np.nan,
                      "min": float(v.min()) if v.size else np.nan,
                      "max": float(v.max()) if v.size else np.nan,
                      "missing": int(np.isnan(train_cols[n]).sum())})
    header = FrameHeader("f", names, ["numeric"] * len(names), [None] * len(names), N, [N], stats)
    return header, chunk, framedata.metas(header)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("params", [
    {},
    {"missing_values_handling": "Skip"},
    {"standardize": False},
    {"ignore_const_cols": False},
])
def test_encoded_chunk_transform_is_bit_identical(params, order):
    cols = _columns()
    header, chunk, metas = _frame(cols, cols)
    kinds = {c.meta.get("dtype", c.meta["enc"]) for c in chunk.columns}
    assert {"u1", "i1", "i2", "i4", "f4", "f8", "const"} <= kinds
    info = DataInfo.build(metas, None, "label", params)
    decoded = info.transform(metas, framedata.chunk_columns(header, chunk))
    encoded = info.transform(metas, framedata.ChunkColumns(header, chunk, info.model_columns), order=order)
    assert encoded.dtype == np.float32
    assert encoded.flags.c_contiguous if order == "C" else encoded.flags.f_contiguous
    assert np.array_equal(decoded.view(np.uint32), np.ascontiguousarray(encoded).view(np.uint32))


def test_standardized_inputs_are_h2os_arithmetic():
    """(x - mean) * (1 / sigma) in float64, then float32: DataInfo's _normSub / _normMul; the
    mean where a value is missing (a 0 input)."""
    cols = _columns()
    header, chunk, metas = _frame(cols, cols)
    info = DataInfo.build(metas, None, "label", {})
    X = info.transform(metas, framedata.ChunkColumns(header, chunk, info.model_columns), order="F")
    for name in ("u1", "u1na", "u1off", "i2", "f8"):
        st = header.stats[header.col_index(name)]
        want = ((cols[name] - st["mean"]) * (1.0 / st["sigma"])).astype(np.float32)
        want[np.isnan(want)] = 0.0
        got = X[:, info.input_names.index(name)]
        assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), name


def test_an_unknown_matrix_order_is_refused():
    cols = _columns()
    header, chunk, metas = _frame(cols, cols)
    info = DataInfo.build(metas, None, "label", {})
    with pytest.raises(ValueError, match="order must be 'C' or 'F'"):
        info.transform(metas, framedata.chunk_columns(header, chunk), order="K")


def test_encoded_chunk_transform_refuses_a_missing_column():
    cols = _columns()
    header, chunk, metas = _frame(cols, cols)
    info = DataInfo.build(metas, None, "label", {})
    names = [n for n in header.names if n != "f8"]
    with pytest.raises(ValueError, match="'f8' .* missing from the frame"):
        info.transform(metas, framedata.ChunkColumns(header, chunk, names))


def test_a_chunk_keeps_its_standardize_plan_and_still_checks_the_names():
    from h2ocloud.frame.standardize import StandardizePlan, standardize_into

    cols = _columns()
    header, chunk, metas = _frame(cols, cols)
    info = DataInfo.build(metas, None, "label", {})
    first = info.transform(metas, framedata.ChunkColumns(header, chunk, info.model_columns), order="F")
    plans = [v for k, v in chunk.derived.items() if k[0] == "standardize"]
    assert len(plans) == 1 and isinstance(plans[0], StandardizePlan)
    again = info.transform(metas, framedata.ChunkColumns(header, chunk, info.model_columns), order="F")
    assert np.array_equal(first.view(np.uint32), again.view(np.uint32))
    assert [v for k, v in chunk.derived.items() if k[0] == "standardize"] == plans  # reused
    # Columns a reader may not see stay refused although the chunk has a plan naming them.
    narrow = framedata.ChunkColumns(header, chunk, [n for n in info.model_columns if n != "f8"])
    with pytest.raises(ValueError, match="'f8' .* missing from the frame"):
        info.transform(metas, narrow)
    # A plan is for its chunk's row count.
    with pytest.raises(ValueError, match=f"a plan of {N} rows for 3 rows"):
        standardize_into(plans[0], np.zeros(5), np.ones(5), np.zeros(5), np.empty((3, 5), np.float32, order="F"))
