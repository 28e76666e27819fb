"""The peer operation that maps a task over the chunks a caller assigned to this node (or, with
no frame header, runs an all-nodes task here once)."""

from __future__ import annotations

import logging
import time

from h2ocloud.frame.header import FrameHeader
from h2ocloud.node.ops.registry import Reply, op
from h2ocloud.node.tasks.mrtask import make_task, map_local

log = logging.getLogger("h2ocloud.mrtask")


@op("mr.map")
async def _mr_map(node, args, blobs):
    task = make_task(str(args["task"]), args.get("args") or {}, blobs)
    header = FrameHeader.from_dict(args["header"]) if args.get("header") is not None else None
    t0 = time.perf_counter()
    partial = await node.run_in_thread(map_local, node, task, header, [int(i) for i in args["chunks"]])
    log.debug("mapped %d chunks of %s in %.3fs", len(args["chunks"]),
              header.frame_id if header else "(all nodes)", time.perf_counter() - t0)
    if partial is None:
        return {"empty": True}
    meta, out = task.to_wire(partial)
    return Reply(meta, out)
