"""Cross-validation (nfolds): folds, fold models, pooled held-out metrics, on real daemons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import h2ocloud
from h2ocloud.dl.crossval import summary_table
from h2ocloud.dl.folds import column_fold_ids, fold_ids, stratified_fold_ids
from h2ocloud.errors import NotFound

X = [f"p{i}" for i in range(64)]


# ---- folds and the summary table ------------------------------------------------------------
def test_modulo_folds_cycle_through_the_rows():
    assert fold_ids(np.arange(7), 3, "Modulo", seed=1).tolist() == [0, 1, 2, 0, 1, 2, 0]


def test_random_folds_are_balanced_seeded_and_independent_of_the_row_set():
    rows = np.arange(50_000)
    f = fold_ids(rows, 5, "AUTO", seed=42)
    assert np.all(np.abs(np.bincount(f) - 10_000) < 400)
    assert np.array_equal(f, fold_ids(rows, 5, "Random", seed=42))
    assert not np.array_equal(f, fold_ids(rows, 5, "Random", seed=43))
    # A node that holds only some rows computes the same folds for them.
    part = rows[12_345:23_456]
    assert np.array_equal(fold_ids(part, 5, "AUTO", seed=42), f[12_345:23_456])


@pytest.mark.parametrize("nfolds, assignment", [(1, "AUTO"), (3, "Stratified"), (3, "Sorted")])
def test_fold_ids_refuse_bad_arguments(nfolds, assignment):
    with pytest.raises(ValueError):
        fold_ids(np.arange(10), nfolds, assignment, seed=1)


def test_stratified_folds_keep_class_proportions():
    y = np.array([0.0] * 90 + [1.0] * 10 + [np.nan] * 3)
    f = stratified_fold_ids(y, 5, seed=7)
    for c in (0.0, 1.0):
        counts = np.bincount(f[y == c], minlength=5)
        assert counts.max() - counts.min() <= 1 and counts.sum() == (90 if c == 0 else 10)
    assert np.all((f >= 0) & (f < 5))
    assert not np.array_equal(f, stratified_fold_ids(y, 5, seed=8))


def test_a_fold_column_names_the_folds():
    folds, names = column_fold_ids(np.array([3.0, 1.0, 3.0, 2.0]))
    assert folds.tolist() == [2, 0, 2, 1] and names == ["1", "2", "3"]
    with pytest.raises(ValueError, match="fold_column"):
        column_fold_ids(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="fold_column"):
        column_fold_ids(np.array([4, 4, 4]))


def test_summary_table_has_mean_sd_and_one_column_per_fold():
    t = summary_table([{"mse": 1.0, "auc": None}, {"mse": 3.0, "auc": 0.5}])
    assert t["metric"] == ["mse"]  # auc is missing in a fold
    assert t["mean"] == [2.0] and t["sd"] == [pytest.approx(np.sqrt(2.0))]
    assert t["cv_1_valid"] == [1.0] and t["cv_2_valid"] == [3.0]


# ---- one node ---------------------------------------------------------------------------------
def _digits_on(cloud, prefix: str):
    """sklearn's digits on ``cloud`` in 100-row chunks, split 75/25 (as test_distributed's)."""
    from tests.test_distributed import digits_frames

    h2ocloud.init(url=cloud.nodes[0].url)
    return digits_frames(prefix)


@pytest.fixture(scope="module")
def digits1(cloud1):
    return _digits_on(cloud1, "cv1")


def test_nfolds_trains_fold_models_on_the_other_folds_and_pools_their_holdout_metrics(cloud1, digits1):
    h2ocloud.init(url=cloud1.nodes[0].url)
    train, _ = digits1
    n = train.nrows
    m = h2ocloud.H2ODeepLearningEstimator(hidden=[32], epochs=4, seed=3, nfolds=3, fold_assignment="Modulo",
                                         model_id="cv_digits")
    m.train(x=X, y="label", training_frame=train)
    sizes = np.bincount(np.arange(n) % 3)

    summary = m.cross_validation_metrics_summary()
    assert list(summary.columns) == ["mean", "sd", "cv_1_valid", "cv_2_valid", "cv_3_valid"]
    assert {"classification_error", "logloss", "mse"} <= set(summary.index)

    xval = m.model_performance(xval=True)
    assert xval["nobs"] == n  # every row held out exactly once
    # Pooled error = the fold errors weighted by fold size.
    errs = summary.loc["classification_error", ["cv_1_valid", "cv_2_valid", "cv_3_valid"]].to_numpy()
    assert m.classification_error(xval=True) == pytest.approx(float(errs @ sizes / n), abs=1e-9)
    assert m.classification_error(xval=True) < 0.2
    assert set(m.logloss(train=True, xval=True)) == {"train", "xval"}

    folds = m.cross_validation_models()
    assert [f.model_id for f in folds] == ["cv_digits_cv_1", "cv_digits_cv_2", "cv_digits_cv_3"]
    for k, f in enumerate(folds):
        # Trained on the other folds (epochs count those rows), validated on its own fold.
        assert f.samples_trained / f.epochs_trained == pytest.approx(n - sizes[k], rel=1e-6)
        assert f.model_performance(valid=True)["nobs"] == sizes[k]
        assert f.classification_error(valid=True) == pytest.approx(errs[k], abs=1e-9)
    # The main model trains on every row.
    assert m.samples_trained / m.epochs_trained == pytest.approx(n, rel=1e-6)
    assert h2ocloud.get_model("cv_digits").cross_validation_metrics_summary() is not None


def test_fold_models_are_dropped_unless_kept(cloud1, digits1, tmp_path):
    h2ocloud.init(url=cloud1.nodes[0].url)
    train, _ = digits1
    m = h2ocloud.H2ODeepLearningEstimator(hidden=[8], epochs=1, seed=1, nfolds=2, model_id="cv_nokeep",
                                         keep_cross_validation_models=False)
    m.train(x=X, y="label", training_frame=train)
    assert m.cross_validation_models() is None
    assert m.model_performance(xval=True)["nobs"] == train.nrows
    with pytest.raises(NotFound):
        h2ocloud.get_model("cv_nokeep_cv_1")
    # The cross-validation results are part of the saved model.
    path = h2ocloud.save_model(m, str(tmp_path))
    h2ocloud.remove("cv_nokeep")
    loaded = h2ocloud.load_model(path)
    assert loaded.model_performance(xval=True)["nobs"] == train.nrows
    assert loaded.cross_validation_metrics_summary().equals(m.cross_validation_metrics_summary())


def test_stratified_and_fold_column_cross_validation(cloud1, digits1):
    h2ocloud.init(url=cloud1.nodes[0].url)
    train, _ = digits1
    n = train.nrows
    m = h2ocloud.H2ODeepLearningEstimator(hidden=[16], epochs=1, seed=2, nfolds=4, fold_assignment="Stratified",
                                         model_id="cv_strat")
    m.train(x=X, y="label", training_frame=train)
    assert m.model_performance(xval=True)["nobs"] == n
    labels = train.as_data_frame()["label"].astype(str).to_numpy()
    for f in m.cross_validation_models():
        # Each held-out fold holds a quarter of every class, give or take one row.
        cm = f.confusion_matrix(valid=True)
        classes = [c for c in cm.columns if c not in ("Error", "Rate")]
        held = cm[classes].sum(axis=1)
        full = np.array([np.sum(labels == c) for c in held.index])
        assert np.all(np.abs(held.to_numpy() - full / 4) <= 1)

    df = train.as_data_frame()
    df["fold"] = np.arange(n) % 3 + 1
    with_fold = h2ocloud.H2OFrame(df, destination_frame="cv_with_fold.hex")
    with_fold["label"] = with_fold["label"].asfactor()
    m = h2ocloud.H2ODeepLearningEstimator(hidden=[16], epochs=1, seed=2, fold_column="fold", model_id="cv_col")
    m.train(y="label", training_frame=with_fold)  # every column but the response and the fold column
    assert "fold" not in m.summary_json()["x"]
    assert list(m.cross_validation_metrics_summary().columns)[2:] == ["cv_1_valid", "cv_2_valid", "cv_3_valid"]
    sizes = np.bincount(np.arange(n) % 3)
    for k, f in enumerate(m.cross_validation_models()):
        assert f.model_performance(valid=True)["nobs"] == sizes[k]


def test_bad_cross_validation_requests_are_refused_naming_the_parameter(cloud1, digits1):
    h2ocloud.init(url=cloud1.nodes[0].url)
    train, test = digits1
    with pytest.raises(ValueError, match="nfolds"):
        h2ocloud.H2ODeepLearningEstimator(nfolds=3, epochs=1).train(x=X, y="label", training_frame=train,
                                                                    validation_frame=test)
    with pytest.raises(ValueError, match="nfolds"):
        h2ocloud.H2ODeepLearningEstimator(nfolds=1, epochs=1).train(x=X, y="label", training_frame=train)
    with pytest.raises(ValueError, match="fold_assignment"):
        h2ocloud.H2ODeepLearningEstimator(nfolds=2, fold_assignment="Sorted").train(
            x=X, y="label", training_frame=train)
    with pytest.raises(Exception, match="fold_assignment"):  # Stratified needs classes
        h2ocloud.H2ODeepLearningEstimator(nfolds=2, fold_assignment="Stratified", epochs=1).train(
            x=X[:5], y="p20", training_frame=train)
    with pytest.raises(ValueError, match="nfolds"):
        h2ocloud.H2ODeepLearningEstimator(nfolds=3, fold_column="label").train(x=X[:3], y="label",
                                                                             training_frame=train)
    with pytest.raises(ValueError, match="fold_column"):
        h2ocloud.H2ODeepLearningEstimator(fold_column="nope", epochs=1).train(x=X, y="label", training_frame=train)
    with pytest.raises(ValueError, match="fold_column"):
        h2ocloud.H2ODeepLearningEstimator(fold_column="p3", epochs=1).train(x=X, y="label", training_frame=train)
    tiny = h2ocloud.H2OFrame({"a": [1.0, 2.0, 3.0], "b": [0.5, 0.1, 0.9]}, destination_frame="cv_tiny.hex")
    with pytest.raises(Exception, match="nfolds"):
        h2ocloud.H2ODeepLearningEstimator(nfolds=5, fold_assignment="Modulo", hidden=[2], epochs=1).train(
            x=["a"], y="b", training_frame=tiny)
    # The node is still there and answers.
    assert h2ocloud.get_frame(train.frame_id).nrows == train.nrows


# ---- several nodes ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits3(cloud3):
    return _digits_on(cloud3, "cv3")


def test_cross_validation_across_the_cloud(cloud3, digits3):
    h2ocloud.init(url=cloud3.nodes[0].url)
    train, _ = digits3
    m = h2ocloud.H2ODeepLearningEstimator(hidden=[16], epochs=2, seed=4, nfolds=2, model_id="cv_cloud",
                                         replicate_training_data=False)
    m.train(x=X, y="label", training_frame=train)
    assert m.model_performance(xval=True)["nobs"] == train.nrows
    for f in m.cross_validation_models():
        nodes = {nid for it in f.summary_json()["training_nodes"] for nid in it}
        assert len(nodes) == 3  # each fold model trained on every node


def test_a_node_builds_fold_rows_without_the_held_out_fold(cloud3, digits3):
    """dl.prepare on a node, for a fold model: the rows it keeps are the frame's minus the fold
    (a peer operation, called as a member would)."""
    from h2ocloud.client.session import connection
    from h2ocloud.dl.datainfo import DataInfo
    from h2ocloud.dl.params import validate_parameters
    from h2ocloud.frame.header import FrameHeader
    from h2ocloud.node.tasks import framedata

    h2ocloud.init(url=cloud3.nodes[0].url)
    train, _ = digits3
    header = FrameHeader.from_dict(connection().call("frames.get", {"frame_id": train.frame_id})[0])
    params = validate_parameters({"hidden": [4], "seed": 9})
    info = DataInfo.build(framedata.metas(header), X, "label", params)
    folds = fold_ids(np.arange(train.nrows), 4, "AUTO", 9)
    args = {"job_id": "cv-prepare-test", "training_frame": train.frame_id, "info": info.to_dict(),
            "replicate": True, "params": params, "fold": {"holdout": 2}}
    try:
        rows = cloud3.peer_call(cloud3.nodes[0], "dl.prepare", args, [folds])[0]["rows"]
    finally:
        cloud3.peer_call(cloud3.nodes[0], "dl.release", {"job_id": "cv-prepare-test"})
    held = int(np.sum(folds == 2))
    assert 0 < held < train.nrows
    assert rows == train.nrows - held
    # Folds that do not match the frame are refused with a clear error.
    with pytest.raises(ValueError, match="row folds"):
        cloud3.peer_call(cloud3.nodes[0], "dl.prepare", dict(args, job_id="cv-prepare-bad"), [folds[:10]])


@pytest.mark.parametrize("cloud", ["cloud1", "cloud3"])
def test_kept_cross_validation_predictions_and_fold_assignment(request, cloud):
    """keep_cross_validation_predictions / keep_cross_validation_fold_assignment (H2O-3): the
    fold of every training row, each fold model's predictions on its holdout rows (0 elsewhere)
    and their combination; the holdout metrics equal the model's cross-validation metrics."""
    import h2ocloud as h2o

    h2o.init(url=request.getfixturevalue(cloud).nodes[0].url)
    rng = np.random.default_rng(3)
    n = 240
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    df["y"] = np.where(df["a"] - df["b"] > 0, "p", "q")
    fr = h2o.H2OFrame(df, destination_frame=f"cvkeep_{cloud}.hex")
    fr["y"] = fr["y"].asfactor()
    m = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=3, seed=2, nfolds=3, fold_assignment="Modulo",
                                     keep_cross_validation_predictions=True,
                                     keep_cross_validation_fold_assignment=True,
                                     keep_cross_validation_models=False, model_id=f"cvkeep_m_{cloud}")
    m.train(x=["a", "b"], y="y", training_frame=fr)
    folds = m.cross_validation_fold_assignment().as_data_frame()["fold_assignment"].to_numpy()
    np.testing.assert_array_equal(folds, np.arange(n) % 3)  # Modulo, 0-based as H2O-3
    per_fold = [f.as_data_frame() for f in m.cross_validation_predictions()]
    hold = m.cross_validation_holdout_predictions().as_data_frame()
    assert len(per_fold) == 3 and all(len(p) == n for p in per_fold) and len(hold) == n
    for k, p in enumerate(per_fold):
        assert (p.loc[folds != k, ["p", "q"]] == 0).all().all()
        np.testing.assert_allclose(p.loc[folds == k, "p"], hold.loc[folds == k, "p"])
    np.testing.assert_allclose(hold["p"] + hold["q"], 1.0, atol=1e-6)
    # The pooled holdout logloss is the model's cross-validation logloss.
    t = (df["y"] == "p").to_numpy()
    pp = np.clip(np.where(t, hold["p"], hold["q"]), 1e-15, 1)
    assert -np.log(pp).mean() == pytest.approx(m.logloss(xval=True), rel=1e-4)
    assert m.cross_validation_models() is None  # not kept: only used for the predictions
    assert not any(k.startswith(f"cvkeep_m_{cloud}_cv_") for k in h2o.ls())
    plain = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=1, seed=2, nfolds=2)
    plain.train(x=["a", "b"], y="y", training_frame=fr)
    with pytest.raises(ValueError, match="keep_cross_validation_predictions"):
        plain.cross_validation_predictions()
