"""Cross-validation (``nfolds``) bookkeeping: folds of the training rows and the summary table.

As H2O does it: one model per fold (``nfolds`` folds by ``fold_assignment``, or one per value of
``fold_column``) trains on all rows but that fold, validates on the fold
(which is their validation frame, so scoring and override_with_best_model use it), and the main
model trains on every row. The main model reports the fold models' held-out predictions pooled
into one set of metrics (``cross_validation_metrics``) and a per-fold table with the mean and
standard deviation of each metric (``cross_validation_metrics_summary``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from h2ocloud.dl.folds import column_fold_ids, fold_ids, stratified_fold_ids

#: Metrics the summary table lists, in H2O-3's spirit; a metric appears when every fold has it.
SUMMARY_METRICS = ("classification_error", "mean_per_class_error", "logloss", "auc", "mse",
                   "rmse", "r2", "mae", "mean_residual_deviance")


def training_folds(params: dict[str, Any], n_rows: int, y: np.ndarray | None = None,
                   classification: bool = False,
                   fold_values: np.ndarray | None = None) -> np.ndarray:
    """Fold (0..k-1) of each row of the training frame, rows in frame order: from the fold
    column's values when the parameters name one, else by ``fold_assignment`` (AUTO is Random;
    Stratified needs a classification response ``y``)."""
    if params.get("fold_column") is not None:
        if fold_values is None:
            raise ValueError("parameter 'fold_column': the column's values are needed")
        return column_fold_ids(fold_values)[0]
    nfolds, how = int(params["nfolds"]), params["fold_assignment"]
    if how == "Stratified":
        if not classification or y is None:
            raise ValueError("parameter 'fold_assignment': Stratified folds need a categorical "
                             "response (classification)")
        return stratified_fold_ids(y, nfolds, params["seed"])
    return fold_ids(np.arange(n_rows), nfolds, how, params["seed"])


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
