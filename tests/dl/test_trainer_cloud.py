"""The loop against a simulated multi-node backend (two LocalBackends, averaged with
Net.average as the cloud does), scoring cadence and samples-per-iteration choice."""

import numpy as np
import pytest
from dl_frames import DATA, frame

from h2ocloud.dl import DataInfo, LocalBackend, train_model, validate_parameters
from h2ocloud.dl.trainer import _auto_tune, samples_per_iteration
from h2ocloud.kernel import Net


class TwoNodeBackend:
    """Each "node" holds every row (replicated) and trains its share from the same model."""

    nodes = ["n1", "n2"]

    def __init__(self, X, y, p, info):
        self.params = p
        self.parts = [LocalBackend(X, y, params={**p, "seed": p["seed"] + i}, info=info)
                      for i in range(2)]
        self.calls = []

    def train_iteration(self, net, n, it):
        self.calls.append(n)
        share = [n // 2, n - n // 2]
        nets, counts = [], []
        for be, k in zip(self.parts, share, strict=True):
            local, got, _ = be.train_iteration(net.copy(), k, it)
            nets.append(local)
            counts.append(got)
        return Net.average(nets, counts), sum(counts), list(self.nodes)

    def score(self, net, which):
        return self.parts[0].score(net, which)

    def n_train_rows(self):
        return self.parts[0].n_train_rows()


def test_two_nodes_average_and_all_rows_per_node():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, 150)
    metas, cols = frame(numeric={"x": x, "y": x ** 2})
    # The booklet's ADADELTA values: with H2O-3's epsilon 1e-8 the first steps are 10x smaller
    # and this 150-row toy needs far more than 30 epochs; what is tested here is the averaging.
    p = validate_parameters({"hidden": [10], "epochs": 30, "seed": 11, "reproducible": True,
                             "x": ["x"], "y": "y", "rho": 0.95, "epsilon": 1e-6})
    info = DataInfo.build(metas, ["x"], "y", p)
    be = TwoNodeBackend(info.transform(metas, cols), info.transform_response(metas[1], cols["y"]),
                        p, info)
    m = train_model(p, info, be)
    # -1 with replicated data: every node trains all its rows -> 2 x 150 per iteration
    assert be.calls == [300] * 15
    assert m.samples_trained == m.net.samples_seen == 4500
    assert m.nodes_per_iteration == [2] * 15
    mse = np.mean((m.predict(metas, cols)["predict"] - x ** 2) ** 2)
    assert mse < 0.1 * np.var(x ** 2), mse


def test_scoring_cadence():
    metas, cols = frame(numeric={"a": np.arange(50.0), "y": np.arange(50.0) % 7})
    p = validate_parameters({"hidden": [3], "epochs": 10, "seed": 1, "x": ["a"], "y": "y",
                             "train_samples_per_iteration": 50, "score_interval": 3600,
                             "regression_stop": -1})
    info = DataInfo.build(metas, ["a"], "y", p)
    be = LocalBackend(info.transform(metas, cols), info.transform_response(metas[1], cols["y"]),
                      params=p, info=info)
    m = train_model(p, info, be)
    # scored after the first iteration and after the last only
    assert [h["iterations"] for h in m.scoring_history] == [1, 10]
    m2 = train_model({**p, "score_interval": 0, "score_duty_cycle": 1.0}, info, be)
    assert [h["iterations"] for h in m2.scoring_history] == list(range(1, 11))
    e = m2.scoring_history[-1]
    assert {"timestamp", "duration", "epochs", "samples", "training_mse",
            "training_rmse"} <= set(e)


def test_samples_per_iteration_choice():
    assert samples_per_iteration(-1, 100, 3) == 300
    assert samples_per_iteration(-1, 100, 3, replicate_training_data=False) == 100
    assert samples_per_iteration(-1, 100, 3, single_node_mode=True) == 100
    assert samples_per_iteration(0, 100, 3) == 100
    assert samples_per_iteration(-2, 100, 1) == 100
    assert samples_per_iteration(77, 100, 3) == 77
    # 1 s of 10 s is communication at 1000 samples/s of training: 5% needs 19 s of training
    assert _auto_tune(100, 9000, 10.0, 1.0, 1000, 2) == pytest.approx(19000, rel=1e-6)
    assert _auto_tune(100, 9000, 10.0, None, 1000, 2) == 100


@pytest.mark.skipif(not (DATA / "weather.csv").exists(), reason=f"no data at {DATA}")
def test_weather_binomial_end_to_end():
    import pandas as pd

    df = pd.read_csv(DATA / "weather.csv")
    numeric, enums = {}, {}
    for c in df.columns:
        if c == "Date":
            continue
        if not pd.api.types.is_numeric_dtype(df[c]):
            cat = pd.Categorical(df[c].astype(object))
            enums[c] = (list(cat.categories), cat.codes.astype(np.int32))
        else:
            numeric[c] = df[c].to_numpy(dtype=np.float64)
    metas, cols = frame(numeric=numeric, enums=enums)
    x = [c for c in df.columns if c not in ("Date", "RainTomorrow", "RISK_MM")]
    p = validate_parameters({"hidden": [20, 20], "epochs": 30, "seed": 3, "x": x,
                             "y": "RainTomorrow", "classification": True,
                             "reproducible": True, "classification_stop": -1})
    info = DataInfo.build(metas, x, "RainTomorrow", p, y_values=cols["RainTomorrow"])
    assert info.response_domain == ["0", "1"]
    ymeta = next(m for m in metas if m["name"] == "RainTomorrow")
    be = LocalBackend(info.transform(metas, cols),
                      info.transform_response(ymeta, cols["RainTomorrow"]), params=p, info=info)
    m = train_model(p, info, be)
    perf = m.performance(metas, cols)
    assert perf["auc"] > 0.9 and perf["kind"] == "binomial"
    pred = m.predict(metas, cols)
    assert set(pred) == {"predict", "p0", "p1"}  # integer levels: H2O's p0, p1
    np.testing.assert_array_equal(pred["predict"], (pred["p1"] >= m.threshold()).astype(int))


def test_row_order():
    X = np.zeros((10, 1), np.float32)
    y = np.arange(10, dtype=np.float32)
    seq = LocalBackend(X, y, params={"train_samples_per_iteration": 4, "seed": 1})
    assert seq.next_rows(4).tolist() == [0, 1, 2, 3]
    assert seq.next_rows(8).tolist() == [4, 5, 6, 7, 8, 9, 0, 1]
    shuf = LocalBackend(X, y, params={"train_samples_per_iteration": -1, "seed": 1})
    a, b = shuf.next_rows(10), shuf.next_rows(10)
    assert sorted(a.tolist()) == sorted(b.tolist()) == list(range(10))
    assert a.tolist() != b.tolist() and a.tolist() != list(range(10))
    # rows with a missing response are never trained on
    y2 = y.copy()
    y2[[2, 5]] = np.nan
    miss = LocalBackend(X, y2, params={"seed": 1})
    assert miss.n_train_rows() == 8 and not {2, 5} & set(miss.next_rows(30).tolist())
