"""Rollups, histograms and row helpers as map/reduce functions."""

from __future__ import annotations

import json
from functools import reduce

import numpy as np
import pytest

from h2ocloud.frame import (
    Histograms,
    Rollups,
    histogram_map,
    histogram_reduce,
    parse_table,
    rollup_finish,
    rollup_map,
    rollup_reduce,
    split_rows,
    summary,
    take_columns,
)
from h2ocloud.frame.summary import row_uniform, summary_json

RNG = np.random.default_rng(3)
N = 2400


def frame(chunk_rows: int = 300):
    x = RNG.normal(5, 2, N)
    x[RNG.random(N) < 0.1] = np.nan
    k = RNG.integers(0, 50, N).astype(np.float64)
    k[::17] = 0
    lev = RNG.choice(["p", "q", "r", "s"], N).astype(object)
    lev[RNG.random(N) < 0.05] = None
    chunks: list = []
    header = parse_table({"x": x, "k": k, "lev": lev}, emit=lambda i, c: chunks.append(c),
                         chunk_rows=chunk_rows)
    return header, chunks, x, k, lev


def wire(p):
    meta, bufs = p.to_wire()
    return type(p).from_wire(json.loads(json.dumps(meta)), [bytes(b) for b in bufs])


def check_numeric(stats: dict, x: np.ndarray) -> None:
    v = x[~np.isnan(x)]
    assert stats["missing"] == int(np.isnan(x).sum())
    assert stats["zeros"] == int((v == 0).sum())
    assert stats["min"] == v.min() and stats["max"] == v.max()
    assert np.isclose(stats["mean"], v.mean(), rtol=1e-12)
    assert np.isclose(stats["sigma"], v.std(ddof=1), rtol=1e-10)


@pytest.mark.parametrize("grouping", ["left", "right", "tree", "shuffled"])
def test_rollups_equal_numpy_in_any_grouping(grouping: str) -> None:
    header, chunks, x, k, lev = frame()
    parts = [wire(rollup_map(c)) for c in chunks]
    if grouping == "left":
        total = reduce(rollup_reduce, parts)
    elif grouping == "right":
        total = reduce(lambda a, b: rollup_reduce(b, a), reversed(parts))
    elif grouping == "tree":
        while len(parts) > 1:
            parts = [rollup_reduce(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
                     for i in range(0, len(parts), 2)]
        total = parts[0]
    else:
        order = RNG.permutation(len(parts))
        total = reduce(rollup_reduce, [parts[i] for i in order],
                       Rollups.empty(header.names, header.types))
    stats = rollup_finish(wire(total))
    check_numeric(stats[0], x)
    check_numeric(stats[1], k)
    assert total.nrows == N
    # enum: cardinality, domain, level counts, NA count, codes' mean as H2O
    present = lev[lev != None]  # noqa: E711
    assert stats[2]["missing"] == N - present.size
    assert stats[2]["domain"] == ["p", "q", "r", "s"] and stats[2]["cardinality"] == 4
    assert stats[2]["level_counts"] == [int((present == v).sum()) for v in "pqrs"]
    codes = np.searchsorted(np.array(["p", "q", "r", "s"]), present.astype(str))
    assert np.isclose(stats[2]["mean"], codes.mean())
    # the parse computed the same rollups on the way
    for key in ("min", "max", "missing", "zeros"):
        assert header.stats[0][key] == stats[0][key]
    assert np.isclose(header.stats[0]["sigma"], stats[0]["sigma"])


def test_histograms_and_summary() -> None:
    header, chunks, x, k, lev = frame()
    parts = [wire(histogram_map(c, header, nbins=10)) for c in chunks]
    hist = reduce(histogram_reduce, parts)
    assert isinstance(hist, Histograms)
    rows = summary(header, hist)
    json.loads(summary_json(rows))  # strict JSON
    sx, sk, sl = rows
    assert sum(sx["histogram"]["counts"]) == int((~np.isnan(x)).sum())
    assert len(sx["histogram"]["breaks"]) == 11
    expected, _ = np.histogram(x[~np.isnan(x)], bins=np.asarray(sx["histogram"]["breaks"]))
    # numpy's bins are closed on the right only for the last one, as ours
    np.testing.assert_array_equal(sx["histogram"]["counts"], expected)
    assert sum(sk["histogram"]["counts"]) == N
    assert sl["domain"] == ["p", "q", "r", "s"]
    assert sum(sl["level_counts"]) == N - header.stats[2]["missing"]
    assert sl["cardinality"] == 4 and sx["type"] == "numeric" and sl["type"] == "enum"
    with pytest.raises(ValueError):
        histogram_reduce(parts[0], histogram_map(chunks[0], header, nbins=5))


def test_integer_histogram_one_bin_per_value() -> None:
    chunks: list = []
    header = parse_table({"d": np.array([0, 1, 1, 2, 2, 2.0])}, emit=lambda i, c: chunks.append(c))
    hist = histogram_map(chunks[0], header, nbins=20)
    assert hist.breaks[0] == [0, 1, 2, 3] and hist.counts[0].tolist() == [1, 2, 3]


def test_split_rows_is_independent_of_chunking() -> None:
    _, small, *_ = frame(chunk_rows=300)
    sizes = [sum(split_rows(c, [0.6, 0.3], seed=42)[p].nrows for c in small) for p in range(3)]
    assert sum(sizes) == N
    assert abs(sizes[0] / N - 0.6) < 0.05 and abs(sizes[1] / N - 0.3) < 0.05
    u_whole = row_uniform(42, 0, N)
    u_pieces = np.concatenate([row_uniform(42, s, 300) for s in range(0, N, 300)])
    np.testing.assert_array_equal(u_whole, u_pieces)
    assert not np.array_equal(row_uniform(43, 0, N), u_whole)
    # the same rows land in each part for either chunking of one table
    col = np.arange(N, dtype=np.float64)
    edges = [0.0, 0.6, 0.9, 1.0]
    for rows in (300, 1000):
        got: dict = {}
        parse_table({"i": col}, emit=got.__setitem__, chunk_rows=rows)
        got = [got[i] for i in sorted(got)]
        for part in range(3):
            picked = np.concatenate(
                [split_rows(c, [0.6, 0.3], seed=42)[part].column("i") for c in got])
            want = np.flatnonzero((u_whole >= edges[part]) & (u_whole < edges[part + 1]))
            np.testing.assert_array_equal(picked, want)
    with pytest.raises(ValueError):
        split_rows(small[0], [0.7, 0.5], seed=1)


def test_take_columns() -> None:
    header, chunks, x, *_ = frame()
    sub = take_columns(chunks[0], ["lev", "x"])
    assert sub.names == ["lev", "x"]
    np.testing.assert_array_equal(sub.column("x"), x[:300])
