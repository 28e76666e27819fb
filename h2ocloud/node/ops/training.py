"""Peer operations of distributed training: a worker prepares its rows, trains an iteration, releases them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from h2ocloud.errors import NotFound
from h2ocloud.node.ops.registry import Reply
from h2ocloud.node.tasks.distributed import (
    _net_from_wire,
    _net_to_wire,
    _train_local,
    prepare_worker,
)


@dataclass(frozen=True)
class PrepareArgs:
    job_id: str
    training_frame: str
    info: dict[str, Any]  # DataInfo.to_dict()
    params: dict[str, Any]  # this worker's training parameters
    replicate: bool = True
    fold: dict[str, Any] | None = None  # {"holdout": k} for a cross-validation fold model


async def prepare(node, args: PrepareArgs, blobs: list[bytes]) -> dict[str, Any]:
    folds = np.frombuffer(bytes(blobs[0]), dtype=np.int32) if blobs else None  # fold models only
    data = await node.run_in_thread(prepare_worker, node, dataclasses.asdict(args), folds)
    node.training_data[args.job_id] = data
    return {"rows": data.backend.n_train_rows()}


@dataclass(frozen=True)
class TrainArgs:
    job_id: str
    net: dict[str, Any]  # the model's wire head; its arrays are the blobs
    n: int  # rows to train this iteration
    iteration: int
    dist_param: float | None = None  # huber's delta, as the driver's last scoring set it


async def train(node, args: TrainArgs, blobs: list[bytes]) -> Reply:
    data = node.training_data.get(args.job_id)
    if data is None:
        raise NotFound(f"no training data prepared for job {args.job_id!r} on node {node.node_id}")
    net = _net_from_wire(args.net, blobs)
    if args.dist_param is not None:  # the huber delta the driver's last scoring set
        data.backend.set_dist_param(args.dist_param)
    net, done, seconds = await node.run_in_thread(_train_local, data, net, args.n, args.iteration)
    head, out = _net_to_wire(net)
    return Reply({"net": head, "n": done, "seconds": seconds}, out)


@dataclass(frozen=True)
class ReleaseArgs:
    job_id: str


async def release(node, args: ReleaseArgs, blobs: list[bytes]) -> dict[str, Any]:
    node.training_data.pop(args.job_id, None)
    return {}
