"""Frame statistics as map/reduce functions over chunks (pure, mergeable, pickle-free).

The node's map/reduce runs ``*_map`` on each local chunk, ``*_reduce`` to merge partials
(on a node, then across nodes) and ``rollup_finish`` / ``summary`` once at the caller.
Partials travel as ``to_wire() -> (meta JSON dict, list[bytes])`` and ``from_wire``.

Means and variances merge with Chan et al.'s pairwise formula, so any grouping of chunks
gives the same statistics up to rounding.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from h2ocloud.frame.chunk import ENUM, NUMERIC, STRING, Chunk, decode_column, scan_numeric
from h2ocloud.frame.header import FrameHeader

_ARRAYS = ("count", "missing", "zeros", "mean", "m2", "min", "max", "is_int")


# --------------------------------------------------------------------------- rollups


@dataclass
class Rollups:
    """Mergeable per-column statistics of some rows of a frame.

    Arrays hold one entry per column. For numeric columns ``count`` is the non-missing count,
    ``mean``/``m2`` the running mean and sum of squared deviations. Enum columns keep
    ``levels[j]`` (level -> count) instead, string columns only ``missing``.
    """

    names: list[str]
    types: list[str]
    nrows: int
    count: np.ndarray
    missing: np.ndarray
    zeros: np.ndarray
    mean: np.ndarray
    m2: np.ndarray
    min: np.ndarray
    max: np.ndarray
    is_int: np.ndarray  # every value seen is a whole number (sizes integer histograms)
    levels: dict[int, dict[str, int]] = field(default_factory=dict)
    nbytes: int = 0

    @classmethod
    def empty(cls, names: Sequence[str], types: Sequence[str]) -> Rollups:
        """The identity of rollup_reduce."""
        k = len(names)
        return cls(
            list(names), list(types), 0,
            np.zeros(k, np.int64), np.zeros(k, np.int64), np.zeros(k, np.int64),
            np.full(k, np.nan), np.zeros(k), np.full(k, np.nan), np.full(k, np.nan),
            np.ones(k, bool), {j: {} for j, t in enumerate(types) if t == ENUM},
        )

    def to_wire(self) -> tuple[dict[str, Any], list[bytes]]:
        """JSON-able meta plus one raw buffer per statistic array."""
        meta = {
            "names": self.names,
            "types": self.types,
            "nrows": int(self.nrows),
            "nbytes": int(self.nbytes),
            "levels": {str(j): lv for j, lv in self.levels.items()},
            "arrays": [[a, getattr(self, a).dtype.str] for a in _ARRAYS],
        }
        return meta, [np.ascontiguousarray(getattr(self, a)).tobytes() for a in _ARRAYS]

    @classmethod
    def from_wire(cls, meta: dict[str, Any], buffers: Sequence[bytes]) -> Rollups:
        """Inverse of to_wire."""
        arrays = {}
        for (name, dt), buf in zip(meta["arrays"], buffers, strict=True):
            if np.dtype(dt).hasobject:
                raise ValueError("object dtype refused")
            arrays[name] = np.frombuffer(buf, dtype=dt).copy()
        levels = {int(j): {str(k): int(v) for k, v in lv.items()} for j, lv in meta["levels"].items()}
        return cls(list(meta["names"]), list(meta["types"]), int(meta["nrows"]), levels=levels,
                   nbytes=int(meta.get("nbytes", 0)), **arrays)


def chunk_rollups(chunk: Chunk, scan: dict[str, np.ndarray] | None = None) -> Rollups:
    """Rollups of one chunk. ``scan`` (scan_numeric of the numeric columns' decoded values)
    saves decoding and scanning again when the caller has it (the parser does)."""
    r = Rollups.empty(chunk.names, chunk.types)
    r.nrows = chunk.nrows
    r.nbytes = chunk.nbytes
    num = [j for j, t in enumerate(r.types) if t == NUMERIC]
    if num:
        if scan is None:
            block = np.empty((len(num), chunk.nrows))
            for row, j in enumerate(num):
                block[row] = decode_column(chunk.columns[j])
            scan = scan_numeric(block)
        r.count[num] = scan["count"]
        r.missing[num] = chunk.nrows - scan["count"]
        r.zeros[num] = scan["zeros"]
        r.mean[num] = scan["mean"]
        r.m2[num] = scan["m2"]
        r.min[num] = scan["min"]
        r.max[num] = scan["max"]
        r.is_int[num] = scan["whole"] | (scan["count"] == 0)
    for j, t in enumerate(r.types):
        col = chunk.columns[j]
        if t == ENUM:
            codes = decode_column(col)
            domain = col.meta["domain"]
            counts = np.bincount(codes[codes >= 0], minlength=len(domain))
            r.levels[j] = {lev: int(c) for lev, c in zip(domain, counts, strict=True) if c}
            r.missing[j] = int((codes < 0).sum())
            r.count[j] = chunk.nrows - r.missing[j]
        elif t == STRING:
            r.missing[j] = int(sum(v is None for v in decode_column(col)))
            r.count[j] = chunk.nrows - r.missing[j]
    return r


def rollup_map(chunk: Chunk) -> Rollups:
    """Map: the rollups of one chunk."""
    return chunk_rollups(chunk)


def rollup_reduce(a: Rollups, b: Rollups) -> Rollups:
    """Reduce: merge two partials (associative and commutative up to rounding)."""
    if a.names != b.names or a.types != b.types:
        raise ValueError("cannot merge rollups of different column layouts")
    na, nb = a.count.astype(np.float64), b.count.astype(np.float64)
    n = na + nb
    with np.errstate(invalid="ignore", divide="ignore"):
        delta = b.mean - a.mean
        mean = np.where(na == 0, b.mean, np.where(nb == 0, a.mean, a.mean + delta * nb / n))
        m2 = np.where(
            (na == 0) | (nb == 0), a.m2 + b.m2, a.m2 + b.m2 + delta * delta * na * nb / n
        )
    levels: dict[int, dict[str, int]] = {}
    for j in set(a.levels) | set(b.levels):
        merged = dict(a.levels.get(j, {}))
        for lev, c in b.levels.get(j, {}).items():
            merged[lev] = merged.get(lev, 0) + c
        levels[j] = merged
    return Rollups(
        list(a.names), list(a.types), a.nrows + b.nrows,
        a.count + b.count, a.missing + b.missing, a.zeros + b.zeros, mean, m2,
        np.fmin(a.min, b.min), np.fmax(a.max, b.max), a.is_int & b.is_int,
        levels, a.nbytes + b.nbytes,
    )


def rollup_finish(r: Rollups, domains: Sequence[Sequence[str] | None] | None = None
                  ) -> list[dict[str, Any]]:
    """Per-column statistics: min, max, mean, sigma (sample std, as H2O), missing, zeros,
    cardinality; enum columns also get ``domain`` (sorted levels) and ``level_counts``.
    Enum min/max/mean/sigma/zeros are over the codes in the sorted domain, as H2O reports.

    ``domains`` (per column, None where not given) keeps a derived frame's factor levels those
    of its parent, as H2O does: a part of a split that lacks a rare level still has it in its
    domain (with count 0), so its chunks' codes stay valid against the header."""
    out = []
    for j, t in enumerate(r.types):
        s: dict[str, Any] = {"missing": int(r.missing[j]), "cardinality": None}
        if t == NUMERIC:
            cnt = int(r.count[j])
            s.update(
                min=float(r.min[j]), max=float(r.max[j]),
                mean=float(r.mean[j]) if cnt else math.nan,
                sigma=math.sqrt(r.m2[j] / (cnt - 1)) if cnt > 1 else math.nan,
                zeros=int(r.zeros[j]), is_int=bool(r.is_int[j]),
            )
        elif t == ENUM:
            seen = r.levels.get(j, {})
            kept = domains[j] if domains is not None else None
            if kept is None:
                domain = sorted(seen)
            else:
                domain = list(kept) + sorted(set(seen) - set(kept))
            counts = np.array([seen.get(lev, 0) for lev in domain], dtype=np.int64)
            s.update(_code_stats(counts), cardinality=len(domain), domain=domain,
                     level_counts=counts.tolist())
        else:
            s.update(min=math.nan, max=math.nan, mean=math.nan, sigma=math.nan, zeros=0)
        out.append(s)
    return out


def _code_stats(counts: np.ndarray) -> dict[str, Any]:
    """min/max/mean/sigma of factor codes given the count of each code."""
    n = int(counts.sum())
    if n == 0:
        return {"min": math.nan, "max": math.nan, "mean": math.nan, "sigma": math.nan, "zeros": 0}
    codes = np.arange(counts.size, dtype=np.float64)
    present = np.flatnonzero(counts)
    mean = float((codes * counts).sum() / n)
    var = float((counts * (codes - mean) ** 2).sum() / (n - 1)) if n > 1 else math.nan
    return {"min": float(present[0]), "max": float(present[-1]), "mean": mean,
            "sigma": math.sqrt(var) if n > 1 else math.nan, "zeros": int(counts[0])}


# --------------------------------------------------------------------------- histograms


@dataclass
class Histograms:
    """Per-column histogram counts (numeric: over ``breaks``; enum: per domain level)."""

    breaks: list[list[float] | None]
    counts: list[np.ndarray]

    def to_wire(self) -> tuple[dict[str, Any], list[bytes]]:
        """JSON meta (breaks, lengths) plus all counts as one int64 buffer."""
        lengths = [int(c.size) for c in self.counts]
        flat = np.concatenate(self.counts) if self.counts else np.zeros(0, np.int64)
        meta = {"breaks": self.breaks, "lengths": lengths}
        return meta, [flat.astype("<i8").tobytes()]

    @classmethod
    def from_wire(cls, meta: dict[str, Any], buffers: Sequence[bytes]) -> Histograms:
        """Inverse of to_wire."""
        flat = np.frombuffer(buffers[0], dtype="<i8")
        ends = np.cumsum(meta["lengths"])
        parts = np.split(flat.copy(), ends[:-1]) if len(ends) else []
        return cls([None if b is None else list(b) for b in meta["breaks"]], list(parts))


def histogram_breaks(stats: dict[str, Any], nbins: int = 20) -> list[float] | None:
    """Bin edges of a numeric column from its rollups: ``nbins`` equal bins over [min, max];
    integer columns spanning fewer values than ``nbins`` get one bin per integer."""
    lo, hi = stats.get("min"), stats.get("max")
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    if stats.get("is_int") and hi - lo + 1 <= nbins:
        return [lo + i for i in range(int(hi - lo) + 2)]
    if hi == lo:
        return [lo, hi]
    return np.linspace(lo, hi, nbins + 1).tolist()


def histogram_map(chunk: Chunk, header: FrameHeader, nbins: int = 20) -> Histograms:
    """Map: histogram counts of one chunk, with bins from the header's rollups."""
    breaks: list[list[float] | None] = []
    counts: list[np.ndarray] = []
    for j, name in enumerate(header.names):
        t = header.types[j]
        if t == NUMERIC:
            b = histogram_breaks(header.stats[j], nbins)
            breaks.append(b)
            counts.append(_bin_counts(chunk.column(name), b))
        elif t == ENUM:
            domain = header.domains[j] or []
            codes = chunk.column(name, domain)
            breaks.append(None)
            counts.append(np.bincount(codes[codes >= 0], minlength=len(domain)).astype(np.int64))
        else:
            breaks.append(None)
            counts.append(np.zeros(0, np.int64))
    return Histograms(breaks, counts)


def _bin_counts(x: np.ndarray, breaks: list[float] | None) -> np.ndarray:
    if breaks is None:
        return np.zeros(0, np.int64)
    nb = len(breaks) - 1
    x = x[np.isfinite(x)]
    lo, hi = breaks[0], breaks[-1]
    if hi == lo:
        idx = np.zeros(x.size, np.int64)
    else:
        idx = np.floor((x - lo) / (hi - lo) * nb).astype(np.int64)
        np.clip(idx, 0, nb - 1, out=idx)  # the max lands in the last bin
    return np.bincount(idx, minlength=nb).astype(np.int64)


def histogram_reduce(a: Histograms, b: Histograms) -> Histograms:
    """Reduce: add counts (both partials must come from the same header and nbins)."""
    if len(a.counts) != len(b.counts) or a.breaks != b.breaks:
        raise ValueError("cannot merge histograms with different bins")
    return Histograms(list(a.breaks), [x + y for x, y in zip(a.counts, b.counts, strict=True)])


def summary(header: FrameHeader, hist: Histograms) -> list[dict[str, Any]]:
    """H2O's frame summary, one dict per column: name, type, min, max, mean, sigma, missing,
    zeros, cardinality, domain and level counts of factors, histogram breaks and counts."""
    out = []
    for j, name in enumerate(header.names):
        s = dict(header.stats[j]) if j < len(header.stats) else {}
        col = {
            "name": name,
            "type": header.types[j],
            **{k: s.get(k) for k in ("min", "max", "mean", "sigma", "missing", "zeros",
                                     "cardinality")},
            "histogram": {"breaks": hist.breaks[j], "counts": hist.counts[j].tolist()},
        }
        if header.types[j] == ENUM:
            col["domain"] = list(header.domains[j] or [])
            col["level_counts"] = hist.counts[j].tolist()
        out.append(col)
    return out


def summary_json(rows: list[dict[str, Any]]) -> str:
    """The summary as strict JSON (NaN -> null)."""
    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list):
            return [clean(x) for x in v]
        return v
    return json.dumps(clean(rows))


# --------------------------------------------------------------------------- row helpers


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def row_uniform(seed: int, start: int, n: int) -> np.ndarray:
    """Uniform [0, 1) numbers for global rows start..start+n-1: a SplitMix64 hash of
    (seed, row), so a row's number does not depend on how the frame is chunked."""
    rows = np.arange(start, start + n, dtype=np.uint64)
    s = np.uint64(seed & 0xFFFFFFFFFFFFFFFF)
    with np.errstate(over="ignore"):
        z = s * _GOLDEN + (rows + np.uint64(1)) * _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def split_assign(seed: int, start: int, n: int, ratios: Sequence[float]) -> np.ndarray:
    """Split index (0..len(ratios)) of each row, as H2O's split_frame: row goes to part i
    when its uniform number falls in the i-th ratio interval, the rest to the last part."""
    edges = np.cumsum(np.asarray(ratios, dtype=np.float64))
    if np.any(np.asarray(ratios) < 0) or (edges.size and edges[-1] > 1.0 + 1e-12):
        raise ValueError(f"split ratios must be >= 0 and sum to at most 1, got {list(ratios)}")
    return np.searchsorted(edges, row_uniform(seed, start, n), side="right")


def split_rows(chunk: Chunk, ratios: Sequence[float], seed: int) -> list[Chunk]:
    """The chunk's rows split into len(ratios)+1 chunks (the last may get none when the ratios
    sum to 1). Deterministic per global row; the parts' row_offset is left 0 for the caller
    to set once the new frames' layouts are known."""
    part = split_assign(seed, chunk.row_offset, chunk.nrows, ratios)
    return [chunk.take_rows(np.flatnonzero(part == i)) for i in range(len(ratios) + 1)]


def take_columns(chunk: Chunk, names: Sequence[str]) -> Chunk:
    """A chunk of the named columns, in that order (buffers shared)."""
    return chunk.take_columns(names)
