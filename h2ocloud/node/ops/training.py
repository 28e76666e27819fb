"""Peer operations of distributed training: a worker prepares its rows, trains an iteration, releases them."""

from __future__ import annotations

import numpy as np

from h2ocloud.errors import NotFound
from h2ocloud.node.ops.registry import Reply, op
from h2ocloud.node.tasks.distributed import (
    _net_from_wire,
    _net_to_wire,
    _train_local,
    prepare_worker,
)


@op("dl.prepare")
async def _prepare(node, args, blobs):
    folds = np.frombuffer(bytes(blobs[0]), dtype=np.int32) if blobs else None  # fold models only
    data = await node.run_in_thread(prepare_worker, node, args, folds)
    node.training_data[str(args["job_id"])] = data
    return {"rows": data.backend.n_train_rows()}


@op("dl.train")
async def _train(node, args, blobs):
    data = node.training_data.get(str(args["job_id"]))
    if data is None:
        raise NotFound(f"no training data prepared for job {args['job_id']!r} on node {node.node_id}")
    net = _net_from_wire(args["net"], blobs)
    if args.get("dist_param") is not None:  # the huber delta the driver's last scoring set
        data.backend.set_dist_param(float(args["dist_param"]))
    net, done, seconds = await node.run_in_thread(_train_local, data, net, int(args["n"]), int(args["iteration"]))
    head, out = _net_to_wire(net)
    return Reply({"net": head, "n": done, "seconds": seconds}, out)


@op("dl.release")
async def _release(node, args, blobs):
    node.training_data.pop(str(args.get("job_id")), None)
    return {}
