"""Map over local chunks, reduce over the cloud: the one mechanism every frame computation uses.

A task is a registered MRTask subclass, sent by name with JSON arguments (never pickled). The caller
(`run_task`) assigns each chunk of a frame to exactly one live home (its first live replica, so
each chunk is counted once), sends each node the list of its chunks (`mr.map`), and reduces what
comes back. A node maps its chunks in worker threads, reduces them locally and returns one partial.
If a node dies mid-task, its chunks are assigned to their next replica and redone; the caller
still gets one correct result. A node that is late (frozen: missed heartbeats) is treated the same
way at once, rather than after the heartbeat timeout (chunk tasks only: an all-nodes task waits).

As H2O's MRTask, a task may also prepare each node once (`setup`, H2O's setupLocal), map a
node's chunks as one piece of work (`map_node`: training is Hogwild over all of a node's rows,
not chunk by chunk) and run once on every node rather than over a frame (`run_all_nodes`, H2O's
doAllNodes). Arguments are JSON plus optional binary blobs (a model's arrays), never pickled.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from h2ocloud import telemetry
from h2ocloud.errors import NodeUnavailable, NotFound
from h2ocloud.frame.chunk import Chunk
from h2ocloud.frame.header import FrameHeader
from h2ocloud.node.cluster.peercall import Late, call_member
from h2ocloud.node.store.hashing import chunk_key

if TYPE_CHECKING:
    from h2ocloud.node.tasks.host import TaskHost as Node

log = logging.getLogger("h2ocloud.mrtask")

TASKS: dict[str, type[MRTask]] = {}


@dataclass
class MapContext:
    """What a task's map sees on a node."""

    node: Node
    header: FrameHeader | None  # None when the task runs once per node (run_all_nodes)

    def chunk(self, index: int) -> Chunk:
        if self.header is None:
            raise ValueError("a task run on all nodes has no frame to read chunks of")
        v = self.node.dkv.get_sync(chunk_key(self.header.frame_id, index))
        return Chunk.from_wire(v.meta, v.blobs)


class MRTask(ABC):
    """Subclass, set `name`, implement map/reduce and the partial's wire form."""

    name: ClassVar[str]

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if getattr(cls, "name", None):
            TASKS[cls.name] = cls

    def __init__(self, args: dict[str, Any], blobs: Sequence[Any] = ()):
        self.args = args
        self.blobs = list(blobs)

    def setup(self, ctx: MapContext) -> None:  # noqa: B027 (optional hook)
        """Per-node preparation before the first map (optional; default does nothing)."""

    def map(self, ctx: MapContext, index: int, chunk: Chunk) -> Any:
        """The partial result of one chunk (tasks that override map_node need not define it)."""
        raise NotImplementedError(f"task {self.name!r} maps whole nodes, not chunks")

    def map_node(self, ctx: MapContext, indices: list[int]) -> Any:
        """This node's partial over its chunks: by default `map` on each chunk, split over the
        node's worker threads and reduced here. Runs in a thread."""
        import concurrent.futures

        nthreads = max(1, min(ctx.node.config.effective_nthreads, len(indices)))

        def run(part: list[int]) -> Any:
            acc = None
            for i in part:
                p = self.map(ctx, i, ctx.chunk(i))
                acc = p if acc is None else (acc if p is None else self.reduce(acc, p))
            return acc

        if nthreads == 1:
            return run(indices)
        slices = [indices[t::nthreads] for t in range(nthreads)]
        with concurrent.futures.ThreadPoolExecutor(nthreads, thread_name_prefix="h2ocloud-map") as pool:
            return self.reduce_all(list(pool.map(run, slices)))

    @abstractmethod
    def reduce(self, a: Any, b: Any) -> Any:
        """Combine two partials (associative; order must not matter)."""

    @abstractmethod
    def to_wire(self, partial: Any) -> tuple[dict[str, Any], list[Any]]:
        ...

    @abstractmethod
    def from_wire(self, meta: dict[str, Any], blobs: list[bytes]) -> Any:
        ...

    def reduce_all(self, partials: list[Any]) -> Any:
        acc = None
        for p in partials:
            if p is None:
                continue
            acc = p if acc is None else self.reduce(acc, p)
        return acc


def make_task(name: str, args: dict[str, Any], blobs: Sequence[Any] = ()) -> MRTask:
    cls = TASKS.get(name)
    if cls is None:
        raise NotFound(f"unknown map/reduce task {name!r}")
    return cls(args, blobs)


def map_local(node: Node, task: MRTask, header: FrameHeader | None, indices: list[int]) -> Any:
    """Set the task up on this node and map the given chunks (none for an all-nodes task).
    Runs in a thread."""
    ctx = MapContext(node, header)
    task.setup(ctx)
    telemetry.MR_MAPS.labels(task.name).inc(len(indices))
    return task.map_node(ctx, indices)


#: Per-node extra arguments for one round of assignments: {node id: its chunks} -> {node id: args}.
NodeArgs = Callable[[dict[str, list[int]]], dict[str, dict[str, Any]]]


def run_sync(node: Node, coro: Any) -> Any:
    """Run a coroutine of this module (run_task, run_all_nodes) from a worker thread, e.g. a job's."""
    return asyncio.run_coroutine_threadsafe(coro, node.dkv.loop).result()


async def load_header(node: Node, frame_id: str) -> FrameHeader:
    return FrameHeader.from_dict((await node.dkv.get_kind(frame_id, "frame")).meta)


async def run_task(node: Node, name: str, args: dict[str, Any], frame_id: str,
                   header: FrameHeader | None = None, blobs: Sequence[Any] = (),
                   nodes: Sequence[str] | None = None, node_args: NodeArgs | None = None,
                   failed: set[str] | None = None) -> Any:
    """Run task `name` over every chunk of frame_id across the cloud; return the reduced partial.
    ``nodes`` limits the nodes that may map (those a job was set up on); ``node_args`` adds
    arguments per node for each round of assignments (a node's share of an iteration); the ids
    of nodes that failed (their chunks were redone elsewhere) are added to ``failed``."""
    with telemetry.timed_task(name):
        return await _run_task(node, name, args, frame_id, header, blobs, nodes, node_args, failed)


async def _run_task(node: Node, name: str, args: dict[str, Any], frame_id: str, header: FrameHeader | None,
                    blobs: Sequence[Any], nodes: Sequence[str] | None, node_args: NodeArgs | None,
                    failed: set[str] | None) -> Any:
    task = make_task(name, args, blobs)
    header = header or await load_header(node, frame_id)
    # A late node's chunks are redone on their replicas at once, not after the heartbeat timeout.
    # Not for a job's own nodes (training): a node that fails is dropped from the job for good,
    # which a node only slow to answer heartbeats (a loaded machine) must not be.
    late: Late = "wait" if nodes is not None else "cancel"
    remaining = set(range(header.nchunks))
    excluded: set[str] = set()
    partials: list[Any] = []
    while remaining:
        members = set(node.membership.members)
        if nodes is not None:
            members &= set(nodes)
        assignment: dict[str, list[int]] = {}
        for i in sorted(remaining):
            homes = [h for h in node.dkv.homes(chunk_key(frame_id, i)) if h not in excluded and h in members]
            if not homes:  # no live home: any live node can still fetch a surviving copy
                homes = [m for m in sorted(members) if m not in excluded]
            if not homes:
                raise NodeUnavailable(f"no live node can map chunk {i} of {frame_id!r}")
            if late == "cancel":
                homes.sort(key=node.membership.is_late)  # a prompt replica first (stable)
            assignment.setdefault(homes[0], []).append(i)
        extra = node_args(assignment) if node_args is not None else {}
        results = await asyncio.gather(
            *(_map_on(node, nid, name, {**args, **extra.get(nid, {})}, header, idx, blobs, late=late)
              for nid, idx in assignment.items()),
            return_exceptions=True,
        )
        for (nid, idx), res in zip(assignment.items(), results):
            if isinstance(res, NodeUnavailable):
                log.warning("node %s failed during %s (%s); redoing its %d chunks elsewhere", nid, name, res,
                            len(idx))
                excluded.add(nid)
                continue
            if isinstance(res, BaseException):
                raise res
            partials.append(res)
            remaining -= set(idx)
    if failed is not None:
        failed |= excluded
    return task.reduce_all(partials)


async def run_all_nodes(node: Node, name: str, args: dict[str, Any], blobs: Sequence[Any] = (),
                        nodes: Sequence[str] | None = None,
                        node_args: Callable[[str], dict[str, Any]] | None = None,
                        redo: bool = False, failed: set[str] | None = None) -> Any:
    """Run task `name` once on each live node of ``nodes`` (all members by default), with no frame
    (H2O's doAllNodes); return the reduced partial. A node that dies is skipped, or with
    ``redo`` its part (its arguments) is run again on another live node; the ids of the nodes
    that failed are added to ``failed``."""
    with telemetry.timed_task(name):
        return await _run_all_nodes(node, name, args, blobs, nodes, node_args, redo, failed)


async def _run_all_nodes(node: Node, name: str, args: dict[str, Any], blobs: Sequence[Any],
                         nodes: Sequence[str] | None, node_args: Callable[[str], dict[str, Any]] | None,
                         redo: bool, failed: set[str] | None) -> Any:
    task = make_task(name, args, blobs)
    targets = [n for n in (nodes if nodes is not None else node.membership.members)]
    pending = {nid: {**args, **(node_args(nid) if node_args is not None else {})} for nid in targets}
    excluded: set[str] = set()
    partials: list[Any] = []
    slots = [(nid, nid) for nid in pending]  # (the part's node, where it runs now)
    while slots:
        live = [m for m in targets if m in node.membership.members and m not in excluded]
        results = await asyncio.gather(
            *(_map_on(node, where, name, pending[part], None, [], blobs) for part, where in slots),
            return_exceptions=True)
        retry = []
        for (part, where), res in zip(slots, results):
            if isinstance(res, NodeUnavailable):
                excluded.add(where)
                live = [m for m in live if m not in excluded]
                if not redo:
                    log.warning("node %s failed during %s; skipped", where, name)
                    continue
                if not live:
                    raise NodeUnavailable(f"no live node is left to run {name}")
                log.warning("node %s failed during %s; redoing its part on %s", where, name, live[0])
                retry.append((part, live[0]))
                continue
            if isinstance(res, BaseException):
                raise res
            partials.append(res)
        slots = retry
    if failed is not None:
        failed |= excluded
    return task.reduce_all(partials)


async def _map_on(node: Node, nid: str, name: str, args: dict[str, Any], header: FrameHeader | None,
                  idx: list[int], blobs: Sequence[Any] = (), late: Late = "wait") -> Any:
    task = make_task(name, args, blobs)
    if nid == node.node_id:
        return await node.run_in_thread(map_local, node, task, header, idx)
    head, out = await call_member(
        node, nid, "mr.map", {"task": name, "args": args, "header": None if header is None else header.to_dict(),
                              "chunks": idx}, list(blobs), late=late)
    if head.get("empty"):
        return None
    return task.from_wire(head, out)

