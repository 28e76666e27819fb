"""H2O-3's categorical_encoding through the client, on one node and on three: each encoding
gives the factor the units H2O-3 gives it, trains, predicts (an unseen level too), and the
numpy export scores as the cloud does."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from h2ocloud.dl.categorical import encoding_table, level_stats


@pytest.fixture(params=["cloud1", "cloud3"])
def h2o(request):
    import h2ocloud

    h2ocloud.init(url=request.getfixturevalue(request.param).nodes[0].url)
    return h2ocloud


LEVELS = [f"L{i:02d}" for i in range(12)]


def _data(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.choice(LEVELS, n, p=np.r_[np.full(4, 0.15), np.full(8, 0.05)])
    effect = {lvl: (i % 3) - 1.0 for i, lvl in enumerate(LEVELS)}
    x = rng.normal(size=n)
    score = x + 1.5 * np.array([effect[v] for v in g])
    return pd.DataFrame({"g": g, "x": x, "y": np.where(score > 0, "yes", "no")})


def _frame(h2o, df):
    fr = h2o.H2OFrame(df)
    for c in ("g", "y"):
        fr[c] = fr[c].asfactor()
    return fr


# encoding -> units the 12-level factor gets
UNITS = {"AUTO": 12, "one_hot_explicit": 12, "Binary": 4, "LabelEncoder": 1, "Eigen": 1,
         "EnumLimited": 11, "sort_by_response": 11}


@pytest.mark.slow
@pytest.mark.parametrize("encoding", sorted(UNITS))
def test_each_encoding_trains_predicts_and_exports(h2o, encoding, tmp_path):
    train, test = _data(600, 1), _data(80, 2)
    test.loc[0, "g"] = "never-seen"
    tr, te = _frame(h2o, train), _frame(h2o, test)
    m = h2o.H2ODeepLearningEstimator(hidden=[6], epochs=5, seed=4, reproducible=True,
                                     categorical_encoding=encoding,
                                     use_all_factor_levels=encoding != "sort_by_response")
    m.train(x=["g", "x"], y="y", training_frame=tr)
    names = list(m.weights(0).columns)
    assert len(names) == UNITS[encoding] + 1 and names[-1] == "x", names
    err = m.model_performance(te).classification_error()
    assert err < 0.4, (encoding, err)  # chance is 0.5
    pred = m.predict(te).as_data_frame()
    assert pred["predict"].notna().all()
    # The numpy export scores exactly as the cloud does (the encoding folded into layer 0).
    py = m.download_python(str(tmp_path))
    spec = importlib.util.spec_from_file_location(Path(py).stem, py)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    got = mod.predict(test)
    np.testing.assert_allclose(got["yes"].to_numpy(), pred["yes"].to_numpy(), rtol=1e-4, atol=1e-5)


def test_sort_by_response_orders_levels_by_mean_response(h2o):
    df = _data(600, 3)
    m = h2o.H2ODeepLearningEstimator(hidden=[3], epochs=1, seed=1, categorical_encoding="SortByResponse",
                                     use_all_factor_levels=False)
    m.train(x=["g", "x"], y="y", training_frame=_frame(h2o, df))
    units = [n.removeprefix("g.") for n in m.weights(0).columns if n.startswith("g.")]
    rate = df.assign(t=df["y"] == "yes").groupby("g")["t"].mean().sort_values(kind="stable")
    assert units == list(rate.index[1:])  # the level of lowest mean response is implicit


def test_bad_encoding_is_refused_by_name(h2o):
    fr = _frame(h2o, _data(50, 4))
    with pytest.raises(Exception, match="categorical_encoding"):
        h2o.H2ODeepLearningEstimator(hidden=[2], epochs=1, categorical_encoding="Hashing").train(
            x=["g", "x"], y="y", training_frame=fr)
    with pytest.raises(Exception, match="categorical_encoding"):
        h2o.H2OAutoEncoderEstimator(hidden=[2], epochs=1, categorical_encoding="Binary").train(
            x=["g", "x"], training_frame=fr)


def test_tables_are_standardized_over_the_training_rows():
    stats = level_stats(np.array([0, 0, 1, 2, 2, 2, -1]), 3, None)
    for enc in ("Binary", "LabelEncoder", "Eigen"):
        table, _ = encoding_table(enc, 3, stats)
        t = np.asarray(table)
        rows = t[[0, 0, 1, 2, 2, 2]]
        np.testing.assert_allclose(rows.mean(axis=0), 0.0, atol=1e-12)
        np.testing.assert_allclose(rows.std(axis=0)[rows.std(axis=0) > 0], 1.0)
    bits, suffixes = encoding_table("Binary", 3, stats)
    assert len(suffixes) == 2  # codes 1..3 in two bits
