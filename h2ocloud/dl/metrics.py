"""Mergeable model metrics, in the manner of H2O-3's MetricBuilders.

A builder accumulates sufficient statistics chunk by chunk (``add``), builders of different
chunks or nodes combine with ``merge``, travel as ``to_arrays()`` (numpy arrays and JSON
scalars, no pickle) and give the metrics with ``result()`` (a JSON-able dict).

Definitions follow H2O-3:

* regression: MSE, RMSE, MAE, R^2 = 1 - MSE / var(actual) (population variance), mean residual
  deviance (gaussian: = MSE);
* classification MSE (binomial and multinomial alike) is H2O-3's: the mean over rows of
  (1 - p_actual)^2 (``MetricBuilderMultinomial.perRow``: ``err = 1 - ds[iact+1]``). The sum over
  classes of (t_k - p_k)^2, the Brier score, is reported as well as ``brier``;
* logloss with probabilities clipped at 1e-15;
* binomial AUC and the F1-optimal threshold come from a fine histogram of p(class 1) with
  bins uniform in logit space (fine near 0 and 1, where a good model puts its scores), so
  builders merge exactly; the label, error and confusion matrix use "p1 >= threshold";
* hit ratios: fraction of rows whose class is among the k most probable, k = 1..K.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_EPS = 1e-15
N_AUC_BINS = 8192
_LOGIT_MAX = 36.0  # float64 probabilities saturate beyond this


def _auc_edges(n_bins: int = N_AUC_BINS) -> np.ndarray:
    """Lower bin edges in probability space, increasing, first edge 0."""
    z = np.linspace(-_LOGIT_MAX, _LOGIT_MAX, n_bins - 1)
    return np.concatenate([[0.0], 1.0 / (1.0 + np.exp(-z))])


AUC_EDGES = _auc_edges()
# Multinomial AUC (auc_type): a coarser histogram per (actual class, class scored), as H2O-3
# keeps it for at most 50 classes.
N_MAUC_BINS = 512
MAUC_EDGES = _auc_edges(N_MAUC_BINS)
MAUC_MAX_CLASSES = 50
AUC_TYPES = ("AUTO", "NONE", "MACRO_OVR", "WEIGHTED_OVR", "MACRO_OVO", "WEIGHTED_OVO")


def binned_auc(pos: np.ndarray, neg: np.ndarray) -> float | None:
    """AUC from score histograms of positives and negatives over the same increasing bins:
    pairs where the positive's bin is above the negative's count 1, the same bin 1/2."""
    P, N = pos.sum(), neg.sum()
    if P == 0 or N == 0:
        return None
    neg_below = np.cumsum(neg) - neg
    return float((pos * (neg_below + 0.5 * neg)).sum() / (P * N))


def _f(v: float) -> float | None:
    """A JSON-safe float (None for NaN / inf)."""
    v = float(v)
    return v if math.isfinite(v) else None


def _weights(weights: np.ndarray | None, n: int) -> np.ndarray:
    """Row weights as float64 (ones without a weights column; missing -> 0)."""
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.size != n:
        raise ValueError(f"weights: {w.size} weights for {n} rows")
    return np.where(np.isnan(w), 0.0, w)


def _counts(a: np.ndarray) -> list:
    """A (weighted) count table as JSON: ints where every entry is whole (no weights)."""
    return a.astype(np.int64).tolist() if np.all(a == np.round(a)) else a.tolist()


def deviance(distribution: str, y: np.ndarray, pred: np.ndarray, param: float = 0.0) -> np.ndarray:
    """Per-row deviance of H2O-3's distribution (hex.Distribution.deviance with w = 1), the
    prediction in the response's units; param: tweedie_power, quantile_alpha or huber delta."""
    e = y - pred
    if distribution == "poisson":
        f = np.log(np.maximum(pred, 1e-300))
        return -2 * (y * f - pred)
    if distribution == "gamma":
        f = np.log(np.maximum(pred, 1e-300))
        return 2 * (y / np.maximum(pred, 1e-300) + f)
    if distribution == "tweedie":
        p, f = param, np.log(np.maximum(pred, 1e-300))
        return 2 * (np.power(np.maximum(y, 0), 2 - p) / ((1 - p) * (2 - p))
                    - y * np.exp(f * (1 - p)) / (1 - p) + np.exp(f * (2 - p)) / (2 - p))
    if distribution == "laplace":
        return np.abs(e)
    if distribution == "quantile":
        return np.where(e > 0, param * e, (param - 1) * e)
    if distribution == "huber":
        a = np.abs(e)
        return np.where(a <= param, e * e, 2 * (a - param) * param)
    return e * e


class RegressionMetricsBuilder:
    """MSE / RMSE / MAE / R^2 / mean residual deviance of a numeric prediction (the deviance
    of the model's distribution, as H2O-3 reports it: the MSE for gaussian)."""

    kind = "regression"

    def __init__(self, distribution: str = "gaussian", dist_param: float = 0.0,
                 huber_alpha: float = 0.9) -> None:
        self.distribution = distribution
        self.dist_param = float(dist_param)
        self.huber_alpha = float(huber_alpha)
        self.n = 0
        self.wsum = 0.0  # sum of the rows' weights (weights_column; n without one)
        self.sse = 0.0
        self.sdev = 0.0
        self.sae = 0.0
        # huber: the scored rows' absolute errors, whose huber_alpha quantile is H2O's next delta
        self.abs_errors: list[np.ndarray] = []
        self.mean_y = 0.0
        self.m2_y = 0.0  # sum of squared deviations of the actuals (Chan's merge)

    def add(self, predictions: np.ndarray, actual: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Rows' predictions and actuals; ``weights`` (weights_column) weigh every metric, as
        H2O-3's do; rows of weight 0 or missing count for nothing."""
        p = np.asarray(predictions, dtype=np.float64).reshape(-1)
        y = np.asarray(actual, dtype=np.float64).reshape(-1)
        w = _weights(weights, y.size)
        ok = ~(np.isnan(y) | np.isnan(p)) & (w > 0)
        p, y, w = p[ok], y[ok], w[ok]
        if y.size == 0:
            return
        e = y - p
        self.sse += float(w @ (e * e))
        self.sae += float(w @ np.abs(e))
        self.sdev += float(w @ deviance(self.distribution, y, p, self.dist_param))
        if self.distribution == "huber":
            self.abs_errors.append(np.abs(e))
        other = RegressionMetricsBuilder()
        other.n, other.wsum = y.size, float(w.sum())
        other.mean_y = float(w @ y / other.wsum)
        other.m2_y = float(w @ (y - other.mean_y) ** 2)
        self._merge_moments(other)

    def _merge_moments(self, o: RegressionMetricsBuilder) -> None:
        ws = self.wsum + o.wsum
        if ws == 0:
            return
        d = o.mean_y - self.mean_y
        self.m2_y += o.m2_y + d * d * self.wsum * o.wsum / ws
        self.mean_y += d * o.wsum / ws
        self.n += o.n
        self.wsum = ws

    def merge(self, other: RegressionMetricsBuilder) -> RegressionMetricsBuilder:
        self.sse += other.sse
        self.sae += other.sae
        self.sdev += other.sdev
        self.abs_errors.extend(other.abs_errors)
        self._merge_moments(other)
        return self

    def to_arrays(self) -> dict[str, Any]:
        return {"kind": self.kind, "n": self.n, "sse": self.sse, "sae": self.sae,
                "mean_y": self.mean_y, "m2_y": self.m2_y, "sdev": self.sdev, "wsum": self.wsum,
                "distribution": self.distribution, "dist_param": self.dist_param,
                "huber_alpha": self.huber_alpha,
                "abs_errors": [a.tolist() for a in self.abs_errors]}

    @classmethod
    def from_arrays(cls, d: dict[str, Any]) -> RegressionMetricsBuilder:
        b = cls(str(d.get("distribution", "gaussian")), float(d.get("dist_param", 0.0)),
                float(d.get("huber_alpha", 0.9)))
        b.n, b.sse, b.sae = int(d["n"]), float(d["sse"]), float(d["sae"])
        b.sdev = float(d.get("sdev", d["sse"]))
        b.wsum = float(d.get("wsum", d["n"]))
        b.abs_errors = [np.asarray(a, np.float64) for a in d.get("abs_errors", [])]
        b.mean_y, b.m2_y = float(d["mean_y"]), float(d["m2_y"])
        return b

    def result(self) -> dict[str, Any]:
        if self.n == 0:
            return {"kind": self.kind, "nobs": 0}
        if self.wsum <= 0:
            return {"kind": self.kind, "nobs": self.n}
        mse = self.sse / self.wsum
        var = self.m2_y / self.wsum
        return {
            "kind": self.kind,
            "nobs": self.n,
            "mse": mse,
            "rmse": math.sqrt(mse),
            "mae": self.sae / self.wsum,
            "mean_residual_deviance": self.sdev / self.wsum,
            **self._huber_deltas(),
            "r2": _f(1.0 - mse / var) if var > 0 else None,
        }


    def _huber_deltas(self) -> dict[str, Any]:
        """huber: H2O's next delta, the huber_alpha quantile of the scored rows' |error|."""
        if not self.abs_errors:
            return {}
        a = np.concatenate(self.abs_errors)
        return {"huber_delta": float(np.quantile(a, self.huber_alpha))} if a.size else {}


class _ClassifierBuilder:
    """What binomial and multinomial share: MSE, Brier, logloss, confusion matrix."""

    kind = "classifier"

    def __init__(self, domain: list[str]) -> None:
        self.domain = list(domain)
        k = len(self.domain)
        self.n = 0
        self.sse = 0.0  # sum of (1 - p_actual)^2, H2O-3's MSE numerator
        self.brier = 0.0  # sum over rows and classes of (t_k - p_k)^2
        self.logloss = 0.0
        self.wsum = 0.0  # sum of the rows' weights (n without a weights column)
        self.cm = np.zeros((k, k), dtype=np.float64)  # actual x predicted (argmax), weighted

    def _clean(self, predictions: np.ndarray, actual: np.ndarray, weights: np.ndarray | None = None):
        p = np.asarray(predictions, dtype=np.float64)
        k = len(self.domain)
        if p.ndim == 1 and k == 2:
            p = np.stack([1.0 - p, p], axis=1)  # p(class 1) alone
        if p.ndim != 2 or p.shape[1] != k:
            raise ValueError(f"predictions must be (n, {k}) class probabilities")
        y = np.asarray(actual, dtype=np.float64).reshape(-1)
        w = _weights(weights, y.size)
        ok = ~np.isnan(y) & ~np.isnan(p).any(axis=1) & (w > 0)
        y = y[ok].astype(np.int64)
        p, w = p[ok], w[ok]
        if y.size and (y.min() < 0 or y.max() >= k):
            raise ValueError("actual class index out of range")
        return p, y, w

    def _add_common(self, p: np.ndarray, y: np.ndarray, w: np.ndarray) -> None:
        rows = np.arange(y.size)
        pa = p[rows, y]
        self.n += y.size
        self.wsum += float(w.sum())
        self.sse += float(w @ ((1.0 - pa) ** 2))
        t = np.zeros_like(p)
        t[rows, y] = 1.0
        self.brier += float(w @ ((t - p) ** 2).sum(axis=1))
        self.logloss -= float(w @ np.log(np.clip(pa, _EPS, 1.0)))
        np.add.at(self.cm, (y, p.argmax(axis=1)), w)

    def _merge_common(self, o: _ClassifierBuilder) -> None:
        if o.domain != self.domain:
            raise ValueError("cannot merge metrics of different class domains")
        self.n += o.n
        self.wsum += o.wsum
        self.sse += o.sse
        self.brier += o.brier
        self.logloss += o.logloss
        self.cm += o.cm

    def _arrays_common(self) -> dict[str, Any]:
        return {"kind": self.kind, "domain": self.domain, "n": self.n, "sse": self.sse,
                "brier": self.brier, "logloss": self.logloss, "cm": self.cm.copy(), "wsum": self.wsum}

    def _load_common(self, d: dict[str, Any]) -> None:
        self.n, self.sse = int(d["n"]), float(d["sse"])
        self.brier, self.logloss = float(d["brier"]), float(d["logloss"])
        self.cm = np.asarray(d["cm"], dtype=np.float64).copy()
        self.wsum = float(d.get("wsum", self.n))

    def _result_common(self, cm: np.ndarray) -> dict[str, Any]:
        mse = self.sse / self.wsum
        total = cm.sum()
        per_class = [1.0 - cm[i, i] / cm[i].sum() for i in range(len(cm)) if cm[i].sum() > 0]
        return {
            "kind": self.kind,
            "nobs": self.n,
            "mse": mse,
            "rmse": math.sqrt(mse),
            "brier": self.brier / self.wsum,
            "logloss": self.logloss / self.wsum,
            "classification_error": float(1.0 - np.trace(cm) / total) if total else None,
            "mean_per_class_error": float(np.mean(per_class)) if per_class else None,
            "confusion_matrix": {"domain": self.domain, "matrix": _counts(cm)},
        }


class BinomialMetricsBuilder(_ClassifierBuilder):
    """Two classes: adds AUC and the F1-optimal threshold (from a score histogram)."""

    kind = "binomial"

    def __init__(self, domain: list[str], gainslift_bins: int = -1) -> None:
        if len(domain) != 2:
            raise ValueError("a binomial builder needs exactly two classes")
        super().__init__(domain)
        self.pos = np.zeros(N_AUC_BINS, dtype=np.float64)  # actual class 1, by p1 bin (weighted)
        self.neg = np.zeros(N_AUC_BINS, dtype=np.float64)
        self.psum = np.zeros(N_AUC_BINS, dtype=np.float64)  # sum of p1 per bin (gains/lift)
        self.gainslift_bins = int(gainslift_bins)

    def add(self, predictions: np.ndarray, actual: np.ndarray, weights: np.ndarray | None = None) -> None:
        p, y, w = self._clean(predictions, actual, weights)
        if y.size == 0:
            return
        self._add_common(p, y, w)
        b = np.searchsorted(AUC_EDGES, p[:, 1], side="right") - 1
        b = np.clip(b, 0, N_AUC_BINS - 1)
        self.pos += np.bincount(b[y == 1], weights=w[y == 1], minlength=N_AUC_BINS)
        self.neg += np.bincount(b[y == 0], weights=w[y == 0], minlength=N_AUC_BINS)
        self.psum += np.bincount(b, weights=w * p[:, 1], minlength=N_AUC_BINS)

    def merge(self, other: BinomialMetricsBuilder) -> BinomialMetricsBuilder:
        self._merge_common(other)
        self.pos += other.pos
        self.neg += other.neg
        self.psum += other.psum
        return self

    def to_arrays(self) -> dict[str, Any]:
        d = self._arrays_common()
        d["pos"], d["neg"], d["psum"] = self.pos.copy(), self.neg.copy(), self.psum.copy()
        d["gainslift_bins"] = self.gainslift_bins
        return d

    @classmethod
    def from_arrays(cls, d: dict[str, Any]) -> BinomialMetricsBuilder:
        b = cls(list(d["domain"]), int(d.get("gainslift_bins", -1)))
        b._load_common(d)
        b.pos = np.asarray(d["pos"], dtype=np.float64).copy()
        b.neg = np.asarray(d["neg"], dtype=np.float64).copy()
        if d.get("psum") is not None:
            b.psum = np.asarray(d["psum"], dtype=np.float64).copy()
        return b

    def gains_lift(self) -> list[dict[str, Any]] | None:
        """H2O-3's gains/lift table: rows by decreasing p1 in groups ending at cumulative data
        fractions (H2O-3's 16 by default; gainslift_bins equal groups; 0: none). A group ends at
        a score bin's edge, so its fraction is the nearest one the histogram allows."""
        if self.gainslift_bins == 0 or self.n == 0:
            return None
        if self.gainslift_bins < 0:
            fractions = [0.01, 0.02, 0.03, 0.04, 0.05, 0.10, 0.15, 0.20, 0.30, 0.40, 0.50, 0.60,
                         0.70, 0.80, 0.90, 1.00]
        else:
            fractions = [(g + 1) / self.gainslift_bins for g in range(self.gainslift_bins)]
        pos, neg, psum = self.pos[::-1], self.neg[::-1], self.psum[::-1]  # highest scores first
        edges = AUC_EDGES[::-1]
        n_bin = pos + neg
        cum_n, cum_p, cum_s = np.cumsum(n_bin), np.cumsum(pos), np.cumsum(psum)
        N, P = float(cum_n[-1]), float(cum_p[-1])
        Q = N - P
        rate = P / N if N else 0.0
        rows, prev = [], (0.0, 0.0, 0.0)  # cumulative rows, positives, scores at the last cut
        for f in fractions:
            i = min(int(np.searchsorted(cum_n, f * N - 1e-9)), len(cum_n) - 1)
            cn, cp, cs = float(cum_n[i]), float(cum_p[i]), float(cum_s[i])
            if cn <= prev[0] and f < 1.0:
                continue  # the histogram cannot cut here: the group would be empty
            gn, gp, gs = cn - prev[0], cp - prev[1], cs - prev[2]
            resp = gp / gn if gn else 0.0
            cresp = cp / cn if cn else 0.0
            lift = resp / rate if rate else 0.0
            clift = cresp / rate if rate else 0.0
            rows.append({"group": len(rows) + 1, "cumulative_data_fraction": cn / N,
                         "lower_threshold": float(edges[i]), "lift": lift, "cumulative_lift": clift,
                         "response_rate": resp, "score": gs / gn if gn else 0.0,
                         "cumulative_response_rate": cresp, "cumulative_score": cs / cn if cn else 0.0,
                         "capture_rate": gp / P if P else 0.0, "cumulative_capture_rate": cp / P if P else 0.0,
                         "gain": 100 * (lift - 1), "cumulative_gain": 100 * (clift - 1),
                         "kolmogorov_smirnov": (cp / P if P else 0.0) - ((cn - cp) / Q if Q else 0.0)})
            prev = (cn, cp, cs)
        return rows

    def auc(self) -> float | None:
        return binned_auc(self.pos, self.neg)

    def threshold_table(self) -> dict[str, np.ndarray]:
        """TP/FP/TN/FN when predicting class 1 for p1 >= each bin's lower edge."""
        tp = np.cumsum(self.pos[::-1])[::-1]
        fp = np.cumsum(self.neg[::-1])[::-1]
        return {"threshold": AUC_EDGES, "tp": tp, "fp": fp,
                "fn": self.pos.sum() - tp, "tn": self.neg.sum() - fp}

    def best_threshold(self) -> tuple[float, float]:
        """(threshold, F1) maximizing F1; ties -> the highest threshold."""
        t = self.threshold_table()
        denom = 2 * t["tp"] + t["fp"] + t["fn"]
        f1 = np.where(denom > 0, 2 * t["tp"] / np.maximum(denom, 1e-300), 0.0)
        i = len(f1) - 1 - int(np.argmax(f1[::-1]))
        return float(AUC_EDGES[i]), float(f1[i])

    def result(self) -> dict[str, Any]:
        if self.n == 0:
            return {"kind": self.kind, "nobs": 0}
        thr, f1 = self.best_threshold()
        t = self.threshold_table()
        i = int(np.searchsorted(AUC_EDGES, thr))
        cm = np.array([[t["tn"][i], t["fp"][i]], [t["fn"][i], t["tp"][i]]], dtype=np.float64)
        out = self._result_common(cm)
        out.update({"auc": self.auc(), "threshold": thr, "max_f1": f1,
                    "argmax_confusion_matrix": _counts(self.cm)})
        gl = self.gains_lift()
        if gl is not None:
            out["gains_lift_table"] = gl
        return out


class MultinomialMetricsBuilder(_ClassifierBuilder):
    """K classes: adds top-k hit ratios, and with H2O-3's auc_type (other than AUTO / NONE) the
    one-vs-rest and one-vs-one AUCs from a histogram of every class's probability per actual
    class."""

    kind = "multinomial"

    def __init__(self, domain: list[str], max_hit_ratio_k: int = 10, auc_type: str = "AUTO") -> None:
        super().__init__(domain)
        self.k = min(int(max_hit_ratio_k), len(self.domain))
        self.hits = np.zeros(self.k, dtype=np.float64)  # (weighted) rows whose class has rank j
        self.auc_type = auc_type
        K = len(self.domain)
        on = auc_type not in ("AUTO", "NONE") and K <= MAUC_MAX_CLASSES
        # hist[a, k, b]: rows of actual class a whose p_k falls in bin b
        self.hist = np.zeros((K, K, N_MAUC_BINS), dtype=np.float64) if on else None

    def add(self, predictions: np.ndarray, actual: np.ndarray, weights: np.ndarray | None = None) -> None:
        p, y, w = self._clean(predictions, actual, weights)
        if y.size == 0:
            return
        self._add_common(p, y, w)
        if self.k:
            pa = p[np.arange(y.size), y]
            # rank = classes strictly more probable, plus ties ranked before by index (as a
            # stable descending sort would do)
            idx = np.arange(p.shape[1])
            rank = (p > pa[:, None]).sum(axis=1) + (
                (p == pa[:, None]) & (idx[None, :] < y[:, None])).sum(axis=1)
            keep = rank < self.k
            self.hits += np.bincount(rank[keep], weights=w[keep], minlength=self.k)
        if self.hist is not None:
            K = len(self.domain)
            b = np.clip(np.searchsorted(MAUC_EDGES, p, side="right") - 1, 0, N_MAUC_BINS - 1)
            idx = (y[:, None] * K + np.arange(K)[None, :]) * N_MAUC_BINS + b
            ww = np.repeat(w, K)
            self.hist += np.bincount(idx.ravel(), weights=ww, minlength=K * K * N_MAUC_BINS).reshape(self.hist.shape)

    def merge(self, other: MultinomialMetricsBuilder) -> MultinomialMetricsBuilder:
        self._merge_common(other)
        self.hits += other.hits
        if self.hist is not None and other.hist is not None:
            self.hist += other.hist
        return self

    def to_arrays(self) -> dict[str, Any]:
        d = self._arrays_common()
        d["hits"] = self.hits.copy()
        d["auc_type"] = self.auc_type
        if self.hist is not None:
            d["hist"] = self.hist.copy()
        return d

    @classmethod
    def from_arrays(cls, d: dict[str, Any]) -> MultinomialMetricsBuilder:
        hits = np.asarray(d["hits"], dtype=np.float64)
        b = cls(list(d["domain"]), len(hits), str(d.get("auc_type", "AUTO")))
        b._load_common(d)
        b.hits = hits.copy()
        if b.hist is not None and d.get("hist") is not None:
            b.hist = np.asarray(d["hist"], dtype=np.float64).reshape(b.hist.shape).copy()
        return b

    def auc_table(self) -> list[dict[str, Any]]:
        """H2O-3's multinomial AUC table: each class vs the rest, each pair of classes (the
        mean of both directions), and their macro and weighted averages."""
        h, dom = self.hist, self.domain
        K = len(dom)
        n_k = h[:, 0, :].sum(axis=1).astype(np.float64)  # rows per actual class
        rows: list[dict[str, Any]] = []
        ovr = []
        for k in range(K):
            a = binned_auc(h[k, k], h[:, k].sum(axis=0) - h[k, k])
            rows.append({"type": "Class AUC", "first_class": dom[k], "second_class": None, "auc": a})
            ovr.append((a, n_k[k]))
        ovo = []
        for i in range(K):
            for j in range(i + 1, K):
                a1, a2 = binned_auc(h[i, i], h[j, i]), binned_auc(h[j, j], h[i, j])
                a = None if a1 is None or a2 is None else (a1 + a2) / 2
                rows.append({"type": "Pair AUC", "first_class": dom[i], "second_class": dom[j], "auc": a})
                ovo.append((a, n_k[i] + n_k[j]))
        for name, pairs in (("OVR", ovr), ("OVO", ovo)):
            ok = [(a, w) for a, w in pairs if a is not None]
            macro = float(np.mean([a for a, _ in ok])) if ok else None
            wsum = sum(w for _, w in ok)
            weighted = float(sum(a * w for a, w in ok) / wsum) if ok and wsum > 0 else None
            rows.append({"type": f"Macro {name}", "first_class": None, "second_class": None, "auc": macro})
            rows.append({"type": f"Weighted {name}", "first_class": None, "second_class": None, "auc": weighted})
        return rows

    def result(self) -> dict[str, Any]:
        if self.n == 0:
            return {"kind": self.kind, "nobs": 0}
        out = self._result_common(self.cm)
        out["hit_ratios"] = (np.cumsum(self.hits) / self.wsum).tolist()
        if self.hist is not None:
            table = self.auc_table()
            want = {"MACRO_OVR": "Macro OVR", "WEIGHTED_OVR": "Weighted OVR", "MACRO_OVO": "Macro OVO",
                    "WEIGHTED_OVO": "Weighted OVO"}[self.auc_type]
            out["auc"] = next(r["auc"] for r in table if r["type"] == want)
            out["auc_type"] = self.auc_type
            out["multinomial_auc_table"] = table
        return out


class AutoencoderMetricsBuilder:
    """Reconstruction MSE: mean over rows of the row's mean squared error."""

    kind = "autoencoder"

    def __init__(self) -> None:
        self.n = 0
        self.wsum = 0.0
        self.sum_row_mse = 0.0

    def add(self, predictions: np.ndarray, actual: np.ndarray, weights: np.ndarray | None = None) -> None:
        r = np.asarray(predictions, dtype=np.float64)
        x = np.asarray(actual, dtype=np.float64)
        if r.shape != x.shape or r.ndim != 2:
            raise ValueError("reconstruction and input must both be (n, n_inputs)")
        w = _weights(weights, r.shape[0])
        ok = ~(np.isnan(x).any(axis=1) | np.isnan(r).any(axis=1)) & (w > 0)  # skipped rows (Skip)
        r, x, w = r[ok], x[ok], w[ok]
        self.n += r.shape[0]
        self.wsum += float(w.sum())
        self.sum_row_mse += float(w @ ((r - x) ** 2).mean(axis=1)) if r.shape[0] else 0.0

    def merge(self, other: AutoencoderMetricsBuilder) -> AutoencoderMetricsBuilder:
        self.n += other.n
        self.wsum += other.wsum
        self.sum_row_mse += other.sum_row_mse
        return self

    def to_arrays(self) -> dict[str, Any]:
        return {"kind": self.kind, "n": self.n, "sum_row_mse": self.sum_row_mse, "wsum": self.wsum}

    @classmethod
    def from_arrays(cls, d: dict[str, Any]) -> AutoencoderMetricsBuilder:
        b = cls()
        b.n, b.sum_row_mse = int(d["n"]), float(d["sum_row_mse"])
        b.wsum = float(d.get("wsum", b.n))
        return b

    def result(self) -> dict[str, Any]:
        if self.n == 0:
            return {"kind": self.kind, "nobs": 0}
        mse = self.sum_row_mse / self.wsum if self.wsum > 0 else math.nan
        return {"kind": self.kind, "nobs": self.n, "mse": mse, "rmse": math.sqrt(mse)}


MetricsBuilder = (RegressionMetricsBuilder | BinomialMetricsBuilder
                  | MultinomialMetricsBuilder | AutoencoderMetricsBuilder)


def new_builder(classification: bool, autoencoder: bool, domain: list[str] | None,
                max_hit_ratio_k: int = 10, distribution: str = "gaussian",
                dist_param: float = 0.0, huber_alpha: float = 0.9,
                auc_type: str = "AUTO", gainslift_bins: int = -1) -> MetricsBuilder:
    """The right empty builder for a model (a regression's deviance is its distribution's)."""
    if autoencoder:
        return AutoencoderMetricsBuilder()
    if not classification:
        return RegressionMetricsBuilder(distribution, dist_param, huber_alpha)
    if domain is not None and len(domain) == 2:
        return BinomialMetricsBuilder(domain, gainslift_bins)
    return MultinomialMetricsBuilder(list(domain or []), max_hit_ratio_k, auc_type)


def builder_from_arrays(d: dict[str, Any]) -> MetricsBuilder:
    """Rebuild any builder from its ``to_arrays()``."""
    kinds = {c.kind: c for c in (RegressionMetricsBuilder, BinomialMetricsBuilder,
                                 MultinomialMetricsBuilder, AutoencoderMetricsBuilder)}
    kind = d.get("kind")
    if kind not in kinds:
        raise ValueError(f"unknown metrics kind {kind!r}")
    return kinds[kind].from_arrays(d)


def cap_confusion_matrix(metrics: dict[str, Any], max_size: int) -> dict[str, Any]:
    """max_confusion_matrix_size (appendix A): a confusion matrix of more classes than that is
    neither reported nor shown; the metrics say why instead."""
    if not metrics:
        return metrics
    out = dict(metrics)
    for name in ("confusion_matrix", "argmax_confusion_matrix"):
        cm = out.get(name)
        n = len(cm["domain"]) if isinstance(cm, dict) else len(cm) if isinstance(cm, list) else 0
        if cm is not None and n > max_size:
            out.pop(name)
            out["confusion_matrix_omitted"] = (f"{n} classes exceed max_confusion_matrix_size={max_size}")
    return out
