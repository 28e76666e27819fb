"""LocalBackend: the training backend of one node with its rows in memory (numpy arrays).

The trainer (trainer.py) drives it; a cloud backend does the same across nodes. Row order:

* with ``shuffle_training_data`` or ``train_samples_per_iteration == -1`` (the booklet: shuffling
  "is automatically enabled if the number of training samples per iteration is set to -1")
  rows are visited in a fresh permutation every pass over the data;
* otherwise in their order; an iteration that ends mid-pass resumes there next time,
  so every row is trained equally often.

``balance_classes`` oversamples minority classes (and undersamples majority ones when
``max_after_balance_size`` < the size needed) into the row order, as H2O's stratified
sampling does; the model then corrects its probabilities with the class priors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from h2ocloud.dl.datainfo import DataInfo
from h2ocloud.dl.elastic import ElasticWorker
from h2ocloud.dl.params import resolve_nthreads, train_config_kwargs, validate_parameters
from h2ocloud.dl.scoring import score_builder
from h2ocloud.dl.seeds import iteration_seed, sub_seed
from h2ocloud.kernel import Net, TrainConfig, train_hogwild
from h2ocloud.kernel.train import activation_buffer


def balance_targets(counts: np.ndarray, max_after_balance_size: float,
                    factors: list[float] | None = None) -> dict[int, int]:
    """Rows each present class should have after balancing (H2O's sampleFrameStratified): every
    class equally represented -- or, with H2O-3's class_sampling_factors, each class's count
    times its factor; total at most max_after_balance_size * n."""
    counts = np.asarray(counts, dtype=np.int64)
    n_classes = counts.size
    n = int(counts.sum())
    present = np.nonzero(counts)[0]
    if factors is not None:
        if len(factors) != n_classes:
            raise ValueError(f"parameter 'class_sampling_factors': {len(factors)} factors for "
                             f"{n_classes} classes")
        want = {int(k): counts[k] * float(factors[k]) for k in present}
        scale = min(1.0, max_after_balance_size * n / max(sum(want.values()), 1e-12))
        return {k: max(1, int(round(v * scale))) for k, v in want.items()}
    target_total = min(int(max_after_balance_size * n), int(counts.max()) * len(present))
    return {int(k): max(1, target_total // len(present)) for k in present}


def balanced_rows(y: np.ndarray, n_classes: int, max_after_balance_size: float,
                  seed: int, factors: list[float] | None = None) -> np.ndarray:
    """Row indices with every class at its balance_targets count, drawn from the seed."""
    y = np.asarray(y)
    counts = np.bincount(y.astype(np.int64), minlength=n_classes)
    present = np.nonzero(counts)[0]
    targets = balance_targets(counts, max_after_balance_size, factors)
    rng = np.random.default_rng(seed)
    parts = []
    for k in present:
        idx = np.nonzero(y == k)[0]
        per_class = targets[int(k)]
        if per_class <= idx.size:
            parts.append(np.sort(rng.choice(idx, per_class, replace=False)))
        else:  # keep every row, then draw the extra copies
            parts.append(np.concatenate([idx, rng.choice(idx, per_class - idx.size)]))
    rows = np.concatenate(parts)
    return rows[rng.permutation(rows.size)]


def sample_rows(n: int, k: int, seed: int, y: np.ndarray | None = None) -> np.ndarray:
    """k of n rows (all when k == 0 or k >= n), sorted; stratified by y when given."""
    if k == 0 or k >= n:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    if y is None:
        return np.sort(rng.choice(n, k, replace=False)).astype(np.int64)
    parts = []
    classes, counts = np.unique(y, return_counts=True)
    for c, cnt in zip(classes, counts, strict=True):
        idx = np.nonzero(y == c)[0]
        take = max(1, int(round(k * cnt / n)))
        parts.append(rng.choice(idx, min(take, idx.size), replace=False))
    return np.sort(np.concatenate(parts)).astype(np.int64)


def weight_copies(weights: np.ndarray, seed: int) -> np.ndarray:
    """weights_column: how often each row is trained on per epoch, as if duplicated -- round(w)
    when w is whole, else floor(w) plus once more with probability frac(w), drawn once from the
    seed. Weight 0 or missing: never."""
    w = np.asarray(weights, dtype=np.float64)
    if np.any(w[~np.isnan(w)] < 0):
        raise ValueError("parameter 'weights_column': weights must be >= 0")
    w = np.where(np.isnan(w), 0.0, w)
    frac = w - np.floor(w)
    extra = np.random.default_rng(seed).random(w.shape[0]) < frac
    return (np.floor(w) + extra).astype(np.int64)


class RowOrder:
    """The order rows are trained in, across iterations: a fresh seeded permutation every pass
    with ``shuffle``, else the rows' own order; an iteration that ends mid-pass resumes there."""

    def __init__(self, rows: np.ndarray, shuffle: bool, seed: int) -> None:
        self.rows = rows
        self.shuffle = shuffle
        self.seed = seed
        self._order = rows
        self._pos = 0
        self._pass = 0
        self._new_pass()

    def _new_pass(self) -> None:
        if self.shuffle:
            rng = np.random.default_rng(sub_seed(self.seed, 1000 + self._pass))
            self._order = self.rows[rng.permutation(self.rows.size)]
        self._pos = 0
        self._pass += 1

    def next_rows(self, n_samples: int) -> np.ndarray:
        """The next n_samples rows of the (shuffled) row order, across passes."""
        out = []
        need = int(n_samples)
        while need > 0 and self._order.size:
            if self._pos >= self._order.size:
                self._new_pass()
            take = min(need, self._order.size - self._pos)
            out.append(self._order[self._pos:self._pos + take])
            self._pos += take
            need -= take
        return np.concatenate(out) if out else np.zeros(0, np.int64)


class LocalBackend:
    """Single-node backend over in-memory arrays (X float32 as from DataInfo.transform, y as
    from DataInfo.transform_response; rows with a missing response are not trained on)."""

    nodes = ["local"]

    def __init__(self, X: np.ndarray, y: np.ndarray | None,
                 X_valid: np.ndarray | None = None, y_valid: np.ndarray | None = None,
                 params: dict[str, Any] | None = None, info: DataInfo | None = None,
                 weights: np.ndarray | None = None, offsets: np.ndarray | None = None,
                 offsets_valid: np.ndarray | None = None) -> None:
        self.params = validate_parameters(params or {})
        self.info = info
        p = self.params
        self.X = np.ascontiguousarray(X, dtype=np.float32)
        n = self.X.shape[0]
        self.y = (np.zeros(n, np.float32) if y is None
                  else np.ascontiguousarray(y, dtype=np.float32))
        self.X_valid = None if X_valid is None else np.ascontiguousarray(X_valid, np.float32)
        self.y_valid = None if y_valid is None else np.ascontiguousarray(y_valid, np.float32)
        # offset_column: each row's offset (response units, for scoring) and as the kernel adds
        # it to the output while training (standardized where the response is).
        self.offsets = None if offsets is None else np.asarray(offsets, np.float64)
        self.offsets_valid = None if offsets_valid is None else np.asarray(offsets_valid, np.float64)
        self.kernel_offsets = (None if self.offsets is None or info is None
                               else info.kernel_offsets(self.offsets))
        self.cfg = TrainConfig(**train_config_kwargs(p))
        self.elastic = ElasticWorker.for_params(p)
        self.nthreads = resolve_nthreads(p)
        self.seed = int(p["seed"])
        self.shuffle = p["shuffle_training_data"] or p["train_samples_per_iteration"] == -1

        autoencoder = p["autoencoder"] or (info is not None and info.autoencoder)
        labeled = np.arange(n) if autoencoder else np.nonzero(~np.isnan(self.y))[0]
        if info is not None and info.skip_missing and n:  # missing_values_handling=Skip
            labeled = labeled[~np.isnan(self.X[labeled, 0])]
        copies = None
        self.row_weights: np.ndarray | None = None  # weights_column: the metrics weigh rows too
        if weights is not None:
            # weights_column: a row of weight w is trained on as w duplicated rows would be --
            # round(w) times an epoch when w is whole, else floor(w) times plus once more with
            # probability frac(w) (drawn once, from the seed). Weight 0 or missing: not trained on.
            if len(weights) != n:
                raise ValueError(f"weights_column: {len(weights)} weights for {n} rows")
            copies = weight_copies(weights, sub_seed(self.seed, 4))
            self.row_weights = np.where(np.isnan(np.asarray(weights, np.float64)), 0.0,
                                        np.asarray(weights, np.float64))
            labeled = labeled[copies[labeled] > 0]
        self.labeled = labeled.astype(np.int64)
        classification = info.classification if info is not None else False
        self.prior_class_dist: np.ndarray | None = None
        self.model_class_dist: np.ndarray | None = None
        if p["balance_classes"] and classification:
            k = info.n_classes
            yl = self.y[self.labeled].astype(np.int64)
            bal = balanced_rows(yl, k, p["max_after_balance_size"], sub_seed(self.seed, 1),
                                p["class_sampling_factors"])
            self.train_rows = self.labeled[bal]
            self.prior_class_dist = np.bincount(yl, minlength=k) / max(yl.size, 1)
            self.model_class_dist = (np.bincount(yl[bal], minlength=k) / max(bal.size, 1))
        else:
            self.train_rows = self.labeled
        if copies is not None:
            self.train_rows = np.repeat(self.train_rows, copies[self.train_rows])
        self.order = RowOrder(self.train_rows, self.shuffle, self.seed)

        strat = self.y[self.labeled] if classification else None
        self.score_rows = self.labeled[sample_rows(self.labeled.size, p["score_training_samples"],
                                               sub_seed(self.seed, 2), strat)]
        self.valid_rows: np.ndarray | None = None
        if self.X_valid is not None:
            nv = self.X_valid.shape[0]
            ok = (np.arange(nv) if autoencoder or self.y_valid is None
                  else np.nonzero(~np.isnan(self.y_valid))[0])
            if info is not None and info.skip_missing and nv:
                ok = ok[~np.isnan(self.X_valid[ok, 0])]
            strat_v = (self.y_valid[ok] if classification and
                       p["score_validation_sampling"] == "Stratified" else None)
            self.valid_rows = ok[sample_rows(ok.size, p["score_validation_samples"],
                                         sub_seed(self.seed, 3), strat_v)]

    def next_rows(self, n_samples: int) -> np.ndarray:
        """The next n_samples rows of the (shuffled) row order, across passes."""
        return self.order.next_rows(n_samples)

    # ------------------------------------------------------------------ protocol
    def n_train_rows(self) -> int:
        return int(self.train_rows.size)

    def set_dist_param(self, value: float) -> None:
        """The regression loss's parameter from now on (huber: the delta the last scoring set)."""
        self.cfg.dist_param = float(value)

    def train_iteration(self, net: Net, n_samples: int, iteration: int
                        ) -> tuple[Net, int, list[str]]:
        rows = self.next_rows(n_samples)
        if self.cfg.sparsity_beta > 0 and getattr(self, "_avg_act", None) is None:
            self._avg_act = activation_buffer(net.spec)  # kept across iterations, as H2O's _avg_a
        consensus = net
        if self.elastic is not None:  # elastic_averaging: train this node's own model
            net, anchor = self.elastic.local_model(consensus)
        n = train_hogwild(net, self.X, self.y, rows, self.cfg, self.nthreads,
                          iteration_seed(self.seed, iteration), offsets=self.kernel_offsets,
                          avg_act=self._avg_act if self.cfg.sparsity_beta > 0 else None,
                          **({} if self.elastic is None else self.elastic.kernel_args(anchor)))
        if self.elastic is not None:
            # One node: its model is the nodes' average; the consensus is its time average.
            self.elastic.keep(net)
            net = self.elastic.averager.update(net)
        return net, int(n), list(self.nodes)

    def score_builder(self, net: Net, which: str):
        """The mergeable metric builder of the training sample or of the validation rows;
        None when there is no validation set."""
        if self.info is None:
            raise ValueError("LocalBackend needs the DataInfo to score")
        k = self.params["max_hit_ratio_k"]
        prior, model_dist = self.prior_class_dist, self.model_class_dist
        if which == "train":
            r = self.score_rows
            w = None if self.row_weights is None else self.row_weights[r]
            o = None if self.offsets is None else self.offsets[r]
            return score_builder(net, self.info, self.X[r], self.y[r], k, self.nthreads,
                                 prior, model_dist, weights=w, offsets=o)
        if which == "valid":
            if self.valid_rows is None:
                return None
            r = self.valid_rows
            yv = None if self.y_valid is None else self.y_valid[r]
            ov = None if self.offsets_valid is None else self.offsets_valid[r]
            return score_builder(net, self.info, self.X_valid[r], yv, k, self.nthreads,
                                 prior, model_dist, offsets=ov)
        raise ValueError(f"score: unknown split {which!r} (train | valid)")

    def score(self, net: Net, which: str) -> dict:
        b = self.score_builder(net, which)
        return {} if b is None else b.result()
