"""Training across the cloud: the booklet's section 2.2 on top of the single-node Hogwild kernel.

One iteration: the driver (the node running the job) sends the current model -- weights, biases and
optimizer state -- to every training node (`dl.train`, streamed), each runs Hogwild over its own
rows for its share of the iteration's samples and returns its model and sample count, and the
driver averages them weighted by samples (Net.average). Scoring and stopping stay in the shared
training loop (h2ocloud.dl.trainer), which does not know whether its backend is one node or many.

Each node keeps its training rows for the job in memory (`dl.prepare`): the whole training frame
when replicate_training_data is on, else the chunks it homes. A node that dies is dropped from the
iteration and the job goes on with the others; only if none answers does the job fail. The model
is stored only when training has finished, so no half-averaged model ever sits under its key.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from h2ocloud import wire
from h2ocloud.dl.datainfo import DataInfo
from h2ocloud.dl.local_backend import LocalBackend
from h2ocloud.dl.params import DLParams, resolve_nthreads
from h2ocloud.dl.seeds import sub_seed
from h2ocloud.errors import NodeUnavailable
from h2ocloud.frame.header import FrameHeader
from h2ocloud.kernel import Net, NetSpec
from h2ocloud.node.cluster.peercall import call_member
from h2ocloud.node.store.hashing import chunk_key
from h2ocloud.node.tasks import framedata

if TYPE_CHECKING:
    from h2ocloud.node.tasks.host import TaskHost as Node

log = logging.getLogger("h2ocloud.distributed")


def _node_params(node: Node, params: DLParams, worker_index: int) -> DLParams:
    """A worker's parameters: its own seed (so nodes do not draw the same rows and dropout masks)
    and its own core count."""
    return params.replace(seed=sub_seed(int(params["seed"]), 7_000 + worker_index),
                          nthreads=resolve_nthreads(params, node.config.effective_nthreads))


def _net_to_wire(net: Net) -> tuple[dict[str, Any], list[np.ndarray]]:
    meta, blobs = wire.pack_arrays({k: np.asarray(v) for k, v in net.to_arrays().items()})
    return {"spec": net.spec.to_dict(), "arrays": meta}, blobs


def _net_from_wire(head: dict[str, Any], blobs: list[bytes]) -> Net:
    arrays = {k: np.array(v) for k, v in wire.unpack_arrays(head["arrays"], blobs).items()}
    return Net.from_arrays(NetSpec.from_dict(head["spec"]), arrays)


# ---- the worker side ---------------------------------------------------------------------
class WorkerData:
    """A node's training rows for one job."""

    def __init__(self, backend: LocalBackend):
        self.backend = backend
        self.lock = threading.Lock()  # one iteration at a time per job on a node


def prepare_worker(node: Node, args: dict[str, Any], folds: np.ndarray | None = None) -> WorkerData:
    """Build this node's training matrix for a job (thread-side). For a cross-validation fold
    model, ``folds`` holds every training-frame row's fold and args["fold"]["holdout"] the fold
    to leave out."""
    from h2ocloud.node.tasks.models import frame_header_sync

    header = frame_header_sync(node, args["training_frame"], "training_frame")
    info = DataInfo.from_dict(args["info"])
    if args.get("replicate", True):
        chunks = None
    else:  # only the chunks this node is the first live home of: each row on one node
        chunks = [i for i in range(header.nchunks) if node.dkv.homes(chunk_key(header.frame_id, i))[:1] == [node.node_id]]
    metas = framedata.metas(header)
    cols = framedata.columns(node, header, chunks=chunks)
    X = info.transform(metas, cols)
    Y = None if info.autoencoder else info.transform_response(metas[header.col_index(info.response)], cols[info.response])
    wcol = (args.get("params") or {}).get("weights_column")
    W = cols[wcol] if wcol else None
    fold = args.get("fold")
    if fold:  # a cross-validation fold model: leave out the held-out fold's rows
        if folds is None or folds.size != header.nrows:
            raise ValueError(f"fold model: {0 if folds is None else folds.size} row folds sent "
                             f"for a training frame of {header.nrows} rows")
        keep = folds[_global_rows(header, chunks)] != int(fold["holdout"])
        X = X[keep]
        Y = None if Y is None else Y[keep]
    # The driver validated the parameters (this node is one of its cloud's members).
    params = DLParams.from_validated(args["params"])
    return WorkerData(LocalBackend(X, Y, params=params, info=info, weights=W))


def _global_rows(header: FrameHeader, chunks: list[int] | None) -> np.ndarray:
    """Frame row numbers of the given chunks' rows (all chunks when None), in chunk order."""
    idx = range(header.nchunks) if chunks is None else chunks
    offsets = header.row_offsets
    parts = [np.arange(offsets[i], offsets[i] + header.chunk_rows[i]) for i in idx]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def _train_local(data: WorkerData, net: Net, n: int, iteration: int) -> tuple[Net, int, float]:
    with data.lock:
        t = time.perf_counter()
        net, done, _ = data.backend.train_iteration(net, n, iteration)
        return net, done, time.perf_counter() - t


# ---- the driver side ---------------------------------------------------------------------
class CloudBackend:
    """TrainingBackend over several nodes (used by h2ocloud.dl.trainer.train_model)."""

    def __init__(self, node: Node, job_id: str, args: dict[str, Any], params: dict[str, Any], info: DataInfo,
                 X, Y, Xv, Yv, workers: list[str], folds: np.ndarray | None = None,
                 weights: np.ndarray | None = None):
        self.node = node
        self.job_id = job_id
        self.params = params
        # Scoring uses the driver's full copy of the frames, sampled exactly as on one node.
        self.scoring = LocalBackend(X, Y, Xv, Yv, params=params, info=info, weights=weights)
        self.prior_class_dist = self.scoring.prior_class_dist
        self.model_class_dist = self.scoring.model_class_dist
        self.replicate = bool(params["replicate_training_data"])
        self.workers: list[str] = list(workers)
        self.rows: dict[str, int] = {}
        self.last_comm_seconds: float | None = None
        self.comm_seconds = 0.0
        self.iteration_log: list[dict[str, Any]] = []
        prep = {"job_id": job_id, "training_frame": args["training_frame"], "info": info.to_dict(),
                "replicate": self.replicate, "fold": args.get("fold")}
        futures = {}
        for i, nid in enumerate(self.workers):
            a = dict(prep, params=_node_params(node, params, i + 1))
            if self.replicate:
                # Every node holds every row: each draws its own random rows for its share of an
                # iteration (the booklet's "active subset"), rather than all walking the same order.
                a["params"] = a["params"].replace(shuffle_training_data=True)
            if nid == node.node_id:
                if self.replicate:
                    self._local = WorkerData(LocalBackend(X, Y, params=a["params"], info=info, weights=weights))
                else:
                    self._local = prepare_worker(node, a, folds)
                self.rows[nid] = self._local.backend.n_train_rows()
            else:
                fold_blobs = [] if folds is None else [np.ascontiguousarray(folds, np.int32)]
                futures[nid] = self._submit(call_member(node, nid, "dl.prepare", a, fold_blobs, timeout=600))
        for nid, fut in futures.items():
            try:
                self.rows[nid] = int(fut.result()[0]["rows"])
            except Exception as e:
                log.warning("node %s could not prepare its training data: %s", nid, e)
                self.workers.remove(nid)
        # A node that homes none of the training rows (a small frame, replicate off) has nothing to do.
        self.workers = [w for w in self.workers if self.rows.get(w, 0) > 0]
        if not self.workers:
            raise ValueError("training_frame: no node holds any training rows")
        self.nodes = list(self.workers)
        self.dist_param: float | None = None  # set by the trainer (huber delta)

    def _submit(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.node.dkv.loop)

    def n_train_rows(self) -> int:
        return self.scoring.n_train_rows()

    def set_dist_param(self, value: float) -> None:
        """The regression loss's parameter (huber delta) for this node and every later iteration."""
        self.dist_param = float(value)
        self._local.backend.set_dist_param(value)

    def _shares(self, n_samples: int, workers: list[str]) -> dict[str, int]:
        """Each node's part of an iteration: in proportion to the rows it trains on."""
        weights = np.array([self.rows[w] for w in workers], dtype=np.float64)
        raw = n_samples * weights / weights.sum()
        shares = np.floor(raw).astype(int)
        for i in np.argsort(-(raw - shares))[: n_samples - int(shares.sum())]:
            shares[i] += 1
        return {w: int(s) for w, s in zip(workers, shares)}

    def train_iteration(self, net: Net, n_samples: int, iteration: int):
        t0 = time.perf_counter()
        workers = [w for w in self.workers if w in self.node.membership.members]
        if not workers:
            raise NodeUnavailable("no live node is left to train on")
        shares = self._shares(n_samples, workers)
        head, blobs = _net_to_wire(net)
        futures = {}
        for nid in workers:
            if nid != self.node.node_id and shares[nid] > 0:
                args = {"job_id": self.job_id, "n": shares[nid], "iteration": iteration, "net": head,
                        "dist_param": self.dist_param}
                futures[nid] = self._submit(call_member(self.node, nid, "dl.train", args, blobs))
        nets, counts, trained, compute = [], [], [], []
        if self.node.node_id in workers and shares[self.node.node_id] > 0:
            local_net, done, secs = _train_local(self._local, net.copy(), shares[self.node.node_id], iteration)
            nets.append(local_net)
            counts.append(done)
            trained.append(self.node.node_id)
            compute.append(secs)
        for nid, fut in futures.items():
            try:
                rhead, rblobs = fut.result()
            except Exception as e:
                log.warning("node %s failed in iteration %d (%s); going on without it", nid, iteration, e)
                self.workers.remove(nid)
                continue
            nets.append(_net_from_wire(rhead["net"], rblobs))
            counts.append(int(rhead["n"]))
            trained.append(nid)
            compute.append(float(rhead["seconds"]))
        if not nets:
            raise NodeUnavailable(f"every training node failed in iteration {iteration}")
        t_avg = time.perf_counter()
        avg = Net.average(nets, counts) if len(nets) > 1 else nets[0]
        wall = time.perf_counter() - t0
        # Communication: the iteration's wall time beyond the slowest node's own training.
        self.last_comm_seconds = max(0.0, wall - max(compute))
        self.comm_seconds += self.last_comm_seconds
        self.iteration_log.append({"iteration": iteration, "nodes": trained, "samples": counts,
                                   "wall_s": wall, "average_s": time.perf_counter() - t_avg})
        return avg, int(sum(counts)), trained

    def score(self, net: Net, which: str) -> dict:
        return self.scoring.score(net, which)

    def release(self) -> None:
        for nid in list(self.workers):
            if nid != self.node.node_id:
                try:
                    self._submit(call_member(self.node, nid, "dl.release", {"job_id": self.job_id}, timeout=10)).result(15)
                except Exception:
                    pass


def make_backend(node: Node, job_id: str, args: dict[str, Any], params: dict[str, Any], info, X, Y, Xv, Yv,
                 folds: np.ndarray | None = None):
    """A LocalBackend when this node trains alone (one node, or single_node_mode), else a
    CloudBackend over every live member. X, Y are the rows to train on; for a cross-validation
    fold model (args["fold"]), ``folds`` tells the nodes which training-frame rows to drop."""
    p = params.replace(nthreads=resolve_nthreads(params, node.config.effective_nthreads))
    members = list(node.membership.members)
    weights = None
    if params.get("weights_column"):  # the frame's weights, in X's row order (no folds here)
        from h2ocloud.node.tasks.models import frame_header_sync

        h = frame_header_sync(node, args["training_frame"], "training_frame")
        weights = framedata.columns(node, h, names=[params["weights_column"]])[params["weights_column"]]
    if params.get("single_node_mode") or len(members) == 1:
        return LocalBackend(X, Y, Xv, Yv, params=p, info=info, weights=weights)
    workers = [node.node_id] + [m for m in members if m != node.node_id]
    return CloudBackend(node, job_id, args, p, info, X, Y, Xv, Yv, workers, folds, weights)
