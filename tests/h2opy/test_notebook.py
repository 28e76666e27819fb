"""Notebook and terminal display (issue 12): tqdm.auto progress bars, no_progress/show_progress,
and frames, models, metrics and grids as aligned text and as HTML tables (_repr_html_)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def binomial_frame(h2o):
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=300), rng.normal(size=300)
    fr = h2o.H2OFrame(pd.DataFrame({"a": a, "b": b, "y": (a + b > 0).astype(int)}))
    fr["y"] = fr["y"].asfactor()
    return fr


def _train(h2o, fr, **kw):
    m = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=2, seed=1, **kw)
    return m.train(x=["a", "b"], y="y", training_frame=fr, validation_frame=fr)


def test_progress_bar_is_tqdm_and_no_progress_turns_it_off(h2o, binomial_frame, capsys):
    from h2ocloud.client import jobs

    assert not jobs.in_notebook()  # no Jupyter kernel here: tqdm.auto draws text
    _train(h2o, binomial_frame)  # default: stderr is not a terminal (captured), so no bar in a log
    assert capsys.readouterr().err == ""
    m = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=2, seed=1)
    m.train(x=["a", "b"], y="y", training_frame=binomial_frame, progress=True)
    err = capsys.readouterr().err
    assert "100%|" in err and "█" in err  # tqdm's bar, completed
    h2o.no_progress()
    try:
        m.train(x=["a", "b"], y="y", training_frame=binomial_frame, progress=True)
        assert capsys.readouterr().err == ""
    finally:
        h2o.show_progress()
    m.train(x=["a", "b"], y="y", training_frame=binomial_frame, progress=True)
    assert "100%|" in capsys.readouterr().err


def test_model_metrics_grid_and_frame_render_as_text_and_html(h2o, binomial_frame):
    m = _train(h2o, binomial_frame)
    text = str(m)
    assert "Model Details: H2ODeepLearningEstimator" in text
    assert "ModelMetricsBinomial on training data" in text and "on validation data" in text
    assert "Status of Neuron Layers" in text and "Scoring History" in text
    # aligned: the metric table's value column ends at the same place on every line
    block = text.split("ModelMetricsBinomial on training data")[1].split("\n\n")[0].strip("\n").splitlines()[1:]
    assert len(block) >= 5 and len({len(line) for line in block}) == 1
    html = m._repr_html_()
    assert html.count("<table") == 5 and "<td>logloss</td>" in html and "Scoring History" in html
    perf = m.model_performance(binomial_frame)
    assert "<td>auc</td>" in perf._repr_html_() and "auc" in str(perf._table())

    g = h2o.H2OGridSearch(h2o.H2ODeepLearningEstimator(epochs=1, seed=1), {"hidden": [[2], [3]]},
                          grid_id=f"nb_grid_{id(binomial_frame)}")
    g.train(x=["a", "b"], y="y", training_frame=binomial_frame)
    gtext = str(g)
    assert "Hyper-Parameter Search Summary" in gtext and gtext.count("nb_grid_") >= 2
    ghtml = g._repr_html_()
    assert ghtml.count("<tr>") == 3 and "model_ids" in ghtml  # header + one row per model

    ftext, fhtml = str(binomial_frame), binomial_frame._repr_html_()
    assert "300 rows x 3 columns" in ftext and fhtml.count("<tr>") == 11  # header + 10 rows
