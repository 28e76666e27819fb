"""H2O-3's early-stopping rule (ScoreKeeper.stopEarly) and its metric names.

Stop when the best of the last ``k`` moving averages (window ``k``) of a metric has not improved
on the moving average just before them by the relative tolerance. It needs 2k+1 scoring events
(the first is skipped, as H2O-3 does: it is the untrained or barely trained model). The same rule
stops a model's training (stopping_rounds over its scoring history) and a random grid search (over
the best model so far after each model).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

STOPPING_METRICS = ("AUTO", "deviance", "logloss", "MSE", "RMSE", "MAE", "RMSLE", "AUC", "AUCPR",
                    "lift_top_group", "misclassification", "mean_per_class_error", "custom",
                    "custom_increasing", "anomaly_score")
#: Metrics this project computes, by H2O-3 stopping-metric name -> key of a metrics dict.
METRIC_KEYS = {"deviance": "mean_residual_deviance", "logloss": "logloss", "MSE": "mse",
               "RMSE": "rmse", "MAE": "mae", "AUC": "auc", "misclassification": "classification_error",
               "mean_per_class_error": "mean_per_class_error"}
MORE_IS_BETTER = {"AUC", "AUCPR", "lift_top_group", "custom_increasing"}


def resolve_stopping_metric(metric: str, classification: bool, autoencoder: bool) -> str:
    """AUTO is logloss for a classifier, deviance for a regression and MSE for an autoencoder."""
    if metric == "AUTO":
        return "MSE" if autoencoder else "logloss" if classification else "deviance"
    if metric not in METRIC_KEYS:
        raise ValueError(f"parameter 'stopping_metric': {metric!r} is not computed by this "
                         f"implementation; use one of {['AUTO', *METRIC_KEYS]}")
    return metric


def stop_early(values: Sequence[float | None], k: int, more_is_better: bool, tolerance: float) -> bool:
    """Whether a metric's history (oldest first) has converged by H2O-3's moving-average rule."""
    if k <= 0 or len(values) - 1 < 2 * k:
        return False
    start = len(values) - 2 * k
    avgs = []
    for i in range(k + 1):
        window = values[start + i:start + i + k]
        if any(v is None or math.isnan(v) for v in window):
            return False
        avgs.append(sum(window) / k)
    reference, recent = avgs[0], avgs[1:]
    best = max(recent) if more_is_better else min(recent)
    # A zero crossing (deviance, r2) is "not converged": the ratio below would be meaningless.
    if (max(avgs) > 0) != (min(avgs) > 0) or (best > 0) != (reference > 0):
        return False
    if reference == 0:
        return not more_is_better
    ratio = best / reference
    improved = ratio > 1 + tolerance if more_is_better else ratio < 1 - tolerance
    return not improved
