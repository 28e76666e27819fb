"""The last H2O-3 parameters of issue 11: offset_column, elastic_averaging (with its moving rate
and regularization) and max_categorical_features, each acting as H2O-3's does -- through the
client, on one node and on three."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from h2ocloud.dl.datainfo import DataInfo
from h2ocloud.dl.feature_hashing import murmur2_int


def _connect(cloud):
    import h2ocloud as h2o

    h2o.init(url=cloud.nodes[0].url)
    return h2o


# ---------------------------------------------------------------------------- offset_column

def _offset_checks(h2o, name: str) -> None:
    """y = o + sin(x): with offset_column="o" the network only has sin(x) left to learn, and a
    prediction is the network's output plus the row's offset (identity link), or exp of it
    (log link): shifting o shifts every prediction by exactly that, or scales it by exp."""
    rng = np.random.default_rng(3)
    n = 400
    x = rng.uniform(-2, 2, n)
    o = rng.uniform(0, 50, n)
    df = pd.DataFrame({"x": x, "o": o, "y": o + np.sin(x), "cnt": rng.poisson(np.exp(0.5 * x + np.log1p(o) / 4)),
                       "lo": np.log1p(o) / 4})
    fr = h2o.H2OFrame(df, destination_frame=f"{name}.hex")
    common = dict(hidden=[8], epochs=30, seed=2, stopping_rounds=0, activation="Tanh")
    m = h2o.H2ODeepLearningEstimator(**common, offset_column="o").train(x=["x"], y="y", training_frame=fr)
    plain = h2o.H2ODeepLearningEstimator(**common).train(x=["x"], y="y", training_frame=fr)
    assert m.summary_json()["x"] == ["x"]  # the offset is never a predictor
    # With the offset the model fits y; without it (o unseen) it cannot.
    assert m.rmse() < 0.3 < 5 < plain.rmse()
    shifted = h2o.H2OFrame(df.assign(o=df.o + 10.0), destination_frame=f"{name}_shift.hex")
    p0 = m.predict(fr).as_data_frame()["predict"].to_numpy()
    p1 = m.predict(shifted).as_data_frame()["predict"].to_numpy()
    np.testing.assert_allclose(p1 - p0, 10.0, atol=1e-6)
    np.testing.assert_allclose(p0 - df.o, np.sin(x), atol=0.3)
    # model_performance reads the frame's offsets: its MSE is that of the predictions above.
    perf = m.model_performance(fr)
    assert perf.mse() == pytest.approx(float(np.mean((p0 - df.y) ** 2)), rel=1e-4)
    with pytest.raises(ValueError, match="offset_column"):
        m.predict(h2o.H2OFrame(df[["x"]], destination_frame=f"{name}_nooff.hex"))
    # A log link: the offset adds in link space, so +log(2) doubles every prediction.
    pm = h2o.H2ODeepLearningEstimator(**{**common, "epochs": 5}, offset_column="lo", distribution="poisson")
    pm.train(x=["x"], y="cnt", training_frame=fr)
    q0 = pm.predict(fr).as_data_frame()["predict"].to_numpy()
    q1 = pm.predict(h2o.H2OFrame(df.assign(lo=df.lo + np.log(2.0)), destination_frame=f"{name}_lo.hex")
                    ).as_data_frame()["predict"].to_numpy()
    np.testing.assert_allclose(q1 / q0, 2.0, rtol=1e-5)


def test_offset_column_one_node(h2o):
    _offset_checks(h2o, "offset1")


def test_offset_column_three_nodes(cloud3):
    _offset_checks(_connect(cloud3), "offset3")


def test_offset_column_refusals_name_it(h2o):
    df = pd.DataFrame({"x": np.arange(20.0), "o": np.r_[np.nan, np.ones(19)], "c": ["a", "b"] * 10,
                       "y": np.arange(20.0)})
    fr = h2o.H2OFrame(df, destination_frame="offset_bad.hex")
    fr["c"] = fr["c"].asfactor()
    for kw, y, why in ((dict(offset_column="o"), "y", "missing values"),
                       (dict(offset_column="x"), "c", "only supported for regression"),
                       (dict(offset_column="c"), "y", "numeric"),
                       (dict(offset_column="y"), "y", "response"),
                       (dict(offset_column="x", autoencoder=True), None, "autoencoder")):
        with pytest.raises(ValueError, match=f"offset_column.*{why}"):
            h2o.H2ODeepLearningEstimator(hidden=[2], epochs=1, **kw).train(
                x=["x"] if kw["offset_column"] != "x" else ["y"], y=y, training_frame=fr)


# ------------------------------------------------------------------------- elastic_averaging

def _elastic_frame(h2o, name: str):
    rng = np.random.default_rng(8)
    n = 600
    X = rng.normal(size=(n, 3))
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["y"] = np.where(X[:, 0] * X[:, 1] + X[:, 2] > 0, "p", "n")
    fr = h2o.H2OFrame(df, destination_frame=f"{name}.hex")
    fr["y"] = fr["y"].asfactor()
    return fr


EA_BASE = dict(hidden=[6], epochs=4, seed=5, reproducible=True, train_samples_per_iteration=150,
               stopping_rounds=0, score_each_iteration=True)


def _preds(h2o, fr, **kw) -> np.ndarray:
    m = h2o.H2ODeepLearningEstimator(**EA_BASE, **kw).train(x=["a", "b", "c"], y="y", training_frame=fr)
    return m.predict(fr).as_data_frame()["p"].to_numpy()


def test_elastic_averaging_one_node(h2o):
    """One node is H2O-3's one-node elastic averaging: the node keeps its own model, the
    consensus moves toward it at the moving rate. Rate 1 without pull is plain training, bit
    for bit; a lower rate or a pull changes the model."""
    fr = _elastic_frame(h2o, "ea1")
    plain = _preds(h2o, fr)
    same = _preds(h2o, fr, elastic_averaging=True, elastic_averaging_moving_rate=1.0,
                  elastic_averaging_regularization=0.0)
    np.testing.assert_array_equal(plain, same)
    slow = _preds(h2o, fr, elastic_averaging=True, elastic_averaging_moving_rate=0.3,
                  elastic_averaging_regularization=0.0)
    pulled = _preds(h2o, fr, elastic_averaging=True, elastic_averaging_moving_rate=1.0,
                    elastic_averaging_regularization=0.5)
    assert np.abs(slow - plain).max() > 1e-3 and np.abs(pulled - plain).max() > 1e-3
    assert np.abs(slow - pulled).max() > 1e-3


def test_elastic_averaging_three_nodes(cloud3):
    """On three nodes each node continues from its own model rather than from the average: even
    at rate 1 with no pull the model differs from plain averaging (far beyond the run-to-run
    differences of plain averaging itself), and it still learns."""
    h2o = _connect(cloud3)
    fr = _elastic_frame(h2o, "ea3")
    plain, again = _preds(h2o, fr), _preds(h2o, fr)
    noise = np.abs(plain - again).max()
    ea = _preds(h2o, fr, elastic_averaging=True, elastic_averaging_moving_rate=1.0,
                elastic_averaging_regularization=0.0)
    assert np.abs(ea - plain).max() > max(100 * noise, 1e-3)
    m = h2o.H2ODeepLearningEstimator(**{**EA_BASE, "reproducible": False}, elastic_averaging=True)
    m.train(x=["a", "b", "c"], y="y", training_frame=fr)
    assert m.summary_json()["nodes_per_iteration"][0] == 3
    assert m.classification_error() < 0.3


# ------------------------------------------------------------------ max_categorical_features

def _java_murmur(v: int, seed: int) -> int:
    """H2O-3's MurmurHash.hash of an int's 4 big-endian bytes, written out as the Java reads
    (a second, loop-by-loop port to check the vectorized one against)."""
    def i32(z):
        z &= 0xFFFFFFFF
        return z - (1 << 32) if z >= 1 << 31 else z
    m, data = 0x5BD1E995, list(int(v).to_bytes(4, "big"))
    h = i32(i32(seed) ^ 4)
    k = data[3] - 256 if data[3] > 127 else data[3]
    for b in (data[2], data[1], data[0]):
        k = i32(k << 8) | b
    k = i32(k * m)
    k = i32(k ^ ((k & 0xFFFFFFFF) >> 24))
    k = i32(k * m)
    h = i32(i32(h * m) ^ k)
    h = i32(h ^ ((h & 0xFFFFFFFF) >> 13))
    h = i32(h * m)
    return i32(h ^ ((h & 0xFFFFFFFF) >> 15))


def test_murmur_hash_is_h2o3s():
    vals = np.array([0, 1, 2, 255, 256, 70000, 2**31 - 1])
    for seed in (0, 1234, -5, 2**40 + 17):
        assert murmur2_int(vals, seed).tolist() == [_java_murmur(int(v), seed) for v in vals]


def test_hashed_inputs_land_in_h2o3s_buckets():
    """Each active one-hot unit u adds 1 to input abs(murmur(u) % k); numerics follow."""
    metas = [{"name": "f", "type": "enum", "domain": [f"l{i}" for i in range(12)], "min": 0, "max": 11},
             {"name": "g", "type": "enum", "domain": ["a", "b", "c"], "min": 0, "max": 2},
             {"name": "x", "type": "numeric", "mean": 1.0, "sigma": 2.0, "min": -3, "max": 5},
             {"name": "y", "type": "numeric", "mean": 0.0, "sigma": 1.0, "min": -1, "max": 1}]
    info = DataInfo.build(metas, ["f", "g", "x"], "y", {"max_categorical_features": 4, "seed": 99})
    assert info.n_inputs == 5 and info.input_names[:4] == [f"categorical_hash.{j}" for j in range(4)]
    f, g = np.array([0, 5, 11, -1]), np.array([2, 0, 1, 1])
    X = info.transform(metas, {"f": f, "g": g, "x": np.array([1.0, 3.0, np.nan, -1.0])})
    want = np.zeros((4, 4))
    for r in range(4):
        for unit in ([f[r]] if f[r] >= 0 else []) + [12 + g[r]]:
            want[r, abs(int(np.fmod(_java_murmur(unit, 99), 4)))] += 1
    np.testing.assert_array_equal(X[:, :4], want)
    np.testing.assert_allclose(X[:, 4], [0.0, 1.0, 0.0, -1.0])
    wide = DataInfo.build(metas, ["f", "g", "x"], "y", {"max_categorical_features": 15, "seed": 99})
    assert wide.n_inputs == 16 and not wide.hash_buckets  # 15 units fit: nothing hashed


def _hashing_checks(h2o, name: str) -> None:
    rng = np.random.default_rng(4)
    n = 500
    f = rng.integers(0, 40, n)
    g = rng.integers(0, 25, n)
    x = rng.normal(size=n)
    df = pd.DataFrame({"f": [f"f{v}" for v in f], "g": [f"g{v}" for v in g], "x": x,
                       "y": np.where((f % 2 == 0) ^ (x > 0), "a", "b")})
    fr = h2o.H2OFrame(df, destination_frame=f"{name}.hex")
    for c in ("f", "g", "y"):
        fr[c] = fr[c].asfactor()
    common = dict(hidden=[16], epochs=20, seed=6, stopping_rounds=0, variable_importances=True)
    full = h2o.H2ODeepLearningEstimator(**common).train(x=["f", "g", "x"], y="y", training_frame=fr)
    capped = h2o.H2ODeepLearningEstimator(**common, max_categorical_features=8)
    capped.train(x=["f", "g", "x"], y="y", training_frame=fr)
    s = capped.summary_json()
    assert full.summary_json()["n_inputs"] == 40 + 25 + 1
    assert s["n_inputs"] == 8 + 1 and s["layers"][0] == 9
    assert s["input_names"] == [f"categorical_hash.{j}" for j in range(8)] + ["x"]
    assert set(s["variable_importances"]["variable"]) == {"categorical_hash", "x"}
    pred = capped.predict(fr).as_data_frame()
    assert len(pred) == n and set(pred["predict"]) <= {"a", "b"}
    # 65 levels in 8 buckets lose most of f's parity: the full model fits far better.
    assert full.classification_error() < capped.classification_error()


def test_max_categorical_features_one_node(h2o):
    _hashing_checks(h2o, "hash1")


def test_max_categorical_features_three_nodes(cloud3):
    _hashing_checks(_connect(cloud3), "hash3")
