"""DeepLearningModel: a trained network with its parameters, preprocessing and history."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from h2ocloud.dl.datainfo import DataInfo, Meta
from h2ocloud.dl.metrics import cap_confusion_matrix, new_builder
from h2ocloud.dl.params import resolve_nthreads
from h2ocloud.dl.scoring import predictions, score_builder
from h2ocloud.kernel import Net, NetSpec, forward, hidden_layer


def jsonable(obj: Any) -> Any:
    """Plain JSON types: numpy scalars/arrays -> Python, non-finite floats -> "Infinity",
    "-Infinity" or "NaN" (strict JSON has none; validate_parameters reads them back)."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return "NaN" if math.isnan(obj) else ("Infinity" if obj > 0 else "-Infinity")
    return obj


def probability_column_names(domain: Sequence[str]) -> list[str]:
    """The probability columns of a classifier's prediction frame, named as H2O's
    Model.makeScoringNames names them: a level that is an integer ("0", "1") becomes "p0",
    "p1" (so h2o-py scripts can index ``pred["p1"]``); other levels keep their names."""
    out = []
    for level in map(str, domain):
        # Java's Integer.valueOf: optional sign, decimal digits, 32-bit range.
        is_int = re.fullmatch(r"[+-]?[0-9]+", level) is not None and -2**31 <= int(level) < 2**31
        out.append(f"p{level}" if is_int else level)
    return out


@dataclass
class DeepLearningModel:
    """Everything a trained deep-learning model keeps; see model_format for its file format."""

    model_id: str
    params: dict[str, Any]
    info: DataInfo
    net: Net
    epochs_trained: float = 0.0
    samples_trained: int = 0
    iterations: int = 0
    scoring_history: list[dict[str, Any]] = field(default_factory=list)
    training_metrics: dict[str, Any] = field(default_factory=dict)
    validation_metrics: dict[str, Any] = field(default_factory=dict)
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    variable_importances: dict[str, Any] | None = None
    samples_per_iteration: int = 0
    nodes_per_iteration: list[int] = field(default_factory=list)
    training_nodes: list[list[str]] = field(default_factory=list)  # ids that trained, per iteration (cloud)
    iteration_samples: list[int] = field(default_factory=list)  # samples trained, per iteration (cloud)
    iteration_chunks: list[int] = field(default_factory=list)  # training-frame chunks trained on, per iteration
    comm_seconds: float = 0.0  # time spent sending and averaging models (cloud)
    run_time: float = 0.0
    status: str = "done"  # done | stopped_early | cancelled
    prior_class_dist: list[float] | None = None  # set when balance_classes resampled
    model_class_dist: list[float] | None = None
    # nfolds: metrics of the fold models on their held-out rows, pooled; per-fold summary
    # (H2O-3's cross_validation_metrics_summary); ids of the stored fold models.
    cross_validation_metrics: dict[str, Any] = field(default_factory=dict)
    cross_validation_metrics_summary: dict[str, Any] | None = None
    cross_validation_models: list[str] = field(default_factory=list)
    # keep_cross_validation_predictions / _fold_assignment: ids of the frames kept
    # ("holdout_predictions", "predictions" (one per fold), "fold_assignment").
    cross_validation_frames: dict[str, Any] = field(default_factory=dict)
    # chunks of the frame training read (more than the training frame's with force_load_balance)
    training_chunks: int = 0
    # ids of the frames it was trained and validated on (the console's model list shows them)
    training_frame: str | None = None
    validation_frame: str | None = None
    given_params: list[str] = field(default_factory=list)  # the parameters the user set

    # ------------------------------------------------------------------ shape
    @property
    def spec(self) -> NetSpec:
        return self.net.spec

    @property
    def response_domain(self) -> list[str] | None:
        return self.info.response_domain

    @property
    def model_category(self) -> str:
        if self.info.autoencoder:
            return "AutoEncoder"
        if not self.info.classification:
            return "Regression"
        return "Binomial" if self.info.n_classes == 2 else "Multinomial"

    def _nthreads(self) -> int:
        return resolve_nthreads(self.params)

    def _dists(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        if self.prior_class_dist is None or self.model_class_dist is None:
            return None, None
        return np.asarray(self.prior_class_dist), np.asarray(self.model_class_dist)

    def threshold(self) -> float:
        """Binomial label threshold: the F1-optimal one of the validation metrics when there
        are any, else of the training metrics (0.5 before any scoring)."""
        for m in (self.validation_metrics, self.training_metrics):
            if m and m.get("threshold") is not None:
                return float(m["threshold"])
        return 0.5

    # ------------------------------------------------------------------ scoring
    def _raw(self, metas: Sequence[Meta] | Mapping[str, Meta], columns: Mapping[str, np.ndarray],
             workers: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        X = self.info.transform(metas, columns, order="F")
        return X, forward(self.net, X, self._nthreads(), workers)

    def predict(self, metas: Sequence[Meta] | Mapping[str, Meta], columns: Mapping[str, np.ndarray],
                workers: int | None = None) -> dict[str, np.ndarray]:
        """H2O's prediction frame as columns: "predict" (class code / value) and one
        probability column per class; an autoencoder gives "reconstr_<input>" columns.
        ``workers``: the threads the forward pass may use (h2ocloud.kernel.forward); the
        model's nthreads still slices the rows, so the predictions are the same."""
        X, out = self._raw(metas, columns, workers)
        info = self.info
        if info.autoencoder:
            rec = out.astype(np.float64)
            n_cat = info.num_offset
            for j, col in enumerate(info.nums):  # numeric reconstructions in original units
                rec[:, n_cat + j] = rec[:, n_cat + j] * col.sigma + col.mean
            return {f"reconstr_{name}": rec[:, i] for i, name in enumerate(info.input_names)}
        if not info.classification:
            return {"predict": predictions(info, out, offsets=info.row_offsets(columns))}
        p = predictions(info, out, *self._dists())
        if info.n_classes == 2:
            label = (p[:, 1] >= self.threshold()).astype(np.int32)
        else:
            label = p.argmax(axis=1).astype(np.int32)
        label[np.isnan(p).any(axis=1)] = -1  # a skipped row (missing_values_handling=Skip)
        res: dict[str, np.ndarray] = {"predict": label}
        for k, name in enumerate(probability_column_names(info.response_domain or [])):
            res[name] = p[:, k]
        return res

    def anomaly(self, metas: Sequence[Meta] | Mapping[str, Meta], columns: Mapping[str, np.ndarray],
                workers: int | None = None) -> dict[str, np.ndarray]:
        """{"Reconstruction.MSE": per-row mean squared reconstruction error} (standardized
        space, as H2O's anomaly); ``workers`` as predict's."""
        if not self.info.autoencoder:
            raise ValueError("anomaly needs an autoencoder model")
        X, out = self._raw(metas, columns, workers)
        err = out.astype(np.float64) - X
        return {"Reconstruction.MSE": (err * err).mean(axis=1)}

    def deepfeatures(self, metas: Sequence[Meta] | Mapping[str, Meta],
                     columns: Mapping[str, np.ndarray], layer: int, workers: int | None = None) -> np.ndarray:
        """Activations of hidden layer ``layer`` (0-based), float32 (n, hidden[layer]);
        ``workers`` as predict's."""
        if not 0 <= layer < len(self.spec.hidden):
            raise ValueError(f"layer {layer} out of range: the model has "
                             f"{len(self.spec.hidden)} hidden layers")
        X = self.info.transform(metas, columns, order="F")
        return hidden_layer(self.net, X, layer, self._nthreads(), workers)

    def performance_builder(self, metas: Sequence[Meta] | Mapping[str, Meta],
                            columns: Mapping[str, np.ndarray]):
        """The mergeable metric builder of the model on some rows (a chunk, or a whole frame),
        which must hold the response unless the model is an autoencoder."""
        info = self.info
        y = None
        if not info.autoencoder:
            by_name = {m["name"]: m for m in metas} if not isinstance(metas, Mapping) else metas
            if info.response not in columns or info.response not in by_name:
                raise ValueError(f"response column {info.response!r} is missing from the frame")
            y = info.transform_response(by_name[info.response], columns[info.response])
        # A frame with the model's weights column is scored with its weights, as H2O-3 does.
        wcol = self.params.get("weights_column")
        weights = columns[wcol] if wcol and wcol in columns else None
        return self.rows_builder(info.transform(metas, columns, order="F"), y, weights, info.row_offsets(columns))

    def rows_builder(self, X: np.ndarray, y: np.ndarray | None, weights: np.ndarray | None = None,
                     offsets: np.ndarray | None = None):
        """The metric builder of the model on rows already transformed (X and y as the kernel
        sees them, e.g. a cross-validation fold's held-out rows), weighted by ``weights``, with
        the rows' offset_column values ``offsets``."""
        return score_builder(self.net, self.info, X, y, self.params.get("max_hit_ratio_k", 10),
                             self._nthreads(), *self._dists(), weights=weights, offsets=offsets)

    def new_metrics_builder(self):
        """An empty metric builder of this model's kind."""
        return new_builder(self.info.classification, self.info.autoencoder, self.info.response_domain,
                           self.params.get("max_hit_ratio_k", 10), self.info.distribution,
                           self.info.dist_param, self.info.huber_alpha, self.info.auc_type,
                           self.info.gainslift_bins)

    def performance(self, metas: Sequence[Meta] | Mapping[str, Meta],
                    columns: Mapping[str, np.ndarray]) -> dict[str, Any]:
        """Metrics of the model on a frame (which must hold the response, unless an
        autoencoder)."""
        return self.performance_builder(metas, columns).result()

    # ------------------------------------------------------------------ summary
    def capped(self, metrics: dict[str, Any]) -> dict[str, Any]:
        """Metrics as reported: no confusion matrix beyond max_confusion_matrix_size classes."""
        return cap_confusion_matrix(metrics, int(self.params.get("max_confusion_matrix_size", 20)))

    def summary_json(self) -> dict[str, Any]:
        """Everything a client shows about the model, JSON-able."""
        info = self.info
        return jsonable({
            "model_id": self.model_id,
            "algo": "deeplearning",
            "model_category": self.model_category,
            "status": self.status,
            "response_column": info.response,
            "response_domain": info.response_domain,
            "x": info.x_columns,
            "ignored_columns": info.ignored,
            "input_names": info.input_names,
            "n_inputs": info.n_inputs,
            "layers": [info.n_inputs, *self.spec.hidden, self.spec.n_outputs],
            "n_weights": int(self.net.weights.size),
            "params": self.params,
            "epochs_trained": self.epochs_trained,
            "samples_trained": self.samples_trained,
            "iterations": self.iterations,
            "samples_per_iteration": self.samples_per_iteration,
            "nodes_per_iteration": self.nodes_per_iteration,
            "training_nodes": self.training_nodes,
            "iteration_samples": self.iteration_samples,
            "iteration_chunks": self.iteration_chunks,
            "comm_seconds": self.comm_seconds,
            "run_time": self.run_time,
            "training_chunks": self.training_chunks,
            "training_frame": self.training_frame,
            "validation_frame": self.validation_frame,
            "given_params": self.given_params,
            "training_metrics": self.capped(self.training_metrics),
            "validation_metrics": self.capped(self.validation_metrics),
            "cross_validation_metrics": self.capped(self.cross_validation_metrics),
            "cross_validation_metrics_summary": self.cross_validation_metrics_summary,
            "cross_validation_models": self.cross_validation_models,
            "cross_validation_frames": self.cross_validation_frames,
            "scoring_history": self.scoring_history,
            "diagnostics": self.diagnostics,
            "variable_importances": self.variable_importances,
        })
