"""Model operations: train (a job), get, list, predict, performance, anomaly, deepfeatures,
save and load."""

from __future__ import annotations

import os
import uuid

import numpy as np

from h2ocloud.dl.model_format import load_model, save_model
from h2ocloud.errors import NotFound
from h2ocloud.node import framedata
from h2ocloud.node import models as md
from h2ocloud.node.frames import check_frame_id
from h2ocloud.node.ops.frames import header_json
from h2ocloud.node.ops.registry import op


@op("models.train")
async def train(node, args, blobs):
    params = md.check_train_request(args)
    if params.get("model_id"):
        check_frame_id(params["model_id"], "model_id")
    for k in ("training_frame",):
        if not args.get(k):
            raise ValueError(f"{k} is required")
    await node.run_in_thread(md.frame_header_sync, node, args["training_frame"], "training_frame")
    if args.get("validation_frame"):
        await node.run_in_thread(md.frame_header_sync, node, args["validation_frame"], "validation_frame")
    model_id = params.get("model_id") or f"DeepLearning_model_{uuid.uuid4().hex[:12]}"
    params["model_id"] = model_id
    job = node.jobs.start(f"DeepLearning {model_id}", lambda j: md.train_job(node, args, params, j), dest=model_id)
    return {"job": job.to_json(), "model_id": model_id}


@op("models.get")
async def get(node, args, blobs):
    model_id = args.get("model_id") or args.get("key")
    v = await node.dkv.get_or_none(str(model_id))
    if v is None or v.kind != "model":
        raise NotFound(f"no model {model_id!r}")
    return v.meta


@op("models.list")
async def list_models(node, args, blobs):
    return {"models": [{"model_id": key, "algo": "deeplearning", "model_category": v.meta.get("model_category")}
                       for key, v in await node.dkv.values_of_kind("model")]}


def _model_and_frame(node, args):
    model = md.load_model_sync(node, str(args.get("model_id")))
    h = md.frame_header_sync(node, args.get("frame_id"), "frame")
    return model, h, framedata.metas(h), framedata.columns(node, h)


def _predict(node, args):
    model, h, metas, cols = _model_and_frame(node, args)
    kind = args.get("kind", "predict")
    if kind == "predict":
        out = md.prediction_columns(model, model.predict(metas, cols))
    elif kind == "anomaly":
        out = model.anomaly(metas, cols)
        if args.get("per_feature"):
            X, rec = model._raw(metas, cols)
            diff = (rec.astype(np.float64) - X) ** 2
            out = {f"reconstr_{n}.SE": diff[:, i] for i, n in enumerate(model.info.input_names)}
    elif kind == "deepfeatures":
        layer = int(args.get("layer", 0))
        feats = model.deepfeatures(metas, cols, layer)
        out = {f"DF.L{layer + 1}.C{i + 1}": feats[:, i].astype(np.float64) for i in range(feats.shape[1])}
    else:
        raise ValueError(f"unknown prediction kind {kind!r}")
    dest = args.get("dest") or f"{kind}-{uuid.uuid4().hex[:12]}.hex"
    return framedata.store_table(node, check_frame_id(dest), out, f"<{kind} of {model.model_id}>")


@op("models.predict")
async def predict(node, args, blobs):
    """predict / anomaly / deepfeatures of a model on a frame, as a new frame (rows in order)."""
    return header_json(await node.run_in_thread(_predict, node, args))


@op("models.performance")
async def performance(node, args, blobs):
    def work():
        model, h, metas, cols = _model_and_frame(node, args)
        return model.performance(metas, cols)

    return {"model_id": args.get("model_id"), "frame_id": args.get("frame_id"), "metrics": await node.run_in_thread(work)}


@op("models.save")
async def save(node, args, blobs):
    """Write the model to a file under `path` (a directory) on this node; return the file's path."""
    directory = args.get("path")
    if not directory:
        raise ValueError("path is required")

    def work():
        model = md.load_model_sync(node, str(args.get("model_id")))
        os.makedirs(directory, exist_ok=True)
        target = os.path.join(directory, model.model_id)
        if os.path.exists(target) and not args.get("force"):
            raise FileExistsError(f"{target} exists (pass force=True to overwrite)")
        return str(save_model(model, target))

    return {"path": await node.run_in_thread(work)}


@op("models.load")
async def load(node, args, blobs):
    path = args.get("path")
    if not path:
        raise ValueError("path is required")

    def work():
        if not os.path.exists(path):
            raise FileNotFoundError(f"no model file at {path}")
        model = load_model(path)
        md.store_model(node, model)
        return model.summary_json()

    return await node.run_in_thread(work)
