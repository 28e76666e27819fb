"""A chunk's numeric columns standardized straight into a float32 matrix, as a model's inputs.

``standardize_into`` gives, for column j of a chunk, ``out[:, j] = float32(z)`` with
``z = (value - mean[j]) * (1 / sigma[j])`` computed in float64 (H2O's DataInfo arithmetic:
``(x - _normSub) * _normMul`` with ``_normMul = 1 / sigma``) and ``fill[j]`` where z is NaN (a
missing value): the same float64 arithmetic, to the bit, as decoding every column to float64
(``decode_column``) and standardizing the block with numpy, which is what DataInfo.transform
does with decoded columns. Done that way a 1,335-row chunk of MNIST made five float64
temporaries of 717 columns and decoded each column in its own numpy calls; here the stored
integers (uint8 pixels) are read once by a Numba kernel per storage type, and only the float32
matrix the network reads is written.

The kernel writes a column at a time, so it wants ``out`` in column-major (Fortran) order:
then each column's loop reads the stored values and writes the output contiguously, with no
branch, and LLVM vectorizes it (0.2 ns a value against 1.8 ns writing a row-major matrix's
columns, a store every row's length apart). Scoring asks DataInfo.transform for that order
(the matrix products read it as fast); a row-major ``out`` (training, which reads a row at a
time) is filled from a column-major copy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from h2ocloud.frame.chunk import NUMERIC, EncodedColumn, _as_array


@njit(cache=True, nogil=True, error_model="numpy")
def _standardize_stored(stored, dst, offset, na, has_na, mean, mul, fill, out, missing):  # pragma: no cover - compiled
    """out[i, dst[j]] = float32((stored[j, i] + offset[j] - mean[j]) * mul[j]) in float64,
    fill[j] where that is NaN or stored[j, i] is the NA sentinel na[j] (when has_na[j]);
    missing[i] set for such rows. ``out`` is column-major."""
    k, n = stored.shape
    for j in range(k):
        mu, s, f = mean[j], mul[j], np.float32(fill[j])
        sentinel, check_na = na[j], has_na[j]
        src, col = stored[j], out[:, dst[j]]
        bad = False
        if offset[j] != 0.0:  # as decode_column: no offset added at all (-0.0 stays -0.0)
            off = offset[j]
            for i in range(n):
                raw = src[i]
                z = (np.float64(raw) + off - mu) * s
                nav = (check_na and raw == sentinel) or z != z
                col[i] = f if nav else np.float32(z)
                bad |= nav
        else:
            for i in range(n):
                raw = src[i]
                z = (np.float64(raw) - mu) * s
                nav = (check_na and raw == sentinel) or z != z
                col[i] = f if nav else np.float32(z)
                bad |= nav
        if bad:  # rare: which rows, in a pass of its own (the loops above stay branch-free)
            for i in range(n):
                raw = src[i]
                z = (np.float64(raw) + offset[j] - mu) * s
                if (check_na and raw == sentinel) or z != z:
                    missing[i] = True


@njit(cache=True, nogil=True)
def _fill_columns(out, dst, values):  # pragma: no cover - compiled
    """out[i, dst[j]] = values[j] for every row i (``out`` column-major)."""
    for j in range(dst.size):
        col = out[:, dst[j]]
        v = values[j]
        for i in range(out.shape[0]):
            col[i] = v


class StandardizePlan:
    """How one chunk's numeric columns are stored, grouped for the kernels: the constant ones
    (their positions and values) and, per storage type, the positions, buffers, offsets and NA
    sentinels of the others. Made by a pass over the columns' metadata, which for a wide frame
    (MNIST: 717 columns a chunk) cost more than the kernels; a chunk read again keeps its
    plans (framedata.ChunkColumns), so scoring the same frame twice makes it once."""

    __slots__ = ("n", "const_idx", "const_values", "groups")

    def __init__(self, columns: Sequence[EncodedColumn], n: int) -> None:
        self.n = n
        groups: dict[str, _Group] = {}
        const: list[int] = []
        const_values: list[float] = []
        for j, enc in enumerate(columns):
            m = enc.meta
            if m["ctype"] != NUMERIC or m["n"] != n:
                raise ValueError(f"standardize_into takes numeric columns of {n} rows, got a "
                                 f"{m['ctype']} column of {m['n']}")
            kind = m["enc"]
            if kind == "const":
                const.append(j)
                value = m.get("value")
                const_values.append(np.nan if value is None else float(value))
                continue
            if kind != "int" and kind != "float":
                raise ValueError(f"unknown numeric encoding {kind!r}")
            dtype = m["dtype"]
            g = groups.get(dtype)
            if g is None:
                g = groups[dtype] = _Group()
            g.dst.append(j)
            g.buffers.append(enc.buffers[0])
            g.offset.append(m.get("offset") or 0)
            na = m.get("na")
            g.has_na.append(na is not None)
            g.na.append(0 if na is None else na)
        self.const_idx = np.asarray(const, dtype=np.int64)
        self.const_values = np.asarray(const_values, dtype=np.float64)
        self.groups = [(dtype, g.frozen(dtype)) for dtype, g in groups.items()]


def standardize_into(columns: Sequence[EncodedColumn] | StandardizePlan, mean: np.ndarray,
                     sigma: np.ndarray, fill: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Write the standardized values of numeric ``columns`` (one chunk's, or their
    StandardizePlan) into the columns of ``out`` (rows x len(columns) float32, may be a column
    slice of a wider matrix; fastest in column-major order); return a bool per row, True where
    some value was missing (NA, or NaN once standardized)."""
    plan = columns if isinstance(columns, StandardizePlan) else StandardizePlan(columns, out.shape[0])
    if plan.n != out.shape[0]:
        raise ValueError(f"standardize_into: a plan of {plan.n} rows for {out.shape[0]} rows")
    if not out.flags.f_contiguous:
        tmp = np.empty(out.shape, dtype=np.float32, order="F")
        missing = standardize_into(plan, mean, sigma, fill, tmp)
        out[...] = tmp
        return missing
    n = out.shape[0]
    missing = np.zeros(n, dtype=bool)
    mean, sigma, fill = (np.asarray(a, np.float64) for a in (mean, sigma, fill))
    mul = 1.0 / sigma  # H2O's _normMul
    if plan.const_idx.size:
        idx = plan.const_idx
        z = (plan.const_values - mean[idx]) * mul[idx]
        nan = np.isnan(z)
        # A kernel writes them: numpy's scatter into hundreds of columns (MNIST's blank border
        # pixels) was as slow as standardizing all the stored ones.
        _fill_columns(out, idx, np.where(nan, fill[idx], z).astype(np.float32))
        if nan.any() and n:
            missing[:] = True
    for dtype, (idx, buffers, offset, na, has_na) in plan.groups:
        stored = _gathered(buffers, dtype, n)
        _standardize_stored(stored, idx, offset, na, has_na, mean[idx], mul[idx], fill[idx], out,
                            missing)
    return missing


def _gathered(buffers: list, dtype: str, n: int) -> np.ndarray:
    """The columns' buffers as one (columns x rows) array. One bytes join (in C) gathers them:
    np.stack spent microseconds an array, hundreds of arrays a chunk."""
    try:
        joined = b"".join(buffers)
    except (BufferError, TypeError):  # an in-memory buffer that is not contiguous
        return np.stack([_as_array(b, dtype) for b in buffers])
    return np.frombuffer(joined, dtype).reshape(len(buffers), n)


class _Group:
    """The columns of one storage type: where they go in out, their buffers and decoding."""

    __slots__ = ("dst", "buffers", "offset", "na", "has_na")

    def __init__(self) -> None:
        self.dst: list[int] = []
        self.buffers: list = []
        self.offset: list[int] = []
        self.na: list[int] = []
        self.has_na: list[bool] = []

    def frozen(self, dtype: str) -> tuple:
        """The kernel's arrays: positions, buffers, offsets, NA sentinels, which have one."""
        return (np.asarray(self.dst, dtype=np.int64), self.buffers,
                np.asarray(self.offset, np.float64), np.asarray(self.na, np.dtype(dtype)),
                np.asarray(self.has_na, bool))
