"""Variable importances by Gedeon's method (1997) over the first two weight layers.

With W0 (first hidden x inputs) and W1 (next layer x first hidden)::

    Q_ik = sum_j ( |W0_ji| / sum_i' |W0_ji'| ) * ( |W1_kj| / sum_j' |W1_kj'| )
    Q_ik normalized so that sum_i Q_ik = 1 for each k;   vi_i = sum_k Q_ik

One row per input *column*: the one-hot units of a categorical column are summed (as H2O-3
does), then reported as relative (max 1), scaled (relative / max, = relative here) and
percentage (sum 1), sorted by importance.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def gedeon_unit_importances(w0: np.ndarray, w1: np.ndarray) -> np.ndarray:
    """Raw importance of every input unit (length n_inputs), before any scaling."""
    a0 = np.abs(np.asarray(w0, dtype=np.float64))  # (h1, n_in)
    a1 = np.abs(np.asarray(w1, dtype=np.float64))  # (h2, h1)
    if a1.shape[1] != a0.shape[0]:
        raise ValueError(f"W1 has {a1.shape[1]} inputs but W0 has {a0.shape[0]} outputs")
    r0 = a0 / np.maximum(a0.sum(axis=1, keepdims=True), 1e-300)
    r1 = a1 / np.maximum(a1.sum(axis=1, keepdims=True), 1e-300)
    q = r0.T @ r1.T  # (n_in, h2): Q_ik = sum_j r0[j, i] * r1[k, j]
    q /= np.maximum(q.sum(axis=0, keepdims=True), 1e-300)
    return q.sum(axis=1)


def variable_importances(w0: np.ndarray, w1: np.ndarray, columns: list[str],
                         unit_column: np.ndarray) -> dict[str, Any]:
    """Per-column importances. ``unit_column[u]`` is the index in ``columns`` of input
    unit u (DataInfo.input_column_index()). Returns a JSON-able table sorted by importance:
    {"variable": [...], "relative_importance": [...], "scaled_importance": [...],
     "percentage": [...]}."""
    unit = gedeon_unit_importances(w0, w1)
    per_col = np.bincount(np.asarray(unit_column, dtype=np.int64), weights=unit,
                          minlength=len(columns))
    top = per_col.max() if per_col.size else 0.0
    rel = per_col / top if top > 0 else per_col
    scaled = rel / rel.max() if rel.size and rel.max() > 0 else rel
    pct = rel / rel.sum() if rel.sum() > 0 else rel
    order = np.argsort(-rel, kind="stable")
    return {
        "variable": [columns[i] for i in order],
        "relative_importance": rel[order].tolist(),
        "scaled_importance": scaled[order].tolist(),
        "percentage": pct[order].tolist(),
    }
