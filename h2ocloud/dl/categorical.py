"""H2O-3's categorical_encoding for deep learning: how a factor column becomes input units.

One-hot (AUTO, Enum, OneHotInternal, OneHotExplicit: the same units here) lights one unit per
level. The others map each training level to a short row of numbers -- a table of
levels x units -- standardized over the training rows as H2O-3 standardizes the numeric
columns its encoders make; a missing or unseen level takes the training mean (0):

* Binary: level k as the bits of k + 1 (0 is H2O's code for missing), ceil(log2(L + 1)) units;
* LabelEncoder: level k as the number k;
* Eigen: level k as its coordinate on the leading eigenvector of the one-hot covariance;
* EnumLimited: one-hot of the ``max_levels`` most frequent levels plus one unit for the rest;
* SortByResponse: one-hot, with the levels ordered by their mean response (which level
  use_all_factor_levels=False leaves implicit changes).

Level frequencies and response means come from the training rows (``LevelStats``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: H2O-3's names (and h2o-py's lower-case spellings) -> the canonical name.
ENCODINGS = {"auto": "AUTO", "enum": "Enum", "onehotinternal": "OneHotInternal",
             "onehotexplicit": "OneHotExplicit", "binary": "Binary", "eigen": "Eigen",
             "labelencoder": "LabelEncoder", "sortbyresponse": "SortByResponse",
             "enumlimited": "EnumLimited"}
ONE_HOT = ("AUTO", "Enum", "OneHotInternal", "OneHotExplicit")
#: H2O-3's default max_categorical_levels for EnumLimited.
ENUM_LIMITED_LEVELS = 10


def canonical_encoding(v: str) -> str | None:
    """The canonical encoding name of ``v`` (any case, with or without underscores), or None."""
    return ENCODINGS.get(str(v).replace("_", "").lower())


@dataclass
class LevelStats:
    """Per level of a factor in training: row count, and the mean response (NaN if none)."""

    counts: np.ndarray
    response_mean: np.ndarray


def level_stats(codes: np.ndarray, n_levels: int, response: np.ndarray | None) -> LevelStats:
    """Counts and response means of codes 0..n_levels-1 (-1 = missing, ignored)."""
    c = np.asarray(codes, np.int64)
    ok = (c >= 0) & (c < n_levels)
    counts = np.bincount(c[ok], minlength=n_levels).astype(np.float64)
    means = np.full(n_levels, np.nan)
    if response is not None:
        r = np.asarray(response, np.float64)
        good = ok & ~np.isnan(r)
        sums = np.bincount(c[good], weights=r[good], minlength=n_levels)
        n = np.bincount(c[good], minlength=n_levels)
        means = np.where(n > 0, sums / np.maximum(n, 1), np.nan)
    return LevelStats(counts, means)


def sorted_domain(domain: list[str], stats: LevelStats) -> list[str]:
    """SortByResponse: the levels by increasing mean response (levels with none last)."""
    key = np.where(np.isnan(stats.response_mean), np.inf, stats.response_mean)
    return [domain[i] for i in np.argsort(key, kind="stable")]


def encoding_table(encoding: str, n_levels: int, stats: LevelStats | None,
                   max_levels: int = ENUM_LIMITED_LEVELS) -> tuple[list[list[float]], list[str]]:
    """The standardized levels x units table of a table encoding and its unit name suffixes."""
    if encoding == "Binary":
        bits = max(1, math.ceil(math.log2(n_levels + 1)))
        raw = np.array([[(k + 1) >> b & 1 for b in range(bits)] for k in range(n_levels)], np.float64)
        suffixes = [f":{b}" for b in range(bits)]
    elif encoding == "LabelEncoder":
        raw = np.arange(n_levels, dtype=np.float64).reshape(-1, 1)
        suffixes = [""]
    elif encoding == "Eigen":
        p = _freqs(stats, n_levels)
        cov = np.diag(p) - np.outer(p, p)
        vals, vecs = np.linalg.eigh(cov)
        v = vecs[:, -1]
        v = v * (1.0 if v[np.argmax(np.abs(v))] > 0 else -1.0)  # a deterministic sign
        raw = v.reshape(-1, 1)
        suffixes = [".Eigen"]
    elif encoding == "EnumLimited":
        counts = stats.counts if stats is not None else np.ones(n_levels)
        top = np.argsort(-counts, kind="stable")[:max_levels]
        keep = {int(k): i for i, k in enumerate(sorted(top))}
        raw = np.zeros((n_levels, len(keep) + 1))
        for k in range(n_levels):
            raw[k, keep.get(k, len(keep))] = 1.0
        suffixes = [f".top{i}" for i in range(len(keep))] + [".other"]
        return raw.tolist(), suffixes  # one-hot units: not standardized, as a one-hot factor
    else:
        raise ValueError(f"{encoding!r} is not a table encoding")
    p = _freqs(stats, n_levels)
    mean = p @ raw
    sigma = np.sqrt(np.maximum(p @ (raw - mean) ** 2, 0.0))
    table = (raw - mean) / np.where(sigma > 0, sigma, 1.0)
    return table.tolist(), suffixes


def _freqs(stats: LevelStats | None, n_levels: int) -> np.ndarray:
    counts = stats.counts if stats is not None else np.ones(n_levels)
    total = counts.sum()
    return counts / total if total > 0 else np.full(n_levels, 1.0 / max(n_levels, 1))


def frame_level_stats(metas: list[dict], columns: dict[str, np.ndarray], y: str | None) -> dict[str, LevelStats]:
    """LevelStats of every factor column of a training frame (its codes in the frame's domain),
    the response read as its values (regression) or class codes (classification)."""
    resp = None
    if y is not None and y in columns:
        resp = np.asarray(columns[y], np.float64)
        resp = np.where(resp < 0, np.nan, resp) if next((m for m in metas if m["name"] == y), {}).get("type") == "enum" else resp
    return {m["name"]: level_stats(columns[m["name"]], len(m.get("domain") or []), resp)
            for m in metas if m["type"] == "enum" and m["name"] in columns and m["name"] != y}
