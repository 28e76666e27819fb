"""The peer operation that maps a task over the chunks a caller assigned to this node (or, with
no frame header, runs an all-nodes task here once)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from h2ocloud.frame.header import FrameHeader
from h2ocloud.node.ops.registry import Reply
from h2ocloud.node.tasks.mrtask import make_task, map_local

log = logging.getLogger("h2ocloud.mrtask")


@dataclass(frozen=True)
class MapArgs:
    task: str  # a registered MRTask's name
    header: dict[str, Any] | None  # the frame's header (FrameHeader.to_dict); None: an all-nodes task
    chunks: list[int]  # the chunk indices this node maps
    args: dict[str, Any] | None = None  # the task's own arguments


async def map_chunks(node, args: MapArgs, blobs: list[bytes]) -> Reply | dict[str, Any]:
    task = make_task(args.task, args.args or {}, blobs)
    header = FrameHeader.from_dict(args.header) if args.header is not None else None
    t0 = time.perf_counter()
    partial = await node.run_in_thread(map_local, node, task, header, args.chunks)
    log.debug("mapped %d chunks of %s in %.3fs", len(args.chunks),
              header.frame_id if header else "(all nodes)", time.perf_counter() - t0)
    if partial is None:
        return {"empty": True}
    meta, out = task.to_wire(partial)
    return Reply(meta, out)
