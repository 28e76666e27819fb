"""Random frames as H2O's CreateFrame makes them (h2o.create_frame), batch by batch.

A pure library: ``CreateFrameArgs`` are h2o-py's parameters, ``FrameSpec.plan`` deals the
columns' kinds out by the fractions asked for, and ``batches`` yields Arrow record batches that the parse builder
chunks as it would a file's. Each batch's values come from its own generator, seeded by the
frame's seed and the batch's position, so a seed gives the same frame whichever node makes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

KINDS = ("real", "categorical", "integer", "binary", "time", "string")
# h2o-py's defaults when no fraction is given: the rest of the columns are real.
DEFAULT_FRACTIONS = {"categorical": 0.2, "integer": 0.2, "binary": 0.1, "time": 0.0, "string": 0.0}
TIME_RANGE_MS = (0, 50 * 365 * 86_400_000)  # 1970 .. 2020, in milliseconds since 1970


@dataclass(frozen=True)
class CreateFrameArgs:
    """h2o.create_frame's parameters, h2o-py's names and defaults (and the node operation's
    arguments); a fraction left None is decided as h2o-py decides it (column_kinds)."""

    frame_id: str | None = None
    rows: int = 10000
    cols: int = 10
    randomize: bool = True
    real_fraction: float | None = None
    categorical_fraction: float | None = None
    integer_fraction: float | None = None
    binary_fraction: float | None = None
    time_fraction: float | None = None
    string_fraction: float | None = None
    value: float = 0.0
    real_range: float = 100.0
    factors: int = 100
    integer_range: int = 100
    binary_ones_fraction: float = 0.02
    missing_fraction: float = 0.01
    has_response: bool = False
    response_factors: int = 2
    positive_response: bool = False
    seed: int | None = None
    seed_for_column_types: int | None = None
    chunk_rows: int | None = None  # rows per chunk, h2ocloud's (default: about 1 MB a chunk)

    def check(self) -> None:
        """ValueError naming the first parameter out of its range."""
        for name in ("rows", "cols", "factors"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("missing_fraction", "binary_ones_fraction", *(f"{k}_fraction" for k in KINDS)):
            v = getattr(self, name)
            if v is not None and not 0 <= v <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {v}")
        if self.has_response and self.response_factors < 1:
            raise ValueError(f"response_factors must be >= 1, got {self.response_factors}")
        if self.chunk_rows is not None and self.chunk_rows < 1:
            raise ValueError(f"chunk_rows must be >= 1, got {self.chunk_rows}")


@dataclass(frozen=True)
class FrameSpec:
    """What to make: the parameters, each column's kind and the seed, decided once."""

    args: CreateFrameArgs
    kinds: tuple[str, ...]
    seed: int

    @classmethod
    def plan(cls, args: CreateFrameArgs, seed: int) -> FrameSpec:
        type_seed = args.seed_for_column_types if args.seed_for_column_types not in (None, -1) else seed
        fractions = {k: getattr(args, f"{k}_fraction") for k in KINDS}
        return cls(args, column_kinds(args.cols, fractions, type_seed), seed)

    def names(self) -> list[str]:
        cols = [f"C{i + 1}" for i in range(len(self.kinds))]
        return (["response"] + cols) if self.args.has_response else cols

    def col_types(self) -> dict[str, str]:
        """How the parse types each column (factors, strings; the rest are numbers). Not
        randomized, every column holds ``value``: a number."""
        a = self.args
        out = {"response": "enum"} if a.has_response and a.response_factors > 1 else {}
        if a.randomize:
            for n, k in zip(self.names()[a.has_response:], self.kinds):
                if k in ("categorical", "string"):
                    out[n] = "enum" if k == "categorical" else "string"
        return out

    def schema(self) -> pa.Schema:
        return next(batches(FrameSpec(replace(self.args, rows=1), self.kinds, self.seed), 1)).schema


def column_kinds(cols: int, fractions: dict[str, float | None], seed: int) -> tuple[str, ...]:
    """Each column's kind: as many of each as its fraction of ``cols`` (real gets what the
    others leave), in an order shuffled by ``seed`` (h2o-py's seed_for_column_types)."""
    given = {k: v for k, v in fractions.items() if v is not None}
    chosen = dict(DEFAULT_FRACTIONS) if not given else {k: float(given.get(k, 0.0)) for k in KINDS if k != "real"}
    if not given or "real" not in given:
        chosen["real"] = 1.0 - sum(chosen.values())
    else:
        chosen["real"] = float(given["real"])
    for k, v in chosen.items():
        if v < -1e-9:
            raise ValueError(f"{k}_fraction: the fractions add up to more than 1")
    total = sum(chosen.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"real_fraction: the column fractions must add up to 1, got {total:g}")
    # Largest remainders: each kind gets the whole part of its share, the columns left over go
    # to the largest fractional parts (cols=3 at 20/20/10/50% gives 1 categorical, 1 integer, 1 real).
    shares = {k: chosen[k] * cols for k in KINDS}
    counts = {k: int(np.floor(v + 1e-9)) for k, v in shares.items()}
    for k in sorted(KINDS, key=lambda k: -(shares[k] - counts[k]))[:cols - sum(counts.values())]:
        counts[k] += 1
    kinds = [k for k in KINDS for _ in range(counts[k])]
    np.random.default_rng(seed).shuffle(kinds)
    return tuple(kinds)


def batches(spec: FrameSpec, rows_per_batch: int) -> Iterator[pa.RecordBatch]:
    """The frame's rows, ``rows_per_batch`` at a time."""
    names, a = spec.names(), spec.args
    for b, start in enumerate(range(0, a.rows, rows_per_batch)):
        n = min(rows_per_batch, a.rows - start)
        rng = np.random.default_rng([spec.seed, b])
        arrays = []
        if a.has_response:
            arrays.append(_response(a, rng, n))
        for j, kind in enumerate(spec.kinds):
            arrays.append(_column(a, kind, j, rng, n))
        yield pa.record_batch(arrays, names=names)


def _response(spec: CreateFrameArgs, rng: np.random.Generator, n: int) -> pa.Array:
    if spec.response_factors > 1:
        return pa.array(rng.integers(0, spec.response_factors, n).astype(str))
    lo = 0.0 if spec.positive_response else -spec.real_range
    return pa.array(rng.uniform(lo, spec.real_range, n))


def _column(spec: CreateFrameArgs, kind: str, j: int, rng: np.random.Generator, n: int) -> pa.Array:
    missing = rng.random(n) < spec.missing_fraction if spec.missing_fraction > 0 else None
    if not spec.randomize:
        values: np.ndarray = np.full(n, float(spec.value))
        return pa.array(values, mask=missing)
    if kind == "real":
        return pa.array(rng.uniform(-spec.real_range, spec.real_range, n), mask=missing)
    if kind == "integer":
        return pa.array(rng.integers(-spec.integer_range, spec.integer_range + 1, n).astype(np.float64), mask=missing)
    if kind == "binary":
        return pa.array((rng.random(n) < spec.binary_ones_fraction).astype(np.float64), mask=missing)
    if kind == "time":
        ms = rng.integers(*TIME_RANGE_MS, n)
        return pa.array(ms, pa.timestamp("ms"), mask=missing)
    if kind == "categorical":  # H2O's level names: c<column>.l<level>
        levels = np.array([f"c{j}.l{i}" for i in range(spec.factors)], dtype=object)
        return pa.array(levels[rng.integers(0, spec.factors, n)], pa.string(), mask=missing)
    if kind == "string":
        return pa.array([f"{v:08x}" for v in rng.integers(0, 2**32, n)], pa.string(), mask=missing)
    raise ValueError(f"unknown column kind {kind!r}")
