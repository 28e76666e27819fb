"""The peer operations of the map/reduce mechanism (h2ocloud.node.tasks.mrtask).

``mr.map`` maps a task over the chunks a caller assigned to this node (or, with no frame header,
runs an all-nodes task here once) and, as an inner node of the reduce tree, forwards the task to
the subtrees below it and answers with one partial for them all. ``mr.run`` makes this node drive
a task over the cloud, as a job on it would, and answers with the result and the driver's wall
time: how bench/averaging.py times one averaging step without counting its own hop to the node.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Literal

from h2ocloud.node.ops.registry import Reply
from h2ocloud.node.tasks.mrtask import (
    Part,
    TreeResult,
    Vertex,
    header_from_text,
    make_task,
    reduce_tree,
    run_all_nodes,
    run_task,
    tree_result_to_wire,
)

log = logging.getLogger("h2ocloud.mrtask")


@dataclass(frozen=True)
class MapArgs:
    task: str  # a registered MRTask's name
    header: str | None  # the frame's header as JSON text (FrameHeader.to_json); None: an all-nodes task
    chunks: list[int]  # the chunk indices this node maps
    args: dict[str, Any] | None = None  # the task's own arguments
    key: str = ""  # this node's part's name, for the caller (reported if this node's own map fails)
    extra: dict[str, Any] | None = None  # this node's own arguments on top of args (its share)
    children: list[dict[str, Any]] | None = None  # subtrees to forward the task to (mrtask.Vertex.to_dict)
    late: Literal["wait", "cancel"] = "wait"  # a late child: wait for it, or give its subtree up (peercall.Late)


async def map_chunks(node, args: MapArgs, blobs: list[bytes]) -> Reply:
    task = make_task(args.task, args.args or {}, blobs)
    header = header_from_text(args.header) if args.header is not None else None  # parsed once a node
    children = [Vertex.from_dict(c) for c in args.children or []]
    own = Part(args.key, node.node_id, args.chunks, args.extra or {})
    t0 = time.perf_counter()
    res: TreeResult = await reduce_tree(node, task, args.args or {}, header, blobs, [own], children, args.late,
                                        args.header)
    log.debug("mapped %d chunks of %s and reduced %d subtree(s) in %.3fs", len(args.chunks),
              header.frame_id if header else "(all nodes)", len(children), time.perf_counter() - t0)
    meta, out = await node.run_in_thread(tree_result_to_wire, task, res)
    return Reply(meta, out)


@dataclass(frozen=True)
class RunArgs:
    task: str  # a registered MRTask's name
    args: dict[str, Any] | None = None  # the task's arguments
    frame_id: str | None = None  # map over this frame's chunks; None: run once on every node
    node_args: dict[str, dict[str, Any]] | None = None  # an all-nodes task's extra arguments by node id
    fanin: int | None = None  # the reduce tree's fan-in for this run (default --mr-fanin; 0: flat)
    redo: bool = False  # an all-nodes task: run a failed node's part on another node (else skip it)


async def run(node, args: RunArgs, blobs: list[bytes]) -> Reply:
    if args.fanin is not None and args.fanin < 0:
        raise ValueError(f"mr.run: fanin must be >= 0, got {args.fanin}")
    task = make_task(args.task, args.args or {}, blobs)
    failed: set[str] = set()
    per_node = args.node_args or {}
    t0 = time.perf_counter()
    if args.frame_id is None:
        partial = await run_all_nodes(node, args.task, args.args or {}, blobs, failed=failed, fanin=args.fanin,
                                      node_args=lambda nid: per_node.get(nid, {}), redo=args.redo)
    else:
        partial = await run_task(node, args.task, args.args or {}, args.frame_id, blobs=blobs, failed=failed,
                                 fanin=args.fanin)
    seconds = time.perf_counter() - t0
    meta, out = (None, []) if partial is None else await node.run_in_thread(task.to_wire, partial)
    return Reply({"partial": meta, "seconds": seconds, "failed": sorted(failed)}, out)
