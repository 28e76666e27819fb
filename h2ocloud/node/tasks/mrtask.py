"""Map over local chunks, reduce over the cloud: the one mechanism every frame computation uses.

A task is a registered MRTask subclass, sent by name with JSON arguments (never pickled). The caller
(`run_task`) assigns each chunk of a frame to exactly one live home (so each chunk is counted
once; of its replicas, the one with the fewest rows assigned so far), sends each node the list
of its chunks (`mr.map`), and reduces what comes back. A node maps its chunks in worker threads, reduces them locally and returns one partial.
If a node dies mid-task, its chunks are assigned to their next replica and redone; the caller
still gets one correct result. A node that is late (frozen: missed heartbeats) is treated the same
way at once, rather than after the heartbeat timeout (chunk tasks only: an all-nodes task waits;
every node of the reduce tree applies it to its children).

The reduce is a tree over the nodes, as H2O's MRTask reduces (`plan_tree`, `reduce_tree`): the
caller splits the other nodes into at most `--mr-fanin` subtrees (2 by default; 0 is flat: every
node answers the caller) and sends each subtree's root the task with its subtree; each node
forwards the task to its children, maps its own chunks meanwhile, reduces its children's partials
with its own and answers with one. So the caller receives a bounded number of partials however
large the cloud (a training iteration's models: two, not one per node), and the bytes a node
sends or receives per task do not grow with the cloud. A node whose child (or its own map) fails
with NodeUnavailable answers with what it has and names the parts it lost and the node that
failed; the caller excludes the failed node and redoes the lost parts in another round (a lost
part whose own node is alive is redone there), as it does for a flat reduce.

As H2O's MRTask, a task may also prepare each node once (`setup`, H2O's setupLocal), map a
node's chunks as one piece of work (`map_node`: training is Hogwild over all of a node's rows,
not chunk by chunk) and run once on every node rather than over a frame (`run_all_nodes`, H2O's
doAllNodes). Arguments are JSON plus optional binary blobs (a model's arrays), never pickled.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from h2ocloud import telemetry, wire
from h2ocloud.errors import NodeUnavailable, NotFound
from h2ocloud.frame.chunk import Chunk
from h2ocloud.frame.header import FrameHeader
from h2ocloud.node.cluster.peercall import Late, call_member
from h2ocloud.node.store.hashing import chunk_key
from h2ocloud.node.tasks.framedata import stored_chunk, stored_header

if TYPE_CHECKING:
    from h2ocloud.node.store.local import Value
    from h2ocloud.node.tasks.host import TaskHost as Node

log = logging.getLogger("h2ocloud.mrtask")

TASKS: dict[str, type[MRTask]] = {}


@dataclass
class MapContext:
    """What a task's map sees on a node."""

    node: Node
    header: FrameHeader | None  # None when the task runs once per node (run_all_nodes)
    map_threads: int = 1  # the threads mapping this node's chunks side by side (map_node's)
    # Stores the maps started (put) and map_local waits for: H2O's MRTask Futures.
    pending: list[concurrent.futures.Future] = field(default_factory=list)
    _pending_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def put(self, key: str, value: Value) -> None:
        """Store a value a map made without waiting for its homes: the node's event loop puts
        it while the map goes on to its next chunk (as H2O's map does DKV.put(key, value, _fs)).
        map_local waits for every put a node's maps started before it returns their partial,
        so all of a task's writes are stored when run_task returns; a failed put fails the
        node's part. A map thread that waited for each put left its core idle while a remote
        home stored the chunk (on 3 nodes sharing 2 cores, 14 ms a chunk)."""
        fut = asyncio.run_coroutine_threadsafe(self.node.dkv.put(key, value), self.node.dkv.loop)
        with self._pending_lock:
            self.pending.append(fut)

    def wait_pending(self, raise_error: bool = True) -> None:
        """Wait for the puts the maps started; raise the first failure (if ``raise_error``)."""
        with self._pending_lock:
            pending, self.pending = self.pending, []
        error: BaseException | None = None
        for fut in pending:
            try:
                fut.result()
            except BaseException as e:  # every put is waited for, the first failure raised
                error = error or e
        if error is not None and raise_error:
            raise error

    @property
    def threads_per_map(self) -> int:
        """The threads one map may use: the node's, shared among the map threads."""
        return max(1, self.node.config.effective_nthreads // max(1, self.map_threads))

    def chunk(self, index: int) -> Chunk:
        if self.header is None:
            raise ValueError("a task run on all nodes has no frame to read chunks of")
        v = self.node.dkv.get_sync(chunk_key(self.header.frame_id, index))
        return stored_chunk(v)


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
        ctx.map_threads = nthreads

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
    try:
        task.setup(ctx)
        telemetry.MR_MAPS.labels(task.name).inc(len(indices))
        partial = task.map_node(ctx, indices)
    except BaseException:
        ctx.wait_pending(raise_error=False)  # the map's own error is the one to report
        raise
    ctx.wait_pending()
    return partial


#: Per-node extra arguments for one round of assignments: {node id: its chunks} -> {node id: args}.
NodeArgs = Callable[[dict[str, list[int]]], dict[str, dict[str, Any]]]


def run_sync(node: Node, coro: Any) -> Any:
    """Run a coroutine of this module (run_task, run_all_nodes) from a worker thread, e.g. a job's."""
    return asyncio.run_coroutine_threadsafe(coro, node.dkv.loop).result()


async def load_header(node: Node, frame_id: str) -> FrameHeader:
    return stored_header(await node.dkv.get_kind(frame_id, "frame"))


async def run_task(node: Node, name: str, args: dict[str, Any], frame_id: str,
                   header: FrameHeader | None = None, blobs: Sequence[Any] = (),
                   nodes: Sequence[str] | None = None, node_args: NodeArgs | None = None,
                   failed: set[str] | None = None, fanin: int | None = None) -> Any:
    """Run task `name` over every chunk of frame_id across the cloud; return the reduced partial.
    ``nodes`` limits the nodes that may map (those a job was set up on); ``node_args`` adds
    arguments per node for each round of assignments (a node's share of an iteration); the ids
    of nodes that failed (their chunks were redone elsewhere) are added to ``failed``. ``fanin``
    shapes the reduce tree (default: the node's --mr-fanin; 0: flat)."""
    with telemetry.timed_task(name):
        return await _run_task(node, name, args, frame_id, header, blobs, nodes, node_args, failed,
                               _fanin(node, fanin))


async def _run_task(node: Node, name: str, args: dict[str, Any], frame_id: str, header: FrameHeader | None,
                    blobs: Sequence[Any], nodes: Sequence[str] | None, node_args: NodeArgs | None,
                    failed: set[str] | None, fanin: int) -> Any:
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
        rows: dict[str, int] = {}  # rows assigned so far, per node
        for i in sorted(remaining):
            homes = [h for h in node.dkv.homes(chunk_key(frame_id, i)) if h not in excluded and h in members]
            if not homes:  # no live home: any live node can still fetch a surviving copy
                homes = [m for m in sorted(members) if m not in excluded]
            if not homes:
                raise NodeUnavailable(f"no live node can map chunk {i} of {frame_id!r}")
            if late == "cancel":
                homes.sort(key=node.membership.is_late)  # a prompt replica first (stable)
                homes = [h for h in homes if node.membership.is_late(h) == node.membership.is_late(homes[0])]
            # The home with the fewest rows so far (the first at a tie): a task takes as long as
            # its busiest node, and with every chunk on `replication` nodes the work can be
            # spread evenly (first homes alone gave 3 nodes 8 chunks as 5/2/1). Deterministic,
            # so a training job's rounds keep the same assignment.
            pick = min(homes, key=lambda h: rows.get(h, 0))
            rows[pick] = rows.get(pick, 0) + _chunk_rows(header, i)
            assignment.setdefault(pick, []).append(i)
        extra = node_args(assignment) if node_args is not None else {}
        parts = [Part(nid, nid, idx, extra.get(nid, {})) for nid, idx in assignment.items()]
        res = await run_parts(node, task, args, header, blobs, parts, fanin, late)
        _check_progress(name, res)
        if res.dead:
            log.warning("node(s) %s failed during %s; redoing %d chunks on live homes", sorted(res.dead), name,
                        sum(len(p.chunks) for p in parts if p.key in res.lost))
        excluded |= res.dead
        if res.partial is not None:
            partials.append(res.partial)
        remaining -= {i for p in parts if p.key not in res.lost for i in p.chunks}
    if failed is not None:
        failed |= excluded
    return await _reduce(node, task, partials)


async def run_all_nodes(node: Node, name: str, args: dict[str, Any], blobs: Sequence[Any] = (),
                        nodes: Sequence[str] | None = None,
                        node_args: Callable[[str], dict[str, Any]] | None = None,
                        redo: bool = False, failed: set[str] | None = None, fanin: int | None = None) -> Any:
    """Run task `name` once on each live node of ``nodes`` (all members by default), with no frame
    (H2O's doAllNodes); return the reduced partial. A node that dies is skipped, or with
    ``redo`` its part (its arguments) is run again on another live node; the ids of the nodes
    that failed are added to ``failed``. ``fanin`` as run_task's."""
    with telemetry.timed_task(name):
        return await _run_all_nodes(node, name, args, blobs, nodes, node_args, redo, failed, _fanin(node, fanin))


async def _run_all_nodes(node: Node, name: str, args: dict[str, Any], blobs: Sequence[Any],
                         nodes: Sequence[str] | None, node_args: Callable[[str], dict[str, Any]] | None,
                         redo: bool, failed: set[str] | None, fanin: int) -> Any:
    task = make_task(name, args, blobs)
    targets = [n for n in (nodes if nodes is not None else node.membership.members)]
    slots = [Part(nid, nid, [], node_args(nid) if node_args is not None else {}) for nid in targets]
    excluded: set[str] = set()
    partials: list[Any] = []
    while slots:
        res = await run_parts(node, task, args, None, blobs, slots, fanin)
        _check_progress(name, res)
        excluded |= res.dead
        if res.partial is not None:
            partials.append(res.partial)
        live = [m for m in targets if m in node.membership.members and m not in excluded]
        retry = []
        for p in slots:
            if p.key not in res.lost:
                continue
            if p.node in live:  # its node is fine: the node above it in the tree failed
                retry.append(p)
            elif not redo:
                log.warning("node %s failed during %s; skipped", p.node, name)
            elif not live:
                raise NodeUnavailable(f"no live node is left to run {name}")
            else:
                log.warning("node %s failed during %s; redoing its part on %s", p.node, name, live[0])
                retry.append(Part(p.key, live[0], p.chunks, p.extra))
        slots = retry
    if failed is not None:
        failed |= excluded
    return await _reduce(node, task, partials)


def _chunk_rows(header: FrameHeader, i: int) -> int:
    """Chunk i's rows (1 where the header does not say: the chunks then count alike)."""
    return int(header.chunk_rows[i]) if i < len(header.chunk_rows) else 1


def _fanin(node: Node, fanin: int | None) -> int:
    return int(node.config.mr_fanin if fanin is None else fanin)


def _check_progress(name: str, res: TreeResult) -> None:
    # A part is lost only with a failed node above or at it: without one, a round would repeat.
    if res.lost and not res.dead:
        raise RuntimeError(f"{name}: parts {sorted(res.lost)} were lost with no node named as failed")


async def _reduce(node: Node, task: MRTask, partials: list[Any]) -> Any:
    """reduce_all in a worker thread: averaging models is milliseconds of numpy the event loop
    (heartbeats, other calls) should not wait for."""
    if len(partials) <= 1:
        return partials[0] if partials else None
    return await node.run_in_thread(task.reduce_all, partials)


# -- the reduce tree ---------------------------------------------------------------------------


@dataclass
class Part:
    """One piece of a task's round: node `node` maps `chunks` (none for an all-nodes task) with
    the task's arguments updated by `extra`. `key` names the piece for the caller: the node the
    chunks were assigned to, or the node an all-nodes part belongs to."""

    key: str
    node: str
    chunks: list[int]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Vertex:
    """A subtree of the reduce: `part` runs on its node, which forwards the task to `children`."""

    part: Part
    children: list[Vertex] = field(default_factory=list)

    def keys(self) -> list[str]:
        """The keys of every part in this subtree (what is lost when its root fails)."""
        return [self.part.key] + [k for c in self.children for k in c.keys()]

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.part.key, "node": self.part.node, "chunks": self.part.chunks,
                "extra": self.part.extra, "children": [c.to_dict() for c in self.children]}

    @classmethod
    def from_dict(cls, d: Any, depth: int = 0) -> Vertex:
        """A subtree from the wire; a malformed one is a ValueError naming what is wrong."""
        if depth > 64:  # far deeper than any tree plan_tree makes (fan-in 1 over 64 nodes)
            raise ValueError("mr.map: children: the reduce tree is nested too deeply")
        if not isinstance(d, dict):
            raise ValueError("mr.map: children: each subtree must be an object")
        key, nid, chunks = d.get("key"), d.get("node"), d.get("chunks", [])
        extra, children = d.get("extra", {}), d.get("children", [])
        if not isinstance(key, str) or not isinstance(nid, str) or not nid:
            raise ValueError("mr.map: children: a subtree needs string 'key' and 'node'")
        if not isinstance(chunks, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in chunks):
            raise ValueError(f"mr.map: children: 'chunks' of {key!r} must be a list of chunk indices")
        if not isinstance(extra, dict) or not isinstance(children, list):
            raise ValueError(f"mr.map: children: 'extra' of {key!r} must be an object and 'children' a list")
        return cls(Part(key, nid, chunks, extra), [cls.from_dict(c, depth + 1) for c in children])


def plan_tree(parts: Sequence[Part], fanin: int) -> list[Vertex]:
    """The parts as at most `fanin` subtrees of near-equal size, each a part whose node forwards
    the task to the rest of its group split the same way: depth about log_fanin(parts), as H2O's
    MRTask splits its nodes in halves. ``fanin`` <= 0: flat, every part its own leaf."""
    parts = list(parts)
    if fanin <= 0 or len(parts) <= fanin:
        return [Vertex(p) for p in parts]
    q, r = divmod(len(parts), fanin)
    out, pos = [], 0
    for g in range(fanin):
        group = parts[pos: pos + q + (1 if g < r else 0)]
        pos += len(group)
        out.append(Vertex(group[0], plan_tree(group[1:], fanin)))
    return out


@dataclass
class TreeResult:
    """What a (sub)tree gives back: the reduced partial of every part that was done (None: none
    gave one), the keys of the parts that were not, and the nodes that failed."""

    partial: Any
    lost: set[str] = field(default_factory=set)
    dead: set[str] = field(default_factory=set)


async def run_parts(node: Node, task: MRTask, args: dict[str, Any], header: FrameHeader | None,
                    blobs: Sequence[Any], parts: Sequence[Part], fanin: int, late: Late = "wait") -> TreeResult:
    """One round as the caller: this node's own parts here, the others as a reduce tree (ordered
    by node id, so a cloud's tree has the same shape from round to round). ``late``: what every
    node of the tree does about a child that misses heartbeats (peercall.Late; "cancel" loses the
    child's subtree at once, to be redone as a failed one's)."""
    own = [p for p in parts if p.node == node.node_id]
    others = sorted((p for p in parts if p.node != node.node_id), key=lambda p: (p.node, p.key))
    return await reduce_tree(node, task, args, header, blobs, own, plan_tree(others, fanin), late)


async def reduce_tree(node: Node, task: MRTask, args: dict[str, Any], header: FrameHeader | None,
                      blobs: Sequence[Any], own: Sequence[Part], children: Sequence[Vertex],
                      late: Late = "wait", header_json: str | None = None) -> TreeResult:
    """Map `own` parts here while each child subtree runs on its root node; reduce everything that
    came back into one partial. A failed child loses its whole subtree's parts (its children's
    partials died with it); other errors propagate. ``header_json``: the header as the children
    are sent it (FrameHeader.to_json), when the caller has it already."""
    if header is not None and children and header_json is None:
        header_json = header.to_json()
    jobs = [_run_vertex(node, task, args, header, blobs, v, late, header_json) for v in children]
    if own:
        jobs.insert(0, _run_own(node, task, args, header, blobs, list(own)))
    results = await asyncio.gather(*jobs, return_exceptions=True)
    for res in results:
        if isinstance(res, BaseException) and not isinstance(res, NodeUnavailable):
            raise res
    out = TreeResult(None)
    partials = []
    sources: list[tuple[str, list[str]]] = []
    if own:
        sources.append((node.node_id, [p.key for p in own]))
    sources += [(v.part.node, v.keys()) for v in children]
    for (nid, keys), res in zip(sources, results):
        if isinstance(res, NodeUnavailable):
            log.warning("node %s failed during %s (%s); its subtree's parts %s are lost", nid, task.name, res, keys)
            out.lost.update(keys)
            out.dead.add(nid)
            continue
        assert isinstance(res, TreeResult)
        out.lost |= res.lost
        out.dead |= res.dead
        if res.partial is not None:
            partials.append(res.partial)
    out.partial = await _reduce(node, task, partials)
    return out


async def _run_own(node: Node, task: MRTask, args: dict[str, Any], header: FrameHeader | None,
                   blobs: Sequence[Any], parts: list[Part]) -> TreeResult:
    def run() -> Any:
        acc = None
        for p in parts:
            got = map_local(node, make_task(task.name, {**args, **p.extra}, blobs), header, p.chunks)
            acc = got if acc is None else (acc if got is None else task.reduce(acc, got))
        return acc

    return TreeResult(await node.run_in_thread(run))


async def _run_vertex(node: Node, task: MRTask, args: dict[str, Any], header: FrameHeader | None,
                      blobs: Sequence[Any], v: Vertex, late: Late, header_json: str | None) -> TreeResult:
    if v.part.node == node.node_id:  # a part redone here (run_all_nodes' redo) below another
        return await reduce_tree(node, task, args, header, blobs, [v.part], v.children, late, header_json)
    head, out = await call_member(
        node, v.part.node, "mr.map",
        {"task": task.name, "args": args, "header": header_json,
         "chunks": v.part.chunks, "key": v.part.key, "extra": v.part.extra,
         "children": [c.to_dict() for c in v.children], "late": late}, list(blobs), late=late)
    telemetry.MR_RECEIVED.labels(task.name).inc()
    return tree_result_from_wire(task, head, out)


# The frame header travels as JSON text, encoded once per task by the caller (not once per child)
# and parsed once per node while it stays among the last few seen: every map call of a prediction
# or a training iteration carries it, and MNIST's 785 columns are ~120 KB of JSON, ~2.4 ms to
# encode and ~2 ms to parse a call.
HEADER_CACHE_SIZE = 8
_HEADERS: OrderedDict[str, FrameHeader] = OrderedDict()
_HEADERS_LOCK = threading.Lock()


def header_from_text(text: str) -> FrameHeader:
    """The header of an mr.map call from its JSON text (cached by the text); a malformed one is a
    ValueError naming the header. Callers only read the header they get."""
    with _HEADERS_LOCK:
        h = _HEADERS.get(text)
        if h is not None:
            _HEADERS.move_to_end(text)
            return h
    d = wire.loads(text, "mr.map: header")
    try:
        if not isinstance(d, dict):
            raise TypeError("not a JSON object")
        h = FrameHeader.from_dict(d)
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"mr.map: header is not a frame header ({type(e).__name__}: {e})") from None
    with _HEADERS_LOCK:
        _HEADERS[text] = h
        while len(_HEADERS) > HEADER_CACHE_SIZE:
            _HEADERS.popitem(last=False)
    return h


def tree_result_to_wire(task: MRTask, res: TreeResult) -> tuple[dict[str, Any], list[Any]]:
    """mr.map's answer: the partial's wire form (None: no partial) and the lost parts' keys and
    the failed nodes below the answering node."""
    meta, out = (None, []) if res.partial is None else task.to_wire(res.partial)
    return {"partial": meta, "lost": sorted(res.lost), "dead": sorted(res.dead)}, out


def tree_result_from_wire(task: MRTask, head: dict[str, Any], blobs: list[bytes]) -> TreeResult:
    meta = head.get("partial")
    return TreeResult(None if meta is None else task.from_wire(meta, blobs),
                      {str(k) for k in head.get("lost", [])}, {str(n) for n in head.get("dead", [])})
