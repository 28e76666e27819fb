"""Every metric against scikit-learn (or a direct computation) on the same predictions,
computed chunk by chunk and merged, after a to_arrays/from_arrays round trip."""

import json

import numpy as np
import pytest
from sklearn import metrics as skm

from h2ocloud.dl.metrics import (
    AutoencoderMetricsBuilder,
    BinomialMetricsBuilder,
    MultinomialMetricsBuilder,
    RegressionMetricsBuilder,
    builder_from_arrays,
)


def chunked(make, preds, actual, n_chunks=3):
    """Build in chunks, ship each through to_arrays/from_arrays, merge."""
    total = make()
    for p, a in zip(np.array_split(preds, n_chunks), np.array_split(actual, n_chunks)):
        b = make()
        b.add(p, a)
        total.merge(builder_from_arrays(b.to_arrays()))
    out = total.result()
    json.dumps(out)  # JSON-able
    return out


def test_regression():
    rng = np.random.default_rng(0)
    y = rng.normal(3, 2, 500)
    p = y + rng.normal(0, 0.7, 500)
    r = chunked(RegressionMetricsBuilder, p, y)
    assert r["mse"] == pytest.approx(skm.mean_squared_error(y, p), rel=1e-10)
    assert r["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, p)), rel=1e-10)
    assert r["mae"] == pytest.approx(skm.mean_absolute_error(y, p), rel=1e-10)
    assert r["r2"] == pytest.approx(skm.r2_score(y, p), rel=1e-9)
    assert r["mean_residual_deviance"] == pytest.approx(r["mse"])
    assert r["nobs"] == 500


def test_binomial():
    rng = np.random.default_rng(1)
    n = 2000
    y = rng.integers(0, 2, n)
    score = np.clip(0.35 * y + rng.normal(0.35, 0.25, n), 0.01, 0.99)
    probs = np.stack([1 - score, score], axis=1)
    r = chunked(lambda: BinomialMetricsBuilder(["no", "yes"]), probs, y.astype(float))
    assert r["auc"] == pytest.approx(skm.roc_auc_score(y, score), abs=1e-3)
    assert r["logloss"] == pytest.approx(skm.log_loss(y, probs), rel=1e-9)
    # H2O-3's MSE: mean (1 - p_actual)^2; for two classes half the Brier sum.
    pa = probs[np.arange(n), y]
    assert r["mse"] == pytest.approx(np.mean((1 - pa) ** 2), rel=1e-10)
    assert r["brier"] == pytest.approx(2 * skm.brier_score_loss(y, score), rel=1e-9)
    # F1 at the reported threshold is exactly sklearn's, and near sklearn's best F1.
    thr = r["threshold"]
    pred = (score >= thr).astype(int)
    assert r["max_f1"] == pytest.approx(skm.f1_score(y, pred), rel=1e-12)
    prec, rec, _ = skm.precision_recall_curve(y, score)
    best = np.max(2 * prec * rec / np.maximum(prec + rec, 1e-300))
    assert r["max_f1"] == pytest.approx(best, abs=2e-3)
    cm = skm.confusion_matrix(y, pred)
    assert r["confusion_matrix"]["matrix"] == cm.tolist()
    assert r["classification_error"] == pytest.approx(1 - skm.accuracy_score(y, pred))
    assert r["mean_per_class_error"] == pytest.approx(
        1 - skm.balanced_accuracy_score(y, pred), rel=1e-12)


def test_binomial_auc_saturated_scores():
    # A well-trained model puts its scores near 0 and 1: the logit bins keep them apart.
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 3000)
    z = rng.normal(8 * (y - 0.5) * 2, 4)
    score = 1 / (1 + np.exp(-z))
    b = BinomialMetricsBuilder(["0", "1"])
    b.add(score, y)
    assert b.result()["auc"] == pytest.approx(skm.roc_auc_score(y, score), abs=1e-3)


def test_multinomial():
    rng = np.random.default_rng(3)
    n, k = 1500, 5
    y = rng.integers(0, k, n)
    logits = rng.normal(0, 1, (n, k))
    logits[np.arange(n), y] += 1.2
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    dom = ["a", "b", "c", "d", "e"]
    r = chunked(lambda: MultinomialMetricsBuilder(dom, 4), p, y.astype(np.float32))
    pred = p.argmax(axis=1)
    assert r["logloss"] == pytest.approx(skm.log_loss(y, p), rel=1e-9)
    assert r["classification_error"] == pytest.approx(1 - skm.accuracy_score(y, pred))
    assert r["confusion_matrix"]["matrix"] == skm.confusion_matrix(y, pred).tolist()
    assert r["confusion_matrix"]["domain"] == dom
    assert r["mean_per_class_error"] == pytest.approx(1 - skm.balanced_accuracy_score(y, pred))
    pa = p[np.arange(n), y]
    assert r["mse"] == pytest.approx(np.mean((1 - pa) ** 2), rel=1e-10)
    t = np.eye(k)[y]
    assert r["brier"] == pytest.approx(np.mean(((t - p) ** 2).sum(axis=1)), rel=1e-10)
    assert len(r["hit_ratios"]) == 4
    for kk in range(1, 5):
        expect = skm.top_k_accuracy_score(y, p, k=kk, labels=np.arange(k))
        assert r["hit_ratios"][kk - 1] == pytest.approx(expect, abs=1e-12)


def test_autoencoder_and_missing_actuals():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(100, 6))
    rec = x + rng.normal(0, 0.3, x.shape)
    r = chunked(AutoencoderMetricsBuilder, rec, x)
    assert r["mse"] == pytest.approx(skm.mean_squared_error(x, rec), rel=1e-10)
    b = RegressionMetricsBuilder()
    b.add(np.array([1.0, 2.0, 3.0]), np.array([1.0, np.nan, 4.0]))
    assert b.result()["nobs"] == 2 and b.result()["mse"] == pytest.approx(0.5)


def test_merge_refuses_other_domain():
    a, b = MultinomialMetricsBuilder(["a", "b", "c"]), MultinomialMetricsBuilder(["a", "b", "d"])
    with pytest.raises(ValueError):
        a.merge(b)


def test_multinomial_auc_types_match_sklearn():
    """auc_type (H2O-3): macro / weighted one-vs-rest and one-vs-one AUCs of a multinomial model,
    mergeable across chunks, equal to scikit-learn's on the same probabilities."""
    from sklearn.metrics import roc_auc_score

    from h2ocloud.dl.metrics import MultinomialMetricsBuilder, builder_from_arrays

    rng = np.random.default_rng(0)
    n, K = 3000, 4
    y = rng.integers(0, K, n)
    logits = rng.normal(size=(n, K)) + 1.5 * np.eye(K)[y]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    for auc_type, (multi, avg) in {"MACRO_OVR": ("ovr", "macro"), "WEIGHTED_OVR": ("ovr", "weighted"),
                                   "MACRO_OVO": ("ovo", "macro"), "WEIGHTED_OVO": ("ovo", "weighted")}.items():
        a = MultinomialMetricsBuilder([f"c{k}" for k in range(K)], 3, auc_type)
        b = MultinomialMetricsBuilder([f"c{k}" for k in range(K)], 3, auc_type)
        a.add(p[:1000], y[:1000])
        b.add(p[1000:], y[1000:])
        merged = builder_from_arrays(a.to_arrays()).merge(b).result()
        want = roc_auc_score(y, p, multi_class=multi, average=avg)
        assert merged["auc"] == pytest.approx(want, abs=2e-3), auc_type
        assert len(merged["multinomial_auc_table"]) == K + K * (K - 1) // 2 + 4
    none = MultinomialMetricsBuilder(["a", "b", "c"], 3)  # AUTO: none computed, as H2O-3
    none.add(p[:10, :3] / p[:10, :3].sum(axis=1, keepdims=True), y[:10] % 3)
    assert "auc" not in none.result() and none.hist is None


def test_gains_lift_table_against_a_direct_computation():
    """gainslift_bins (H2O-3): groups of rows by decreasing p1; each group's response rate,
    lift and capture rate as computed directly from the sorted rows."""
    from h2ocloud.dl.metrics import BinomialMetricsBuilder

    rng = np.random.default_rng(1)
    n = 5000
    y = rng.integers(0, 2, n)
    p1 = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.2 * (2 * y - 1))))
    b = BinomialMetricsBuilder(["no", "yes"], gainslift_bins=10)
    b.add(np.stack([1 - p1, p1], axis=1), y)
    table = b.result()["gains_lift_table"]
    assert len(table) == 10 and table[-1]["cumulative_data_fraction"] == pytest.approx(1.0)
    order = np.argsort(-p1)
    for row in table:
        k = int(round(row["cumulative_data_fraction"] * n))
        assert abs(k / n - 0.1 * row["group"]) < 0.01  # cut at the histogram's nearest edge
        top = y[order[:k]]
        assert row["cumulative_capture_rate"] == pytest.approx(top.sum() / y.sum(), abs=1e-9)
        assert row["cumulative_lift"] == pytest.approx(top.mean() / y.mean(), abs=1e-9)
    assert table[0]["lift"] > 1.5 and table[-1]["lift"] < 0.5
    default = BinomialMetricsBuilder(["no", "yes"])
    default.add(np.stack([1 - p1, p1], axis=1), y)
    assert len(default.result()["gains_lift_table"]) == 16  # H2O-3's default groups
    off = BinomialMetricsBuilder(["no", "yes"], gainslift_bins=0)
    off.add(np.stack([1 - p1, p1], axis=1), y)
    assert "gains_lift_table" not in off.result()


@pytest.mark.parametrize("kind", ["regression", "binomial", "multinomial", "autoencoder"])
def test_integer_weights_give_the_metrics_of_duplicated_rows(kind):
    """weights_column in the metrics (H2O-3): a row of weight w counts as w copies of it."""
    from h2ocloud.dl.metrics import builder_from_arrays, new_builder

    rng = np.random.default_rng(4)
    n = 300
    w = rng.integers(0, 4, n).astype(float)
    if kind == "regression":
        p, y = rng.normal(size=n), rng.normal(size=n)
        mk = lambda: new_builder(False, False, None)  # noqa: E731
    elif kind == "autoencoder":
        p, y = rng.normal(size=(n, 3)), rng.normal(size=(n, 3))
        mk = lambda: new_builder(False, True, None)  # noqa: E731
    else:
        K = 2 if kind == "binomial" else 3
        logits = rng.normal(size=(n, K))
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        y = rng.integers(0, K, n).astype(float)
        mk = lambda: new_builder(True, False, [f"c{k}" for k in range(K)], auc_type="MACRO_OVR" if K > 2 else "AUTO")  # noqa: E731
    a, b = mk(), mk()
    a.add(p, y, w)
    rep = np.repeat(np.arange(n), w.astype(int))
    b.add(p[rep], y[rep])
    got, want = builder_from_arrays(a.to_arrays()).result(), b.result()
    for key, v in want.items():
        if key == "nobs":
            continue
        if isinstance(v, float):
            assert got[key] == pytest.approx(v, rel=1e-9, abs=1e-12), key
        elif key == "confusion_matrix":
            assert got[key]["matrix"] == v["matrix"]
