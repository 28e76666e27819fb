"""Model operations: train (a job), get, list, predict, performance, anomaly, deepfeatures,
save and load."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from h2ocloud.dl.model_format import load_model, save_model
from h2ocloud.dl.params import canonical_names, parameter_warnings
from h2ocloud.errors import LimitExceeded, NotFound
from h2ocloud.node.ops.frames import header_json
from h2ocloud.node.ops.registry import Reply
from h2ocloud.node.ops.schema import NoArgs
from h2ocloud.node.tasks import models as md
from h2ocloud.node.tasks import roots
from h2ocloud.node.tasks.frames import check_frame_id, derive, get_header, remove_frame
from h2ocloud.node.tasks.mrtask import run_task


@dataclass(frozen=True)
class TrainArgs:
    training_frame: str
    params: dict[str, Any] | None = None  # the deep learning parameters (h2ocloud.dl.params)
    x: list[str | int] | str | int | None = None  # predictors: all but y (and ignored) when absent
    y: str | int | None = None  # the response; absent for an autoencoder
    validation_frame: str | None = None

    def request(self) -> dict[str, Any]:
        """The mutable request the training job reads (checkpoint inheritance fills x / y)."""
        return {"params": dict(self.params or {}), "x": self.x, "y": self.y,
                "training_frame": self.training_frame, "validation_frame": self.validation_frame}


async def train(node, train_args: TrainArgs, blobs: list[bytes]) -> dict[str, Any]:
    args = train_args.request()
    checkpoint = None
    ck = args["params"].get("checkpoint")
    if ck:
        if not isinstance(ck, str):
            raise ValueError(f"parameter 'checkpoint': expected a model or its id, got {ck!r}")
        try:
            checkpoint = await node.run_in_thread(md.load_model_sync, node, ck)
        except NotFound as e:  # say which parameter named the missing model
            raise NotFound(f"parameter 'checkpoint': {e}") from None
    params = md.check_train_request(args, checkpoint)
    if params.get("export_checkpoints_dir"):  # refused now, not when the trained model is written
        roots.check(params["export_checkpoints_dir"], node.config.export_root, roots.EXPORT_FLAG,
                    "parameter 'export_checkpoints_dir':")
    if params.get("model_id"):
        check_frame_id(params["model_id"], "model_id")
    if params.get("best_model_key"):
        check_frame_id(params["best_model_key"], "best_model_key")
    for k in ("training_frame",):
        if not args.get(k):
            raise ValueError(f"{k} is required")
    train_h = await node.run_in_thread(md.frame_header_sync, node, args["training_frame"], "training_frame")
    _check_network_size(node, args, params, train_h)
    if args.get("validation_frame"):
        await node.run_in_thread(md.frame_header_sync, node, args["validation_frame"], "validation_frame")
    model_id = params.get("model_id") or f"DeepLearning_model_{uuid.uuid4().hex[:12]}"
    params = params.replace(model_id=model_id)
    rebalanced = await _load_balance(node, args, params)

    def work(j):
        try:
            return md.train_job(node, args, params, j)
        finally:
            if rebalanced is not None:  # H2O deletes its rebalanced copy after training as well
                node.dkv._sync(remove_frame(node, rebalanced))

    job = node.jobs.start(f"DeepLearning {model_id}", work, dest=model_id)
    warnings = parameter_warnings(canonical_names(dict(args.get("params") or {})))
    return {"job": job.to_json(), "model_id": model_id, "warnings": warnings}


async def _load_balance(node, args, params) -> str | None:
    """force_load_balance (appendix A, H2O's meaning): a training frame of fewer chunks than the
    cloud has cores is copied into enough chunks to keep every core of every node busy; training
    reads the copy (args["training_frame"] is replaced), which is removed when the job ends."""
    if not params["force_load_balance"]:
        return None
    h = await get_header(node, args["training_frame"])
    cores = sum(max(1, int(n.get("nthreads") or n.get("cores") or 1))
                for n in node.membership.cloud_status_json()["nodes"])
    if h.nchunks == 0 or h.nchunks >= cores or h.nrows < 2 * cores:
        return None  # enough chunks already (or too few rows to cut)
    pieces = -(-cores // h.nchunks)
    dest = f"{h.frame_id.removesuffix('.hex')}_rebalanced-{uuid.uuid4().hex[:8]}.hex"
    await derive(node, h, "rebalance", [dest], h.names, h.types, h.domains, pieces=pieces)
    args["training_frame_rebalanced"] = {"from": h.frame_id, "chunks": h.nchunks * pieces}
    args["training_frame"] = dest
    return dest


@dataclass(frozen=True)
class ModelArgs:
    model_id: str = ""
    key: str = ""  # the REST routes' generic name for the model id

    @property
    def id(self) -> str:
        if not (self.model_id or self.key):
            raise ValueError("model_id is required")
        return self.model_id or self.key


async def get(node, args: ModelArgs, blobs: list[bytes]) -> dict[str, Any]:
    return (await node.dkv.get_kind(args.id, "model")).meta


async def list_models(node, args: NoArgs, blobs: list[bytes]) -> dict[str, Any]:
    return {"models": [{"model_id": key, "algo": "deeplearning", "model_category": v.meta.get("model_category"),
                        "response_column": v.meta.get("response_column"),
                        "training_frame": v.meta.get("training_frame"), "headline": headline_metric(v.meta)}
                       for key, v in await node.dkv.values_of_kind("model")]}


def headline_metric(meta: dict) -> dict | None:
    """The one metric a model list shows: a classifier's logloss, a regressor's or an
    autoencoder's RMSE / MSE, from cross-validation, else validation, else training metrics
    (H2O-3's order of preference)."""
    for source in ("cross_validation_metrics", "validation_metrics", "training_metrics"):
        m = meta.get(source) or {}
        if not m:
            continue
        name = "logloss" if m.get("kind") in ("binomial", "multinomial") else "rmse" if "rmse" in m else "mse"
        if isinstance(m.get(name), int | float):
            return {"metric": name, "value": m[name], "on": source.removesuffix("_metrics")}
    return None


async def parameters(node, args: NoArgs, blobs: list[bytes]) -> dict[str, Any]:
    """Every deep learning parameter with its default (the build form fills them in)."""
    from h2ocloud.dl.params import parameter_table

    return {"algo": "deeplearning", "parameters": parameter_table()}


@dataclass(frozen=True)
class PredictArgs:
    model_id: str
    frame_id: str
    kind: Literal["predict", "anomaly", "deepfeatures"] = "predict"
    layer: int = 0  # deepfeatures: the hidden layer
    per_feature: bool = False  # anomaly: one error column per input
    dest: str | None = None


async def predict(node, args: PredictArgs, blobs: list[bytes]) -> dict[str, Any]:
    """predict / anomaly / deepfeatures of a model on a frame, as a new frame with the rows in
    order: a map/reduce over the frame's chunks, each prediction chunk written where it is made."""
    model = await node.run_in_thread(md.load_model_sync, node, args.model_id)
    h = await node.run_in_thread(md.frame_header_sync, node, args.frame_id, "frame")
    kind = args.kind
    task_args = {"output": kind, "layer": args.layer, "per_feature": args.per_feature}
    names, types = md.output_layout(model, task_args)
    await node.run_in_thread(_check_columns, model, h)
    dest = check_frame_id(args.dest or f"{kind}-{uuid.uuid4().hex[:12]}.hex")
    # The predicted class keeps the model's whole response domain, even where no row is
    # predicted as some class (the chunks' codes are against that domain).
    domains = [list(model.info.response_domain or []) if t == "enum" else None for t in types]
    (header,) = await derive(node, h, "predict", [dest], names, types, domains,
                             model_id=model.model_id, **task_args)
    return header_json(header)


def _check_columns(model, header) -> None:
    """Fail before any chunk is written when the frame lacks a column the model needs."""
    present = set(header.names)  # a set: MNIST's 717 inputs against a list of 785 names was quadratic
    missing = [c for c in model.info.x_columns if c not in present]
    if missing:
        raise ValueError(f"frame {header.frame_id!r} lacks the model's input column(s) {missing}")
    o = model.info.offset_column
    if o and o not in present:  # H2O-3 refuses a test frame without the offset column too
        raise ValueError(f"parameter 'offset_column': frame {header.frame_id!r} is missing the model's "
                         f"offset column {o!r}")


@dataclass(frozen=True)
class PerformanceArgs:
    model_id: str
    frame_id: str


async def performance(node, args: PerformanceArgs, blobs: list[bytes]) -> dict[str, Any]:
    """The model's metrics on a frame, by map/reduce of mergeable metric builders."""
    model = await node.run_in_thread(md.load_model_sync, node, args.model_id)
    h = await node.run_in_thread(md.frame_header_sync, node, args.frame_id, "frame")
    await node.run_in_thread(_check_columns, model, h)
    if not model.info.autoencoder and model.info.response not in h.names:
        raise ValueError(f"response column {model.info.response!r} is missing from frame {h.frame_id!r}")
    builder = await run_task(node, "model.metrics", {"model_id": model.model_id}, h.frame_id, h)
    metrics = model.capped((builder or model.new_metrics_builder()).result())
    return {"model_id": model.model_id, "frame_id": h.frame_id, "metrics": metrics}


# Bytes a network costs per weight: float32 weights and the optimizer's two float32 states
# (h2ocloud.kernel.net.NetState), each node holding a copy while it trains.
BYTES_PER_WEIGHT = 12


def _check_network_size(node, args: dict[str, Any], params, header) -> None:
    """Refuse, before any job, a `hidden` whose weights would not fit in --max-mem: the input
    layer is one unit per numeric predictor and per factor level (plus a missing level)."""
    cap = node.config.effective_max_mem
    if not cap:
        return
    y = args.get("y")
    x = args.get("x") or [n for n in header.names if n != y]
    width = 0
    for name, ctype, domain in zip(header.names, header.types, header.domains, strict=True):
        if name in x and name != y:
            width += len(domain) + 1 if ctype == "enum" and domain else 1
    if params.get("autoencoder") or y is None or y not in header.names:
        out = width
    else:
        dom = header.domains[header.names.index(y)]
        out = len(dom) if dom and header.types[header.names.index(y)] == "enum" else 1
    layers = [max(width, 1), *[int(h) for h in (params.get("hidden") or [])], max(out, 1)]
    weights = sum((a + 1) * b for a, b in zip(layers, layers[1:]))
    if weights * BYTES_PER_WEIGHT > cap:
        raise LimitExceeded(
            f"parameter 'hidden': a network of layers {layers} has {weights:,} weights, "
            f"{weights * BYTES_PER_WEIGHT:,} bytes with the optimizer's state, more than the node's "
            f"--max-mem of {cap:,} bytes")


@dataclass(frozen=True)
class SaveArgs:
    model_id: str
    path: str  # a directory on the node
    force: bool = False


async def save(node, args: SaveArgs, blobs: list[bytes]) -> dict[str, Any]:
    """Write the model to a file under `path` (a directory) on this node; return the file's path."""
    if not args.path:
        raise ValueError("path is required")
    directory = roots.check(args.path, node.config.export_root, roots.EXPORT_FLAG, "path")

    def work():
        model = md.load_model_sync(node, args.model_id)
        os.makedirs(directory, exist_ok=True)
        target = os.path.join(directory, model.model_id)
        if os.path.exists(target) and not args.force:
            raise FileExistsError(f"{target} exists (pass force=True to overwrite)")
        return str(save_model(model, target))

    return {"path": await node.run_in_thread(work)}


@dataclass(frozen=True)
class LoadArgs:
    path: str  # a model file on the node


async def load(node, args: LoadArgs, blobs: list[bytes]) -> dict[str, Any]:
    if not args.path:
        raise ValueError("path is required")
    path = roots.check(args.path, node.config.import_root, roots.IMPORT_FLAG, "path")

    def work():
        if not os.path.exists(path):
            raise FileNotFoundError(f"no model file at {path}")
        model = load_model(path)
        md.store_model(node, model)
        return model.summary_json()

    return await node.run_in_thread(work)


@dataclass(frozen=True)
class WeightsArgs:
    model_id: str
    layer: Any = 0  # layer_matrix checks it, naming it matrix_id as the client's API does
    what: str = "weights"  # or "biases" (layer_matrix checks it)


async def weights(node, args: WeightsArgs, blobs: list[bytes]) -> Reply:
    """A layer's weight matrix (what="weights": units of layer+1 x units of layer) or bias
    vector (what="biases"), float32, with column names as h2o-py gives them."""
    import numpy as np

    from h2ocloud.node.tasks.model_frames import layer_matrix

    model = await node.run_in_thread(md.load_model_sync, node, args.model_id)
    values, names = layer_matrix(model, args.layer, args.what)
    return Reply({"shape": list(values.shape), "names": names}, [np.ascontiguousarray(values, "<f4").tobytes()])


@dataclass(frozen=True)
class ExportArgs:
    model_id: str
    format: str  # one of h2ocloud.export.FORMATS


async def export(node, args: ExportArgs, blobs: list[bytes]) -> Reply:
    """The model as code that scores with nothing of h2ocloud installed: format "java" (a POJO
    source file), "onnx" or "python" (a numpy-only module). The reply names the file and its
    media type; its one blob is the file's bytes. Written here, where the model already sits
    deserialized, so the REST download and the client share one writer."""
    from h2ocloud.export import FORMATS, export_model

    fmt = args.format
    if fmt not in FORMATS:
        raise ValueError(f"parameter 'format': {fmt!r} is not one of {sorted(FORMATS)}")
    if not args.model_id:
        raise ValueError("model_id is required")
    model = await node.run_in_thread(md.load_model_sync, node, args.model_id)
    names, _ = md.output_layout(model, {"output": "predict"})
    filename, data, content_type = await node.run_in_thread(export_model, model, fmt, names)
    return Reply({"model_id": model.model_id, "format": fmt, "filename": filename,
                  "content_type": content_type, "size": len(data)}, [data])
