"""Helpers for the fault tests (tests/test_faults*.py, test_persistence.py): what a frame is, to
compare before and after a fault, and a small numeric data set in chunks that spread over a cloud."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import h2ocloud


def fingerprint(frame_id: str) -> tuple[int, list[float], int]:
    """(row count, each column's sum, chunk count) of a frame, computed in the cloud chunk by
    chunk: a lost or half-written chunk changes it."""
    conn = h2ocloud.connection()
    nrows = int(conn.call("frames.get", {"frame_id": frame_id})[0]["nrows"])
    sums = conn.call("frames.colsum", {"frame_id": frame_id})[0]
    return nrows, [round(float(s), 6) for s in sums["sums"]], int(sums["chunks"])


def numeric_csv(folder: Path, rows: int = 6000, cols: int = 5, seed: int = 7) -> Path:
    """A CSV of integer columns c0..c{cols-1} (y: the last, a noisy function of the others)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 100, size=(rows, cols - 1)).astype(float)
    y = x @ np.arange(1, cols) / 10 + rng.normal(0, 1, rows)
    df = pd.DataFrame(np.column_stack([x, y]), columns=[f"c{i}" for i in range(cols)])
    path = folder / "numeric.csv"
    df.to_csv(path, index=False)
    return path
