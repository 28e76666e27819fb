"""THE training loop, independent of where the data lives.

``train_model`` drives a :class:`TrainingBackend` (LocalBackend here; the cloud's backend maps
iterations over the nodes and averages): iterations of ``train_samples_per_iteration``
samples, exact epoch accounting (``epochs=10`` trains exactly ``round(10 * n_rows)``
samples; the last iteration is cut short), scoring under ``score_interval`` and
``score_duty_cycle`` (and always after the first and the last iteration), early stopping at
``classification_stop`` / ``regression_stop``, progress reports and cancellation.

Samples per iteration (``train_samples_per_iteration``):

* ``-1``: all rows every node holds: n_rows x n_nodes with replicated training data
  (each node has every row), else n_rows;
* ``0``: one epoch (n_rows);
* ``N > 0``: N samples;
* ``-2``: automatic: communication about 5% of the time. One node has no communication,
  so one epoch. With several nodes, the first iteration trains one epoch; if the backend
  reports ``last_comm_seconds`` (time of the last iteration spent sending models), N is
  then set so that comm / (comm + N / speed) = 5%.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from h2ocloud.dl.datainfo import DataInfo
from h2ocloud.dl.diagnostics import layer_diagnostics
from h2ocloud.dl.local_backend import LocalBackend
from h2ocloud.dl.model import DeepLearningModel
from h2ocloud.dl.params import (
    DLParams,
    check_checkpoint_compatible,
    check_distribution,
    net_spec_kwargs,
    train_config_kwargs,
    validate_parameters,
)
from h2ocloud.dl.stopping import METRIC_KEYS, MORE_IS_BETTER, resolve_stopping_metric, stop_early
from h2ocloud.dl.varimp import variable_importances
from h2ocloud.kernel import Net, NetSpec, TrainConfig

__all__ = ["TrainingBackend", "LocalBackend", "train_model", "samples_per_iteration"]

_COMM_FRACTION = 0.05
_HISTORY_KEYS = ("mse", "rmse", "logloss", "auc", "classification_error", "r2", "mae",
                 "mean_per_class_error")


class TrainingBackend(Protocol):
    """Where the rows live and how an iteration is trained there."""

    nodes: list[str]

    def train_iteration(self, net: Net, n_samples: int, iteration: int
                        ) -> tuple[Net, int, list[str]]:
        """Train ~n_samples samples (across the workers) from ``net``; return the new net,
        the samples actually trained and the ids of the nodes that trained."""
        ...

    def score(self, net: Net, which: str) -> dict:
        """Metrics on "train" (score_training_samples rows) or "valid" ({} if none)."""
        ...

    def n_train_rows(self) -> int:
        """Rows of one epoch."""
        ...


def samples_per_iteration(tspi: int, n_rows: int, n_nodes: int,
                          replicate_training_data: bool = True,
                          single_node_mode: bool = False) -> int:
    """Samples one iteration trains, before any auto-tuning (see the module docstring)."""
    nodes = 1 if single_node_mode else max(1, n_nodes)
    if tspi == -1:
        return n_rows * nodes if replicate_training_data else n_rows
    if tspi in (0, -2):
        return n_rows
    return int(tspi)


def _auto_tune(prev: int, n_trained: int, seconds: float, comm: float | None,
               n_rows: int, n_nodes: int) -> int:
    """-2: samples per iteration so communication is ~5% of the iteration."""
    if comm is None or n_nodes <= 1 or seconds <= comm or n_trained <= 0:
        return prev
    speed = n_trained / (seconds - comm)  # samples per second of the whole cloud
    n = int(speed * comm * (1 - _COMM_FRACTION) / _COMM_FRACTION)
    return max(n_nodes, min(n, 100 * n_rows * n_nodes))


def _history_entry(start: float, epochs: float, samples: int, iteration: int,
                   train: dict, valid: dict) -> dict[str, Any]:
    e: dict[str, Any] = {"timestamp": time.time(), "duration": time.time() - start,
                         "iterations": iteration, "epochs": epochs, "samples": samples}
    for prefix, m in (("training", train), ("validation", valid)):
        for k in _HISTORY_KEYS:
            if m and k in m:
                e[f"{prefix}_{k}"] = m[k]
    return e


def _validation_error(info: DataInfo, valid: dict) -> float | None:
    """The error override_with_best_model minimizes: validation classification error, else MSE."""
    if not valid or not valid.get("nobs"):
        return None
    if info.classification and not info.autoencoder:
        return valid.get("classification_error")
    return valid.get("mse")


def _stop_early(p: dict[str, Any], info: DataInfo, train: dict) -> bool:
    """The booklet's criteria, on the training scoring sample."""
    if not train or not train.get("nobs"):
        return False
    if info.classification and not info.autoencoder:
        err = train.get("classification_error")
        return err is not None and p["classification_stop"] >= 0 and \
            err <= p["classification_stop"]
    mse = train.get("mse")
    return mse is not None and p["regression_stop"] >= 0 and mse <= p["regression_stop"]


def set_initial_layers(net: Net, layers: dict[int, tuple[np.ndarray | None, np.ndarray | None]]) -> None:
    """Overwrite layer l's weights and/or biases (H2O-3's initial_weights / initial_biases and
    pretrained_autoencoder), refusing a shape that does not fit, naming the parameter."""
    for l, (w, b) in sorted(layers.items()):
        W, B = net.layer(l)
        for name, given, have in (("initial_weights", w, W), ("initial_biases", b, B)):
            if given is None:
                continue
            given = np.asarray(given, dtype=np.float32)
            fits = given.size == have.size if have.ndim == 1 else given.shape == have.shape
            if not fits:
                raise ValueError(f"parameter {name!r}: layer {l} needs shape {tuple(have.shape)}, "
                                 f"got {tuple(given.shape)}")
            if not np.isfinite(given).all():
                raise ValueError(f"parameter {name!r}: layer {l} has missing or infinite values")
            have[...] = given.reshape(have.shape)


def _update_huber_delta(info: DataInfo, backend: TrainingBackend, train_m: dict) -> None:
    """H2O's huber: after each scoring the delta becomes the huber_alpha quantile of the
    training rows' absolute errors (DeepLearningModel.doScoring); the kernel trains on with it."""
    delta = train_m.get("huber_delta") if info.distribution == "huber" else None
    if delta is None or not delta > 0:
        return
    info.dist_param = float(delta)
    setter = getattr(backend, "set_dist_param", None)
    if setter is not None:
        setter(info.kernel_dist_param)


def train_model(params: dict, info: DataInfo, backend: TrainingBackend,
                progress: Callable[[dict], None] | None = None,
                cancelled: Callable[[], bool] | None = None,
                checkpoint: DeepLearningModel | None = None,
                initial_layers: dict[int, tuple[np.ndarray | None, np.ndarray | None]] | None = None,
                ) -> DeepLearningModel:
    """Train a model on ``backend`` and return it (see the module docstring)."""
    if not isinstance(params, DLParams) and params.get("seed") is None and getattr(backend, "params", None):
        params = {**params, "seed": backend.params["seed"]}  # one seed for the model and the backend's rows
    p = validate_parameters(params)  # a DLParams (what the node validated) comes back as it is
    classification = info.classification and not info.autoencoder
    check_distribution(p, classification, info.n_outputs if classification else 0)
    spec = NetSpec(**net_spec_kwargs(p, info.n_inputs, info.n_outputs, classification))
    cfg = TrainConfig(**train_config_kwargs(p))
    n_rows = int(backend.n_train_rows())
    if n_rows <= 0:
        raise ValueError("no training rows (is every response missing?)")

    history: list[dict[str, Any]] = []
    epochs_before, samples_before = 0.0, 0
    if checkpoint is not None:
        check_checkpoint_compatible(checkpoint.params, p)
        if checkpoint.info.input_names != info.input_names:
            raise ValueError("parameter 'x': the checkpoint's input columns differ "
                             f"({checkpoint.info.input_names} vs {info.input_names})")
        if checkpoint.spec != spec:
            raise ValueError("parameter 'hidden': the checkpoint's network differs")
        if p["epochs"] <= checkpoint.epochs_trained:
            raise ValueError(f"parameter 'epochs': {p['epochs']} must exceed the checkpoint's "
                             f"{checkpoint.epochs_trained:g} epochs")
        net = checkpoint.net.copy()
        history = [dict(h) for h in checkpoint.scoring_history]
        epochs_before = checkpoint.epochs_trained
        samples_before = checkpoint.samples_trained
    else:
        net = Net.initialize(spec, p["initial_weight_distribution"], p["initial_weight_scale"],
                             seed=p["seed"])
        if initial_layers:
            set_initial_layers(net, initial_layers)

    n_nodes = len(getattr(backend, "nodes", ["local"]))
    spi = samples_per_iteration(p["train_samples_per_iteration"], n_rows, n_nodes,
                                p["replicate_training_data"], p["single_node_mode"])
    target = int(round((p["epochs"] - epochs_before) * n_rows))

    start = time.time()
    done = 0
    iteration = 0
    score_time = 0.0
    last_score_start, last_score_seconds = start, 0.0
    train_m: dict = {}
    valid_m: dict = {}
    status = "done"
    nodes_per_iteration: list[int] = []
    spi_chosen = spi
    scored_last = True
    iter_base = checkpoint.iterations if checkpoint is not None else 0
    best: tuple[float, Net, dict, dict] | None = None  # override_with_best_model
    # best_model_key: the scoring with the lowest error, on the validation frame when there is
    # one, else on the training sample (H2O's rule); stored under that key by the caller.
    best_any: tuple[float, Net, dict, dict] | None = None
    # H2O-3's early stopping: the stopping metric at each scoring, on the validation frame when
    # there is one, else on the training sample.
    stop_metric = resolve_stopping_metric(p["stopping_metric"], classification, info.autoencoder)
    stop_values: list[float | None] = []

    while done < target:
        if cancelled is not None and cancelled():
            status = "cancelled"
            break
        n_iter = min(spi, target - done)
        t0 = time.time()
        # Iteration numbers continue across checkpoint restarts, so no seed is reused.
        net, n, nodes = backend.train_iteration(net, n_iter, iter_base + iteration)
        t1 = time.time()
        if n <= 0:
            raise RuntimeError(f"iteration {iteration} trained no samples")
        done += int(n)
        iteration += 1
        nodes_per_iteration.append(len(nodes))
        if p["train_samples_per_iteration"] == -2:
            spi = _auto_tune(spi, n, t1 - t0, getattr(backend, "last_comm_seconds", None),
                             n_rows, len(nodes))
            spi_chosen = spi
        last = done >= target
        now = time.time()
        # H2O's rule: score once score_interval has passed since the last scoring started, and
        # only while that scoring took less than score_duty_cycle of the time since it started.
        since = now - last_score_start
        due = p["score_each_iteration"] or (
            since > p["score_interval"] and last_score_seconds / max(since, 1e-9) < p["score_duty_cycle"])
        out_of_time = p["max_runtime_secs"] > 0 and now - start >= p["max_runtime_secs"]
        scored_last = False
        if last or iteration == 1 or due or out_of_time:
            s0 = time.time()
            train_m = backend.score(net, "train")
            valid_m = backend.score(net, "valid") or {}
            _update_huber_delta(info, backend, train_m)
            last_score_start, last_score_seconds = s0, time.time() - s0
            score_time += last_score_seconds
            scored_last = True
            epochs = epochs_before + done / n_rows
            history.append(_history_entry(start, epochs, samples_before + done, iteration,
                                          train_m, valid_m))
            err = _validation_error(info, valid_m)
            if err is not None and (best is None or err < best[0]):
                best = (err, net.copy(), train_m, valid_m)
            any_err = err if err is not None else _validation_error(info, train_m)
            if p["best_model_key"] and any_err is not None and (best_any is None or any_err < best_any[0]):
                best_any = (any_err, net.copy(), train_m, valid_m)
            if _stop_early(p, info, train_m) and not last:
                status = "stopped_early"
            scored = valid_m if valid_m.get("nobs") else train_m
            stop_values.append((scored or {}).get(METRIC_KEYS[stop_metric]))
            if not last and stop_early(stop_values, p["stopping_rounds"], stop_metric in MORE_IS_BETTER,
                                       p["stopping_tolerance"]):
                status = "stopped_early"
        if out_of_time and not last and status == "done":
            status = "max_runtime"
        if progress is not None:
            progress({
                "progress": min(1.0, done / target) if target else 1.0,
                "epochs": epochs_before + done / n_rows,
                "samples": samples_before + done,
                "iteration": iteration,
                "samples_per_second": done / max(time.time() - start - score_time, 1e-9),
                "training_metrics": train_m,
                "validation_metrics": valid_m,
                "status": "running" if status == "done" else status,
            })
        if status in ("stopped_early", "max_runtime"):
            break

    if not scored_last or not history or (iteration == 0 and checkpoint is None):
        train_m = backend.score(net, "train")
        valid_m = backend.score(net, "valid") or {}
        history.append(_history_entry(start, epochs_before + done / n_rows,
                                      samples_before + done, iteration, train_m, valid_m))
    elif iteration == 0 and checkpoint is not None:
        train_m, valid_m = checkpoint.training_metrics, checkpoint.validation_metrics
    err = _validation_error(info, valid_m)
    if p["override_with_best_model"] and best is not None and err is not None and best[0] < err:
        # As H2O: the final model is the one that scored best on the validation frame. The
        # epochs and samples stay those trained; the scoring history shows every scoring.
        _, net, train_m, valid_m = best

    model = DeepLearningModel(
        model_id=p["model_id"] or f"DeepLearningModel_{uuid.uuid4().hex[:12]}",
        params=p,
        info=info,
        net=net,
        epochs_trained=epochs_before + done / n_rows,
        samples_trained=samples_before + done,
        iterations=(checkpoint.iterations if checkpoint else 0) + iteration,
        scoring_history=history,
        training_metrics=train_m,
        validation_metrics=valid_m,
        samples_per_iteration=spi_chosen,
        nodes_per_iteration=(checkpoint.nodes_per_iteration if checkpoint else [])
        + nodes_per_iteration,
        run_time=(checkpoint.run_time if checkpoint else 0.0) + time.time() - start,
        status=status,
    )
    # Not a field of the model (it is not saved with it): train_job stores it as a model of its own.
    model.best_scoring = best_any
    prior = getattr(backend, "prior_class_dist", None)
    mdist = getattr(backend, "model_class_dist", None)
    if prior is not None and mdist is not None:
        model.prior_class_dist = [float(v) for v in prior]
        model.model_class_dist = [float(v) for v in mdist]
    if p["diagnostics"]:
        model.diagnostics = layer_diagnostics(net, cfg, p["input_dropout_ratio"])
    if p["variable_importances"]:
        w0, _ = net.layer(0)
        w1, _ = net.layer(1)
        model.variable_importances = variable_importances(
            w0, w1, info.importance_columns, info.input_column_index())
    return model
