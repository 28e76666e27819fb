"""A node's part of a training job: the rows it builds from the chunks it trains on, and the
registry of such parts, which releases them when the job ends or its driver dies.

A node builds its training rows itself, chunk by chunk, from the chunks the map/reduce mechanism
assigns it (those it homes; with replicate_training_data every chunk, fetched from its homes), as
H2O's Deep Learning does in setupLocal: the driver sends the DataInfo, never the rows. Everything
a chunk contributes -- which rows are trained on (labeled, weight copies, not in a held-out fold,
balance_classes copies) and which are sampled for scoring -- is a function of the chunk and the
job's seed only, so a replica that takes over a dead node's chunks builds exactly the same rows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from h2ocloud.dl.datainfo import DataInfo
from h2ocloud.dl.elastic import ElasticWorker
from h2ocloud.dl.local_backend import RowOrder, sample_rows, weight_copies
from h2ocloud.dl.params import DLParams, resolve_nthreads, train_config_kwargs
from h2ocloud.dl.scoring import score_builder
from h2ocloud.dl.seeds import iteration_seed, sub_seed
from h2ocloud.errors import NodeUnavailable
from h2ocloud.kernel import Net, TrainConfig, train_hogwild
from h2ocloud.kernel.train import activation_buffer
from h2ocloud.node.store.hashing import chunk_key
from h2ocloud.node.tasks import framedata

if TYPE_CHECKING:
    from h2ocloud.node.tasks.host import TaskHost as Node

log = logging.getLogger("h2ocloud.training")


def check_folds(folds: np.ndarray | None, nrows: int) -> None:
    """A fold model's folds must give one fold per training-frame row."""
    if folds is None or folds.size != nrows:
        raise ValueError(f"fold model: {0 if folds is None else folds.size} row folds sent "
                         f"for a training frame of {nrows} rows")


@dataclass
class ChunkRows:
    """What one chunk of the training frame contributes, as positions in the node's matrix."""

    start: int  # the chunk's rows are X[start:stop]
    stop: int
    base: np.ndarray  # trainable rows: labeled, weight > 0, not held out
    base_copies: np.ndarray  # weights_column copies of each base row
    train: np.ndarray  # base rows repeated by weight and balance copies: one epoch
    holdout: np.ndarray  # a fold model's held-out rows (labeled)
    class_counts: np.ndarray  # classes of the base rows (the prior of balance_classes)
    balanced_counts: np.ndarray  # classes after balancing (before weight copies)


class TrainingState:
    """One job's rows and scoring samples on one node. Methods run in worker threads under
    ``lock`` (one task of the job at a time on a node)."""

    def __init__(self, node: Node, args: dict[str, Any], folds: np.ndarray | None):
        self.key = str(args["key"])
        self.driver = str(args["driver"])
        self.created = time.time()
        self.lock = threading.Lock()
        # The driver validated the parameters (this node is one of its cloud's members).
        p = DLParams.from_validated(args["params"])
        self.params = p.replace(nthreads=resolve_nthreads(p, node.config.effective_nthreads))
        self.info = DataInfo.from_dict(args["info"])
        self.header = framedata.frame_header_sync(node, args["training_frame"], "training_frame")
        self.valid_header = (framedata.frame_header_sync(node, args["validation_frame"], "validation_frame")
                             if args.get("validation_frame") else None)
        self.seed = int(self.params["seed"])  # the job's: rows and samples are the same on any node
        self.node_seed = int(args["node_seed"])  # this node's: its row order and dropout masks
        self.holdout = None if args.get("holdout") is None else int(args["holdout"])
        if self.holdout is not None:
            check_folds(folds, self.header.nrows)
        self.folds = folds
        self.replicate = bool(args.get("replicate"))
        # With every row on every node, each node draws its own random rows for its share (the
        # booklet's "active subset") rather than all walking the same order.
        self.shuffle = self.replicate or self.params["shuffle_training_data"] or \
            self.params["train_samples_per_iteration"] == -1
        self.train_cfg = TrainConfig(**train_config_kwargs(self.params))
        self.nthreads = resolve_nthreads(self.params)
        self.ratios: np.ndarray | None = None  # balance_classes: copies per row of each class
        self.metas = framedata.metas(self.header)
        info = self.info
        self.columns = list(info.x_columns) + ([] if info.autoencoder else [info.response])
        if self.params.get("weights_column"):
            self.columns.append(self.params["weights_column"])
        if info.offset_column:
            self.columns.append(info.offset_column)
        self.X = np.zeros((0, info.n_inputs), np.float32)
        self.y = np.zeros(0, np.float32)
        # weights_column's values by row (missing: 0), which the training metrics weigh rows by
        self.w: np.ndarray | None = np.zeros(0, np.float64) if self.params.get("weights_column") else None
        # offset_column's values by row (response units; the kernel's are info.kernel_offsets)
        self.o: np.ndarray | None = np.zeros(0, np.float64) if info.offset_column else None
        self.ko: np.ndarray | None = None  # the kernel's offsets, made from self.o when training
        # elastic_averaging: this node's own model, kept across the job's iterations
        self.elastic = ElasticWorker.for_params(self.params)
        self.chunks: dict[int, ChunkRows] = {}
        self._orders: OrderedDict[tuple[int, ...], RowOrder] = OrderedDict()
        self._sets = 0  # chunk sets an order was drawn for
        self._samples: dict[tuple[str, int, int], Any] = {}
        self._avg_act: np.ndarray | None = None  # a sparse autoencoder's mean activations

    # ---- rows ------------------------------------------------------------------------------
    def ensure(self, node: Node, indices: list[int]) -> None:
        """Build the rows of the given chunks not built yet (fetching chunks homed elsewhere)."""
        missing = [i for i in indices if i not in self.chunks]
        if not missing:
            return
        h = self.header
        n0 = self.X.shape[0]
        n = n0 + sum(int(h.chunk_rows[i]) for i in missing)
        X = np.empty((n, self.info.n_inputs), np.float32)
        y = np.empty(n, np.float32)
        X[:n0], y[:n0] = self.X, self.y
        wts = None
        if self.w is not None:
            wts = np.zeros(n, np.float64)
            wts[:n0] = self.w
        offs = None
        if self.o is not None:
            offs = np.zeros(n, np.float64)
            offs[:n0] = self.o
        pos = n0
        for i in missing:
            m = int(h.chunk_rows[i])
            if m:
                v = node.dkv.get_sync(chunk_key(h.frame_id, i))
                # Still encoded: the inputs are standardized from their stored form.
                cols = framedata.ChunkColumns(h, framedata.stored_chunk(v), self.columns)
                X[pos:pos + m] = self.info.transform(self.metas, cols)
                y[pos:pos + m] = 0.0 if self.info.autoencoder else self.info.transform_response(
                    self.metas[h.col_index(self.info.response)], cols[self.info.response])
                w = cols.get(self.params["weights_column"]) if self.params.get("weights_column") else None
                if wts is not None and w is not None:  # the metrics weigh rows too
                    wts[pos:pos + m] = np.where(np.isnan(w), 0.0, w)
                if offs is not None:
                    offs[pos:pos + m] = self.info.row_offsets(cols, "training frame")
            else:
                w = None
            self.chunks[i] = self._chunk_rows(i, pos, pos + m, X[pos:pos + m], y[pos:pos + m], w)
            pos += m
        self.X, self.y, self.w, self.o = X, y, wts, offs
        self.ko = None if offs is None else self.info.kernel_offsets(offs)
        self._orders.clear()

    def _chunk_rows(self, i: int, start: int, stop: int, X: np.ndarray, y: np.ndarray,
                    w: np.ndarray | None) -> ChunkRows:
        m = stop - start
        labeled = np.ones(m, bool) if self.info.autoencoder else ~np.isnan(y)
        copies = np.ones(m, np.int64) if w is None else weight_copies(w, sub_seed(sub_seed(self.seed, 4), i))
        if self.info.skip_missing and m:  # missing_values_handling=Skip: such rows are not trained on
            labeled &= ~np.isnan(X[:, 0])
        trainable = labeled & (copies > 0)
        holdout = np.zeros(0, np.int64)
        if self.holdout is not None:
            off = int(self.header.row_offsets[i])
            in_fold = self.folds[off:off + m] == self.holdout
            trainable &= ~in_fold
            holdout = (np.nonzero(labeled & in_fold)[0] + start).astype(np.int64)
        base = (np.nonzero(trainable)[0] + start).astype(np.int64)
        k = self.info.n_classes if self.info.classification else 1
        cls = self.y_classes(base, y, start)
        r = ChunkRows(start, stop, base, copies[base - start], base, holdout,
                      np.bincount(cls, minlength=k), np.bincount(cls, minlength=k))
        self._balance(i, r, cls)
        return r

    def y_classes(self, base: np.ndarray, y: np.ndarray, start: int) -> np.ndarray:
        if not self.info.classification or self.info.autoencoder:
            return np.zeros(base.size, np.int64)
        return y[base - start].astype(np.int64)

    def _balance(self, i: int, r: ChunkRows, cls: np.ndarray) -> None:
        """The chunk's epoch: its base rows, each times its balance copies (balance_classes:
        floor(ratio) plus one more with probability frac(ratio), drawn from the chunk's seed)
        times its weight copies."""
        if self.ratios is None:
            bal = np.ones(r.base.size, np.int64)
        else:
            ratio = self.ratios[cls]
            u = np.random.default_rng(sub_seed(sub_seed(self.seed, 1), i)).random(r.base.size)
            bal = (np.floor(ratio) + (u < ratio - np.floor(ratio))).astype(np.int64)
        r.balanced_counts = np.bincount(cls, weights=bal, minlength=r.class_counts.size).astype(np.int64)
        r.train = np.repeat(r.base, bal * r.base_copies)

    def set_ratios(self, ratios: list[float]) -> None:
        self.ratios = np.asarray(ratios, np.float64)
        for i, r in self.chunks.items():
            self._balance(i, r, self.y_classes(r.base, self.y[r.start:r.stop], r.start))
        self._orders.clear()

    # ---- training --------------------------------------------------------------------------
    def order_for(self, indices: list[int]) -> RowOrder:
        """The row order over the given chunks' epoch (kept across iterations per chunk set)."""
        key = tuple(sorted(indices))
        order = self._orders.get(key)
        if order is None:
            rows = [self.chunks[i].train for i in key]
            # The first chunk set's order is drawn from the node's seed, as a node that holds its
            # rows from the start draws it; a set after a takeover gets a seed of its own.
            seed = self.node_seed if not self._sets else sub_seed(self.node_seed, 50_000 + self._sets)
            self._sets += 1
            order = RowOrder(np.concatenate(rows) if rows else np.zeros(0, np.int64), self.shuffle, seed)
            self._orders[key] = order
            while len(self._orders) > 4:
                self._orders.popitem(last=False)
        self._orders.move_to_end(key)
        return order

    def train(self, node: Node, net: Net, indices: list[int], n: int, iteration: int) -> tuple[Net, int, float]:
        """Hogwild over the given chunks' rows for n samples of this iteration."""
        self.ensure(node, indices)
        rows = self.order_for(indices).next_rows(n)
        if self.train_cfg.sparsity_beta > 0 and self._avg_act is None:
            self._avg_act = activation_buffer(net.spec)  # kept across iterations, as H2O's _avg_a
        anchor = None
        if self.elastic is not None:  # elastic_averaging: this node trains its own model
            net, anchor = self.elastic.local_model(net)
        t = time.perf_counter()
        done = train_hogwild(net, self.X, self.y, rows, self.train_cfg, self.nthreads,
                             iteration_seed(self.node_seed, iteration), offsets=self.ko,
                             avg_act=self._avg_act if self.train_cfg.sparsity_beta > 0 else None,
                             **({} if self.elastic is None else self.elastic.kernel_args(anchor)))
        if self.elastic is not None:
            # Kept as trained: the reduce averages a copy (the partial may be merged in place).
            self.elastic.keep(net)
            net = net.copy()
        return net, int(done), time.perf_counter() - t

    # ---- scoring ---------------------------------------------------------------------------
    def score(self, node: Node, net: Net, which: str, indices: list[int], args: dict[str, Any]):
        """The metric builder of this node's part of a scoring sample (see dl.score)."""
        p = self.params
        prior = None if args.get("prior") is None else np.asarray(args["prior"], np.float64)
        mdist = None if args.get("model_dist") is None else np.asarray(args["model_dist"], np.float64)
        weights = offsets = None
        if which == "valid":
            parts = [self._valid_sample(node, i, int(args["k"])) for i in indices]
            Xs = np.concatenate([a for a, _, _ in parts]) if parts else np.zeros((0, self.info.n_inputs), np.float32)
            ys = np.concatenate([b for _, b, _ in parts]) if parts else np.zeros(0, np.float32)
            if self.info.offset_column:
                offsets = np.concatenate([o for _, _, o in parts]) if parts else np.zeros(0)
        else:
            self.ensure(node, indices)
            r = [self._sample(which, i, int(args["k"]), int(args["total"])) for i in indices]
            rows = np.concatenate(r) if r else np.zeros(0, np.int64)
            Xs, ys = self.X[rows], self.y[rows]
            if which == "train" and self.w is not None:
                weights = self.w[rows]
            if self.o is not None:
                offsets = self.o[rows]
        return score_builder(net, self.info, Xs, None if self.info.autoencoder else ys,
                             p["max_hit_ratio_k"], self.nthreads, prior, mdist, weights=weights,
                             offsets=offsets)

    def _share(self, k: int, n_chunk: int, total: int) -> int:
        """A chunk's part of a k-row sample of total rows (0: all)."""
        if k <= 0 or k >= total:
            return n_chunk
        return int(round(k * n_chunk / max(total, 1)))

    def _sample(self, which: str, i: int, k: int, total: int) -> np.ndarray:
        """The chunk's rows in the training sample ("train": score_training_samples of the base
        rows, stratified by class) or the held-out fold's ("holdout", a fold model's validation)."""
        got = self._samples.get((which, i, k))
        if got is None:
            r = self.chunks[i]
            if which == "train":
                pool, seed, strat = r.base, sub_seed(sub_seed(self.seed, 2), i), self.info.classification
            elif which == "holdout":
                pool, seed = r.holdout, sub_seed(sub_seed(self.seed, 3), i)
                strat = self.info.classification and self.params["score_validation_sampling"] == "Stratified"
            else:
                raise ValueError(f"score: unknown split {which!r} (train | valid | holdout)")
            take = self._share(k, pool.size, total)
            y = self.y[pool] if strat and not self.info.autoencoder else None
            got = pool[sample_rows(pool.size, take, seed, y)] if take else pool[:0]
            self._samples[(which, i, k)] = got
        return got

    def _valid_sample(self, node: Node, i: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A validation chunk's rows in the validation sample, transformed, with their offsets
        (offset_column; zeros without one), kept for the job."""
        got = self._samples.get(("valid", i, k))
        if got is None:
            vh = self.valid_header
            if vh is None:
                raise ValueError("score: the job has no validation frame")
            metas = framedata.metas(vh)
            m = int(vh.chunk_rows[i])
            if m == 0:
                got = (np.zeros((0, self.info.n_inputs), np.float32), np.zeros(0, np.float32), np.zeros(0))
            else:
                v = node.dkv.get_sync(chunk_key(vh.frame_id, i))
                wanted = list(self.info.model_columns) + ([] if self.info.autoencoder else [self.info.response])
                names = [c for c in wanted if c in vh.names]
                cols = framedata.ChunkColumns(vh, framedata.stored_chunk(v), names)
                X = self.info.transform(metas, cols)
                if self.info.autoencoder:
                    y = np.zeros(m, np.float32)
                    ok = np.arange(m)
                else:
                    y = self.info.transform_response(metas[vh.col_index(self.info.response)],
                                                     cols[self.info.response])
                    ok = np.nonzero(~np.isnan(y))[0]
                if self.info.skip_missing and ok.size:
                    ok = ok[~np.isnan(X[ok, 0])]
                strat = self.info.classification and not self.info.autoencoder and \
                    self.params["score_validation_sampling"] == "Stratified"
                take = self._share(k, ok.size, vh.nrows)
                sel = ok[sample_rows(ok.size, take, sub_seed(sub_seed(self.seed, 3), i),
                                     y[ok] if strat else None)] if take else ok[:0]
                o = self.info.row_offsets(cols, "validation frame")
                got = (X[sel], y[sel], np.zeros(sel.size) if o is None else o[sel])
            self._samples[("valid", i, k)] = got
        return got


class TrainingStates:
    """The training jobs' states on this node, by job key. A state goes when its job releases
    it (the job ended or failed: the driver's finally) or when its driver has left the cloud
    (a membership listener) and not come back within ``grace_s`` (a heartbeat timeout: a
    driver that was only slow to answer on a loaded machine keeps its job): nothing outlives
    the job that made it."""

    def __init__(self, grace_s: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, TrainingState] = {}
        self._orphaned: dict[str, float] = {}  # key -> when its driver left
        self.grace_s = grace_s

    def put(self, state: TrainingState) -> None:
        with self._lock:
            self._states[state.key] = state
            self._orphaned.pop(state.key, None)

    def get(self, key: str, node_id: str) -> TrainingState:
        with self._lock:
            st = self._states.get(key)
        if st is None:
            # As if the node had left: it cannot take part in this job (it was not set up for it,
            # or released it when it lost sight of the driver), so its chunks go to replicas.
            raise NodeUnavailable(f"no training state for job {key!r} on node {node_id} (not set up, or released)")
        return st

    def release(self, key: str) -> bool:
        with self._lock:
            self._orphaned.pop(key, None)
            return self._states.pop(key, None) is not None

    def keys(self) -> list[str]:
        with self._lock:
            return sorted(self._states)

    def on_membership_change(self, old: tuple[str, ...], new: tuple[str, ...]) -> None:
        """Release, after the grace period, the states of jobs whose driver is no longer a member
        (runs on the node's event loop)."""
        import asyncio

        with self._lock:
            for k, st in self._states.items():
                if st.driver in new:
                    self._orphaned.pop(k, None)
                elif k not in self._orphaned:
                    self._orphaned[k] = time.monotonic()
                    try:
                        asyncio.get_running_loop().call_later(self.grace_s, self._expire, k)
                    except RuntimeError:  # no loop (called outside the node): release now
                        self._orphaned[k] = -1.0
        for k in [k for k, t in list(self._orphaned.items()) if t < 0]:
            self._expire(k)

    def _expire(self, key: str) -> None:
        with self._lock:
            if key not in self._orphaned:  # the driver came back, or the job released it
                return
            del self._orphaned[key]
            self._states.pop(key, None)
        log.warning("released training state of job %s: its driver left the cloud", key)
