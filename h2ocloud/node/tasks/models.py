"""Models in the DKV: training as a job, and the operations a trained model answers.

A model is stored under its model_id as kind "model": meta = its summary JSON (what the client
shows), one blob = the versioned no-pickle file format of h2ocloud.dl.model_format. Nodes keep the
deserialized models they used recently, so repeated predictions do not re-read them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from h2ocloud.dl.crossval import fold_model_id, summary_table, training_folds
from h2ocloud.dl.datainfo import DataInfo
from h2ocloud.dl.model import DeepLearningModel, probability_column_names
from h2ocloud.dl.model_format import model_from_bytes, model_to_bytes
from h2ocloud.dl.params import (
    DLParams,
    canonical_names,
    check_checkpoint_compatible,
    cross_validating,
    inherit_from_checkpoint,
    validate_parameters,
)
from h2ocloud.errors import Cancelled
from h2ocloud.frame.header import FrameHeader
from h2ocloud.node.store.local import Value
from h2ocloud.node.tasks import framedata
from h2ocloud.node.tasks.framedata import frame_header_sync
from h2ocloud.node.tasks.mrtask import MapContext, MRTask, run_sync, run_task
from h2ocloud.node.tasks.wireforms import builder_from_wire, builder_to_wire

log = logging.getLogger("h2ocloud.training")
LOG_EVERY_S = 1.0  # the node's log shows a training iteration at most this often (and the last)

if TYPE_CHECKING:
    from h2ocloud.node.tasks.host import TaskHost as Node
    from h2ocloud.node.tasks.jobs import Job


class ModelCache:
    """Deserialized models by id (a few, most recently used)."""

    def __init__(self, size: int = 8):
        self._lock = threading.Lock()
        self._models: OrderedDict[str, DeepLearningModel] = OrderedDict()
        self._size = size

    def get(self, model_id: str) -> DeepLearningModel | None:
        with self._lock:
            m = self._models.get(model_id)
            if m is not None:
                self._models.move_to_end(model_id)
            return m

    def put(self, model: DeepLearningModel) -> None:
        with self._lock:
            self._models[model.model_id] = model
            self._models.move_to_end(model.model_id)
            while len(self._models) > self._size:
                self._models.popitem(last=False)

    def drop(self, model_id: str) -> None:
        with self._lock:
            self._models.pop(model_id, None)


def model_value(model: DeepLearningModel) -> Value:
    return Value("model", model.summary_json(), [model_to_bytes(model)])


def store_model(node: Node, model: DeepLearningModel) -> None:
    """Thread-side: put the model to its homes and cache it here."""
    node.dkv.put_sync(model.model_id, model_value(model))
    node.model_cache.put(model)


def load_model_sync(node: Node, model_id: str) -> DeepLearningModel:
    m = node.model_cache.get(model_id)
    if m is not None:
        return m
    m = model_from_bytes(bytes(node.dkv.get_kind_sync(model_id, "model").blobs[0]))
    node.model_cache.put(m)
    return m


def check_train_request(args: dict[str, Any], checkpoint: DeepLearningModel | None = None) -> DLParams:
    """Validate parameters before a job starts, so bad input fails the call, not the job.
    With a checkpoint, what may not change is taken from it when not given (and x / y, when
    args has none, are the checkpoint's columns); a given value that differs is refused."""
    raw = dict(args.get("params") or {})
    if checkpoint is not None:
        raw = inherit_from_checkpoint(raw, checkpoint.params)
        if args.get("y") is None and not checkpoint.info.autoencoder:
            args["y"] = checkpoint.info.response
        if args.get("x") is None:
            args["x"] = list(checkpoint.info.x_columns)
    params = validate_parameters(raw)
    if checkpoint is not None:
        check_checkpoint_compatible(checkpoint.params, params)
        if args.get("y") is not None and not checkpoint.info.autoencoder and args["y"] != checkpoint.info.response:
            raise ValueError(f"parameter 'y': cannot change on a checkpoint restart "
                             f"({checkpoint.info.response!r} -> {args['y']!r})")
        if params["epochs"] <= checkpoint.epochs_trained:
            raise ValueError(f"parameter 'epochs': {params['epochs']:g} is the total with the checkpoint's "
                             f"{checkpoint.epochs_trained:g} epochs, and must exceed them")
    if cross_validating(params) and args.get("validation_frame"):
        # The booklet: "If nfolds != 0, then validation must remain empty."
        name = "nfolds" if params["nfolds"] else "fold_column"
        raise ValueError(f"parameter '{name}': cross-validation replaces the validation frame; "
                         f"give {name} or validation_frame, not both")
    return params


def training_info(node: Node, args: dict[str, Any], params: dict[str, Any]) -> tuple[DataInfo, FrameHeader]:
    """Check the columns and build the job's DataInfo (thread-side) from the training frame's
    column summaries; the only data it needs beyond them, the classes of a numeric response
    read as classes, is one map/reduce over the chunks (dl.levels). Nothing is decoded here."""
    train_h = frame_header_sync(node, args.get("training_frame"), "training_frame")
    tm = framedata.metas(train_h)
    x, y = args.get("x"), args.get("y")
    fold_column = params.get("fold_column")
    if y is not None and y not in train_h.names:
        raise ValueError(f"parameter 'y': response column {y!r} is not in the training frame")
    if x is not None:
        missing = [c for c in x if c not in train_h.names]
        if missing:
            raise ValueError(f"parameter 'x': column(s) {missing} are not in the training frame")
    if fold_column is not None:
        # The fold column says where a row is held out; it is never a predictor.
        if fold_column not in train_h.names:
            raise ValueError(f"parameter 'fold_column': {fold_column!r} is not in the training frame")
        if train_h.types[train_h.col_index(fold_column)] == "string":
            raise ValueError(f"parameter 'fold_column': {fold_column!r} is a string column")
        if x is None:
            ignored = params.get("ignored_columns") or []
            x = [c for c in train_h.names if c not in (y, fold_column) and c not in ignored]
        elif fold_column in x:
            raise ValueError(f"parameter 'fold_column': {fold_column!r} is also a predictor in x")
    y_values = None
    if y is not None and params.get("classification") and not params.get("autoencoder") \
            and train_h.types[train_h.col_index(y)] == "numeric":
        y_values = run_sync(node, run_task(node, "dl.levels", {"column": y}, train_h.frame_id, header=train_h))
    stats = None
    if params.get("categorical_encoding", "AUTO") not in ("AUTO", "Enum", "OneHotInternal", "OneHotExplicit"):
        # frequencies / response means per level of every factor: one map/reduce over the chunks
        from h2ocloud.node.tasks.training_tasks import level_stats_from

        stats = level_stats_from(run_sync(node, run_task(node, "dl.level_stats", {"response": y}, train_h.frame_id,
                                                         header=train_h)))
    info = DataInfo.build(tm, x, y, params, y_values=y_values, level_stats=stats)
    if args.get("validation_frame"):
        vh = frame_header_sync(node, args["validation_frame"], "validation_frame")
        if not info.autoencoder and y not in vh.names:
            raise ValueError(f"validation_frame: response column {y!r} is missing")
        if info.offset_column and info.offset_column not in vh.names:
            raise ValueError(f"parameter 'offset_column': the validation frame is missing the offset "
                             f"column {info.offset_column!r}")
    return info, train_h


def fold_rows(folds: np.ndarray, k: int, y: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The rows a fold model trains on and the rows it holds out (labeled rows only)."""
    labeled = np.ones(folds.size, bool) if y is None else ~np.isnan(y)
    return np.nonzero((folds != k) & labeled)[0], np.nonzero((folds == k) & labeled)[0]


def _other_columns(info: DataInfo, params: dict[str, Any], header: FrameHeader) -> list[str]:
    """The columns training reads beside the inputs that the frame holds: the response, the
    weights, offset and fold columns."""
    wanted = [info.response, params.get("weights_column"), info.offset_column, params.get("fold_column")]
    return [c for c in dict.fromkeys(w for w in wanted if w) if c in header.names]


class LocalData:
    """The rows of a node that trains alone (single_node_mode, or a cloud of one): every column
    of the training and validation frames decoded into its memory, as H2O's single-node mode."""

    def __init__(self, node: Node, args: dict[str, Any], params: dict[str, Any], info: DataInfo,
                 train_h: FrameHeader):
        self.node, self.params, self.info = node, params, info
        tm = framedata.metas(train_h)
        self.X = framedata.model_inputs(node, train_h, info, tm)
        # Decoded: the columns read beside the inputs (response, weights, offset, folds).
        cols = framedata.columns(node, train_h, _other_columns(info, params, train_h))
        self.Y = None if info.autoencoder else info.transform_response(tm[train_h.col_index(info.response)],
                                                                        cols[info.response])
        wcol = params.get("weights_column")
        self.W = cols[wcol] if wcol else None
        self.O = info.row_offsets(cols, "training frame")  # offset_column (None without one)
        self.Ov = None
        fold_column = params.get("fold_column")
        self.fold_values = cols[fold_column] if fold_column is not None else None
        self.n_rows = self.X.shape[0]
        self.Xv = self.Yv = None
        if args.get("validation_frame"):
            vh = frame_header_sync(node, args["validation_frame"], "validation_frame")
            vm = framedata.metas(vh)
            self.Xv = framedata.model_inputs(node, vh, info, vm)
            vcols = framedata.columns(node, vh, _other_columns(info, params, vh))
            if not info.autoencoder:
                self.Yv = info.transform_response(vm[vh.col_index(info.response)], vcols[info.response])
            self.Ov = info.row_offsets(vcols, "validation frame")

    def backend(self, key: str, params: dict[str, Any], folds: np.ndarray | None = None, holdout: int | None = None):
        from h2ocloud.node.tasks.distributed import make_local_backend

        if holdout is None:
            return make_local_backend(self.node, params, self.info, self.X, self.Y, self.Xv, self.Yv, self.W,
                                      self.O, self.Ov)
        tr, ho = self.fold_rows(folds, holdout)
        return make_local_backend(self.node, params, self.info, self.X[tr], _rows(self.Y, tr), self.X[ho],
                                  _rows(self.Y, ho), _rows(self.W, tr), _rows(self.O, tr), _rows(self.O, ho))

    def fold_rows(self, folds: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return fold_rows(folds, k, None if self.info.autoencoder else self.Y)

    def holdout_builder(self, model: DeepLearningModel, backend, folds: np.ndarray, k: int):
        _, ho = self.fold_rows(folds, k)
        return model.rows_builder(self.X[ho], _rows(self.Y, ho), offsets=_rows(self.O, ho))


class CloudData:
    """A training frame the cloud trains on where its chunks live: the driver keeps no rows.
    Cross-validation reads one column here (the response, or the fold column) for the folds."""

    def __init__(self, node: Node, args: dict[str, Any], params: dict[str, Any], info: DataInfo,
                 train_h: FrameHeader):
        self.node, self.args, self.params, self.info = node, args, params, info
        self.n_rows = train_h.nrows
        self.Y = self.fold_values = None
        if cross_validating(params):
            names = ([] if info.autoencoder else [info.response]) + \
                ([params["fold_column"]] if params.get("fold_column") else [])
            cols = framedata.columns(node, train_h, names=names)
            if not info.autoencoder:
                ym = framedata.metas(train_h)[train_h.col_index(info.response)]
                self.Y = info.transform_response(ym, cols[info.response])
            if params.get("fold_column"):
                self.fold_values = cols[params["fold_column"]]

    def backend(self, key: str, params: dict[str, Any], folds: np.ndarray | None = None, holdout: int | None = None):
        from h2ocloud.node.tasks.distributed import CloudBackend

        return CloudBackend(self.node, key, params, self.info, self.args["training_frame"],
                            self.args.get("validation_frame"), folds=folds, holdout=holdout)

    def fold_rows(self, folds: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return fold_rows(folds, k, None if self.info.autoencoder else self.Y)

    def holdout_builder(self, model: DeepLearningModel, backend, folds: np.ndarray, k: int):
        return backend.score_builder(model.net, "holdout")


def train_job(node: Node, args: dict[str, Any], params: dict[str, Any], job: Job) -> DeepLearningModel:
    """The training job: with nfolds, the fold models first (see h2ocloud.dl.crossval), then
    the model on every row, which is stored under the model id."""
    from h2ocloud.node.tasks.distributed import trains_alone

    checkpoint = None
    if params.get("checkpoint"):
        checkpoint = load_model_sync(node, params["checkpoint"])
    job.update(0.0, "preparing data")
    info, train_h = training_info(node, args, params)
    data = (LocalData if trains_alone(node, params) else CloudData)(node, args, params, info, train_h)
    folds = None
    if cross_validating(params):
        folds = training_folds(params, data.n_rows, data.Y, info.classification and not info.autoencoder,
                               data.fold_values)
    # nfolds folds (some may be empty: refused below), or one per value of the fold column.
    nfolds = 0 if folds is None else int(params["nfolds"]) or int(folds.max()) + 1
    cv = _cross_validate(node, job, args, params, info, data, folds, nfolds) if nfolds else None
    cv_frames = _cross_validation_frames(node, args, params, folds, cv[2] if cv else [])
    model, _ = _train_part(node, job, params, info, data.backend(job.job_id if not nfolds else f"{job.job_id}.{nfolds}", params),
                           checkpoint, part=nfolds, parts=nfolds + 1, label="main model" if nfolds else "")
    if cv is not None:
        model.cross_validation_metrics, model.cross_validation_metrics_summary, fold_ids = cv
        model.cross_validation_models = fold_ids if params["keep_cross_validation_models"] else []
        model.cross_validation_frames = cv_frames
    if not getattr(job, "keep_partial", False):  # --checkpoint-on-stop keeps the model so far
        job.check_cancelled()
    if params.get("model_id"):
        model.model_id = params["model_id"]
    model.training_chunks = train_h.nchunks
    # the frame the user named (force_load_balance trains on a copy it removes afterwards)
    model.training_frame = (args.get("training_frame_rebalanced") or {}).get("from") or args["training_frame"]
    model.validation_frame = args.get("validation_frame") or None
    # the parameters the user set (the console marks them; the others are defaults or filled in)
    model.given_params = sorted(canonical_names(dict(args.get("params") or {})))
    store_model(node, model)
    if params.get("export_checkpoints_dir"):  # H2O-3: the model, written where it asks
        import os

        from h2ocloud.dl.model_format import save_model
        from h2ocloud.node.tasks import roots

        where = roots.check(params["export_checkpoints_dir"], node.config.export_root, roots.EXPORT_FLAG,
                            "parameter 'export_checkpoints_dir':")
        try:
            save_model(model, os.path.join(where, model.model_id))
        except OSError as e:
            raise ValueError(f"parameter 'export_checkpoints_dir': cannot write the model: {e}") from e
    if params.get("export_weights_and_biases"):
        from h2ocloud.node.tasks.model_frames import export_weights_and_biases

        export_weights_and_biases(node, model)
    if params.get("best_model_key"):
        store_model(node, best_model(model, params["best_model_key"]))
    if job.cancelled:
        raise Cancelled(f"job {job.job_id} was stopped with its node; the model so far "
                        f"({model.epochs_trained:g} epochs) is stored under {model.model_id!r} as a checkpoint")
    return model


def best_model(model: DeepLearningModel, key: str) -> DeepLearningModel:
    """best_model_key (appendix A): the model as it was at its best scoring, under ``key``."""
    import dataclasses

    best = getattr(model, "best_scoring", None)
    if best is None:  # never scored with an error to compare: the final model is the best
        return dataclasses.replace(model, model_id=key)
    _, net, train_m, valid_m = best
    return dataclasses.replace(model, model_id=key, net=net, training_metrics=train_m,
                               validation_metrics=valid_m)


def _train_part(node: Node, job: Job, params: dict[str, Any], info: DataInfo, backend,
                checkpoint: DeepLearningModel | None, part: int, parts: int, label: str,
                before_release: Callable[[DeepLearningModel, Any], Any] | None = None):
    """Train one model of the job (the main one or a fold model) on ``backend``, which is
    released at the end; its progress is the job's from part/parts to (part+1)/parts. Returns
    the model and what ``before_release`` made of it while the backend still held its rows."""
    from h2ocloud.dl.trainer import train_model

    logged = [float("-inf")]  # when the node's log last showed an iteration

    def progress(p: dict[str, Any]) -> None:
        tm = p.get("training_metrics") or {}
        msg = f"epoch {p['epochs']:.2f}, {p['samples_per_second']:.0f} samples/s"
        if tm.get("classification_error") is not None:
            msg += f", train err {tm['classification_error']:.4f}"
        elif tm.get("mse") is not None:
            msg += f", train mse {tm['mse']:.4g}"
        # The node's log shows the iterations as H2O's does, at most one a second and the last:
        # small data trains 100 iterations in a tenth of a second, where a line each was 3%.
        now = time.monotonic()
        if not params["quiet_mode"] and (now - logged[0] >= LOG_EVERY_S or p["progress"] >= 1.0):
            logged[0] = now
            log.info("%s %s: iteration %d, %s", params["model_id"], label or "", p["iteration"], msg)
        job.update((part + p["progress"]) / parts, f"{label}: {msg}" if label else msg,
                   epochs=p["epochs"], samples=p["samples"],
                   samples_per_second=p["samples_per_second"], training_metrics=tm,
                   validation_metrics=p.get("validation_metrics") or {})

    extra = None
    try:
        from h2ocloud.node.tasks.model_frames import initial_layers

        model = train_model(params, info, backend, progress=progress, cancelled=lambda: job.cancelled,
                            checkpoint=checkpoint, initial_layers=initial_layers(node, params, info))
        if before_release is not None:
            extra = before_release(model, backend)
    finally:
        if hasattr(backend, "release"):
            backend.release()
    if getattr(backend, "iteration_log", None):
        model.training_nodes = [it["nodes"] for it in backend.iteration_log]
        model.iteration_samples = [int(it["samples"]) for it in backend.iteration_log]
        model.iteration_chunks = [int(it["chunks"]) for it in backend.iteration_log]
        model.comm_seconds = backend.comm_seconds
    else:  # this node trained alone
        done_before = len(checkpoint.training_nodes) if checkpoint is not None else 0
        model.training_nodes = (checkpoint.training_nodes if checkpoint is not None else []) + \
            [[node.node_id]] * (model.iterations - done_before)
    return model, extra


def _rows(a: np.ndarray | None, r: np.ndarray) -> np.ndarray | None:
    return None if a is None else a[r]


def _cross_validate(node: Node, job: Job, args: dict[str, Any], params: dict[str, Any], info: DataInfo,
                    data: LocalData | CloudData, folds: np.ndarray,
                    nfolds: int) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Train one model per fold (``folds``: each training-frame row's fold, 0..nfolds-1); return
    the pooled held-out metrics, the per-fold summary and the ids of the fold models kept."""
    pooled = None
    per_fold: list[dict[str, Any]] = []
    kept: list[str] = []
    labeled_rows = int(data.fold_rows(folds, -1)[0].size)  # no row is in fold -1: every labeled row
    for k in range(nfolds):
        job.check_cancelled()
        train_rows, holdout = data.fold_rows(folds, k)
        if train_rows.size == 0 or holdout.size == 0:
            raise ValueError(f"parameter 'nfolds': fold {k + 1} of {nfolds} leaves no rows to "
                             f"{'hold out' if holdout.size == 0 else 'train on'} "
                             f"({labeled_rows} training rows)")
        fold_params = params.replace(nfolds=0, fold_column=None, model_id=fold_model_id(params["model_id"], k))
        m, b = _train_part(node, job, fold_params, info, data.backend(f"{job.job_id}.{k}", fold_params, folds, k),
                           None, part=k, parts=nfolds + 1, label=f"fold {k + 1}/{nfolds}",
                           before_release=lambda model, backend, k=k: data.holdout_builder(model, backend, folds, k))
        per_fold.append(b.result())
        pooled = b if pooled is None else pooled.merge(b)
        if params["keep_cross_validation_models"] or params["keep_cross_validation_predictions"]:
            store_model(node, m)  # the holdout predictions are a map over the frame with it
            kept.append(m.model_id)
    return pooled.result(), summary_table(per_fold), kept


def _cross_validation_frames(node: Node, args: dict[str, Any], params: dict[str, Any],
                             folds: np.ndarray | None, fold_models: list[str]) -> dict[str, Any]:
    """keep_cross_validation_fold_assignment / _predictions: store the frames (the fold models
    kept only for this are removed after)."""
    from h2ocloud.node.tasks import cv_frames

    keep_pred, keep_folds = params["keep_cross_validation_predictions"], params["keep_cross_validation_fold_assignment"]
    if folds is None or not (keep_pred or keep_folds):
        return {}
    train_h = frame_header_sync(node, args["training_frame"], "training_frame")
    fold_id = cv_frames.fold_assignment_id(params["model_id"])
    cv_frames.store_fold_assignment(node, train_h, folds, fold_id)
    out: dict[str, Any] = {"fold_assignment": fold_id} if keep_folds else {}
    try:
        if keep_pred:
            ids = cv_frames.store_holdout_predictions(node, params["model_id"], fold_models, train_h, fold_id)
            out.update(holdout_predictions=ids[0], predictions=ids[1:])
    finally:
        import asyncio

        from h2ocloud.node.tasks.frames import remove_frame

        if not keep_folds:
            asyncio.run_coroutine_threadsafe(remove_frame(node, fold_id), node.dkv.loop).result()
        if not params["keep_cross_validation_models"]:
            asyncio.run_coroutine_threadsafe(node.dkv.remove_many(list(fold_models)), node.dkv.loop).result()
    return out


# ---- prediction and metrics by map/reduce over the scored frame's chunks --------------------
def output_layout(model: DeepLearningModel, args: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Names and types of the frame that predict/anomaly/deepfeatures make (args["output"])."""
    kind = args.get("output", "predict")
    info = model.info
    if kind == "anomaly":
        if not info.autoencoder:
            raise ValueError("anomaly needs an autoencoder model (autoencoder=True)")
        names = [f"reconstr_{n}.SE" for n in info.input_names] if args.get("per_feature") else ["Reconstruction.MSE"]
        return names, ["numeric"] * len(names)
    if kind == "deepfeatures":
        layer = int(args.get("layer", 0))
        hidden = model.spec.hidden
        if not 0 <= layer < len(hidden):
            raise ValueError(f"layer {layer} out of range: the model has {len(hidden)} hidden layers")
        names = [f"DF.L{layer + 1}.C{i + 1}" for i in range(hidden[layer])]
        return names, ["numeric"] * len(names)
    if kind != "predict":
        raise ValueError(f"unknown prediction kind {kind!r}")
    if info.autoencoder:
        names = [f"reconstr_{n}" for n in info.input_names]
        return names, ["numeric"] * len(names)
    if info.classification:
        probs = probability_column_names(info.response_domain or [])
        return ["predict", *probs], ["enum"] + ["numeric"] * len(probs)
    return ["predict"], ["numeric"]


class ChunkPredictor:
    """What predict / anomaly / deepfeatures need for every chunk of one scored frame, worked
    out once a frame: the frame's column metadata and the columns the model reads (a frame such
    as MNIST has 785 of them: listing them again for each chunk cost more than the chunk's
    standardization)."""

    def __init__(self, model: DeepLearningModel, args: dict[str, Any], header: FrameHeader):
        self.model, self.args, self.header = model, args, header
        self.names, self.types = output_layout(model, args)
        self.metas = framedata.metas(header)
        # Only the columns the model reads are decoded (a scored frame may hold many more, such as
        # MNIST's constant border pixels or the response); a missing one is named by the model.
        used = set(model.info.model_columns)
        self.read = [n for n in header.names if n in used]

    def __call__(self, chunk, workers: int | None = None) -> Any:
        """One chunk of the prediction frame from one chunk of the scored frame (rows in order);
        ``workers``: the threads its forward pass may use (None: the model's nthreads)."""
        model, args, metas, names = self.model, self.args, self.metas, self.names
        cols = framedata.ChunkColumns(self.header, chunk, self.read)
        kind = args.get("output", "predict")
        if kind == "predict":
            out = model.predict(metas, cols, workers)
        elif kind == "anomaly":
            if args.get("per_feature"):
                X, rec = model._raw(metas, cols, workers)
                se = (rec.astype(np.float64) - X) ** 2
                out = {n: se[:, i] for i, n in enumerate(names)}
            else:
                out = model.anomaly(metas, cols, workers)
        else:
            feats = model.deepfeatures(metas, cols, int(args.get("layer", 0)), workers)
            out = {n: feats[:, i] for i, n in enumerate(names)}
        return output_chunk(model, names, self.types, out, chunk.nrows, chunk.row_offset)


def output_chunk(model: DeepLearningModel, names: list[str], types: list[str], out: dict[str, np.ndarray],
                 nrows: int, row_offset: int):
    """Encode prediction columns (as output_layout names and types them) into a chunk."""
    from h2ocloud.frame.chunk import Chunk, encode_enum_codes, encode_numeric_block

    values = [np.asarray(out[n]) for n in names]
    num = [i for i, t in enumerate(types) if t == "numeric"]
    encoded: list[Any] = [None] * len(names)
    if num:
        block = np.vstack([values[i].astype(np.float64) for i in num]) if nrows else np.zeros((len(num), 0))
        for i, enc in zip(num, encode_numeric_block(block)):
            encoded[i] = enc
    for i, t in enumerate(types):
        if t == "enum":
            encoded[i] = encode_enum_codes(values[i].astype(np.int32), model.info.response_domain or [])
    return Chunk(names, encoded, nrows, row_offset)


class ModelMetricsTask(MRTask):
    """A model's metrics on a frame: one mergeable metric builder per chunk, merged."""

    name = "model.metrics"

    def setup(self, ctx: MapContext) -> None:
        self.model = load_model_sync(ctx.node, self.args["model_id"])
        self.metas = framedata.metas(ctx.header)

    def map(self, ctx: MapContext, index: int, chunk):
        if chunk.nrows == 0:
            return None
        return self.model.performance_builder(self.metas, framedata.chunk_columns(ctx.header, chunk))

    def reduce(self, a, b):
        return a.merge(b)

    def to_wire(self, b):
        return builder_to_wire(b)

    def from_wire(self, meta, blobs):
        return builder_from_wire(meta, blobs)
