"""The training loop with LocalBackend: learning, epoch accounting, reproducibility,
scoring history, progress, cancellation, checkpoints."""

import math

import numpy as np
import pytest
from dl_frames import frame

from h2ocloud.dl import DataInfo, LocalBackend, train_model, validate_parameters


def setup(metas, cols, x, y, params, valid=None):
    p = validate_parameters({**params, "x": x, "y": y})
    yv = cols.get(y) if y else None
    info = DataInfo.build(metas, x, y, p, y_values=yv)
    X = info.transform(metas, cols)
    Y = info.transform_response(next(m for m in metas if m["name"] == y), cols[y]) if y else None
    Xv = Yv = None
    if valid is not None:
        vm, vc = valid
        Xv = info.transform(vm, vc)
        Yv = info.transform_response(next(m for m in vm if m["name"] == y), vc[y])
    return p, info, LocalBackend(X, Y, Xv, Yv, p, info)


def xor_frame(copies=1):
    a = np.tile([0.0, 0.0, 1.0, 1.0], copies)
    b = np.tile([0.0, 1.0, 0.0, 1.0], copies)
    return frame(numeric={"a": a, "b": b},
                 enums={"xor": (["no", "yes"], (a != b).astype(np.int32))})


def test_xor_learns():
    metas, cols = xor_frame()
    p, info, be = setup(metas, cols, ["a", "b"], "xor",
                        {"hidden": [8], "epochs": 3000, "seed": 42, "reproducible": True,
                         "activation": "Tanh", "classification_stop": -1})
    m = train_model(p, info, be)
    pred = m.predict(metas, cols)
    np.testing.assert_array_equal(pred["predict"], cols["xor"])
    assert set(pred) == {"predict", "no", "yes"}
    np.testing.assert_allclose(pred["no"] + pred["yes"], 1.0, rtol=1e-6)
    assert m.training_metrics["classification_error"] == 0.0
    assert m.training_metrics["auc"] == 1.0


def test_sine_regression_learns():
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, 400)
    metas, cols = frame(numeric={"x": x, "y": 5 + 2 * np.sin(x)})
    p, info, be = setup(metas, cols, ["x"], "y",
                        {"hidden": [20], "epochs": 150, "seed": 1, "reproducible": True,
                         "score_training_samples": 0})
    m = train_model(p, info, be)
    pred = m.predict(metas, cols)["predict"]
    mse = np.mean((pred - cols["y"]) ** 2)
    assert mse < 0.02, mse  # variance of the response is 2
    # the model's own (de-standardized) training metrics agree with this computation
    assert m.training_metrics["mse"] == pytest.approx(mse, rel=1e-4)
    assert m.performance(metas, cols)["mse"] == pytest.approx(mse, rel=1e-4)


def test_digits_under_5_percent():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    Xtr, Xte, ytr, yte = train_test_split(d.data, d.target, test_size=0.25, random_state=0)
    names = [f"px{i}" for i in range(64)]
    dom = [str(i) for i in range(10)]
    tr = frame(numeric=dict(zip(names, Xtr.T, strict=True)), enums={"digit": (dom, ytr)})
    te = frame(numeric=dict(zip(names, Xte.T, strict=True)), enums={"digit": (dom, yte)})
    p, info, be = setup(*tr, names, "digit",
                        {"hidden": [64], "epochs": 20, "seed": 7, "activation": "Rectifier",
                         "classification_stop": -1, "variable_importances": True},
                        valid=te)
    assert info.n_inputs < 64  # constant pixel columns dropped
    m = train_model(p, info, be)
    err = np.mean(m.predict(*te)["predict"] != yte)
    assert err < 0.05, err
    perf = m.performance(*te)
    assert perf["classification_error"] == pytest.approx(err)
    assert m.validation_metrics["classification_error"] == pytest.approx(err)
    assert len(perf["hit_ratios"]) == 10 and perf["hit_ratios"][-1] == pytest.approx(1.0)
    vi = m.variable_importances
    assert len(vi["variable"]) == info.n_inputs and vi["relative_importance"][0] == 1.0
    assert [d["units"] for d in m.diagnostics] == [info.n_inputs, 64, 10]
    s = m.summary_json()
    import json
    json.dumps(s, allow_nan=False)
    assert s["model_category"] == "Multinomial"
    assert "validation_classification_error" in s["scoring_history"][-1]


class CountingBackend:
    """Wraps a backend, records every iteration's requested sample count."""

    def __init__(self, inner):
        self.inner = inner
        self.nodes = inner.nodes
        self.params = inner.params
        self.calls = []

    def train_iteration(self, net, n, it):
        self.calls.append(n)
        return self.inner.train_iteration(net, n, it)

    def score(self, net, which):
        return self.inner.score(net, which)

    def n_train_rows(self):
        return self.inner.n_train_rows()


@pytest.mark.parametrize("epochs,tspi", [(2.5, 37), (3, -1), (1.3, 0), (0.5, 1000)])
def test_exact_epoch_accounting(epochs, tspi):
    rng = np.random.default_rng(1)
    metas, cols = frame(numeric={"a": rng.normal(size=101), "y": rng.normal(size=101)})
    p, info, inner = setup(metas, cols, ["a"], "y",
                           {"hidden": [3], "epochs": epochs, "seed": 3,
                            "train_samples_per_iteration": tspi, "regression_stop": -1})
    be = CountingBackend(inner)
    m = train_model(p, info, be)
    total = int(round(epochs * 101))
    spi = {37: 37, -1: 101, 0: 101, 1000: 1000}[tspi]
    assert sum(be.calls) == total == m.samples_trained == m.net.samples_seen
    assert be.calls[:-1] == [spi] * (len(be.calls) - 1) and 0 < be.calls[-1] <= spi
    assert len(be.calls) == math.ceil(total / spi) == m.iterations
    assert m.epochs_trained == pytest.approx(total / 101)
    assert m.scoring_history[-1]["samples"] == total  # always scored after the last


def test_reproducible_bit_identical():
    metas, cols = xor_frame(copies=10)
    params = {"hidden": [5, 4], "epochs": 20, "seed": 1234, "reproducible": True,
              "activation": "RectifierWithDropout", "input_dropout_ratio": 0.1,
              "shuffle_training_data": True, "classification_stop": -1}
    w = []
    for _ in range(2):
        p, info, be = setup(metas, cols, ["a", "b"], "xor", params)
        w.append(train_model(p, info, be).net.weights.copy())
    np.testing.assert_array_equal(w[0], w[1])
    p, info, be = setup(metas, cols, ["a", "b"], "xor", {**params, "seed": 99})
    assert not np.array_equal(train_model(p, info, be).net.weights, w[0])


def test_progress_cancel_and_checkpoint():
    metas, cols = xor_frame(copies=25)
    p, info, be = setup(metas, cols, ["a", "b"], "xor",
                        {"hidden": [4], "epochs": 10, "seed": 5, "reproducible": True,
                         "train_samples_per_iteration": 50, "classification_stop": -1})
    reports = []
    m = train_model(p, info, be, progress=reports.append)
    assert len(reports) == 20 and reports[-1]["progress"] == 1.0
    fr = [r["progress"] for r in reports]
    assert fr == sorted(fr) and all(r["samples_per_second"] > 0 for r in reports)
    # cancel after three iterations
    calls = []
    p2, info2, be2 = setup(metas, cols, ["a", "b"], "xor", p)
    c = train_model(p2, info2, be2, cancelled=lambda: calls.append(1) or len(calls) > 3)
    assert c.status == "cancelled" and c.samples_trained == 150
    # checkpoint restart: epochs is the total
    p3, info3, be3 = setup(metas, cols, ["a", "b"], "xor", {**p, "epochs": 15})
    m2 = train_model(p3, info3, be3, checkpoint=m)
    assert m2.samples_trained == 1500 and m2.net.samples_seen == 1500
    assert m2.epochs_trained == pytest.approx(15)
    assert len(m2.scoring_history) > len(m.scoring_history)
    with pytest.raises(ValueError, match="epochs"):
        train_model({**p, "epochs": 5}, info3, be3, checkpoint=m)
    with pytest.raises(ValueError, match="hidden"):
        train_model({**p, "hidden": [5], "epochs": 20}, info3, be3, checkpoint=m)


def test_classification_stop_stops_early():
    metas, cols = xor_frame(copies=25)
    p, info, be = setup(metas, cols, ["a", "b"], "xor",
                        {"hidden": [8], "epochs": 1000, "seed": 5, "reproducible": True,
                         "train_samples_per_iteration": 100, "score_interval": 0,
                         "score_duty_cycle": 1.0})
    m = train_model(p, info, be)
    assert m.status == "stopped_early" and m.epochs_trained < 1000
    assert m.training_metrics["classification_error"] == 0.0


def test_balance_classes_oversamples():
    rng = np.random.default_rng(2)
    n = 300
    y = (rng.uniform(size=n) < 0.1).astype(np.int32)
    metas, cols = frame(numeric={"a": rng.normal(size=n) + 2 * y},
                        enums={"c": (["maj", "min"], y)})
    p, info, be = setup(metas, cols, ["a"], "c",
                        {"hidden": [3], "epochs": 1, "seed": 1, "balance_classes": True,
                         "max_after_balance_size": 5.0})
    counts = np.bincount(be.y[be.train_rows].astype(int))
    assert counts[0] == counts[1] == (n - y.sum())
    m = train_model(p, info, be)
    assert m.samples_trained == be.n_train_rows()
    assert m.prior_class_dist[1] == pytest.approx(y.mean())
    pr = m.predict(metas, cols)
    np.testing.assert_allclose(pr["maj"] + pr["min"], 1.0, rtol=1e-9)
