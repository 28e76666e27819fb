"""Training across the cloud: the booklet's section 2.2 as map/reduce tasks over the chunks.

The driver (the node running the job) holds the model, never the rows. Each node builds its
training rows from the chunks it homes (h2ocloud.node.tasks.training_state) after the driver has
sent it the DataInfo (`dl.setup`, all nodes); with replicate_training_data every node also fetches
the other chunks itself. One iteration is the task `dl.iteration` run by the one map/reduce
mechanism (h2ocloud.node.tasks.mrtask): each node runs Hogwild over its rows for its share of the
iteration's samples (in proportion to its rows) and the partial models are averaged weighted by
samples up the mechanism's reduce tree (the driver receives --mr-fanin models, not one per node). A node that dies mid-iteration has its chunks redone by their replicas in that
iteration and trained on by them from then on: no row is lost and an epoch stays an epoch.
Scoring is the task `dl.score` over the scoring samples H2O draws, merged from one metric builder
per node. The job's state on every node is released when it ends or fails (`dl.release`), or
when its driver leaves the cloud. Scoring cadence and stopping stay in the shared training loop
(h2ocloud.dl.trainer), which does not know whether its backend is one node or many.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from h2ocloud.dl.datainfo import DataInfo
from h2ocloud.dl.elastic import ElasticAverager
from h2ocloud.dl.local_backend import LocalBackend, balance_targets
from h2ocloud.dl.params import DLParams, resolve_nthreads
from h2ocloud.dl.seeds import sub_seed
from h2ocloud.errors import NodeUnavailable
from h2ocloud.kernel import Net
from h2ocloud.node.tasks import training_tasks  # noqa: F401  (registers the dl.* tasks)
from h2ocloud.node.tasks.framedata import frame_header_sync
from h2ocloud.node.tasks.mrtask import run_all_nodes, run_sync, run_task
from h2ocloud.node.tasks.wireforms import net_to_wire

if TYPE_CHECKING:
    from h2ocloud.node.tasks.host import TaskHost as Node

log = logging.getLogger("h2ocloud.distributed")


def trains_alone(node: Node, params: dict[str, Any]) -> bool:
    """One node trains with every row in its own memory: single_node_mode, or a cloud of one."""
    return bool(params.get("single_node_mode")) or len(node.membership.members) == 1


def split_samples(n: int, rows: dict[str, int]) -> dict[str, int]:
    """n samples split over nodes in proportion to their rows (largest remainder: they add to n)."""
    ids = list(rows)
    weights = np.array([rows[i] for i in ids], dtype=np.float64)
    if not ids:
        return {}
    if weights.sum() <= 0:
        weights = np.ones(len(ids))
    raw = n * weights / weights.sum()
    shares = np.floor(raw).astype(int)
    for k in np.argsort(-(raw - shares), kind="stable")[: n - int(shares.sum())]:
        shares[k] += 1
    return {i: int(s) for i, s in zip(ids, shares)}


class _IterationShares:
    """Per-node samples for each round of an iteration's assignments: the first round splits the
    iteration by the rows each node's chunks hold; a redo round (a node died) splits what the
    dead nodes were given over the replicas that took their chunks."""

    def __init__(self, n: int, chunk_rows: np.ndarray):
        self.n = n
        self.chunk_rows = chunk_rows
        self.given: dict[str, tuple[list[int], int]] | None = None

    def __call__(self, assignment: dict[str, list[int]]) -> dict[str, dict[str, Any]]:
        remaining = {i for idx in assignment.values() for i in idx}
        if self.given is None:
            total = self.n
        else:
            total = sum(s for idx, s in self.given.values() if set(idx) <= remaining)
        rows = {nid: int(self.chunk_rows[idx].sum()) for nid, idx in assignment.items()}
        shares = split_samples(total, rows)
        self.given = {nid: (idx, shares[nid]) for nid, idx in assignment.items()}
        return {nid: {"n": s} for nid, s in shares.items()}


class CloudBackend:
    """TrainingBackend over the cloud's nodes (used by h2ocloud.dl.trainer.train_model). Runs in
    the job's thread. For a cross-validation fold model, ``folds`` holds every training-frame
    row's fold and ``holdout`` the fold left out (its rows are then the validation rows)."""

    def __init__(self, node: Node, key: str, params: DLParams, info: DataInfo,
                 training_frame: str, validation_frame: str | None = None,
                 folds: np.ndarray | None = None, holdout: int | None = None):
        self.node = node
        self.key = key
        self.params = params
        self.info = info
        self.training_frame = training_frame
        self.validation_frame = None if holdout is not None else validation_frame
        self.header = frame_header_sync(node, training_frame, "training_frame")
        self.valid_header = (frame_header_sync(node, self.validation_frame, "validation_frame")
                             if self.validation_frame else None)
        self.holdout = holdout
        self.replicate = bool(params["replicate_training_data"])
        self.last_comm_seconds: float | None = None
        self.comm_seconds = 0.0
        self.iteration_log: list[dict[str, Any]] = []
        self.prior_class_dist: np.ndarray | None = None
        self.model_class_dist: np.ndarray | None = None
        self.dist_param: float | None = None  # set by the trainer (huber delta)
        # elastic_averaging: the consensus (the model returned) is the time average of the
        # iterations' node averages; the nodes keep their own models (training_state).
        self.elastic = ElasticAverager(params["elastic_averaging_moving_rate"]) \
            if params["elastic_averaging"] else None
        members = list(node.membership.members)
        nodes = [node.node_id] + [m for m in members if m != node.node_id]
        seeds = {nid: sub_seed(int(params["seed"]), 7_000 + i + 1) for i, nid in enumerate(nodes)}
        setup = {"key": key, "driver": node.node_id, "training_frame": training_frame,
                 "validation_frame": self.validation_frame, "info": info.to_dict(), "params": dict(params),
                 "holdout": holdout, "replicate": self.replicate}
        fold_blobs = [] if holdout is None else [np.ascontiguousarray(folds, np.int32)]
        try:
            ready = run_sync(node, run_all_nodes(node, "dl.setup", setup, fold_blobs, nodes=nodes,
                                                 node_args=lambda nid: {"node_seed": seeds[nid]}))
            self.nodes = [n for n in nodes if n in (ready or [])]
            chunks = self._rows()
            if params["balance_classes"] and info.classification and not info.autoencoder:
                classes = np.sum([c[3] for c in chunks.values()], axis=0)
                targets = balance_targets(classes, params["max_after_balance_size"],
                                          params["class_sampling_factors"])
                ratios = [targets.get(k, 0) / classes[k] if classes[k] else 0.0 for k in range(classes.size)]
                self._run(run_all_nodes, "dl.rows", {"key": key, "ratios": ratios})
                chunks = self._rows()
                balanced = np.sum([c[4] for c in chunks.values()], axis=0)
                self.prior_class_dist = classes / max(classes.sum(), 1)
                self.model_class_dist = balanced / max(balanced.sum(), 1)
            if self.replicate:  # every node fetches the chunks it does not home, as H2O does
                self._run(run_all_nodes, "dl.rows", {"key": key, "all": True})
        except BaseException:
            self.release()
            raise
        counts = np.array([chunks[str(i)][:3] for i in range(self.header.nchunks)], np.int64).reshape(-1, 3)
        self.chunk_train = counts[:, 1]
        self.total_base, self.total_train, self.total_holdout = (int(v) for v in counts.sum(axis=0))
        log.info("%s: %d training rows on %d node(s), %d chunks", key, self.total_train, len(self.nodes),
                 self.header.nchunks)

    def _run(self, coro_fn, *args: Any, **kw: Any) -> Any:
        """Run a map/reduce of this job on its nodes; a node that fails takes no further part."""
        failed: set[str] = set()
        try:
            return run_sync(self.node, coro_fn(self.node, *args, nodes=self.nodes, failed=failed, **kw))
        finally:
            if failed:
                log.warning("%s: node(s) %s dropped from the job; replicas train on their chunks",
                            self.key, sorted(failed))
                self.nodes = [n for n in self.nodes if n not in failed]

    def _rows(self) -> dict[str, list]:
        """Build (or report) each chunk's rows on its home: what every chunk contributes."""
        return self._run(run_task, "dl.rows", {"key": self.key}, self.training_frame, header=self.header)

    def n_train_rows(self) -> int:
        return self.total_train

    def set_dist_param(self, value: float) -> None:
        """The regression loss's parameter (huber delta) every node trains with from now on."""
        self.dist_param = float(value)

    def train_iteration(self, net: Net, n_samples: int, iteration: int) -> tuple[Net, int, list[str]]:
        t0 = time.perf_counter()
        head, blobs = net_to_wire(net)
        args = {"key": self.key, "iteration": iteration, "net": head, "dist_param": self.dist_param}
        if self.replicate:  # every node holds every row: an equal share each, on all nodes
            live = [w for w in self.nodes if w in self.node.membership.members]
            shares = split_samples(n_samples, {w: 1 for w in live})
            self.nodes = live
            part = self._run(run_all_nodes, "dl.iteration", args, blobs,
                             node_args=lambda nid: {"n": shares[nid]}, redo=True)
        else:
            part = self._run(run_task, "dl.iteration", args, self.training_frame, header=self.header,
                             blobs=blobs, node_args=_IterationShares(n_samples, self.chunk_train))
        if part is None:
            raise NodeUnavailable(f"no node trained in iteration {iteration}")
        wall = time.perf_counter() - t0
        trained = list(dict.fromkeys(part.nodes))
        # Communication: the iteration's wall time beyond the slowest node's own training.
        self.last_comm_seconds = max(0.0, wall - part.seconds)
        self.comm_seconds += self.last_comm_seconds
        self.iteration_log.append({"iteration": iteration, "nodes": trained, "samples": part.n,
                                   "chunks": len(set(part.chunks)), "wall_s": wall})
        net = part.net if self.elastic is None else self.elastic.update(part.net)
        return net, int(part.n), trained

    def score_builder(self, net: Net, which: str):
        """The merged metric builder of "train" (the training sample), "valid" (the validation
        sample: the validation frame's, or a fold model's held-out rows) or "holdout" (every
        held-out row of a fold model); None when there is nothing to score."""
        head, blobs = net_to_wire(net)
        p = self.params
        args: dict[str, Any] = {"key": self.key, "net": head, "which": which,
                                "prior": None if self.prior_class_dist is None else self.prior_class_dist.tolist(),
                                "model_dist": None if self.model_class_dist is None else self.model_class_dist.tolist()}
        frame, header = self.training_frame, self.header
        if which == "train":
            args.update(k=p["score_training_samples"], total=self.total_base)
        elif which == "valid" and self.holdout is not None:
            args.update(which="holdout", k=p["score_validation_samples"], total=self.total_holdout)
        elif which == "holdout":
            args.update(k=0, total=self.total_holdout)
        elif which == "valid":
            if self.valid_header is None:
                return None
            args.update(k=p["score_validation_samples"], total=self.valid_header.nrows)
            frame, header = self.validation_frame, self.valid_header
        else:
            raise ValueError(f"score: unknown split {which!r} (train | valid | holdout)")
        return self._run(run_task, "dl.score", args, frame, header=header, blobs=blobs)

    def score(self, net: Net, which: str) -> dict:
        b = self.score_builder(net, which)
        return {} if b is None else b.result()

    def release(self) -> None:
        """Drop the job's state on every node (those that died have dropped it with themselves)."""
        try:
            run_sync(self.node, run_all_nodes(self.node, "dl.release", {"key": self.key}))
        except Exception as e:  # the job's own outcome matters more; a driver's death also releases
            log.warning("%s: releasing the training state failed: %s", self.key, e)


def make_local_backend(node: Node, params: DLParams, info: DataInfo, X, Y, Xv, Yv,
                       weights: np.ndarray | None = None, offsets: np.ndarray | None = None,
                       offsets_valid: np.ndarray | None = None) -> LocalBackend:
    """The backend of a node that trains alone, on rows it holds (see trains_alone)."""
    p = params.replace(nthreads=resolve_nthreads(params, node.config.effective_nthreads))
    return LocalBackend(X, Y, Xv, Yv, params=p, info=info, weights=weights, offsets=offsets,
                        offsets_valid=offsets_valid)
