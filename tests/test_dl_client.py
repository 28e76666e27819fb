"""Deep learning from the client through a real daemon (issue 4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from h2ocloud.errors import Cancelled, NotFound
from tests.conftest import shared_data


@pytest.fixture(scope="module")
def digits(cloud1):
    from sklearn.datasets import load_digits

    import h2ocloud as h2o

    h2o.init(url=cloud1.nodes[0].url)
    d = load_digits()
    df = pd.DataFrame(d.data, columns=[f"p{i}" for i in range(64)])
    df["label"] = d.target
    fr = h2o.H2OFrame(df, destination_frame="digits.hex")
    fr["label"] = fr["label"].asfactor()
    train, test = fr.split_frame([0.75], seed=42, destination_frames=["digits_train.hex", "digits_test.hex"])
    return train, test, [f"p{i}" for i in range(64)]


def test_digits_under_5_percent_error_with_metrics(h2o, digits):
    train, test, x = digits
    m = h2o.H2ODeepLearningEstimator(hidden=[64, 64], epochs=30, seed=1, activation="Rectifier")
    m.train(x=x, y="label", training_frame=train, validation_frame=test)
    assert m.model_category == "Multinomial"
    err = m.classification_error(valid=True)
    assert err < 0.05
    perf = m.model_performance(test)
    assert perf.classification_error() == pytest.approx(err, abs=1e-9)
    cm = m.confusion_matrix(valid=True)
    assert list(cm.columns[:10]) == [str(i) for i in range(10)] and "Error" in cm.columns
    hr = m.hit_ratio_table(valid=True)
    assert hr["hit_ratio"].is_monotonic_increasing and hr["hit_ratio"].iloc[-1] == pytest.approx(1.0)
    both = m.logloss(train=True, valid=True)
    assert set(both) == {"train", "valid"}
    hist = m.scoring_history()
    assert {"epochs", "samples", "training_classification_error", "validation_classification_error"} <= set(hist.columns)
    assert hist["epochs"].iloc[-1] == pytest.approx(30.0)
    pred = m.predict(test).as_data_frame()
    # As H2O's makeScoringNames: integer levels give probability columns p0, p1, ...
    assert list(pred.columns) == ["predict"] + [f"p{i}" for i in range(10)]
    truth = test.as_data_frame()["label"].astype(str).to_numpy()
    assert np.mean(pred["predict"].astype(str).to_numpy() != truth) == pytest.approx(err, abs=1e-9)
    np.testing.assert_allclose(pred[[f"p{i}" for i in range(10)]].sum(axis=1), 1.0, atol=1e-5)
    assert h2o.get_model(m.model_id).model_id == m.model_id


def test_params_report_booklet_defaults(h2o, digits):
    train, _, x = digits
    m = h2o.deeplearning(x=x[:10], y="label", training_frame=train, hidden=[8], epochs=1)
    p = m.params
    assert p["activation"] == "Tanh" and p["rho"] == 0.99 and p["epsilon"] == 1e-8 and p["rate"] == 0.005
    assert p["fast_mode"] is True and p["diagnostics"] is True and p["variable_importances"] is False
    assert p["score_training_samples"] == 1000 and p["score_duty_cycle"] == 0.1
    assert h2o.H2ODeepLearningEstimator().params == {}  # nothing set yet; the node fills defaults


def test_dropout_activation_defaults_and_varimp_and_diagnostics(h2o, digits):
    train, _, x = digits
    m = h2o.H2ODeepLearningEstimator(activation="RectifierWithDropout", hidden=[32, 16], epochs=2,
                                     variable_importances=True, seed=3)
    m.train(x=x, y="label", training_frame=train)
    assert m.params["hidden_dropout_ratios"] == [0.5, 0.5]
    vi = m.varimp(use_pandas=True)
    assert len(vi) == len([c for c in x]) - 0 or len(vi) <= 64
    assert vi["scaled_importance"].max() == pytest.approx(1.0)
    assert vi["percentage"].sum() == pytest.approx(1.0)
    diag = m.diagnostics()
    assert len(diag) >= 3


def test_regression_learns_a_sine(h2o):
    x = np.linspace(-3, 3, 600)
    fr = h2o.H2OFrame(pd.DataFrame({"x": x, "y": np.sin(x)}))
    m = h2o.H2ODeepLearningEstimator(hidden=[30, 30], epochs=200, seed=7)  # tspi -1: rows shuffled
    m.train(x=["x"], y="y", training_frame=fr)
    assert m.model_category == "Regression"
    assert m.r2() > 0.98  # a constant predictor scores 0
    pred = m.predict(fr).as_data_frame()["predict"].to_numpy()
    assert np.sqrt(np.mean((pred - np.sin(x)) ** 2)) < 0.1


def test_prediction_matches_columns_by_name_and_maps_levels(h2o):
    rng = np.random.default_rng(5)
    n = 400
    c = rng.choice(["a", "b", "c"], n)
    v = rng.normal(size=n)
    y = np.where((c == "a") ^ (v > 0), "yes", "no")
    train = h2o.H2OFrame(pd.DataFrame({"c": c, "v": v, "y": y}))
    m = h2o.H2ODeepLearningEstimator(hidden=[16], epochs=20, seed=1, reproducible=True)
    m.train(x=["c", "v"], y="y", training_frame=train)
    base = m.predict(train).as_data_frame()
    assert m.model_category == "Binomial" and 0.5 < m.auc() <= 1.0
    # same rows, columns in another order, an extra column, levels seen in another order
    shuffled = h2o.H2OFrame(pd.DataFrame({"extra": np.zeros(n), "v": v, "c": c}))
    again = m.predict(shuffled).as_data_frame()
    np.testing.assert_allclose(again["yes"].to_numpy(), base["yes"].to_numpy(), rtol=1e-6)
    unseen = h2o.H2OFrame(pd.DataFrame({"c": ["zzz", "a"], "v": [0.1, 0.1]}))
    assert m.predict(unseen).nrows == 2
    with pytest.raises(ValueError, match="'v'"):
        m.predict(h2o.H2OFrame(pd.DataFrame({"c": c})))


@pytest.mark.parametrize("params, name", [
    ({"epochs": -1}, "epochs"),
    ({"hidden": []}, "hidden"),
    ({"activation": "Sigmoid"}, "activation"),
    ({"input_dropout_ratio": 1.0}, "input_dropout_ratio"),
    ({"activation": "TanhWithDropout", "hidden": [5], "hidden_dropout_ratios": [1.5]}, "hidden_dropout_ratios"),
    ({"no_such_parameter": 1}, "no_such_parameter"),
])
def test_bad_parameters_are_refused_naming_them(h2o, digits, params, name):
    train, _, x = digits
    with pytest.raises(ValueError, match=name):
        h2o.H2ODeepLearningEstimator(**params).train(x=x, y="label", training_frame=train)


def test_unknown_response_and_frame(h2o, digits):
    train, _, x = digits
    with pytest.raises(ValueError, match="'nope'"):
        h2o.H2ODeepLearningEstimator(epochs=1).train(x=x, y="nope", training_frame=train)
    with pytest.raises(NotFound, match="missing.hex"):
        h2o.H2ODeepLearningEstimator(epochs=1).train(x=x, y="label", training_frame="missing.hex")
    with pytest.raises(NotFound):
        h2o.get_model("no-such-model")
    # A key of the other kind is named as such.
    with pytest.raises(ValueError, match="is a frame, not a model"):
        h2o.get_model(train.frame_id)
    m = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=0.1).train(x=x[:4], y="label", training_frame=train)
    with pytest.raises(ValueError, match="training_frame: .* is a model, not a frame"):
        h2o.H2ODeepLearningEstimator(epochs=1).train(x=x, y="label", training_frame=m.model_id)


def test_reproducible_gives_identical_models(h2o, digits):
    train, test, x = digits
    preds = []
    for _ in range(2):
        m = h2o.H2ODeepLearningEstimator(hidden=[16], epochs=2, seed=11, reproducible=True)
        m.train(x=x, y="label", training_frame=train)
        preds.append(m.predict(test).as_data_frame())
    pd.testing.assert_frame_equal(preds[0], preds[1])


def test_cancel_a_training_job(h2o, digits):
    import threading
    import time

    train, _, x = digits
    errors = []

    def run():
        try:
            h2o.H2ODeepLearningEstimator(hidden=[200, 200], epochs=100000, model_id="to_cancel").train(
                x=x, y="label", training_frame=train)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    deadline = time.time() + 30
    job = None
    while time.time() < deadline and job is None:
        job = next((j for j in h2o.list_jobs() if j["dest"] == "to_cancel" and j["status"] == "RUNNING"), None)
        time.sleep(0.1)
    assert job is not None
    h2o.cancel_job(job["job_id"])
    t.join(30)
    assert not t.is_alive()
    assert errors and isinstance(errors[0], Cancelled)
    with pytest.raises(NotFound):
        h2o.get_model("to_cancel")


def test_save_and_load_predict_identically(h2o, digits, tmp_path):
    train, test, x = digits
    m = h2o.H2ODeepLearningEstimator(hidden=[16], epochs=2, seed=2)
    m.train(x=x, y="label", training_frame=train)
    path = h2o.save_model(m, str(tmp_path))
    h2o.remove(m.model_id)
    loaded = h2o.load_model(path)
    assert loaded.model_id == m.model_id
    a = m.params
    assert loaded.params == a
    p1 = loaded.predict(test).as_data_frame()
    assert p1.shape[0] == test.nrows
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"not a model at all")
    with pytest.raises(ValueError):
        h2o.load_model(str(bad))


def test_ecg_autoencoder_flags_the_three_anomalies(h2o):
    train = h2o.import_file(str(shared_data("ecg_discord_train.csv")), header=-1)
    test = h2o.import_file(str(shared_data("ecg_discord_test.csv")), header=-1)
    ae = h2o.H2ODeepLearningEstimator(activation="Tanh", hidden=[50, 20, 50], l1=1e-4, epochs=100,
                                      autoencoder=True, seed=1)
    ae.train(training_frame=train)
    err = ae.anomaly(test).as_data_frame()["Reconstruction.MSE"].to_numpy()
    assert set(np.argsort(-err)[:3]) == {20, 21, 22}
    feats = ae.deepfeatures(test, 1)
    assert feats.shape == (23, 20)
    rec = ae.predict(test)
    assert rec.ncols == 210


def test_ctrl_c_in_train_cancels_the_job(h2o, digits, monkeypatch):
    import time as real_time

    import h2ocloud.client.jobs as jobs_mod

    train, _, x = digits
    calls = {"n": 0}

    def interrupting_sleep(s):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        real_time.sleep(s)

    monkeypatch.setattr(jobs_mod.time, "sleep", interrupting_sleep)
    with pytest.raises(KeyboardInterrupt):
        h2o.H2ODeepLearningEstimator(hidden=[100, 100], epochs=100000, model_id="interrupted").train(
            x=x, y="label", training_frame=train)
    monkeypatch.undo()
    deadline = real_time.time() + 20
    while real_time.time() < deadline:
        job = next(j for j in h2o.list_jobs() if j["dest"] == "interrupted")
        if job["status"] != "RUNNING":
            break
        real_time.sleep(0.1)
    assert job["status"] == "CANCELLED"
