"""Cross-validation (``nfolds``) bookkeeping: folds of the training rows and the summary table.

As H2O does it: ``nfolds`` models each train on all rows but one fold, validate on that fold
(which is their validation frame, so scoring and override_with_best_model use it), and the main
model trains on every row. The main model reports the fold models' held-out predictions pooled
into one set of metrics (``cross_validation_metrics``) and a per-fold table with the mean and
standard deviation of each metric (``cross_validation_metrics_summary``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from h2ocloud.dl.folds import fold_ids

#: Metrics the summary table lists, in H2O-3's spirit; a metric appears when every fold has it.
SUMMARY_METRICS = ("classification_error", "mean_per_class_error", "logloss", "auc", "mse",
                   "rmse", "r2", "mae", "mean_residual_deviance")


def training_folds(n_rows: int, params: dict[str, Any]) -> np.ndarray:
    """Fold of each row of the training frame (rows numbered 0..n_rows-1 in frame order)."""
    return fold_ids(np.arange(n_rows), params["nfolds"], params["fold_assignment"], params["seed"])


def fold_model_id(model_id: str, fold: int) -> str:
    """H2O-3's name for the model that holds out fold ``fold`` (0-based): <id>_cv_<fold+1>."""
    return f"{model_id}_cv_{fold + 1}"


def summary_table(fold_metrics: list[dict[str, Any]]) -> dict[str, Any]:
    """{"metric": names, "mean": ..., "sd": ..., "cv_1_valid": ..., ...} (sd with ddof=1)."""
    names = [m for m in SUMMARY_METRICS
             if all(isinstance(f.get(m), (int, float)) and math.isfinite(f[m]) for f in fold_metrics)]
    table: dict[str, Any] = {"metric": names, "mean": [], "sd": []}
    for i in range(len(fold_metrics)):
        table[f"cv_{i + 1}_valid"] = []
    for name in names:
        v = np.array([float(f[name]) for f in fold_metrics])
        table["mean"].append(float(v.mean()))
        table["sd"].append(float(v.std(ddof=1)) if v.size > 1 else 0.0)
        for i, x in enumerate(v):
            table[f"cv_{i + 1}_valid"].append(float(x))
    return table
