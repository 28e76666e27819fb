"""H2O-3's deep learning parameters beyond the booklet (issue 11): early stopping, run time,
scoring every iteration, ignored_columns, standardize, and refusals."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest


def _frames(h2o, name: str):
    rng = np.random.default_rng(5)
    n = 300
    X = rng.normal(size=(n, 4)) * [1, 10, 100, 1]
    df = pd.DataFrame(X, columns=["c0", "c1", "c2", "c3"])
    df["y"] = np.where(X[:, 0] + X[:, 1] / 10 > 0, "a", "b")
    fr = h2o.H2OFrame(df, destination_frame=f"{name}.hex")
    fr["y"] = fr["y"].asfactor()
    return fr.split_frame([0.7], seed=2, destination_frames=[f"{name}_tr.hex", f"{name}_va.hex"])


X = ["c0", "c1", "c2", "c3"]
# Frozen weights (rate 0): the validation metric is flat from the first scoring on.
STALLED = dict(adaptive_rate=False, rate=0.0, momentum_start=0.0, hidden=[4], epochs=50,
               train_samples_per_iteration=50, score_each_iteration=True, seed=1)


def _early_stopping_checks(h2o, tr, va):
    m = h2o.H2ODeepLearningEstimator(**STALLED, stopping_rounds=2)
    m.train(x=X, y="y", training_frame=tr, validation_frame=va)
    hist = m.scoring_history()
    # H2O-3's rule needs 2k+1 = 5 scorings; with nothing improving it stops at exactly 5.
    assert len(hist) == 5 and m.summary_json()["status"] == "stopped_early"
    assert m.epochs_trained < 2
    full = h2o.H2ODeepLearningEstimator(**STALLED, stopping_rounds=0)
    full.train(x=X, y="y", training_frame=tr, validation_frame=va)
    assert full.epochs_trained == pytest.approx(50)


def test_early_stopping_stops_a_stalled_run(h2o):
    tr, va = _frames(h2o, "stall1")
    _early_stopping_checks(h2o, tr, va)
    p = h2o.H2ODeepLearningEstimator(hidden=[2], epochs=0.1).train(x=X, y="y", training_frame=tr).params
    assert (p["stopping_rounds"], p["stopping_metric"], p["stopping_tolerance"]) == (5, "AUTO", 0.0)


def test_early_stopping_on_three_nodes(cloud3):
    import h2ocloud as h2o

    h2o.init(url=cloud3.nodes[0].url)
    tr, va = _frames(h2o, "stall3")
    _early_stopping_checks(h2o, tr, va)


def test_max_runtime_secs_and_score_each_iteration(h2o):
    tr, va = _frames(h2o, "runtime")
    t = time.time()
    m = h2o.H2ODeepLearningEstimator(hidden=[32], epochs=1e5, max_runtime_secs=1.0, stopping_rounds=0,
                                     classification_stop=-1)
    m.train(x=X, y="y", training_frame=tr)
    assert time.time() - t < 10 and m.epochs_trained < 1e5
    assert m.summary_json()["status"] == "max_runtime"
    each = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=5, score_each_iteration=True, stopping_rounds=0)
    each.train(x=X, y="y", training_frame=tr)
    assert len(each.scoring_history()) == each.summary_json()["iterations"] == 5


def test_ignored_columns_and_standardize(h2o):
    tr, va = _frames(h2o, "ignored")
    m = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=1, ignored_columns=["c3"])
    m.train(y="y", training_frame=tr)
    assert m.summary_json()["x"] == ["c0", "c1", "c2"]
    with pytest.raises(ValueError, match="ignored_columns"):
        h2o.H2ODeepLearningEstimator(hidden=[4], epochs=1, ignored_columns=["nope"]).train(y="y", training_frame=tr)
    a = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=1, seed=3, reproducible=True, standardize=True)
    b = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=1, seed=3, reproducible=True, standardize=False)
    a.train(x=X, y="y", training_frame=tr, validation_frame=va)
    b.train(x=X, y="y", training_frame=tr, validation_frame=va)
    assert a.logloss(valid=True) != pytest.approx(b.logloss(valid=True), rel=1e-6)


def test_refusals_name_the_parameter(h2o):
    tr, _ = _frames(h2o, "refuse")
    cases = [({"stoping_rounds": 2}, "did you mean 'stopping_rounds'"),
             ({"stopping_rounds": -1}, "stopping_rounds"),
             ({"stopping_metric": "bogus"}, "stopping_metric"),
             ({"offset_column": "c0"}, "offset_column.*predictor"),
             ({"offset_column": "nope"}, "offset_column"),
             ({"max_categorical_features": 0}, "max_categorical_features"),
             ({"elastic_averaging_moving_rate": 1.5}, "elastic_averaging_moving_rate"),
             ({"elastic_averaging_regularization": -1.0}, "elastic_averaging_regularization"),
             ({"elastic_averaging": "yes"}, "elastic_averaging"),
             ({"weights_column": "c0"}, "weights_column.*predictor"),
             ({"missing_values_handling": "Drop"}, "missing_values_handling"),
             ({"max_runtime_secs": -1}, "max_runtime_secs")]
    for params, match in cases:
        with pytest.raises(ValueError, match=match):
            h2o.H2ODeepLearningEstimator(hidden=[2], epochs=1, **params).train(x=X, y="y", training_frame=tr)
    # H2O-3's defaults of the parameters not supported are accepted, so h2o-py scripts run.
    h2o.H2ODeepLearningEstimator(hidden=[2], epochs=0.5, distribution="AUTO", weights_column=None,
                                 sparse=True).train(x=X, y="y", training_frame=tr)


def _weights_checks(h2o, name: str):
    """y is 0 on 100 rows and 1 on 100 others, x is noise: a model predicts the (weighted) mean
    of y. Weight 3 on the zeros must act as three copies of them do."""
    rng = np.random.default_rng(9)
    base = pd.DataFrame({"x": rng.normal(size=200), "y": np.r_[np.zeros(100), np.ones(100)],
                         "w": np.r_[np.full(100, 3.0), np.ones(100)]})
    dup = pd.concat([base] + [base[base.y == 0]] * 2, ignore_index=True)
    weighted = h2o.H2OFrame(base, destination_frame=f"{name}_w.hex")
    duplicated = h2o.H2OFrame(dup.drop(columns="w"), destination_frame=f"{name}_d.hex")
    common = dict(hidden=[4], epochs=10, seed=4, stopping_rounds=0, activation="Tanh")
    mw = h2o.H2ODeepLearningEstimator(**common, weights_column="w").train(x=["x"], y="y", training_frame=weighted)
    md = h2o.H2ODeepLearningEstimator(**common).train(x=["x"], y="y", training_frame=duplicated)
    mu = h2o.H2ODeepLearningEstimator(**common).train(x=["x"], y="y", training_frame=weighted)  # unweighted
    assert mw.summary_json()["x"] == ["x"]  # the weights column is never a predictor
    assert mw.samples_trained == md.samples_trained == 10 * 400  # an epoch is the weighted rows
    pw, pd_, pu = (m.predict(weighted).as_data_frame()["predict"].mean() for m in (mw, md, mu))
    assert abs(pw - 0.25) < 0.1 and abs(pd_ - 0.25) < 0.1 and abs(pw - pd_) < 0.08
    assert abs(pu - 0.5) < 0.1


def test_weights_column_acts_as_duplicated_rows(h2o):
    _weights_checks(h2o, "wts1")


def test_weights_column_on_three_nodes(cloud3):
    import h2ocloud as h2o

    h2o.init(url=cloud3.nodes[0].url)
    _weights_checks(h2o, "wts3")


def test_class_sampling_factors_and_distribution(h2o):
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"x": rng.normal(size=300), "y": ["a"] * 270 + ["b"] * 30})
    fr = h2o.H2OFrame(df, destination_frame="csf.hex")
    fr["y"] = fr["y"].asfactor()
    common = dict(hidden=[2], epochs=1, balance_classes=True, stopping_rounds=0, seed=1)
    m = h2o.H2ODeepLearningEstimator(**common, class_sampling_factors=[1.0, 3.0])
    m.train(x=["x"], y="y", training_frame=fr)
    assert m.samples_trained == 270 + 90  # each class's rows times its factor
    b = h2o.H2ODeepLearningEstimator(**common).train(x=["x"], y="y", training_frame=fr)
    assert b.samples_trained == 2 * 270  # plain balance_classes: every class as the largest
    with pytest.raises(ValueError, match="balance_classes"):
        h2o.H2ODeepLearningEstimator(hidden=[2], class_sampling_factors=[1, 2]).train(x=["x"], y="y", training_frame=fr)
    with pytest.raises(ValueError, match="2 classes"):
        h2o.H2ODeepLearningEstimator(**common, class_sampling_factors=[1.0, 2.0, 3.0]).train(
            x=["x"], y="y", training_frame=fr)
    h2o.H2ODeepLearningEstimator(hidden=[2], epochs=1, distribution="bernoulli").train(x=["x"], y="y", training_frame=fr)
    with pytest.raises(ValueError, match="distribution.*'bernoulli'"):
        h2o.H2ODeepLearningEstimator(hidden=[2], epochs=1, distribution="gaussian").train(x=["x"], y="y", training_frame=fr)
    with pytest.raises(ValueError, match="distribution.*tweedie"):
        h2o.H2ODeepLearningEstimator(hidden=[2], epochs=1, distribution="tweedie").train(x=["x"], y="y", training_frame=fr)


@pytest.mark.parametrize("cloud", ["cloud1", "cloud3"])
def test_missing_values_skip_trains_and_predicts_without_the_rows_with_a_missing_value(request, cloud):
    """H2O-3's missing_values_handling=Skip: a row with a missing predictor is not trained on and
    is predicted as missing; MeanImputation (the default) fills in the training mean."""
    import h2ocloud as h2o

    h2o.init(url=request.getfixturevalue(cloud).nodes[0].url)
    rng = np.random.default_rng(5)
    n = 300
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                       "f": rng.choice(["u", "v"], n)})
    df["y"] = np.where(df["a"] + df["b"] > 0, "yes", "no")
    df["r"] = 3 * df["a"] + rng.normal(scale=0.1, size=n)
    df.loc[::5, "a"] = np.nan         # 60 rows without a
    df.loc[1::50, "f"] = None          # 6 rows without f
    fr = h2o.H2OFrame(df)
    for c in ("f", "y"):
        fr[c] = fr[c].asfactor()
    missing = df["a"].isna() | df["f"].isna()
    for y in ("y", "r"):
        skip = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=2, seed=1, reproducible=True,
                                            missing_values_handling="Skip")
        skip.train(x=["a", "b", "f"], y=y, training_frame=fr)
        mean = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=2, seed=1, reproducible=True)
        mean.train(x=["a", "b", "f"], y=y, training_frame=fr)
        assert skip.summary_json()["samples_trained"] == 2 * int((~missing).sum())
        assert mean.summary_json()["samples_trained"] == 2 * n
        p = skip.predict(fr).as_data_frame()["predict"]
        assert p[missing.to_numpy()].isna().all() and p[~missing.to_numpy()].notna().all()
        assert mean.predict(fr).as_data_frame()["predict"].notna().all()
        assert skip.model_performance(fr).nobs() == int((~missing).sum())


@pytest.mark.parametrize("cloud", ["cloud1", "cloud3"])
def test_export_weights_and_biases_stores_each_layer_as_a_frame(request, cloud):
    """H2O-3's export_weights_and_biases: frames <model_id>.weights.<i> and .biases.<i> in the DKV
    (visible from every node), which m.weights(i) / m.biases(i) return; without it none are stored."""
    import h2ocloud as h2o

    c = request.getfixturevalue(cloud)
    h2o.init(url=c.nodes[0].url)
    tr, _ = _frames(h2o, f"wb_{cloud}")
    m = h2o.H2ODeepLearningEstimator(hidden=[5, 3], epochs=1, seed=1, export_weights_and_biases=True,
                                     model_id=f"wb_model_{cloud}")
    m.train(x=X, y="y", training_frame=tr)
    plain = h2o.H2ODeepLearningEstimator(hidden=[5, 3], epochs=1, seed=1, model_id=f"wb_plain_{cloud}")
    plain.train(x=X, y="y", training_frame=tr)
    h2o.init(url=c.nodes[-1].url)  # another node sees the same frames
    keys = set(h2o.ls())
    want = {f"wb_model_{cloud}.{w}.{i}" for w in ("weights", "biases") for i in range(3)}
    assert want <= keys and not any(k.startswith(f"wb_plain_{cloud}.") for k in keys)
    w1 = m.weights(1)
    assert w1.frame_id == f"wb_model_{cloud}.weights.1" and w1.dim == [3, 5]
    np.testing.assert_allclose(w1.as_data_frame().to_numpy(), plain_like(m, 1), rtol=1e-6)
    assert m.biases(2).dim == [plain.weights(2).dim[0], 1]


def plain_like(m, layer):
    """The layer's weights as the models.weights operation computes them (no frame)."""
    from h2ocloud.client.session import connection

    result, blobs = connection().call("models.weights", {"model_id": m.model_id, "layer": layer, "what": "weights"})
    return np.frombuffer(blobs[0], "<f4").astype(np.float64).reshape(result["shape"])


@pytest.mark.parametrize("cloud", ["cloud1", "cloud3"])
def test_initial_weights_and_a_pretrained_autoencoder_start_the_model(request, cloud):
    """H2O-3's initial_weights / initial_biases (frames, as m.weights(i) / m.biases(i) give) and
    pretrained_autoencoder (its hidden layers) are where training starts: zero epochs trained
    on from them gives exactly those layers back."""
    import h2ocloud as h2o

    h2o.init(url=request.getfixturevalue(cloud).nodes[0].url)
    tr, _ = _frames(h2o, f"init_{cloud}")
    src = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=2, seed=1)
    src.train(x=X, y="y", training_frame=tr)
    ws, bs = [src.weights(i) for i in range(2)], [src.biases(i) for i in range(2)]
    m = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=0, seed=9, initial_weights=ws, initial_biases=bs)
    m.train(x=X, y="y", training_frame=tr)
    for i in range(2):
        np.testing.assert_allclose(m.weights(i).as_data_frame().to_numpy(), ws[i].as_data_frame().to_numpy(), rtol=1e-6)
        np.testing.assert_allclose(m.biases(i).as_data_frame().to_numpy(), bs[i].as_data_frame().to_numpy(), rtol=1e-6)
    # A None entry keeps that layer's random start; trained on, the model moves away from it.
    part = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=0, seed=9, initial_weights=[ws[0], None])
    part.train(x=X, y="y", training_frame=tr)
    np.testing.assert_allclose(part.weights(0).as_data_frame().to_numpy(), ws[0].as_data_frame().to_numpy(), rtol=1e-6)
    assert not np.allclose(part.weights(1).as_data_frame().to_numpy(), ws[1].as_data_frame().to_numpy())

    ae = h2o.H2OAutoEncoderEstimator(hidden=[4], epochs=2, seed=3, activation="Tanh")
    ae.train(x=X, training_frame=tr)
    pre = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=0, seed=9, pretrained_autoencoder=ae.model_id)
    pre.train(x=X, y="y", training_frame=tr)
    np.testing.assert_allclose(pre.weights(0).as_data_frame().to_numpy(), ae.weights(0).as_data_frame().to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(pre.biases(0).as_data_frame().to_numpy(), ae.biases(0).as_data_frame().to_numpy(), rtol=1e-6)

    bad = [(dict(initial_weights=[ws[1], ws[0]]), "initial_weights.*shape"),
           (dict(initial_weights=[ws[0]]), "initial_weights.*2 weight layers"),
           (dict(initial_biases=["no_such_frame", None]), "initial_biases"),
           (dict(pretrained_autoencoder=src.model_id), "not an autoencoder"),
           (dict(pretrained_autoencoder=ae.model_id, hidden=[5]), "hidden"),
           (dict(pretrained_autoencoder="no_such_model"), "pretrained_autoencoder")]
    for kw, match in bad:
        args = {"hidden": [4], "epochs": 1, "seed": 9, **kw}
        with pytest.raises(Exception, match=match):
            h2o.H2ODeepLearningEstimator(**args).train(x=X, y="y", training_frame=tr)


def test_export_checkpoints_dir_writes_the_model_there(h2o, tmp_path):
    """H2O-3's export_checkpoints_dir: the node writes the finished model into the directory,
    loadable with h2o.load_model; an unwritable directory fails the job naming the parameter."""
    tr, _ = _frames(h2o, "ckdir")
    m = h2o.H2ODeepLearningEstimator(hidden=[3], epochs=1, seed=1, model_id="ckdir_model",
                                     export_checkpoints_dir=str(tmp_path / "models"))
    m.train(x=X, y="y", training_frame=tr)
    path = tmp_path / "models" / "ckdir_model"
    assert path.is_file()
    h2o.remove("ckdir_model")
    back = h2o.load_model(str(path))
    assert back.model_id == "ckdir_model"
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(Exception, match="export_checkpoints_dir"):
        h2o.H2ODeepLearningEstimator(hidden=[3], epochs=1, export_checkpoints_dir=str(tmp_path / "file")).train(
            x=X, y="y", training_frame=tr)


@pytest.mark.parametrize("cloud", ["cloud1", "cloud3"])
def test_auc_type_gives_a_multinomial_model_its_auc(request, cloud):
    """H2O-3's auc_type: with MACRO_OVR a 3-class model's metrics carry an AUC and the
    multinomial AUC table (and early stopping on AUC works); AUTO computes none."""
    import h2ocloud as h2o

    h2o.init(url=request.getfixturevalue(cloud).nodes[0].url)
    rng = np.random.default_rng(8)
    n = 400
    df = pd.DataFrame(rng.normal(size=(n, 2)), columns=["a", "b"])
    df["y"] = np.select([df["a"] > 0.5, df["b"] > 0], ["hi", "mid"], "lo")
    fr = h2o.H2OFrame(df)
    fr["y"] = fr["y"].asfactor()
    m = h2o.H2ODeepLearningEstimator(hidden=[5], epochs=10, seed=1, auc_type="MACRO_OVR",
                                     stopping_metric="AUC", stopping_rounds=2)
    m.train(x=["a", "b"], y="y", training_frame=fr)
    # learned (a broken AUC is 0.5 or NaN); 3 epochs averaged over 3 Hogwild nodes once gave 0.697
    assert 0.65 < m.auc() <= 1.0
    table = m.model_performance(fr).multinomial_auc_table().as_data_frame()
    assert {"Class AUC", "Pair AUC", "Macro OVR", "Weighted OVO"} <= set(table["type"])
    plain = h2o.H2ODeepLearningEstimator(hidden=[5], epochs=1, seed=1)
    plain.train(x=["a", "b"], y="y", training_frame=fr)
    assert plain.auc() is None and plain.model_performance(fr).multinomial_auc_table() is None


@pytest.mark.parametrize("cloud", ["cloud1", "cloud3"])
def test_gains_lift_of_a_binomial_model(request, cloud):
    import h2ocloud as h2o

    h2o.init(url=request.getfixturevalue(cloud).nodes[0].url)
    tr, va = _frames(h2o, f"gl_{cloud}")
    m = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=20, seed=1, gainslift_bins=4)
    m.train(x=X, y="y", training_frame=tr, validation_frame=va)
    gl = m.gains_lift(valid=True).as_data_frame()
    assert list(gl["group"]) == [1, 2, 3, 4] and gl["cumulative_capture_rate"].iloc[-1] == pytest.approx(1.0)
    assert gl["cumulative_lift"].is_monotonic_decreasing


@pytest.mark.parametrize("cloud", ["cloud1", "cloud3"])
def test_metrics_on_a_frame_weigh_its_rows_by_the_weights_column(request, cloud):
    """H2O-3 weighs the scoring metrics by the weights column too: the performance on a frame
    with weights equals the performance on the same frame with each row repeated weight times."""
    import h2ocloud as h2o

    h2o.init(url=request.getfixturevalue(cloud).nodes[0].url)
    rng = np.random.default_rng(6)
    n = 200
    df = pd.DataFrame(rng.normal(size=(n, 2)), columns=["a", "b"])
    df["y"] = np.where(df["a"] + rng.normal(scale=0.5, size=n) > 0, "p", "q")
    df["w"] = rng.integers(1, 4, n).astype(float)
    fr = h2o.H2OFrame(df)
    fr["y"] = fr["y"].asfactor()
    m = h2o.H2ODeepLearningEstimator(hidden=[3], epochs=3, seed=1, weights_column="w")
    m.train(x=["a", "b"], y="y", training_frame=fr)
    rep = df.loc[df.index.repeat(df["w"].astype(int))].reset_index(drop=True)
    fr_rep = h2o.H2OFrame(rep.drop(columns="w"))
    fr_rep["y"] = fr_rep["y"].asfactor()
    weighted, repeated = m.model_performance(fr), m.model_performance(fr_rep)
    assert weighted.logloss() == pytest.approx(repeated.logloss(), rel=1e-6)
    assert weighted.auc() == pytest.approx(repeated.auc(), rel=1e-6)
    unweighted = h2o.H2OFrame(df.drop(columns="w"))
    unweighted["y"] = unweighted["y"].asfactor()
    assert m.model_performance(unweighted).logloss() != pytest.approx(weighted.logloss(), rel=1e-6)
