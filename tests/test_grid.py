"""Grid search (issue 11) through real daemons: cartesian, random, failures, resume, R form."""

from __future__ import annotations

import json
import urllib.request

import numpy as np
import pandas as pd
import pytest

from h2ocloud.errors import NotFound


def _small_frame(h2o, name: str):
    """Two separable classes in 4 numeric columns: models train in a fraction of a second."""
    rng = np.random.default_rng(3)
    n = 400
    X = rng.normal(size=(n, 4))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, "a", "b")
    df = pd.DataFrame(X, columns=["c0", "c1", "c2", "c3"])
    df["y"] = y
    fr = h2o.H2OFrame(df, destination_frame=f"{name}.hex")
    fr["y"] = fr["y"].asfactor()
    return fr.split_frame([0.75], seed=1, destination_frames=[f"{name}_tr.hex", f"{name}_va.hex"])


@pytest.fixture(scope="module")
def small(cloud1):
    import h2ocloud as h2o

    h2o.init(url=cloud1.nodes[0].url)
    return _small_frame(h2o, "gridsmall")


X = ["c0", "c1", "c2", "c3"]


def test_cartesian_2x2_trains_four_and_sorts(h2o, small):
    tr, va = small
    g = h2o.H2OGridSearch(h2o.H2ODeepLearningEstimator(epochs=2, seed=1, reproducible=True),
                          hyper_params={"hidden": [[4], [8, 8]], "l1": [1e-5, 1e-2]}, grid_id="g_cart")
    g.train(x=X, y="y", training_frame=tr, validation_frame=va)
    assert len(g.model_ids) == 4 and g.failed_params == []
    combos = {(tuple(g.get_hyperparams_dict(i, display=False)["hidden"]),
               g.get_hyperparams_dict(i, display=False)["l1"]) for i in range(4)}
    assert combos == {((4,), 1e-5), ((4,), 1e-2), ((8, 8), 1e-5), ((8, 8), 1e-2)}
    s = g.get_grid(sort_by="logloss", decreasing=False)
    ll = [m.logloss(valid=True) for m in s.models]
    assert ll == sorted(ll)  # validation metrics, best first
    table = s.sorted_metric_table()
    assert list(table.columns) == ["hidden", "l1", "model_ids", "logloss"]
    assert list(table["logloss"]) == pytest.approx(ll)
    auc = h2o.get_grid("g_cart").get_grid(sort_by="auc")
    aucs = [m.auc(valid=True) for m in auc.models]
    assert aucs == sorted(aucs, reverse=True)  # more is better: decreasing by default
    assert s.get_hyperparams(0, display=False) == [list(table["hidden"][0]), table["l1"][0]]
    # Each model carries its own hyper-parameters.
    m0 = s.models[0]
    assert m0.params["hidden"] == list(table["hidden"][0]) and m0.params["l1"] == table["l1"][0]


def test_random_discrete_respects_max_models(h2o, small):
    tr, va = small
    g = h2o.H2OGridSearch(h2o.H2ODeepLearningEstimator(epochs=1, hidden=[4]),
                          hyper_params={"l1": [0, 1e-5, 1e-4, 1e-3], "rho": [0.9, 0.95, 0.99]},
                          search_criteria={"strategy": "RandomDiscrete", "max_models": 3, "seed": 7},
                          grid_id="g_rand")
    g.train(x=X, y="y", training_frame=tr, validation_frame=va)
    assert len(g.model_ids) == 3
    hypers = [json.dumps(g.get_hyperparams_dict(i, display=False)) for i in range(3)]
    assert len(set(hypers)) == 3


def test_random_discrete_respects_max_runtime_secs(h2o, small):
    tr, _ = small
    g = h2o.H2OGridSearch(h2o.H2ODeepLearningEstimator(epochs=500, hidden=[16]),
                          hyper_params={"l1": [0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2], "l2": [0, 1e-5, 1e-3]},
                          search_criteria={"strategy": "RandomDiscrete", "max_runtime_secs": 1.0, "seed": 1},
                          grid_id="g_time")
    import time

    t0 = time.time()
    g.train(x=X, y="y", training_frame=tr)
    assert time.time() - t0 < 15
    assert 1 <= len(g.model_ids) < 18


def test_failing_combination_lands_in_failures(h2o, small):
    tr, va = small
    g = h2o.H2OGridSearch(h2o.H2ODeepLearningEstimator(epochs=1, activation="TanhWithDropout"),
                          hyper_params={"hidden": [[4], [4, 4]], "hidden_dropout_ratios": [[0.1]]},
                          grid_id="g_fail")
    g.train(x=X, y="y", training_frame=tr, validation_frame=va)
    assert len(g.model_ids) == 1
    assert g.failed_params == [{"hidden": [4, 4], "hidden_dropout_ratios": [0.1]}]
    assert "hidden_dropout_ratios" in g.failure_details[0]
    assert "Traceback" in g.failure_stack_traces[0]


def test_bad_hyper_parameter_refused_before_training(h2o, small):
    tr, _ = small
    with pytest.raises(ValueError, match="rho"):
        h2o.H2OGridSearch(h2o.H2ODeepLearningEstimator(epochs=1), {"rho": [0.99, 1.5]},
                          grid_id="g_bad").train(x=X, y="y", training_frame=tr)
    with pytest.raises(ValueError, match="did you mean 'l1'"):
        h2o.H2OGridSearch(h2o.H2ODeepLearningEstimator(epochs=1), {"l11": [0.1]},
                          grid_id="g_bad").train(x=X, y="y", training_frame=tr)
    with pytest.raises(ValueError, match="strategy"):
        h2o.H2OGridSearch(h2o.H2ODeepLearningEstimator(epochs=1), {"l1": [0.1]}, grid_id="g_bad",
                          search_criteria={"strategy": "Bogus"}).train(x=X, y="y", training_frame=tr)
    with pytest.raises(NotFound):
        h2o.get_grid("g_bad")  # nothing was built


def test_resume_adds_only_missing_models(h2o, small):
    tr, _ = small
    est = h2o.H2ODeepLearningEstimator(epochs=1, hidden=[4])
    g1 = h2o.H2OGridSearch(est, {"l1": [0, 1e-4]}, grid_id="g_resume").train(x=X, y="y", training_frame=tr)
    first = set(g1.model_ids)
    g2 = h2o.H2OGridSearch(est, {"l1": [0, 1e-4, 1e-3]}, grid_id="g_resume").train(x=X, y="y", training_frame=tr)
    assert len(g2.model_ids) == 3 and first <= set(g2.model_ids)
    jobs = [j for j in h2o.list_jobs() if j["dest"] == "g_resume"]
    assert jobs[-1]["info"]["models_total"] == 1  # the second run built one model only


def test_r_form_returns_the_grid_and_rest(h2o, small, cloud1):
    tr, va = small
    g = h2o.deeplearning(x=X, y="y", training_frame=tr, validation_frame=va, epochs=1,
                         hidden=[[4], [3, 3]], l1=[1e-5, 1e-7], grid_id="g_rform")
    assert isinstance(g, h2o.H2OGridSearch) and len(g.model_ids) == 4
    base = cloud1.nodes[0].url
    with urllib.request.urlopen(f"{base}/3/Grids") as r:
        grids = json.loads(r.read())["grids"]
    assert any(x["grid_id"] == "g_rform" and x["models"] == 4 for x in grids)
    with urllib.request.urlopen(f"{base}/3/Grids/g_rform?sort_by=logloss") as r:
        body = json.loads(r.read())
    assert body["hyper_names"] == ["hidden", "l1"] and len(body["models"]) == 4
    assert {"model_id", "hyper", "metrics"} <= set(body["models"][0])
    try:
        urllib.request.urlopen(f"{base}/3/Grids/nope")
        raise AssertionError("expected 404")
    except urllib.error.HTTPError as e:
        assert e.code == 404 and "nope" in json.loads(e.read())["error"]


def test_grid_on_three_nodes_in_parallel(cloud3):
    import h2ocloud as h2o

    h2o.init(url=cloud3.nodes[0].url)
    tr, va = _small_frame(h2o, "grid3")
    g = h2o.H2OGridSearch(h2o.H2ODeepLearningEstimator(epochs=1, hidden=[4]),
                          {"l1": [0, 1e-5, 1e-4], "rho": [0.9, 0.99]}, grid_id="g_three", parallelism=3)
    g.train(x=X, y="y", training_frame=tr, validation_frame=va)
    assert len(g.model_ids) == 6 and not g.failed_params
    drivers = {m["node"] for m in g._data["models"]}
    assert len(drivers) >= 2  # different models trained from different nodes
    # The grid is a DKV value: every node sees it.
    for node in cloud3.nodes[1:]:
        h2o.init(url=node.url)
        assert sorted(h2o.get_grid("g_three").model_ids) == sorted(g.model_ids)


def test_cancel_keeps_built_models_and_job_shows_progress(h2o, small):
    import time

    tr, _ = small
    conn = h2o.connection()
    result, _ = conn.call("grids.train", {
        "params": {"epochs": 300, "hidden": [16]}, "hyper_params": {"l1": [0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2]},
        "grid_id": "g_cancel", "x": X, "y": "y", "training_frame": tr.frame_id})
    job_id = result["job"]["job_id"]
    deadline = time.time() + 60
    while time.time() < deadline:
        job, _ = conn.call("jobs.get", {"job_id": job_id, "wait_s": 0.2})
        if job["info"].get("models_done", 0) >= 1:
            break
    assert job["info"]["models_total"] == 6 and "models done" in job["progress_msg"]
    h2o.cancel_job(job_id)
    job, _ = conn.call("jobs.get", {"job_id": job_id, "wait_s": 30})
    assert job["status"] == "CANCELLED"
    g = h2o.get_grid("g_cancel")
    assert 1 <= len(g.model_ids) < 6 and g._data["status"] == "CANCELLED"
    for m in g.models:
        assert m.epochs_trained == pytest.approx(300)
