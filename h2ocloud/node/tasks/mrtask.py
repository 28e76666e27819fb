"""Map over local chunks, reduce over the cloud: the one mechanism every frame computation uses.

A task is a registered MRTask subclass, sent by name with JSON arguments (never pickled). The caller
(`run_task`) assigns each chunk of a frame to exactly one live home (its first live replica, so
each chunk is counted once), sends each node the list of its chunks (`mr.map`), and reduces what
comes back. A node maps its chunks in worker threads, reduces them locally and returns one partial.
If a node dies mid-task, its chunks are assigned to their next replica and redone; the caller
still gets one correct result.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from h2ocloud import telemetry
from h2ocloud.errors import NodeUnavailable, NotFound
from h2ocloud.frame.chunk import Chunk
from h2ocloud.frame.header import FrameHeader
from h2ocloud.node.cluster.peercall import call_member
from h2ocloud.node.store.hashing import chunk_key

if TYPE_CHECKING:
    from h2ocloud.node.tasks.host import TaskHost as Node

log = logging.getLogger("h2ocloud.mrtask")

TASKS: dict[str, type[MRTask]] = {}


@dataclass
class MapContext:
    """What a task's map sees on a node."""

    node: Node
    header: FrameHeader

    def chunk(self, index: int) -> Chunk:
        v = self.node.dkv.get_sync(chunk_key(self.header.frame_id, index))
        return Chunk.from_wire(v.meta, v.blobs)


class MRTask(ABC):
    """Subclass, set `name`, implement map/reduce and the partial's wire form."""

    name: ClassVar[str]

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if getattr(cls, "name", None):
            TASKS[cls.name] = cls

    def __init__(self, args: dict[str, Any]):
        self.args = args

    def setup(self, ctx: MapContext) -> None:  # noqa: B027 (optional hook)
        """Per-node preparation before the first map (optional; default does nothing)."""

    @abstractmethod
    def map(self, ctx: MapContext, index: int, chunk: Chunk) -> Any:
        """The partial result of one chunk."""

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


def make_task(name: str, args: dict[str, Any]) -> MRTask:
    cls = TASKS.get(name)
    if cls is None:
        raise NotFound(f"unknown map/reduce task {name!r}")
    return cls(args)


def map_local(node: Node, task: MRTask, header: FrameHeader, indices: list[int]) -> Any:
    """Map and reduce the given chunks on this node, split over its worker threads. Runs in a thread."""
    import concurrent.futures

    ctx = MapContext(node, header)
    task.setup(ctx)
    telemetry.MR_MAPS.labels(task.name).inc(len(indices))
    nthreads = max(1, min(node.config.effective_nthreads, len(indices)))
    slices = [indices[t::nthreads] for t in range(nthreads)]

    def run(part: list[int]) -> Any:
        acc = None
        for i in part:
            p = task.map(ctx, i, ctx.chunk(i))
            acc = p if acc is None else (acc if p is None else task.reduce(acc, p))
        return acc

    if nthreads == 1:
        return run(indices)
    with concurrent.futures.ThreadPoolExecutor(nthreads, thread_name_prefix="h2ocloud-map") as pool:
        return task.reduce_all(list(pool.map(run, slices)))


async def load_header(node: Node, frame_id: str) -> FrameHeader:
    return FrameHeader.from_dict((await node.dkv.get_kind(frame_id, "frame")).meta)


async def run_task(node: Node, name: str, args: dict[str, Any], frame_id: str,
                   header: FrameHeader | None = None) -> Any:
    """Run task `name` over every chunk of frame_id across the cloud; return the reduced partial."""
    with telemetry.timed_task(name):
        return await _run_task(node, name, args, frame_id, header)


async def _run_task(node: Node, name: str, args: dict[str, Any], frame_id: str,
                    header: FrameHeader | None) -> Any:
    task = make_task(name, args)
    header = header or await load_header(node, frame_id)
    remaining = set(range(header.nchunks))
    excluded: set[str] = set()
    partials: list[Any] = []
    while remaining:
        members = set(node.membership.members)
        assignment: dict[str, list[int]] = {}
        for i in sorted(remaining):
            homes = [h for h in node.dkv.homes(chunk_key(frame_id, i)) if h not in excluded and h in members]
            if not homes:  # no live home: any live node can still fetch a surviving copy
                homes = [m for m in sorted(members) if m not in excluded]
            if not homes:
                raise NodeUnavailable(f"no live node can map chunk {i} of {frame_id!r}")
            assignment.setdefault(homes[0], []).append(i)
        results = await asyncio.gather(
            *(_map_on(node, nid, name, args, header, idx) for nid, idx in assignment.items()),
            return_exceptions=True,
        )
        for (nid, idx), res in zip(assignment.items(), results):
            if isinstance(res, NodeUnavailable):
                log.warning("node %s failed during %s; redoing its %d chunks elsewhere", nid, name, len(idx))
                excluded.add(nid)
                continue
            if isinstance(res, BaseException):
                raise res
            partials.append(res)
            remaining -= set(idx)
    return task.reduce_all(partials)


async def _map_on(node: Node, nid: str, name: str, args: dict[str, Any], header: FrameHeader, idx: list[int]) -> Any:
    task = make_task(name, args)
    if nid == node.node_id:
        return await node.run_in_thread(map_local, node, task, header, idx)
    head, blobs = await call_member(
        node, nid, "mr.map", {"task": name, "args": args, "header": header.to_dict(), "chunks": idx})
    if head.get("empty"):
        return None
    return task.from_wire(head, blobs)

