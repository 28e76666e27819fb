"""Cross-validation's frames, as H2O-3 keeps them: the fold of every training row
(keep_cross_validation_fold_assignment) and the fold models' predictions on the rows each held
out (keep_cross_validation_predictions): one frame per fold model, with zeros outside its
holdout rows, and their combination, the holdout predictions of every row.

The fold frame is written with the training frame's chunk layout, so the predictions are one
map over the training frame's chunks (frame.derive, kind "cv_holdout"): each node predicts the
chunks it holds with the fold models the chunk's rows need.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import numpy as np

from h2ocloud.frame.chunk import Chunk, encode_numeric_block
from h2ocloud.frame.header import FrameHeader
from h2ocloud.frame.summary import Rollups, chunk_rollups, rollup_reduce
from h2ocloud.node.store.hashing import chunk_key
from h2ocloud.node.tasks import framedata

if TYPE_CHECKING:
    from h2ocloud.node.tasks.host import TaskHost as Node


def fold_assignment_id(model_id: str) -> str:
    return f"cv_fold_assignment_{model_id}"


def holdout_predictions_id(model_id: str) -> str:
    return f"cv_holdout_prediction_{model_id}"


def fold_predictions_id(model_id: str, k: int) -> str:
    return f"prediction_{model_id}_cv_{k + 1}"


def store_fold_assignment(node: Node, train: FrameHeader, folds: np.ndarray, dest: str) -> FrameHeader:
    """A one-column frame "fold_assignment" (0-based, as H2O-3) of the training frame's rows,
    chunked as the training frame is (thread-side)."""
    from h2ocloud.node.tasks.frames import chunk_value, header_from_rollups, header_value

    names, types = ["fold_assignment"], ["numeric"]
    roll = Rollups.empty(names, types)
    offsets = train.row_offsets
    for i in range(train.nchunks):
        n = train.chunk_rows[i]
        block = np.asarray(folds[offsets[i]:offsets[i] + n], np.float64).reshape(1, -1)
        chunk = Chunk(names, list(encode_numeric_block(block)), n, int(offsets[i]))
        node.dkv.put_sync(chunk_key(dest, i), chunk_value(chunk))
        roll = rollup_reduce(roll, chunk_rollups(chunk))
    h = header_from_rollups(dest, names, types, roll, list(train.chunk_rows), train.source)
    node.dkv.put_sync(dest, header_value(h))
    return h


def holdout_chunks(node: Node, args: dict[str, Any], header: FrameHeader, index: int,
                   chunk: Chunk) -> list[Chunk]:
    """frame.derive "cv_holdout": the holdout predictions of one training chunk, then one chunk
    per fold model (its predictions on its holdout rows, zeros elsewhere)."""
    from h2ocloud.node.tasks.models import load_model_sync, output_chunk, output_layout

    v = node.dkv.get_sync(chunk_key(args["fold_frame"], index))
    folds = framedata.stored_chunk(v)
    fold = np.asarray(folds.column(0), np.float64)
    metas, cols = framedata.metas(header), framedata.chunk_columns(header, chunk)
    models = [load_model_sync(node, m) for m in args["models"]]
    names, types = output_layout(models[0], {"output": "predict"})
    combined: dict[str, np.ndarray] = {n: np.zeros(chunk.nrows) for n in names}
    per_fold = []
    for k, m in enumerate(models):
        rows = fold == k
        pred = {n: np.zeros(chunk.nrows) for n in names}
        if rows.any():
            out = m.predict(metas, cols)
            for n in names:
                pred[n] = np.where(rows, np.asarray(out[n], np.float64), 0.0)
                combined[n] = np.where(rows, np.asarray(out[n], np.float64), combined[n])
        per_fold.append(pred)
    return [output_chunk(models[0], names, types, o, chunk.nrows, chunk.row_offset)
            for o in [combined, *per_fold]]


def store_holdout_predictions(node: Node, model_id: str, fold_models: list[str], train: FrameHeader,
                              fold_frame: str) -> list[str]:
    """Run the "cv_holdout" map over the training frame (thread-side); the new frames' ids:
    the combined holdout predictions first, then one per fold model."""
    from h2ocloud.node.tasks.frames import derive
    from h2ocloud.node.tasks.models import load_model_sync, output_layout

    names, types = output_layout(load_model_sync(node, fold_models[0]), {"output": "predict"})
    domain = load_model_sync(node, fold_models[0]).info.response_domain
    domains = [list(domain) if t == "enum" else None for t in types]
    dests = [holdout_predictions_id(model_id)] + [fold_predictions_id(model_id, k) for k in range(len(fold_models))]
    fut = asyncio.run_coroutine_threadsafe(
        derive(node, train, "cv_holdout", dests, names, types, domains, models=fold_models,
               fold_frame=fold_frame), node.dkv.loop)
    fut.result()
    return dests
