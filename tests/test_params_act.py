"""No parameter is accepted and ignored (issue 10): for every parameter the node accepts, train
once with a baseline and once with that parameter changed, and require something a user can
observe -- the model's structure, metrics, scoring history, predictions, the keys it leaves, the
node's log, a warning or a refusal -- to differ. Where a parameter legitimately changes nothing
on this one-node cloud, the table says why."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from h2ocloud.dl.params import DEFAULTS, H2O3_DEFAULT_ONLY

BASE = dict(hidden=[8], epochs=2, seed=1, reproducible=True, score_interval=0, score_duty_cycle=1.0,
            train_samples_per_iteration=100)
NO_ADA = dict(adaptive_rate=False, rate=0.05)

# parameter -> (changed value, baseline overrides for this case)
CASES: dict[str, tuple] = {
    "x": (["a", "b"], {}),
    "y": ("y2", {}),
    "training_frame": ("half", {}),
    "validation_frame": ("valid", {}),
    "model_id": ("issue10_walk_named", {}),
    "checkpoint": ("base_model", {"epochs": 4}),
    "best_model_key": ("issue10_walk_best", {}),
    "classification": (True, {"y": "ri"}),
    "nfolds": (2, {}),
    "fold_assignment": ("Modulo", {"nfolds": 3}),
    "fold_column": ("fold", {}),
    "keep_cross_validation_models": (False, {"nfolds": 2}),
    "activation": ("Rectifier", {}),
    "hidden": ([5], {}),
    "autoencoder": (True, {}),
    "use_all_factor_levels": (False, {}),
    "epochs": (3, {}),
    "train_samples_per_iteration": (50, {}),
    "seed": (2, {}),
    "adaptive_rate": (False, {}),
    "rho": (0.9, {}),
    "epsilon": (1e-4, {}),
    "rate": (0.2, NO_ADA),
    "rate_annealing": (1e-2, NO_ADA),
    "rate_decay": (0.5, {**NO_ADA, "hidden": [8, 8]}),
    "momentum_start": (0.5, NO_ADA),
    "momentum_ramp": (10.0, {**NO_ADA, "momentum_start": 0.5, "momentum_stable": 0.9}),
    "momentum_stable": (0.9, {**NO_ADA, "momentum_start": 0.5, "momentum_ramp": 100.0}),
    "nesterov_accelerated_gradient": (False, {**NO_ADA, "momentum_start": 0.5}),
    "input_dropout_ratio": (0.2, {}),
    "hidden_dropout_ratios": ([0.3], {"activation": "TanhWithDropout"}),
    "l1": (1e-3, {}),
    "l2": (1e-3, {}),
    "max_w2": (0.01, {}),
    "initial_weight_distribution": ("Normal", {}),
    "initial_weight_scale": (0.3, {"initial_weight_distribution": "Uniform"}),
    "loss": ("MeanSquare", {}),
    "score_interval": (1000.0, {}),
    "score_training_samples": (50, {}),
    "score_validation_samples": (30, {"validation_frame": "valid"}),
    "score_duty_cycle": (0.0, {}),
    "classification_stop": (0.9, {"epochs": 20}),
    "regression_stop": (10.0, {"y": "r", "epochs": 20}),
    "quiet_mode": (True, {}),
    "max_confusion_matrix_size": (2, {}),
    "max_hit_ratio_k": (2, {}),
    "balance_classes": (True, {}),
    "max_after_balance_size": (0.5, {"balance_classes": True}),
    "score_validation_sampling": ("Stratified", {"validation_frame": "valid", "score_validation_samples": 30}),
    "diagnostics": (False, {}),
    "variable_importances": (True, {}),
    "fast_mode": (False, {"input_dropout_ratio": 0.5}),
    "ignore_const_cols": (False, {}),
    "force_load_balance": (False, {}),
    "shuffle_training_data": (True, {}),
    "override_with_best_model": (False, {"validation_frame": "valid", **NO_ADA, "rate": 0.8, "epochs": 10}),
    "mini_batch_size": (2, {}),
    "sparse": (True, {}),
    "col_major": (True, {}),
    # H2O-3's parameters beyond the booklet
    "stopping_rounds": (1, {"epochs": 20, "stopping_tolerance": 0.5}),
    "stopping_metric": ("misclassification", {"epochs": 20, "stopping_rounds": 1, "stopping_tolerance": 0.1}),
    "stopping_tolerance": (0.5, {"epochs": 20, "stopping_rounds": 1}),
    "max_runtime_secs": (1e-3, {"epochs": 20}),
    "score_each_iteration": (True, {"score_interval": 1000.0}),
    "ignored_columns": (["b"], {"x": None}),
    "weights_column": ("w", {}),
    "standardize": (False, {}),
    "missing_values_handling": ("Skip", {}),
    # a gaussian distribution on a class response is refused naming the family it implies
    "distribution": ("gaussian", {}),
    "class_sampling_factors": ([1.0, 3.0, 1.0], {"balance_classes": True}),
    "export_weights_and_biases": (True, {}),
    "categorical_encoding": ("Binary", {}),
    "auc_type": ("MACRO_OVR", {}),
    "gainslift_bins": (5, {"y": "y2"}),
    "sparsity_beta": (0.5, {"autoencoder": True, "average_activation": -0.5}),
    "average_activation": (-0.8, {"autoencoder": True, "sparsity_beta": 0.5}),
    "export_checkpoints_dir": ("/nonexistent-root-dir/\0bad", {}),
    "keep_cross_validation_predictions": (True, {"nfolds": 2}),
    "keep_cross_validation_fold_assignment": (True, {"nfolds": 2}),
    "initial_weights": ("base_weights", {}),
    "initial_biases": ("base_biases", {}),
    "pretrained_autoencoder": ("ae_model", {}),
    "tweedie_power": (1.2, {"y": "pos", "distribution": "tweedie"}),
    "quantile_alpha": (0.9, {"y": "r", "distribution": "quantile"}),
    "huber_alpha": (0.3, {"y": "r", "distribution": "huber"}),
    "offset_column": ("w", {"y": "r"}),
    "elastic_averaging": (True, {}),
    "elastic_averaging_moving_rate": (0.5, {"elastic_averaging": True}),
    "elastic_averaging_regularization": (0.1, {"elastic_averaging": True}),
    "max_categorical_features": (2, {}),
}


def _other_value(v):
    if v is None:
        return "c"
    if isinstance(v, bool):
        return not v
    if isinstance(v, int | float):
        return v + 1
    return "other"


# H2O-3 parameters accepted at their default only: any other value is refused, naming it.
CASES.update({name: (_other_value(v), {}) for name, v in H2O3_DEFAULT_ONLY.items()})

# Parameters that change nothing on a one-node cloud, and why (tests/test_distributed.py
# covers them on three nodes).
NOTHING_HERE = {
    "replicate_training_data": "with one node every row is on the only node either way",
    "single_node_mode": "the cloud already has a single node",
    "reproducible": "it forces one Hogwild thread; on 240 rows a second thread's races leave no "
                    "trace either (tests/dl/test_trainer checks reproducible runs repeat exactly)",
    "nthreads": "a cap on Hogwild threads: the node picks 1 or the cap by measured speed, and on "
                "240 rows the threads' races leave no trace (tests/kernel cover the thread counts)",
}


def test_the_table_covers_every_accepted_parameter():
    assert set(CASES) | set(NOTHING_HERE) == set(DEFAULTS) | set(H2O3_DEFAULT_ONLY)


@pytest.fixture(scope="module")
def walk_data(cloud1):
    import h2ocloud as h2o

    h2o.init(url=cloud1.nodes[0].url)
    rng = np.random.default_rng(10)
    n = 240
    X = rng.normal(size=(n, 3))
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["f"] = rng.choice(["u", "v", "w"], n)
    df["k"] = 1.0
    score = X[:, 0] + 0.5 * (df["f"] == "u")
    df["y"] = np.where(score > 1.2, "hi", np.where(score > -0.3, "mid", "lo"))  # 3 unequal classes
    df["y2"] = np.where(X[:, 1] > 0, "pos", "neg")
    df["r"] = X[:, 0] * 2 + X[:, 2]
    df["ri"] = (X[:, 2] > 0).astype(int)
    df["fold"] = np.arange(n) % 3
    df["w"] = rng.uniform(0.1, 3.0, n)
    df["pos"] = np.exp(0.5 * X[:, 0]) + rng.gamma(1.0, 0.2, n)  # a positive response (log links)
    df.loc[::17, "c"] = np.nan  # some missing values (missing_values_handling)
    fr = h2o.H2OFrame(df, destination_frame="issue10_walk.hex")
    parts = fr.split_frame([0.5], destination_frames=["issue10_walk_half.hex", "issue10_walk_valid.hex"], seed=3)
    half, valid = parts
    base_model = h2o.H2ODeepLearningEstimator(**BASE, model_id="issue10_walk_ckpt")
    base_model.train(x=["a", "b", "c", "f", "k"], y="y", training_frame=fr)
    ae = h2o.H2OAutoEncoderEstimator(**BASE, model_id="issue10_walk_ae")
    ae.train(x=["a", "b", "c", "f", "k"], training_frame=fr)
    return {"frame": fr, "half": half, "valid": valid, "base_model": base_model.model_id,
            "ae_model": ae.model_id,
            "base_weights": [base_model.weights(i) for i in range(2)],
            "base_biases": [base_model.biases(i) for i in range(2)]}


def _observe(h2o, cloud1, data, params: dict) -> str:
    """Train with ``params``; return everything a user could see, as one comparable string."""
    p = dict(params)
    y = p.pop("y", "y")
    x = p.pop("x", ["a", "b", "c", "f", "k"])
    if x is None:  # all columns but the response and the ones only some cases use
        x = None if "ignored_columns" in p else ["a", "b", "c", "f", "k"]
        if "ignored_columns" in p:
            p["ignored_columns"] = p["ignored_columns"] + ["y2", "r", "ri", "fold", "w", "pos"]
    train = data[p.pop("training_frame", "frame")]
    valid = p.pop("validation_frame", None)
    valid = data[valid] if valid else None
    for name in ("checkpoint", "initial_weights", "initial_biases", "pretrained_autoencoder"):
        if p.get(name):
            p[name] = data[p[name]]
    if p.get("autoencoder"):
        y = None
    if p.get("fold_column"):
        pass
    elif x is not None and "fold" in x:
        x = [c for c in x if c != "fold"]
    before = set(h2o.ls())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            m = h2o.H2ODeepLearningEstimator(**p)
            m.train(x=x, y=y, training_frame=train, validation_frame=valid)
        except Exception as e:  # a refusal is observable too
            return f"refused: {type(e).__name__}: {e}"
    s = m.summary_json()
    shown = {k: v for k, v in s.items() if k not in ("params", "run_time", "comm_seconds", "model_id")}
    shown["scoring_history"] = [{k: v for k, v in h.items() if k not in ("timestamp", "duration")}
                                for h in s["scoring_history"]]
    shown["named"] = None if m.model_id.startswith("DeepLearning_model_") else m.model_id
    new_keys = sorted(set(h2o.ls()) - before - {m.model_id})
    shown["new_keys"] = [re.sub(r"DeepLearning_model_[0-9a-f]+", "<id>", k) for k in new_keys]
    pred = m.predict(data["frame"]).as_data_frame()
    shown["predictions"] = np.round(pred.select_dtypes("number").to_numpy(), 6).tolist()
    shown["warnings"] = [str(w.message) for w in caught if "parameter" in str(w.message)]
    log = cloud1.nodes[0].log()
    shown["logged_iterations"] = len(re.findall(re.escape(m.model_id) + r"\s*: iteration", log))
    for k in new_keys + [m.model_id]:
        h2o.remove(k)
    return json.dumps(shown, sort_keys=True, default=str)


@pytest.mark.parametrize("name", sorted(CASES))
def test_changing_a_parameter_changes_something_observable(h2o, cloud1, walk_data, name):
    value, overrides = CASES[name]
    base = {**BASE, **overrides}
    a = _observe(h2o, cloud1, walk_data, base)
    b = _observe(h2o, cloud1, walk_data, {**base, name: value})
    assert not a.startswith("refused"), a
    assert a != b, f"changing {name!r} to {value!r} changed nothing observable"
