"""Training as map/reduce tasks (h2ocloud.node.tasks.mrtask), as H2O's Deep Learning runs on MRTask.

* ``dl.levels``    -- the distinct values of a numeric column (a numeric response read as classes):
                      the one data-dependent part of the DataInfo, computed once over the chunks;
* ``dl.level_stats`` -- per level of every factor: count and response mean (categorical_encoding);
* ``dl.setup``     -- all nodes: register the job's state (its DataInfo, parameters, folds);
* ``dl.rows``      -- each node builds the training rows of the chunks it homes (or, all nodes,
                      sets the balance_classes ratios / fetches every chunk for replicated data)
                      and reports what each chunk contributes;
* ``dl.iteration`` -- one iteration: map = Hogwild over the node's rows for its share of the
                      samples, reduce = the sample-weighted model average;
* ``dl.score``     -- metrics of a model on the job's scoring samples, a builder per node, merged;
* ``dl.release``   -- all nodes: drop the job's state.

The node-side state is h2ocloud.node.tasks.training_state; the driver is
h2ocloud.node.tasks.distributed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from h2ocloud import wire
from h2ocloud.kernel import Net
from h2ocloud.node.tasks import framedata
from h2ocloud.node.tasks.mrtask import MapContext, MRTask
from h2ocloud.node.tasks.training_state import TrainingState
from h2ocloud.node.tasks.wireforms import (
    builder_from_wire,
    builder_to_wire,
    net_from_wire,
    net_to_wire,
)


def _state(ctx: MapContext, args: dict[str, Any]) -> TrainingState:
    return ctx.node.training_states.get(str(args["key"]), ctx.node.node_id)


class _JSONPartial(MRTask):
    """Partials that are small JSON dicts."""

    def to_wire(self, partial: Any) -> tuple[dict[str, Any], list[Any]]:
        return {"partial": partial}, []

    def from_wire(self, meta: dict[str, Any], blobs: list[bytes]) -> Any:
        return meta["partial"]


class ResponseLevels(MRTask):
    """The sorted distinct non-missing values of numeric column args["column"]."""

    name = "dl.levels"

    def map(self, ctx: MapContext, index: int, chunk) -> Any:
        v = framedata.chunk_columns(ctx.header, chunk, [self.args["column"]])[self.args["column"]]
        v = np.unique(np.asarray(v, np.float64))
        return v[~np.isnan(v)]

    def reduce(self, a: Any, b: Any) -> Any:
        return np.union1d(a, b)

    def to_wire(self, partial: Any) -> tuple[dict[str, Any], list[Any]]:
        meta, blobs = wire.pack_arrays({"v": partial})
        return {"arrays": meta}, blobs

    def from_wire(self, meta: dict[str, Any], blobs: list[bytes]) -> Any:
        return np.array(wire.unpack_arrays(meta["arrays"], blobs)["v"])


class LevelStatsTask(MRTask):
    """Per level of every factor column but the response (args["response"]): row count, and the
    response's sum and count (its values, or class codes) -- categorical_encoding's statistics
    (h2ocloud.dl.categorical.LevelStats), merged exactly over the chunks."""

    name = "dl.level_stats"

    def map(self, ctx: MapContext, index: int, chunk) -> Any:
        h, y = ctx.header, self.args.get("response")
        cols = framedata.chunk_columns(h, chunk)
        resp = None
        if y is not None and y in cols:
            resp = np.asarray(cols[y], np.float64)
            if h.types[h.col_index(y)] == "enum":
                resp = np.where(resp < 0, np.nan, resp)
        out = {}
        for j, name in enumerate(h.names):
            if h.types[j] != "enum" or name == y or name not in cols:
                continue
            k = len(h.domains[j] or [])
            c = np.asarray(cols[name], np.int64)
            ok = (c >= 0) & (c < k)
            counts = np.bincount(c[ok], minlength=k).astype(np.float64)
            sums = np.zeros(k)
            n = np.zeros(k)
            if resp is not None:
                good = ok & ~np.isnan(resp)
                sums = np.bincount(c[good], weights=resp[good], minlength=k)
                n = np.bincount(c[good], minlength=k).astype(np.float64)
            out[name] = np.stack([counts, sums, n])
        return out

    def reduce(self, a: Any, b: Any) -> Any:
        return {k: a[k] + b[k] for k in a}

    def to_wire(self, partial: Any) -> tuple[dict[str, Any], list[Any]]:
        meta, blobs = wire.pack_arrays(partial)
        return {"arrays": meta}, blobs

    def from_wire(self, meta: dict[str, Any], blobs: list[bytes]) -> Any:
        return {k: np.array(v) for k, v in wire.unpack_arrays(meta["arrays"], blobs).items()}


def level_stats_from(acc: dict[str, np.ndarray] | None) -> dict[str, Any]:
    """LevelStats by column from dl.level_stats' merged counts."""
    from h2ocloud.dl.categorical import LevelStats

    out = {}
    for name, (counts, sums, n) in (acc or {}).items():
        out[name] = LevelStats(counts, np.where(n > 0, sums / np.maximum(n, 1), np.nan))
    return out


class TrainingSetup(_JSONPartial):
    """All nodes: the job's state on this node (nothing built yet). Blob 0: a fold model's
    folds of every training-frame row (int32)."""

    name = "dl.setup"

    def map_node(self, ctx: MapContext, indices: list[int]) -> Any:
        folds = np.frombuffer(bytes(self.blobs[0]), dtype=np.int32) if self.blobs else None
        ctx.node.training_states.put(TrainingState(ctx.node, self.args, folds))
        return [ctx.node.node_id]

    def reduce(self, a: Any, b: Any) -> Any:
        return a + b


class TrainingRows(_JSONPartial):
    """Over the training frame: build the rows of the node's chunks. On all nodes: set the
    balance ratios (args["ratios"]) and/or build every chunk (args["all"], replicated data).
    Partial: {chunk: [base rows, epoch rows, held-out rows, class counts, balanced counts]}."""

    name = "dl.rows"

    def map_node(self, ctx: MapContext, indices: list[int]) -> Any:
        st = _state(ctx, self.args)
        with st.lock:
            if self.args.get("ratios") is not None:
                st.set_ratios(self.args["ratios"])
            if ctx.header is None and self.args.get("all"):
                indices = list(range(st.header.nchunks))
            st.ensure(ctx.node, indices)
            if ctx.header is None:
                indices = list(st.chunks)
            return {str(i): [int(st.chunks[i].base.size), int(st.chunks[i].train.size),
                             int(st.chunks[i].holdout.size), st.chunks[i].class_counts.tolist(),
                             st.chunks[i].balanced_counts.tolist()] for i in indices}

    def reduce(self, a: Any, b: Any) -> Any:
        return {**a, **b}  # a chunk built on two nodes (replicated data) counts the same on both


@dataclass
class IterationPartial:
    net: Net
    n: int  # samples trained
    nodes: list[str]
    chunks: list[int]
    seconds: float  # the slowest node's own training time


class TrainingIteration(MRTask):
    """One iteration. args: key, iteration, net (wire head; arrays in the blobs) and, per node,
    n (its share of the samples). Over the training frame each node trains on its chunks' rows;
    on all nodes (replicated data) on every row."""

    name = "dl.iteration"

    def map_node(self, ctx: MapContext, indices: list[int]) -> Any:
        n = int(self.args.get("n", 0))
        if n <= 0:
            return None
        st = _state(ctx, self.args)
        if ctx.header is None:
            indices = list(range(st.header.nchunks))
        net = net_from_wire(self.args["net"], self.blobs)
        with st.lock:
            if self.args.get("dist_param") is not None:  # the huber delta the driver's last scoring set
                st.train_cfg.dist_param = float(self.args["dist_param"])
            net, done, secs = st.train(ctx.node, net, indices, n, int(self.args["iteration"]))
        return IterationPartial(net, done, [ctx.node.node_id], sorted(indices), secs)

    def reduce(self, a: IterationPartial, b: IterationPartial) -> IterationPartial:
        # The booklet's model averaging: each node's model weighted by the samples it trained.
        return IterationPartial(Net.average([a.net, b.net], [a.n, b.n]), a.n + b.n, a.nodes + b.nodes,
                                a.chunks + b.chunks, max(a.seconds, b.seconds))

    def to_wire(self, p: IterationPartial) -> tuple[dict[str, Any], list[Any]]:
        head, blobs = net_to_wire(p.net)
        return {"net": head, "n": p.n, "nodes": p.nodes, "chunks": p.chunks, "seconds": p.seconds}, blobs

    def from_wire(self, meta: dict[str, Any], blobs: list[bytes]) -> IterationPartial:
        return IterationPartial(net_from_wire(meta["net"], blobs), int(meta["n"]), list(meta["nodes"]),
                                [int(i) for i in meta["chunks"]], float(meta["seconds"]))


class TrainingScore(MRTask):
    """Metrics of the net (args["net"] + blobs) on the job's sample args["which"]: "train" (over
    the training frame), "holdout" (a fold model's held-out rows, over the training frame) or
    "valid" (over the validation frame). args k / total size the sample; prior / model_dist
    undo class balancing."""

    name = "dl.score"

    def map_node(self, ctx: MapContext, indices: list[int]) -> Any:
        st = _state(ctx, self.args)
        net = net_from_wire(self.args["net"], self.blobs)
        with st.lock:
            return st.score(ctx.node, net, str(self.args["which"]), indices, self.args)

    def reduce(self, a: Any, b: Any) -> Any:
        return a.merge(b)

    def to_wire(self, b: Any) -> tuple[dict[str, Any], list[Any]]:
        return builder_to_wire(b)

    def from_wire(self, meta: dict[str, Any], blobs: list[bytes]) -> Any:
        return builder_from_wire(meta, blobs)


class TrainingRelease(_JSONPartial):
    """All nodes: drop the job's state; the partial lists the nodes that had one."""

    name = "dl.release"

    def map_node(self, ctx: MapContext, indices: list[int]) -> Any:
        return [ctx.node.node_id] if ctx.node.training_states.release(str(self.args["key"])) else []

    def reduce(self, a: Any, b: Any) -> Any:
        return a + b
