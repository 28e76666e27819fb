"""Plots as h2o-py 3.46 draws them (issue 12): m.plot(metric=...), m.varimp_plot(),
m.learning_curve_plot(), h2o.plot_anomaly() / m.plot_anomaly(). Each is written to a PNG and
checked to hold the plotted series: the figure's lines carry the model's numbers, and the PNG
has the lines' colour in it."""

from __future__ import annotations

import os
import shutil
import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")  # the plot extra; installed by the test extra

KEEP = os.environ.get("H2OCLOUD_KEEP_PLOTS")  # a folder to copy the PNGs to, to look at them


@pytest.fixture
def frame(h2o):
    rng = np.random.default_rng(5)
    a, b, c = rng.normal(size=(3, 400))
    df = pd.DataFrame({"a": a, "b": b, "c": c, "y": (a + 0.3 * b > 0).astype(int)})
    fr = h2o.H2OFrame(df)
    fr["y"] = fr["y"].asfactor()
    return fr


def _png_has_colour(path, rgb, min_pixels=50):
    import matplotlib.image as mpimg

    img = mpimg.imread(path)[..., :3]
    close = np.abs(img - np.array(rgb) / 255.0).max(axis=-1) < 0.08
    return int(close.sum()) >= min_pixels


def _keep(path):
    if KEEP:
        os.makedirs(KEEP, exist_ok=True)
        shutil.copy(path, KEEP)


TAB_BLUE, TAB_ORANGE, TAB_GREEN = (31, 119, 180), (255, 127, 14), (44, 160, 44)


def test_scoring_history_plot(h2o, frame, tmp_path):
    m = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=4, seed=1, score_each_iteration=True,
                                     train_samples_per_iteration=200)
    m.train(x=["a", "b", "c"], y="y", training_frame=frame, validation_frame=frame)
    path = tmp_path / "scoring_history.png"
    res = m.plot(metric="logloss", server=True, save_plot_path=str(path))
    fig = res.figure()
    hist = m.scoring_history()
    (ax,) = fig.axes
    train, valid = ax.get_lines()
    np.testing.assert_allclose(train.get_xdata(), hist["epochs"])
    np.testing.assert_allclose(train.get_ydata(), hist["training_logloss"])
    np.testing.assert_allclose(valid.get_ydata(), hist["validation_logloss"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Training", "Validation"]
    assert ax.get_xlabel() == "epochs" and ax.get_ylabel() == "logloss"
    assert len(hist) >= 3 and path.stat().st_size > 10_000
    assert _png_has_colour(path, TAB_BLUE) and _png_has_colour(path, TAB_ORANGE)
    _keep(path)
    by_samples = m.plot(timestep="samples", metric="classification_error", server=True).figure()
    np.testing.assert_allclose(by_samples.axes[0].get_lines()[0].get_xdata(), hist["samples"])
    auto = m.plot(server=True).figure().axes[0]
    assert auto.get_ylabel() == "logloss"  # AUTO for a classifier
    with pytest.raises(h2o.exceptions.H2OValueError, match="metric must be one of") as e:
        m.plot(metric="gini", server=True)
    assert e.value.var_name == "metric"


def test_varimp_plot(h2o, frame, tmp_path):
    m = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=3, seed=1, variable_importances=True)
    m.train(x=["a", "b", "c"], y="y", training_frame=frame)
    path = tmp_path / "varimp.png"
    fig = m.varimp_plot(server=True, save_plot_path=str(path)).figure()
    bars = fig.axes[0].patches
    vi = m.varimp()
    # most important on top: barh draws bottom-up, so the bars are the table reversed
    assert [p.get_width() for p in bars] == pytest.approx([r[2] for r in vi][::-1])
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [r[0] for r in vi][::-1]
    assert _png_has_colour(path, TAB_BLUE, 500)
    _keep(path)
    assert len(m.varimp_plot(num_of_features=2, server=True).figure().axes[0].patches) == 2
    plain = h2o.H2ODeepLearningEstimator(hidden=[2], epochs=1, seed=1)
    plain.train(x=["a", "b"], y="y", training_frame=frame)
    with pytest.raises(ValueError, match="variable_importances=True"):
        plain.varimp_plot(server=True)


@pytest.mark.slow
def test_learning_curve_plot_with_cross_validation(h2o, frame, tmp_path):
    m = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=4, seed=1, nfolds=3, score_each_iteration=True,
                                     train_samples_per_iteration=200)
    m.train(x=["a", "b", "c"], y="y", training_frame=frame)
    path = tmp_path / "learning_curve.png"
    fig = m.learning_curve_plot(save_plot_path=str(path), server=True).figure()
    ax = fig.axes[0]
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert set(lines) == {"Training", "Cross-validation"}
    hist = m.scoring_history()
    np.testing.assert_allclose(lines["Training"].get_ydata(), hist["training_logloss"])
    folds = [f.scoring_history() for f in m.cross_validation_models()]
    x = lines["Cross-validation"].get_xdata()
    want = np.mean([np.interp(x, f["epochs"], f["validation_logloss"]) for f in folds], axis=0)
    np.testing.assert_allclose(lines["Cross-validation"].get_ydata(), want)
    assert len(ax.collections) == 1  # the mean +- sd ribbon
    assert _png_has_colour(path, TAB_BLUE) and _png_has_colour(path, TAB_GREEN)
    _keep(path)
    with_lines = m.learning_curve_plot(cv_ribbon=False, cv_lines=True, server=True).figure().axes[0]
    assert sum(ln.get_label() == "Cross-validation folds" for ln in with_lines.get_lines()) == 1
    assert len(with_lines.get_lines()) == 2 + 3  # training, cv mean, three folds


def test_anomaly_plot_is_the_booklets_plot_ts(h2o, tmp_path):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 3))
    x[[40, 200]] += 6  # two outliers the reconstruction error shows as spikes
    fr = h2o.H2OFrame(pd.DataFrame(x, columns=["p", "q", "r"]))
    ae = h2o.H2OAutoEncoderEstimator(activation="Tanh", hidden=[2], epochs=20, seed=1)
    ae.train(x=["p", "q", "r"], training_frame=fr)
    errors = ae.anomaly(fr)
    path = tmp_path / "anomaly.png"
    fig = h2o.plot_anomaly(errors, server=True, save_plot_path=str(path)).figure()
    (line,) = fig.axes[0].get_lines()
    want = errors.as_data_frame()["Reconstruction.MSE"].to_numpy()
    np.testing.assert_allclose(line.get_ydata(), want)
    np.testing.assert_array_equal(line.get_xdata(), np.arange(300))
    assert set(np.argsort(want)[-2:]) == {40, 200}
    assert fig.axes[0].get_ylabel() == "Reconstruction.MSE"
    assert _png_has_colour(path, TAB_BLUE)
    _keep(path)
    same = ae.plot_anomaly(fr, server=True).figure()
    np.testing.assert_allclose(same.axes[0].get_lines()[0].get_ydata(), want)
    np.testing.assert_allclose(h2o.plot_anomaly(want, server=True).figure().axes[0].get_lines()[0].get_ydata(), want)


def test_missing_matplotlib_is_a_clear_error(h2o, monkeypatch):
    from h2ocloud.plot import get_matplotlib_pyplot

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'h2ocloud\[plot\]'"):
        get_matplotlib_pyplot(server=True)
    with pytest.raises(ImportError, match="optional 'plot' extra"):
        h2o.plot_anomaly([0.1, 0.2], server=True)


def test_plot_result_is_h2o_py_s():
    from h2ocloud.plot import decorate_plot_result, is_decorated_plot_result

    r = decorate_plot_result(figure="fig")
    assert r.figure() == "fig" and is_decorated_plot_result(r)
    lst = decorate_plot_result([1, 2], figure="f2")
    assert lst == [1, 2] and isinstance(lst, list) and lst.figure() == "f2"
