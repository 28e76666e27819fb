"""Issue 10: the booklet as a user types it. Each case here corrupted data or was silently
ignored before; every test runs through the client against a real daemon."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def _rare_level_frame(h2o):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"c": ["a"] * 38 + ["b", "c"], "v": rng.normal(size=40),
                       "y": ["yes", "no"] * 20})
    return h2o.H2OFrame(df), df


def test_split_frame_parts_keep_the_parents_domain(h2o):
    fr, df = _rare_level_frame(h2o)
    parts = fr.split_frame([0.5], seed=2)
    assert any("b" not in set(p.as_data_frame()["c"]) or "c" not in set(p.as_data_frame()["c"]) for p in parts)
    got = []
    for p in parts:
        assert p.levels()[0] == ["a", "b", "c"]
        local = p.as_data_frame()  # failed: "level 'b' of a chunk is not in the frame's domain"
        assert list(local["c"].cat.categories) == ["a", "b", "c"]
        got += list(local["c"].astype(str))
    assert sorted(got) == sorted(df["c"])
    # training and prediction on a part that lacks a level
    m = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=2, seed=1)
    m.train(x=["c", "v"], y="y", training_frame=parts[0])
    assert m.predict(parts[1]).nrows == parts[1].nrows


def test_every_derived_frame_keeps_the_domain(h2o):
    fr, _ = _rare_level_frame(h2o)
    part = fr.split_frame([0.5], seed=2)[0]
    sel = part[["c"]]
    assert sel.levels() == [["a", "b", "c"]]
    sel.as_data_frame()
    num = part[["v"]].asfactor()          # a column just made a factor: the levels its rows hold
    assert num.levels()[0] == sorted(num.levels()[0]) and len(num.levels()[0]) == part.nrows
    conv = part.asnumeric()               # conversion of other columns leaves the factor's domain
    assert conv.types["v"] == "real"
    part["c2"] = part["c"]                # assign keeps the source's domain
    assert part.levels()[part.columns.index("c2")] == ["a", "b", "c"]
    part.as_data_frame()


def test_prediction_keeps_the_response_domain_when_a_class_is_never_predicted(h2o):
    fr, _ = _rare_level_frame(h2o)
    m = h2o.H2ODeepLearningEstimator(hidden=[2], epochs=0.1, seed=3, rate=0.0, adaptive_rate=False,
                                     initial_weight_scale=1e-6)
    m.train(x=["v"], y="c", training_frame=fr)
    pred = m.predict(fr)
    assert pred.levels()[0] == ["a", "b", "c"]
    pred.as_data_frame()


def test_probability_columns_of_integer_levels_are_p0_p1(h2o):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["y"] = (X[:, 0] > 0).astype(int)
    fr = h2o.H2OFrame(df)
    fr["y"] = fr["y"].asfactor()
    m = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=2, seed=1)
    m.train(x=["a", "b", "c"], y="y", training_frame=fr)
    pred = m.predict(fr)
    assert pred.columns == ["predict", "p0", "p1"]
    assert pred["p1"].as_data_frame()["p1"].between(0, 1).all()
    # other levels keep their names
    fr2, _ = _rare_level_frame(h2o)
    m2 = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=1, seed=1)
    m2.train(x=["v"], y="y", training_frame=fr2)
    assert m2.predict(fr2).columns == ["predict", "no", "yes"]


def test_x_and_y_by_position(h2o):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 3))
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["label"] = np.where(X[:, 1] > 0, "u", "v")
    fr = h2o.H2OFrame(df)
    m = h2o.deeplearning(x=[0, 1], y=3, training_frame=fr, hidden=[3], epochs=1, seed=1)
    assert m.summary_json()["x"] == ["a", "b"] and m.summary_json()["response_column"] == "label"
    m2 = h2o.H2ODeepLearningEstimator(hidden=[3], epochs=1, seed=1)
    m2.train(x=range(3), y=-1, training_frame=fr)
    assert m2.summary_json()["x"] == ["a", "b", "c"] and m2.summary_json()["response_column"] == "label"
    with pytest.raises(ValueError, match="'y'.*out of range"):
        h2o.deeplearning(x=[0], y=9, training_frame=fr, hidden=[3], epochs=1)


def _digits_like(h2o):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 4))
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    df["label"] = np.where(X[:, 0] + X[:, 1] > 0, "p", "q")
    return h2o.H2OFrame(df)


def test_checkpoint_as_the_booklet_calls_it(h2o):
    fr = _digits_like(h2o)
    x = ["a", "b", "c", "d"]
    base = h2o.deeplearning(x=x, y="label", data=fr, validation=fr, hidden=[16, 16],
                            activation="Rectifier", epochs=2, seed=1)
    # a model object as checkpoint; hidden/activation are taken from it; epochs is the total
    more = h2o.deeplearning(x=x, y="label", data=fr, validation=fr, checkpoint=base, epochs=5)
    assert more.params["hidden"] == [16, 16] and more.params["activation"] == "Rectifier"
    assert more.epochs_trained == pytest.approx(5.0)
    assert more.samples_trained == pytest.approx(5 * fr.nrows, abs=1)
    # its id, as the estimator form
    est = h2o.H2ODeepLearningEstimator(checkpoint=more.model_id, epochs=6)
    est.train(x=x, y="label", training_frame=fr)
    assert est.epochs_trained == pytest.approx(6.0)
    with pytest.raises(ValueError, match="'hidden'"):
        h2o.H2ODeepLearningEstimator(checkpoint=base, hidden=[32], epochs=9).train(
            x=x, y="label", training_frame=fr)
    with pytest.raises(ValueError, match="'epochs'"):
        h2o.deeplearning(x=x, y="label", data=fr, checkpoint=base, epochs=1)


def test_mini_batch_refused_and_layout_hints_warn(h2o):
    fr = _digits_like(h2o)
    with pytest.raises(ValueError, match="mini_batch_size"):
        h2o.deeplearning(x=["a"], y="label", data=fr, hidden=[2], epochs=1, mini_batch_size=8)
    with pytest.warns(UserWarning, match="'sparse'.*changes nothing"):
        h2o.deeplearning(x=["a"], y="label", data=fr, hidden=[2], epochs=1, sparse=True)
    with pytest.warns(UserWarning, match="'col_major'"):
        h2o.deeplearning(x=["a"], y="label", data=fr, hidden=[2], epochs=1, col_major=True)


def test_temporary_frames_are_freed_and_named_ones_stay(h2o):
    import gc
    import time

    fr = h2o.H2OFrame(pd.DataFrame({"a": [1, 2, 3, 1] * 5, "b": np.arange(20.0)}),
                      destination_frame="issue10_named.hex")
    sel = fr[["a"]]
    fac = sel.asfactor()
    parts = fr.split_frame([0.5], seed=1)
    kept = fr[["b"]]
    again = h2o.get_frame(kept.frame_id)      # a second handle of the same temporary
    named = h2o.assign(fr[["a", "b"]], "issue10_assigned.hex")
    temps = [sel.frame_id, fac.frame_id] + [p.frame_id for p in parts]
    assert set(temps) <= set(h2o.ls())
    del sel, fac, parts, kept
    gc.collect()
    deadline = time.time() + 10
    while time.time() < deadline and set(temps) & set(h2o.ls()):
        time.sleep(0.2)
    keys = set(h2o.ls())
    assert not set(temps) & keys, "dropped temporaries are still in the cloud"
    assert {"issue10_named.hex", "issue10_assigned.hex", again.frame_id} <= keys
    assert named.frame_id == "issue10_assigned.hex"
    again_id = again.frame_id
    del again
    gc.collect()
    deadline = time.time() + 10
    while time.time() < deadline and again_id in h2o.ls():
        time.sleep(0.2)
    assert again_id not in h2o.ls()
    h2o.remove(fr)
    h2o.remove("issue10_assigned.hex")


def test_predictions_are_temporary_too(h2o):
    import gc
    import time

    fr = _digits_like(h2o)
    m = h2o.deeplearning(x=["a", "b"], y="label", data=fr, hidden=[2], epochs=1, seed=1)
    pid = m.predict(fr).frame_id
    gc.collect()
    deadline = time.time() + 10
    while time.time() < deadline and pid in h2o.ls():
        time.sleep(0.2)
    assert pid not in h2o.ls()


def test_quiet_mode_silences_client_and_node_progress(h2o, cloud1, monkeypatch):
    import io
    import sys

    fr = _digits_like(h2o)

    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = {}
    for quiet in (False, True):
        err = Tty()
        monkeypatch.setattr(sys, "stderr", err)
        m = h2o.deeplearning(x=["a", "b"], y="label", data=fr, hidden=[64, 64], epochs=200,
                             train_samples_per_iteration=20, seed=1, quiet_mode=quiet,
                             model_id=f"issue10_quiet_{quiet}")
        out[quiet] = (err.getvalue(), m.model_id)
    monkeypatch.undo()
    log = cloud1.nodes[0].log()
    assert "|" in out[False][0] and out[True][0] == ""
    import re

    assert re.search(r"issue10_quiet_False\s*: iteration \d+", log)
    assert not re.search(r"issue10_quiet_True\s*: iteration", log)


def test_remove_all():
    import h2ocloud as h2o
    from tests.cloudfixture import start_cloud

    with start_cloud(1) as cloud:  # its own node: the shared one holds other tests' frames
        h2o.init(url=cloud.nodes[0].url)
        fr = _digits_like(h2o)
        h2o.deeplearning(x=["a"], y="label", data=fr, hidden=[2], epochs=1, nfolds=2)
        assert len(h2o.ls()) >= 4
        h2o.remove_all()
        assert h2o.ls() == []


def test_best_model_key_max_confusion_matrix_size_force_load_balance(h2o, cloud1):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 4))
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    df["label"] = np.array(list("pqrs"))[(X[:, 0] > 0) * 2 + (X[:, 1] > 0)]
    fr = h2o.H2OFrame(df)
    assert fr._header["nchunks"] == 1
    tr, va = fr.split_frame([0.5], seed=1)
    m = h2o.H2ODeepLearningEstimator(hidden=[16], epochs=30, seed=2, score_interval=0,
                                     score_duty_cycle=1.0, train_samples_per_iteration=50,
                                     best_model_key="issue10_best", max_confusion_matrix_size=3,
                                     override_with_best_model=False, rate=0.5, adaptive_rate=False)
    m.train(x=["a", "b", "c", "d"], y="label", training_frame=tr, validation_frame=va)
    best = h2o.get_model("issue10_best")
    errors = m.scoring_history()["validation_classification_error"]
    assert best.classification_error(valid=True) == pytest.approx(errors.min())
    # 4 classes > max_confusion_matrix_size=3: no matrix reported, the reason instead
    assert m.confusion_matrix(valid=True) is None
    assert "max_confusion_matrix_size" in m.summary_json()["validation_metrics"]["confusion_matrix_omitted"]
    assert m.model_performance(va).confusion_matrix() is None
    m4 = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=1, seed=2)
    m4.train(x=["a", "b"], y="label", training_frame=tr, validation_frame=va)
    assert m4.confusion_matrix(valid=True).shape[0] == 4
    # force_load_balance (the default): a 1-chunk frame is cut into a chunk per core
    cores = sum(n["nthreads"] or n["cores"] for n in h2o.cluster().nodes)
    assert m4.summary_json()["training_chunks"] >= cores
    off = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=1, seed=2, force_load_balance=False)
    off.train(x=["a", "b"], y="label", training_frame=tr)
    assert off.summary_json()["training_chunks"] == 1
    assert not [k for k in h2o.ls() if "_rebalanced-" in k]  # the copy is removed after training


def test_demo_runs_the_booklets_examples_on_shipped_data(cloud1, tmp_path):
    """`h2ocloud demo` needs no ../shared: the package ships ECG, weather and MNIST rows."""
    import re
    import subprocess
    import sys
    import time

    from tests.conftest import REPO

    t = time.time()
    out = subprocess.run([sys.executable, "-m", "h2ocloud", "demo", "--url", cloud1.nodes[0].url],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    wall = time.time() - t
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout
    assert "weather.hex: 355 rows x 24 columns" in text
    assert "train 2500 rows, test 1000 rows" in text
    err = float(re.search(r"test classification error: ([0-9.]+)%", text).group(1))
    assert err < 20.0
    assert "Error" in text and "Rate" in text  # the confusion matrix
    top3 = [int(r) for r in re.findall(r"^\s+[123]\. row\s+(\d+)", text, re.M)]
    assert sorted(top3) == [21, 22, 23]
    assert f"web console: {cloud1.nodes[0].url}/" in text
    assert wall < 60, wall
