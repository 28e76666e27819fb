"""Chunks back to a table: for as_data_frame(), downloads and tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from h2ocloud.frame.chunk import ENUM, NUMERIC, Chunk
from h2ocloud.frame.header import FrameHeader


def column_values(header: FrameHeader, chunks: Sequence[Chunk], col: int | str) -> np.ndarray:
    """One column over chunks in order: float64 (numeric), int32 global codes (enum, -1 NA)
    or object (string)."""
    j = header.col_index(col) if isinstance(col, str) else col
    parts = [c.column(header.names[j], header.domains[j]) for c in chunks]
    if not parts:
        dtype: Any = {NUMERIC: np.float64, ENUM: np.int32}.get(header.types[j], object)
        return np.zeros(0, dtype=dtype)
    return np.concatenate(parts)


def to_pandas(header: FrameHeader, chunks: Sequence[Chunk]) -> Any:
    """A pandas DataFrame (enum columns as Categorical over the header's domain)."""
    import pandas as pd

    data = {}
    for j, name in enumerate(header.names):
        values = column_values(header, chunks, j)
        if header.types[j] == ENUM:
            data[name] = pd.Categorical.from_codes(values, categories=header.domains[j] or [])
        else:
            data[name] = values
    return pd.DataFrame(data, columns=list(header.names))
