"""Deep-learning parameters: appendix A of the H2O Deep Learning booklet, validated.

Every parameter of the booklet's appendix A is here with the booklet's default (where H2O-3
later changed a default, the booklet wins, except ADADELTA's ``rho`` / ``epsilon``, which are
H2O-3's 0.99 / 1e-8; ``use_all_factor_levels`` keeps H2O's True).
H2O-3's names are accepted as aliases (``model_id`` for ``key``, ``hidden_dropout_ratios`` for
``hidden_dropout_ratio``, ``training_frame`` for ``data``, ...); the canonical names are the
keys of :data:`DEFAULTS`.

``validate_parameters(d)`` returns a new dict holding *all* parameters with the defaults
filled in, and raises ``ValueError`` naming the offending parameter otherwise. It is
idempotent: validating its own output gives the same dict back, so a model can store the
filled parameters and re-validate them after loading.
"""

from __future__ import annotations

import math
import os
import random
import warnings
from collections.abc import Sequence
from typing import Any

from h2ocloud.dl.datainfo import FAMILY_LOSS
from h2ocloud.dl.stopping import METRIC_KEYS, STOPPING_METRICS

ACTIVATIONS = (
    "Tanh",
    "TanhWithDropout",
    "Rectifier",
    "RectifierWithDropout",
    "Maxout",
    "MaxoutWithDropout",
)
DISTRIBUTIONS = ("UniformAdaptive", "Uniform", "Normal")
LOSSES = ("Automatic", "CrossEntropy", "MeanSquare", "Absolute", "Huber", "Quantile")
#: H2O-3's regression losses that pick a distribution (DeepLearningParameters: Absolute is
#: laplace, Huber huber, Quantile quantile); "Quadratic" is read as MeanSquare.
LOSS_DISTRIBUTION = {"Absolute": "laplace", "Huber": "huber", "Quantile": "quantile"}
SAMPLINGS = ("Uniform", "Stratified")
FOLD_ASSIGNMENTS = ("AUTO", "Random", "Modulo", "Stratified")
H2O3_DISTRIBUTIONS = ("AUTO", "bernoulli", "multinomial", "gaussian", "poisson", "gamma", "tweedie",
                      "laplace", "quantile", "huber")
REGRESSION_DISTRIBUTIONS = ("gaussian", "poisson", "gamma", "tweedie", "laplace", "quantile", "huber")

#: Canonical parameter names and appendix A's defaults.
DEFAULTS: dict[str, Any] = {
    # what to train on (names of columns and frames; the frame layer resolves them)
    "x": None,
    "y": None,
    "training_frame": None,
    "validation_frame": None,
    "model_id": None,
    "checkpoint": None,
    "best_model_key": None,
    "classification": None,  # None: decide from the response column's type
    "nfolds": 0,
    # H2O-3's cross-validation companions of nfolds (the booklet has nfolds only).
    "fold_assignment": "AUTO",
    "fold_column": None,
    "keep_cross_validation_models": True,
    "keep_cross_validation_predictions": False,
    "keep_cross_validation_fold_assignment": False,
    # network
    "activation": "Tanh",
    "hidden": [200, 200],
    "autoencoder": False,
    "use_all_factor_levels": True,
    "epochs": 10.0,
    "train_samples_per_iteration": -1,
    "seed": None,  # None: a random seed is drawn and recorded
    # optimizer
    "adaptive_rate": True,
    # H2O-3's ADADELTA defaults, not the booklet's 0.95 / 1e-6: H2O changed them after 2014
    # because they train better, and an h2o-py script must give the same model here.
    "rho": 0.99,
    "epsilon": 1e-8,
    "rate": 0.005,
    "rate_annealing": 1e-6,
    "rate_decay": 1.0,
    "momentum_start": 0.0,
    "momentum_ramp": 1e6,
    "momentum_stable": 0.0,
    "nesterov_accelerated_gradient": True,
    # regularization
    "input_dropout_ratio": 0.0,
    "hidden_dropout_ratios": None,
    "l1": 0.0,
    "l2": 0.0,
    "max_w2": math.inf,
    "initial_weight_distribution": "UniformAdaptive",
    "initial_weight_scale": 1.0,
    "loss": "Automatic",
    # scoring and stopping
    "score_interval": 5.0,
    "score_training_samples": 1000,
    "score_validation_samples": 0,
    "score_duty_cycle": 0.1,
    "classification_stop": 0.0,
    "regression_stop": 1e-6,
    "quiet_mode": False,
    "max_confusion_matrix_size": 20,
    "max_hit_ratio_k": 10,
    "balance_classes": False,
    "max_after_balance_size": 5.0,
    "score_validation_sampling": "Uniform",
    "diagnostics": True,
    "variable_importances": False,
    # execution
    "fast_mode": True,
    "ignore_const_cols": True,
    "force_load_balance": True,
    "replicate_training_data": True,
    "single_node_mode": False,
    "shuffle_training_data": False,
    "reproducible": False,
    # H2O-3's name and default: keep the weights that scored best on the validation frame.
    "override_with_best_model": True,
    "nthreads": -1,
    "mini_batch_size": 1,
    # H2O-3's parameters beyond the booklet, with H2O-3's defaults.
    "stopping_rounds": 5,
    "stopping_metric": "AUTO",
    "stopping_tolerance": 0.0,
    "max_runtime_secs": 0.0,
    "score_each_iteration": False,
    "ignored_columns": None,
    # H2O-3's distribution: AUTO (the family the response implies), bernoulli / multinomial for
    # a classifier, or a regression family with its own loss and link (log for poisson, gamma,
    # tweedie) and their parameters.
    "distribution": "AUTO",
    "tweedie_power": 1.5,
    "quantile_alpha": 0.5,
    "huber_alpha": 0.9,
    # Over/under-sampling ratio of each class (in the response's level order), with balance_classes.
    "class_sampling_factors": None,
    # A column of per-row weights: a row of weight w trains as w copies of it would.
    "weights_column": None,
    "standardize": True,
    "missing_values_handling": "MeanImputation",
    # How a factor becomes input units: AUTO (one-hot) or another of H2O-3's encodings.
    "categorical_encoding": "AUTO",
    # H2O's sparse autoencoder: hidden units' mean activation pulled toward average_activation.
    "average_activation": 0.0,
    "sparsity_beta": 0.0,
    # Store each layer's weights and biases as frames <model_id>.weights.<i> / .biases.<i>.
    "export_weights_and_biases": False,
    # Start from given weights: frame ids, one per weight layer (None keeps that layer's random
    # start), or an autoencoder's hidden layers (its model id).
    "initial_weights": None,
    "initial_biases": None,
    "pretrained_autoencoder": None,
    # A directory on the node where the finished model is written (as h2o.save_model writes it).
    "export_checkpoints_dir": None,
    # The booklet-era storage hints: the kernel needs neither (accepted with a warning).
    "sparse": False,
    "col_major": False,
}

#: H2O-3 parameters this implementation accepts at H2O-3's default only: an h2o-py script that
#: leaves them alone runs unchanged, one that sets them is told they are not supported here.
H2O3_DEFAULT_ONLY: dict[str, Any] = {
    "offset_column": None,

    "elastic_averaging": False,
    "elastic_averaging_moving_rate": 0.9, "elastic_averaging_regularization": 0.001,
    "max_categorical_features": 2147483647,
    "custom_metric_func": None, "auc_type": "AUTO", "gainslift_bins": -1,
}

#: Parameters accepted only so booklet scripts run; each given one draws a warning saying so.
LAYOUT_HINTS = ("sparse", "col_major")

#: Other spellings (H2O-3's names, the booklet's R names and its typos) -> canonical name.
ALIASES: dict[str, str] = {
    "key": "model_id",
    "destination_key": "model_id",
    "data": "training_frame",
    "validation": "validation_frame",
    "response_column": "y",
    "hidden_dropout_ratio": "hidden_dropout_ratios",
    "neverov_accelerated_gradient": "nesterov_accelerated_gradient",
    "nesterov": "nesterov_accelerated_gradient",
    "diagnostis": "diagnostics",
    "variable_importance": "variable_importances",
    "score_interval_seconds": "score_interval",
}

# Parameters that a checkpoint restart may not change (H2O refuses them as well): they fix
# the network's shape or the meaning of its inputs and outputs.
CHECKPOINT_FIXED = (
    "autoencoder",
    "x",
    "y",
    "hidden",
    "activation",
    "classification",
    "use_all_factor_levels",
    "ignore_const_cols",
    "loss",
    "balance_classes",
)

_NONFINITE = {"Infinity": math.inf, "inf": math.inf, "-Infinity": -math.inf, "NaN": math.nan}


def _bad(name: str, why: str) -> ValueError:
    return ValueError(f"parameter {name!r}: {why}")


def _as_bool(name: str, v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if type(v).__name__ == "bool_":  # numpy bool
        return bool(v)
    raise _bad(name, f"expected a boolean, got {v!r}")


def _as_int(name: str, v: Any) -> int:
    if isinstance(v, bool) or not hasattr(v, "__index__"):
        if isinstance(v, float) and v.is_integer():
            return int(v)
        raise _bad(name, f"expected an integer, got {v!r}")
    return int(v)


def _as_float(name: str, v: Any) -> float:
    if isinstance(v, str) and v in _NONFINITE:  # JSON has no inf: saved models spell it out
        return _NONFINITE[v]
    if isinstance(v, bool) or not isinstance(v, (int, float)) and not hasattr(v, "__float__"):
        raise _bad(name, f"expected a number, got {v!r}")
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise _bad(name, f"expected a number, got {v!r}") from None
    if math.isnan(f):
        raise _bad(name, "must not be NaN")
    return f


def _as_choice(name: str, v: Any, choices: Sequence[str]) -> str:
    if not isinstance(v, str):
        raise _bad(name, f"expected one of {list(choices)}, got {v!r}")
    for c in choices:  # H2O's enums are case-insensitive in its REST API
        if v.lower() == c.lower():
            return c
    if name == "loss" and v.lower() in ("quadratic", "meansquared"):
        return "MeanSquare"  # H2O-3's spelling
    raise _bad(name, f"unknown value {v!r}; expected one of {list(choices)}")


def _as_opt_str(name: str, v: Any) -> str | None:
    if v is None or isinstance(v, str):
        return v
    raise _bad(name, f"expected a string, got {v!r}")


def _in_range(name: str, v: float, lo: float, hi: float, lo_open=False, hi_open=False) -> None:
    ok_lo = v > lo if lo_open else v >= lo
    ok_hi = v < hi if hi_open else v <= hi
    if not (ok_lo and ok_hi):
        lb = "(" if lo_open else "["
        rb = ")" if hi_open else "]"
        raise _bad(name, f"{v!r} is outside {lb}{lo}, {hi}{rb}")


def closest(name: str, valid: Any) -> str | None:
    """The valid name nearest a misspelt one (None when nothing is close)."""
    import difflib

    found = difflib.get_close_matches(name, sorted(valid), n=1, cutoff=0.6)
    return found[0] if found else None


def canonical_names(d: dict[str, Any], what: str = "parameter") -> dict[str, Any]:
    """Rename aliases to canonical names; refuse unknown names (naming the closest valid one)
    and a name given twice."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if not isinstance(k, str):
            raise ValueError(f"{what} names must be strings, got {k!r}")
        name = ALIASES.get(k, k)
        if name in H2O3_DEFAULT_ONLY and what == "parameter":
            if v is not None and v != H2O3_DEFAULT_ONLY[name]:
                raise _bad(name, f"H2O-3's {name} is not supported by h2ocloud yet; only its default "
                                 f"{H2O3_DEFAULT_ONLY[name]!r} is accepted (got {v!r})")
            continue
        if name not in DEFAULTS:
            hint = closest(k, [*DEFAULTS, *ALIASES, *H2O3_DEFAULT_ONLY])
            hint = ALIASES.get(hint, hint) if hint else None
            raise ValueError(f"unknown {what} {k!r}" + (f"; did you mean {hint!r}?" if hint else ""))
        if name in out:
            raise _bad(name, f"given twice (as {k!r} and another spelling)")
        out[name] = v
    return out


def validate_parameters(d: dict[str, Any]) -> dict[str, Any]:
    """Return all parameters, canonically named, with defaults filled; raise ValueError naming
    the parameter for anything wrong."""
    if not isinstance(d, dict):
        raise ValueError("parameters must be a dict")
    given = canonical_names(d)
    p: dict[str, Any] = dict(DEFAULTS)
    p.update({k: v for k, v in given.items() if v is not None or k in _NULLABLE})

    # --- column and frame names
    x = p["x"]
    if x is not None:
        if isinstance(x, str) or not isinstance(x, Sequence) or not all(
            isinstance(c, str) for c in x
        ):
            raise _bad("x", "expected a list of column names")
        if len(set(x)) != len(x):
            raise _bad("x", "a column is named twice")
        p["x"] = list(x)
    for name in ("y", "training_frame", "validation_frame", "model_id", "checkpoint",
                 "best_model_key", "fold_column", "weights_column"):
        p[name] = _as_opt_str(name, p[name])
    if p["x"] is not None and p["y"] is not None and p["y"] in p["x"]:
        raise _bad("x", f"the response {p['y']!r} is also a predictor")
    if p["classification"] is not None:
        p["classification"] = _as_bool("classification", p["classification"])

    # --- booleans
    for name in ("autoencoder", "use_all_factor_levels", "adaptive_rate",
                 "nesterov_accelerated_gradient", "quiet_mode", "balance_classes",
                 "diagnostics", "variable_importances", "fast_mode", "ignore_const_cols",
                 "force_load_balance", "replicate_training_data", "single_node_mode",
                 "shuffle_training_data", "reproducible", "override_with_best_model",
                 "keep_cross_validation_models", "export_weights_and_biases",
                 "keep_cross_validation_predictions", "keep_cross_validation_fold_assignment",
                 *LAYOUT_HINTS):
        p[name] = _as_bool(name, p[name])
    if p["autoencoder"]:
        # The booklet: all factor levels are "auto-enabled for autoencoder" (every input is
        # reconstructed, so none may be implicit).
        p["use_all_factor_levels"] = True
        if p["classification"]:
            raise _bad("classification", "an autoencoder has no response to classify")

    # --- choices
    p["activation"] = _as_choice("activation", p["activation"], ACTIVATIONS)
    p["initial_weight_distribution"] = _as_choice(
        "initial_weight_distribution", p["initial_weight_distribution"], DISTRIBUTIONS)
    p["loss"] = _as_choice("loss", p["loss"], LOSSES)
    p["score_validation_sampling"] = _as_choice(
        "score_validation_sampling", p["score_validation_sampling"], SAMPLINGS)
    p["fold_assignment"] = _as_choice("fold_assignment", p["fold_assignment"], FOLD_ASSIGNMENTS)
    if p["autoencoder"] and p["loss"] == "CrossEntropy":
        raise _bad("loss", "an autoencoder reconstructs its inputs with MeanSquare")
    if p["classification"] is False and p["loss"] == "CrossEntropy":
        raise _bad("loss", "CrossEntropy needs classification")
    if (p["classification"] or p["autoencoder"]) and p["loss"] in LOSS_DISTRIBUTION:
        raise _bad("loss", f"{p['loss']} is a regression loss (H2O-3's {LOSS_DISTRIBUTION[p['loss']]} distribution)")

    # --- hidden layers
    hidden = p["hidden"]
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
        if hasattr(hidden, "tolist"):  # a numpy array
            hidden = hidden.tolist()
        else:
            raise _bad("hidden", f"expected a list of unit counts, got {hidden!r}")
    if len(hidden) == 0:
        raise _bad("hidden", "needs at least one hidden layer")
    units = [_as_int("hidden", h) for h in hidden]
    if any(u <= 0 for u in units):
        raise _bad("hidden", f"every layer needs a positive unit count, got {units}")
    p["hidden"] = units

    # --- dropout
    p["input_dropout_ratio"] = _as_float("input_dropout_ratio", p["input_dropout_ratio"])
    _in_range("input_dropout_ratio", p["input_dropout_ratio"], 0.0, 1.0, hi_open=True)
    hdr = p["hidden_dropout_ratios"]
    with_dropout = p["activation"].endswith("WithDropout")
    if hdr is None:
        # As H2O: the *WithDropout activations drop half of every hidden layer by default.
        hdr = [0.5 if with_dropout else 0.0] * len(units)
    else:
        if isinstance(hdr, (int, float)) and not isinstance(hdr, bool):
            hdr = [hdr]
        if hasattr(hdr, "tolist"):
            hdr = hdr.tolist()
        if isinstance(hdr, (str, bytes)) or not isinstance(hdr, Sequence):
            raise _bad("hidden_dropout_ratios", f"expected a list of ratios, got {hdr!r}")
        hdr = [_as_float("hidden_dropout_ratios", r) for r in hdr]
        if len(hdr) != len(units):
            raise _bad("hidden_dropout_ratios",
                       f"has {len(hdr)} ratios for {len(units)} hidden layers")
        for r in hdr:
            _in_range("hidden_dropout_ratios", r, 0.0, 1.0, hi_open=True)
        if not with_dropout and any(r != 0.0 for r in hdr):
            raise _bad("hidden_dropout_ratios",
                       f"non-zero ratios need a *WithDropout activation, not {p['activation']}")
    p["hidden_dropout_ratios"] = hdr

    # --- numbers
    p["epochs"] = _as_float("epochs", p["epochs"])
    if p["epochs"] < 0 or math.isinf(p["epochs"]):
        raise _bad("epochs", f"must be a finite number >= 0, got {p['epochs']!r}")
    p["rho"] = _as_float("rho", p["rho"])
    _in_range("rho", p["rho"], 0.0, 1.0, hi_open=True)
    p["epsilon"] = _as_float("epsilon", p["epsilon"])
    _in_range("epsilon", p["epsilon"], 0.0, 1.0, lo_open=True, hi_open=True)
    p["rate"] = _as_float("rate", p["rate"])
    _in_range("rate", p["rate"], 0.0, math.inf, hi_open=True)  # 0 freezes the weights (tests use it)
    p["rate_annealing"] = _as_float("rate_annealing", p["rate_annealing"])
    _in_range("rate_annealing", p["rate_annealing"], 0.0, math.inf, hi_open=True)
    p["rate_decay"] = _as_float("rate_decay", p["rate_decay"])
    _in_range("rate_decay", p["rate_decay"], 0.0, math.inf, lo_open=True, hi_open=True)
    for name in ("momentum_start", "momentum_stable"):
        p[name] = _as_float(name, p[name])
        _in_range(name, p[name], 0.0, 1.0, hi_open=True)
    p["momentum_ramp"] = _as_float("momentum_ramp", p["momentum_ramp"])
    _in_range("momentum_ramp", p["momentum_ramp"], 0.0, math.inf, lo_open=True)
    for name in ("l1", "l2"):
        p[name] = _as_float(name, p[name])
        _in_range(name, p[name], 0.0, math.inf, hi_open=True)
    p["max_w2"] = _as_float("max_w2", p["max_w2"])
    _in_range("max_w2", p["max_w2"], 0.0, math.inf, lo_open=True)
    p["initial_weight_scale"] = _as_float("initial_weight_scale", p["initial_weight_scale"])
    _in_range("initial_weight_scale", p["initial_weight_scale"], 0.0, math.inf,
              lo_open=True, hi_open=True)
    p["score_interval"] = _as_float("score_interval", p["score_interval"])
    _in_range("score_interval", p["score_interval"], 0.0, math.inf, hi_open=True)
    p["score_duty_cycle"] = _as_float("score_duty_cycle", p["score_duty_cycle"])
    _in_range("score_duty_cycle", p["score_duty_cycle"], 0.0, 1.0)
    # -1 disables a stopping criterion (as in H2O-3); the booklet's defaults are 0 and 1e-6.
    for name in ("classification_stop", "regression_stop"):
        p[name] = _as_float(name, p[name])
        _in_range(name, p[name], -1.0, math.inf, hi_open=True)
    p["max_after_balance_size"] = _as_float("max_after_balance_size",
                                            p["max_after_balance_size"])
    _in_range("max_after_balance_size", p["max_after_balance_size"], 0.0, math.inf,
              lo_open=True, hi_open=True)

    for name in ("score_training_samples", "score_validation_samples",
                 "max_confusion_matrix_size", "max_hit_ratio_k"):
        p[name] = _as_int(name, p[name])
        if p[name] < 0:
            raise _bad(name, f"must be >= 0, got {p[name]}")
    p["train_samples_per_iteration"] = _as_int("train_samples_per_iteration",
                                               p["train_samples_per_iteration"])
    if p["train_samples_per_iteration"] < -2:
        raise _bad("train_samples_per_iteration",
                   "must be -2 (auto), -1 (all rows), 0 (one epoch) or a positive count")
    p["nthreads"] = _as_int("nthreads", p["nthreads"])
    if p["nthreads"] == 0 or p["nthreads"] < -1:
        raise _bad("nthreads", "must be -1 (all cores) or a positive count")
    p["mini_batch_size"] = _as_int("mini_batch_size", p["mini_batch_size"])
    if p["mini_batch_size"] != 1:
        # Refused rather than ignored: the Hogwild kernel updates the weights after every row,
        # as H2O's Deep Learning does (H2O-3 also only accepts 1).
        raise _bad("mini_batch_size", f"only 1 is supported (per-row Hogwild updates), got {p['mini_batch_size']}")
    p["nfolds"] = _as_int("nfolds", p["nfolds"])
    if p["nfolds"] < 0 or p["nfolds"] == 1:
        raise _bad("nfolds", "must be 0 (no cross-validation) or >= 2")
    if p["nfolds"] and p["fold_column"] is not None:
        raise _bad("nfolds", "give nfolds or fold_column, not both (the column sets the folds)")
    if p["fold_column"] is not None and p["fold_column"] == p["y"]:
        raise _bad("fold_column", "the response cannot be the fold column")
    cv = "nfolds" if p["nfolds"] else "fold_column" if p["fold_column"] is not None else None
    if cv and p["validation_frame"] is not None:
        # The booklet: "If nfolds != 0, then validation must remain empty."
        raise _bad(cv, "cross-validation replaces the validation frame: give one or the other")
    if cv and p["checkpoint"] is not None:
        raise _bad(cv, "cross-validation cannot continue from a checkpoint")

    # --- H2O-3's stopping and scoring
    p["stopping_rounds"] = _as_int("stopping_rounds", p["stopping_rounds"])
    if p["stopping_rounds"] < 0:
        raise _bad("stopping_rounds", "must be >= 0 (0 disables early stopping)")
    p["stopping_metric"] = _as_choice("stopping_metric", p["stopping_metric"], STOPPING_METRICS)
    if p["stopping_metric"] not in ("AUTO", *METRIC_KEYS):
        raise _bad("stopping_metric", f"{p['stopping_metric']!r} is not computed by h2ocloud; "
                                      f"use one of {['AUTO', *METRIC_KEYS]}")
    p["stopping_tolerance"] = _as_float("stopping_tolerance", p["stopping_tolerance"])
    _in_range("stopping_tolerance", p["stopping_tolerance"], 0.0, math.inf, hi_open=True)
    p["max_runtime_secs"] = _as_float("max_runtime_secs", p["max_runtime_secs"])
    _in_range("max_runtime_secs", p["max_runtime_secs"], 0.0, math.inf, hi_open=True)
    for name in ("score_each_iteration", "standardize", "sparse", "col_major"):
        p[name] = _as_bool(name, p[name])
    for name in ("sparse", "col_major"):
        if p[name]:
            warnings.warn(f"parameter {name!r}: the kernel needs no {name} layout; ignored", stacklevel=2)
            p[name] = False  # stored as what the model was trained with
    p["missing_values_handling"] = _as_choice("missing_values_handling", p["missing_values_handling"],
                                              ("MeanImputation", "Skip"))
    if p["weights_column"] is not None:
        w = p["weights_column"]
        if w == p["y"]:
            raise _bad("weights_column", "the response cannot be the weights column")
        if p["x"] is not None and w in p["x"]:
            raise _bad("weights_column", f"{w!r} is also a predictor in x")
        if cv:
            raise _bad("weights_column", "cross-validation with a weights column is not supported yet")
    p["distribution"] = _as_choice("distribution", p["distribution"], H2O3_DISTRIBUTIONS)
    if p["loss"] in LOSS_DISTRIBUTION:
        want = LOSS_DISTRIBUTION[p["loss"]]
        if p["distribution"] not in ("AUTO", want):
            raise _bad("loss", f"{p['loss']} is the {want} distribution, not {p['distribution']!r}")
        p["distribution"] = want
    p["tweedie_power"] = _as_float("tweedie_power", p["tweedie_power"])
    _in_range("tweedie_power", p["tweedie_power"], 1.0, 2.0, lo_open=True, hi_open=True)
    p["quantile_alpha"] = _as_float("quantile_alpha", p["quantile_alpha"])
    _in_range("quantile_alpha", p["quantile_alpha"], 0.0, 1.0)
    p["huber_alpha"] = _as_float("huber_alpha", p["huber_alpha"])
    _in_range("huber_alpha", p["huber_alpha"], 0.0, 1.0)
    csf = p["class_sampling_factors"]
    if csf is not None:
        if hasattr(csf, "tolist"):
            csf = csf.tolist()
        if isinstance(csf, str | bytes) or not isinstance(csf, Sequence) or not csf:
            raise _bad("class_sampling_factors", f"expected a list of ratios, one per class, got {csf!r}")
        csf = [_as_float("class_sampling_factors", f) for f in csf]
        if any(f <= 0 or math.isinf(f) for f in csf):
            raise _bad("class_sampling_factors", f"every ratio must be a finite number > 0, got {csf}")
        if not p["balance_classes"]:
            raise _bad("class_sampling_factors", "needs balance_classes=True (as in H2O-3)")
        p["class_sampling_factors"] = csf
    for name in ("initial_weights", "initial_biases"):
        v = p[name]
        if v is None:
            continue
        if isinstance(v, str) or not isinstance(v, Sequence):
            raise _bad(name, f"expected a list of frame ids, one per weight layer, got {v!r}")
        if len(v) != len(p["hidden"]) + 1:
            raise _bad(name, f"has {len(v)} entries for {len(p['hidden']) + 1} weight layers "
                             f"(hidden {p['hidden']} and the output layer)")
        if not all(e is None or (isinstance(e, str) and e) for e in v):
            raise _bad(name, f"entries must be frame ids (or None), got {v!r}")
        p[name] = list(v)
    from h2ocloud.dl.categorical import ENCODINGS, ONE_HOT, canonical_encoding

    enc = canonical_encoding(p["categorical_encoding"]) if isinstance(p["categorical_encoding"], str) else None
    if enc is None:
        raise _bad("categorical_encoding", f"{p['categorical_encoding']!r} is not one of {sorted(set(ENCODINGS.values()))}")
    if p["autoencoder"] and enc not in ONE_HOT:
        raise _bad("categorical_encoding", f"{enc}: an autoencoder reconstructs one-hot factors; use AUTO")
    p["categorical_encoding"] = enc
    p["sparsity_beta"] = _as_float("sparsity_beta", p["sparsity_beta"])
    if p["sparsity_beta"] < 0 or math.isinf(p["sparsity_beta"]):
        raise _bad("sparsity_beta", f"must be a finite number >= 0, got {p['sparsity_beta']!r}")
    p["average_activation"] = _as_float("average_activation", p["average_activation"])
    if not math.isfinite(p["average_activation"]):
        raise _bad("average_activation", f"must be finite, got {p['average_activation']!r}")
    if p["sparsity_beta"] > 0 and not p["autoencoder"]:
        raise _bad("sparsity_beta", "the sparsity constraint is for autoencoders (autoencoder=True), as in H2O-3")
    d = p["export_checkpoints_dir"]
    if d is not None and (not isinstance(d, str) or not d.strip()):
        raise _bad("export_checkpoints_dir", f"expected a directory path, got {d!r}")
    if p["pretrained_autoencoder"] is not None:
        if not isinstance(p["pretrained_autoencoder"], str) or not p["pretrained_autoencoder"]:
            raise _bad("pretrained_autoencoder", f"expected a model id, got {p['pretrained_autoencoder']!r}")
        if p["autoencoder"]:
            raise _bad("pretrained_autoencoder", "initializes a supervised model, not an autoencoder")
        if p["initial_weights"] is not None or p["initial_biases"] is not None:
            raise _bad("pretrained_autoencoder", "cannot be combined with initial_weights / initial_biases")
    ign = p["ignored_columns"]
    if ign is not None:
        if isinstance(ign, str):
            ign = [ign]
        if not isinstance(ign, Sequence) or not all(isinstance(c, str) for c in ign):
            raise _bad("ignored_columns", f"expected a list of column names, got {ign!r}")
        if p["x"] is not None and set(ign) & set(p["x"]):
            raise _bad("ignored_columns", f"{sorted(set(ign) & set(p['x']))} are also in x")
        if p["y"] is not None and p["y"] in ign:
            raise _bad("ignored_columns", f"the response {p['y']!r} cannot be ignored")
        p["ignored_columns"] = list(ign)

    if p["seed"] is None:
        # "The default is a random real number": draw one and keep it, so the model records
        # the seed it was built with and can be rebuilt.
        p["seed"] = random.SystemRandom().randrange(1, 2**62)
    else:
        p["seed"] = _as_int("seed", p["seed"])
    return p


# Parameters whose None is meaningful (and so overrides nothing but stays None).
_NULLABLE = {"x", "y", "training_frame", "validation_frame", "model_id", "checkpoint",
             "best_model_key", "classification", "seed", "hidden_dropout_ratios", "fold_column",
             "ignored_columns", "weights_column", "class_sampling_factors", "initial_weights",
             "initial_biases", "pretrained_autoencoder", "export_checkpoints_dir"}


def parameter_warnings(given: dict[str, Any]) -> list[str]:
    """Warnings for parameters that are accepted but act on nothing (the layout hints)."""
    out = []
    for name in LAYOUT_HINTS:
        if name in given and given[name]:
            out.append(f"parameter {name!r} is accepted for the booklet's scripts but changes nothing: "
                       "h2ocloud's kernel needs no sparse or column-major layout")
    return out


def cross_validating(p: dict[str, Any]) -> bool:
    """Whether the parameters ask for cross-validation (nfolds or a fold column)."""
    return bool(p.get("nfolds")) or p.get("fold_column") is not None


def resolve_nthreads(p: dict[str, Any]) -> int:
    """Threads a node uses: one when reproducible (Hogwild races otherwise), -1 = all cores."""
    if p["reproducible"]:
        return 1
    n = p["nthreads"]
    return (os.cpu_count() or 1) if n == -1 else n


def base_activation(activation: str) -> str:
    """The kernel's activation name: Tanh, Rectifier or Maxout (dropout is a ratio there)."""
    return activation.removesuffix("WithDropout")


def check_distribution(p: dict[str, Any], classification: bool, n_classes: int) -> None:
    """The distribution must fit the response (H2O-3 refuses the others too): bernoulli for
    two classes, multinomial for more, a regression family for a numeric response."""
    d = p.get("distribution", "AUTO")
    if d == "AUTO" or p["autoencoder"]:
        return
    if classification:
        if p["loss"] in LOSS_DISTRIBUTION:
            raise _bad("loss", f"{p['loss']} is a regression loss; the response has {n_classes} classes")
        want = "bernoulli" if n_classes == 2 else "multinomial"
        if d != want:
            raise _bad("distribution", f"{d!r} does not fit a {n_classes}-class response; "
                                       f"use {want!r} or 'AUTO'")
    elif d not in REGRESSION_DISTRIBUTIONS:
        raise _bad("distribution", f"{d!r} does not fit a numeric (regression) response; use one "
                                   f"of {list(REGRESSION_DISTRIBUTIONS)} or 'AUTO'")


def resolve_loss(p: dict[str, Any], classification: bool) -> str:
    """The kernel's loss: CrossEntropy for a classifier (Automatic), MeanSquare for an
    autoencoder, and for a regression the loss of its distribution (MeanSquare = gaussian)."""
    if p["loss"] == "CrossEntropy" and not classification:
        raise _bad("loss", "CrossEntropy needs a categorical response (classification)")
    if p["loss"] in LOSS_DISTRIBUTION and (classification or p["autoencoder"]):
        raise _bad("loss", f"{p['loss']} is a regression loss (H2O-3's {LOSS_DISTRIBUTION[p['loss']]})")
    if p["autoencoder"]:
        return "MeanSquare"
    if classification:
        return "CrossEntropy" if p["loss"] == "Automatic" else p["loss"]
    d = p.get("distribution", "AUTO")
    return FAMILY_LOSS["gaussian" if d in ("AUTO", None) else d]


def net_spec_kwargs(p: dict[str, Any], n_inputs: int, n_outputs: int,
                    classification: bool) -> dict[str, Any]:
    """Keyword arguments for kernel.NetSpec from validated parameters."""
    if p["autoencoder"]:
        output = "autoencoder"
    elif classification:
        output = "softmax"
    else:
        output = "linear"
    return {
        "n_inputs": int(n_inputs),
        "hidden": tuple(p["hidden"]),
        "n_outputs": int(n_outputs),
        "activation": base_activation(p["activation"]),
        "output": output,
        "loss": resolve_loss(p, classification),
        "hidden_dropout_ratios": tuple(float(r) for r in p["hidden_dropout_ratios"]),
    }


TRAIN_CONFIG_KEYS = (
    "adaptive_rate", "rho", "epsilon", "rate", "rate_annealing", "rate_decay",
    "momentum_start", "momentum_ramp", "momentum_stable", "nesterov_accelerated_gradient",
    "input_dropout_ratio", "l1", "l2", "max_w2", "fast_mode", "sparsity_beta", "average_activation",
)


def train_config_kwargs(p: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for kernel.TrainConfig from validated parameters. The regression
    loss's parameter starts as tweedie_power / quantile_alpha, and as H2O's huber delta of 1
    (standardized units) until the first scoring sets it from huber_alpha."""
    kw = {k: p[k] for k in TRAIN_CONFIG_KEYS}
    kw["dist_param"] = {"tweedie": p.get("tweedie_power", 1.5), "quantile": p.get("quantile_alpha", 0.5),
                        "huber": 1.0}.get(p.get("distribution"), 0.0)
    return kw


def inherit_from_checkpoint(given: dict[str, Any], checkpoint_params: dict[str, Any]) -> dict[str, Any]:
    """The booklet's checkpoint restart (section 3.5): the parameters that cannot change are the
    checkpoint's wherever the caller did not give them; given ones are kept, and
    check_checkpoint_compatible then refuses those that differ, naming them."""
    out = canonical_names(given)
    for name in CHECKPOINT_FIXED:
        if out.get(name) is None and checkpoint_params.get(name) is not None:
            out[name] = checkpoint_params[name]
    return out


def check_checkpoint_compatible(old_params: dict[str, Any], new_params: dict[str, Any]) -> None:
    """Refuse, naming the parameter, a restart from a checkpoint that changes the network's
    shape or the meaning of its inputs and outputs. Both dicts are validated parameters;
    a new value of None for x / classification means "as before"."""
    for name in CHECKPOINT_FIXED:
        old, new = old_params.get(name), new_params.get(name)
        if name in ("x", "classification") and new is None:
            continue
        if name == "x" and old is not None and new is not None and set(old) == set(new):
            continue
        if old != new:
            raise _bad(name, f"cannot change on a checkpoint restart ({old!r} -> {new!r})")


#: The choices of each enumerated parameter (the build form offers them as a list).
CHOICES: dict[str, Sequence[str]] = {
    "activation": ACTIVATIONS, "initial_weight_distribution": DISTRIBUTIONS, "loss": LOSSES,
    "score_validation_sampling": SAMPLINGS, "fold_assignment": FOLD_ASSIGNMENTS,
    "distribution": H2O3_DISTRIBUTIONS, "stopping_metric": STOPPING_METRICS,
    "missing_values_handling": ("MeanImputation", "Skip"),
}

# Parameters named by the request around the parameters (frames and columns), not by the form's
# parameter fields.
_REQUEST_FIELDS = ("x", "y", "training_frame", "validation_frame")


def _kind(name: str, default: Any) -> str:
    if name in CHOICES:
        return "enum"
    if isinstance(default, bool):
        return "boolean"
    if isinstance(default, int):
        return "integer"
    if isinstance(default, float):
        return "number"
    if isinstance(default, list) or name in ("hidden_dropout_ratios", "class_sampling_factors", "ignored_columns"):
        return "list"
    return "string"


def parameter_table() -> list[dict[str, Any]]:
    """Every parameter a user sets: name, type, default (JSON-able), choices and help."""
    from h2ocloud.dl.param_help import HELP

    rows = []
    for name, default in DEFAULTS.items():
        if name in _REQUEST_FIELDS:
            continue
        value = "Infinity" if default == math.inf else default
        row: dict[str, Any] = {"name": name, "type": _kind(name, default), "default": value,
                               "help": HELP.get(name, "")}
        if name in CHOICES:
            row["choices"] = list(CHOICES[name])
        rows.append(row)
    return rows
