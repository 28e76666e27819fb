"""H2O-3's regression distributions through the client, on one node and on three: each trains
toward its own target (the mean, a quantile, the median, a rate through the log link), reports
its own deviance, and a response the family cannot model is refused naming the parameter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from h2ocloud.dl.metrics import deviance


@pytest.fixture(params=["cloud1", "cloud3"])
def h2o(request):
    import h2ocloud

    cloud = request.getfixturevalue(request.param)
    h2ocloud.init(url=cloud.nodes[0].url)
    return h2ocloud


def _frame(h2o, n: int = 1200, seed: int = 0):
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b", "c"], n)
    rate = np.select([g == "a", g == "b"], [1.0, 4.0], 9.0)
    df = pd.DataFrame({"g": g, "x": rng.normal(size=n),
                       "count": rng.poisson(rate).astype(float),
                       "amount": rng.gamma(2.0, rate / 2.0),
                       "noisy": rate + rng.standard_t(2, n)})  # heavy tails: huber / laplace
    fr = h2o.H2OFrame(df)
    fr["g"] = fr["g"].asfactor()
    return df, fr


def _group_predictions(h2o, m, df: pd.DataFrame) -> dict[str, float]:
    grid = pd.DataFrame({"g": ["a", "b", "c"], "x": 0.0})
    fr = h2o.H2OFrame(grid)
    fr["g"] = fr["g"].asfactor()
    p = m.predict(fr).as_data_frame()["predict"].to_numpy()
    return dict(zip(grid["g"], p))


KW = dict(hidden=[8], epochs=20, seed=3, activation="Tanh", train_samples_per_iteration=0)


def test_poisson_learns_the_rates_and_reports_its_deviance(h2o):
    df, fr = _frame(h2o)
    m = h2o.H2ODeepLearningEstimator(distribution="poisson", **KW)
    m.train(x=["g", "x"], y="count", training_frame=fr)
    got = _group_predictions(h2o, m, df)
    np.testing.assert_allclose([got["a"], got["b"], got["c"]], [1.0, 4.0, 9.0], rtol=0.2)
    pred = m.predict(fr).as_data_frame()["predict"].to_numpy()
    assert (pred > 0).all()
    # The training metrics' deviance is the Poisson deviance of the model's predictions.
    want = deviance("poisson", df["count"].to_numpy(), pred).mean()
    perf = m.model_performance(fr)
    assert perf.mean_residual_deviance() == pytest.approx(want, rel=1e-3)
    assert perf.mean_residual_deviance() != pytest.approx(perf.mse(), rel=1e-3)


def test_quantile_alpha_moves_the_prediction_to_that_quantile(h2o):
    df, fr = _frame(h2o, seed=1)
    hi = h2o.H2ODeepLearningEstimator(distribution="quantile", quantile_alpha=0.9, **KW)
    hi.train(x=["g", "x"], y="amount", training_frame=fr)
    lo = h2o.H2ODeepLearningEstimator(distribution="quantile", quantile_alpha=0.1, **KW)
    lo.train(x=["g", "x"], y="amount", training_frame=fr)
    y = df["amount"].to_numpy()
    above_hi = (y > hi.predict(fr).as_data_frame()["predict"].to_numpy()).mean()
    above_lo = (y > lo.predict(fr).as_data_frame()["predict"].to_numpy()).mean()
    assert above_hi < 0.25 and above_lo > 0.75, (above_hi, above_lo)


def test_laplace_and_huber_resist_heavy_tails(h2o):
    df, fr = _frame(h2o, seed=2)
    for dist in ("laplace", "huber"):
        m = h2o.H2ODeepLearningEstimator(distribution=dist, **KW)
        m.train(x=["g", "x"], y="noisy", training_frame=fr)
        got = _group_predictions(h2o, m, df)
        np.testing.assert_allclose([got["a"], got["b"], got["c"]], [1.0, 4.0, 9.0], atol=0.8)
        if dist == "huber":  # H2O's delta: the huber_alpha quantile of |error| at the last scoring
            delta = m.summary_json()["training_metrics"]["huber_delta"]
            assert 0.2 < delta < 5.0, delta


@pytest.mark.parametrize("dist,power", [("gamma", None), ("tweedie", 1.3)])
def test_gamma_and_tweedie_fit_positive_amounts(h2o, dist, power):
    df, fr = _frame(h2o, seed=3)
    kw = {"tweedie_power": power} if power else {}
    m = h2o.H2ODeepLearningEstimator(distribution=dist, **kw, **KW)
    m.train(x=["g", "x"], y="amount", training_frame=fr)
    got = _group_predictions(h2o, m, df)
    np.testing.assert_allclose([got["a"], got["b"], got["c"]], [1.0, 4.0, 9.0], rtol=0.25)
    pred = m.predict(fr).as_data_frame()["predict"].to_numpy()
    want = deviance(dist, df["amount"].to_numpy(), pred, power or 0.0).mean()
    assert m.model_performance(fr).mean_residual_deviance() == pytest.approx(want, rel=1e-3)


def test_bad_distribution_uses_are_refused_by_name(h2o):
    df, fr = _frame(h2o, seed=4)
    fr["neg"] = fr["x"] - 10
    cases = [
        (dict(distribution="poisson"), "neg", "distribution"),   # negative counts
        (dict(distribution="gamma"), "count", "distribution"),   # zeros for gamma
        (dict(distribution="poisson"), "g", "distribution"),     # a class response
        (dict(distribution="tweedie", tweedie_power=2.5), "count", "tweedie_power"),
        (dict(loss="Huber"), "g", "loss"),                       # a regression loss on classes
    ]
    for kw, y, name in cases:
        with pytest.raises(Exception, match=name):
            h2o.H2ODeepLearningEstimator(hidden=[4], epochs=1, **kw).train(
                x=["x"], y=y, training_frame=fr)
