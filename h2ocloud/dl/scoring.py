"""Turn kernel outputs into predictions and metric builders (shared by backends and models)."""

from __future__ import annotations

import numpy as np

from h2ocloud.dl.datainfo import DataInfo
from h2ocloud.dl.metrics import MetricsBuilder, new_builder
from h2ocloud.kernel import Net, forward


def correct_probabilities(p: np.ndarray, prior: np.ndarray | None,
                          model_dist: np.ndarray | None) -> np.ndarray:
    """Undo the class balancing of training (H2O's ModelUtils.correctProbabilities):
    p_k * prior_k / model_k, renormalized. No-op without both distributions."""
    if prior is None or model_dist is None:
        return p
    ratio = np.asarray(prior, np.float64) / np.maximum(np.asarray(model_dist, np.float64), 1e-300)
    q = np.asarray(p, np.float64) * ratio[None, :]
    return q / np.maximum(q.sum(axis=1, keepdims=True), 1e-300)


def predictions(info: DataInfo, out: np.ndarray, prior: np.ndarray | None = None,
                model_dist: np.ndarray | None = None, offsets: np.ndarray | None = None) -> np.ndarray:
    """Kernel output -> what the metric builders take: class probabilities (float64, n x K),
    the regression value in the response's units (``offsets``, offset_column's values, added
    in link space), or the (standardized) reconstruction."""
    if info.autoencoder:
        return np.asarray(out, dtype=np.float64)
    if info.classification:
        return correct_probabilities(np.asarray(out, np.float64), prior, model_dist)
    return info.response_to_original(np.asarray(out).reshape(-1), offsets)


def actuals(info: DataInfo, X: np.ndarray, y: np.ndarray | None) -> np.ndarray:
    """The kernel's response (class index / standardized value) as the builders want it."""
    if info.autoencoder:
        return X
    if info.classification:
        return np.asarray(y, dtype=np.float64)
    return info.target_to_original(y)


def score_builder(net: Net, info: DataInfo, X: np.ndarray, y: np.ndarray | None,
                  max_hit_ratio_k: int = 10, nthreads: int = 1,
                  prior: np.ndarray | None = None,
                  model_dist: np.ndarray | None = None,
                  weights: np.ndarray | None = None,
                  offsets: np.ndarray | None = None) -> MetricsBuilder:
    """Score rows (X, y as the kernel sees them; ``offsets`` the rows' offset_column values)
    into a fresh, mergeable metric builder."""
    b = new_builder(info.classification, info.autoencoder, info.response_domain,
                    max_hit_ratio_k, info.distribution, info.dist_param, info.huber_alpha,
                    info.auc_type, info.gainslift_bins)
    if X.shape[0]:
        out = forward(net, X, nthreads)
        b.add(predictions(info, out, prior, model_dist, offsets), actuals(info, X, y), weights)
    return b
