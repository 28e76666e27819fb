"""A grid search's hyper-parameter space: checked once at the boundary, then walked.

``check_hyper_space`` refuses, before anything trains, a hyper-parameter name that is unknown
(naming the closest valid one), one that cannot vary (frames, columns, ids), and a value that no
combination of the grid accepts (``rho: [0.99, 1.5]``). A value that only some combinations refuse
(``hidden_dropout_ratios`` of the wrong length for one of the ``hidden`` values) is left to fail
as that model, which the grid records among its failures.

``combinations`` walks the space as H2O-3's walkers do: Cartesian (every combination, in order) or
RandomDiscrete (the combinations in a seeded random order, without repeats).
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Iterator
from typing import Any

from h2ocloud.dl.params import canonical_names, closest, validate_parameters
from h2ocloud.dl.stopping import MORE_IS_BETTER, STOPPING_METRICS

#: Parameters a grid cannot vary: what to train on and where the result goes.
NOT_HYPER = ("x", "y", "training_frame", "validation_frame", "model_id", "checkpoint",
             "fold_column", "weights_column", "offset_column", "ignored_columns")
#: Parameters whose value is a list, so a grid axis of them is a list of lists.
LIST_VALUED = ("hidden", "hidden_dropout_ratios", "class_sampling_factors")
STRATEGIES = ("Cartesian", "RandomDiscrete")
_MAX_PROBES = 5000  # combinations tried to find one that accepts a value refused on its own


def _is_list(v: Any) -> bool:
    return isinstance(v, list | tuple) or hasattr(v, "tolist") and not isinstance(v, str | bytes)


def _values(name: str, raw: Any) -> list[Any]:
    """The values of one axis, as a list (a lone scalar is an axis of one value)."""
    if hasattr(raw, "tolist") and not isinstance(raw, str):
        raw = raw.tolist()
    if name in LIST_VALUED:
        if not _is_list(raw) or not raw:
            raise ValueError(f"hyper-parameter {name!r}: expected a list of {name} values "
                             f"(lists), got {raw!r}")
        if not any(_is_list(v) for v in raw):  # hidden=[10, 20] is one value, not two
            raw = [raw]
        return [list(v) if _is_list(v) else v for v in raw]
    if not _is_list(raw):
        raw = [raw]
    if not raw:
        raise ValueError(f"hyper-parameter {name!r}: no values")
    return list(raw)


def value_key(hyper: dict[str, Any]) -> str:
    """A combination's identity (what resume compares)."""
    return json.dumps({k: hyper[k] for k in sorted(hyper)}, sort_keys=True, default=str)


def check_hyper_space(base: dict[str, Any], hyper_params: dict[str, Any]) -> dict[str, list[Any]]:
    """Canonically named axes with their values; raise ValueError naming a bad name or value."""
    if not isinstance(hyper_params, dict) or not hyper_params:
        raise ValueError("hyper_params must be a non-empty dict of parameter name -> list of values")
    named = canonical_names(hyper_params, what="hyper-parameter")
    space: dict[str, list[Any]] = {}
    for name, raw in named.items():
        if name in NOT_HYPER:
            raise ValueError(f"hyper-parameter {name!r} cannot be searched over: give it to train()")
        vals = _values(name, raw)
        keys = [json.dumps(v, sort_keys=True, default=str) for v in vals]
        if len(set(keys)) != len(keys):
            raise ValueError(f"hyper-parameter {name!r}: a value is listed twice ({vals})")
        space[name] = vals
    base = {k: v for k, v in base.items() if k not in space}
    for name, vals in space.items():
        others = {k: v for k, v in space.items() if k != name}
        for v in vals:
            _check_value(base, name, v, others)
    return space


def _check_value(base: dict[str, Any], name: str, v: Any, others: dict[str, list[Any]]) -> None:
    try:
        validate_parameters({**base, name: v})
        return
    except ValueError as e:
        first = e
    # Refused next to the base parameters; it may still suit another axis's value.
    names = list(others)
    for combo in itertools.islice(itertools.product(*others.values()), _MAX_PROBES):
        try:
            validate_parameters({**base, **dict(zip(names, combo)), name: v})
            return
        except ValueError:
            continue
    raise ValueError(f"hyper-parameter {name!r}: value {v!r} is refused ({first})") from None


def check_search_criteria(sc: dict[str, Any] | None) -> dict[str, Any]:
    """H2O-3's search_criteria, with its defaults; raise ValueError naming a bad entry."""
    sc = dict(sc or {})
    known = {"strategy", "max_models", "max_runtime_secs", "seed", "stopping_rounds",
             "stopping_metric", "stopping_tolerance"}
    for k in sc:
        if k not in known:
            hint = closest(k, known)
            raise ValueError(f"unknown search_criteria entry {k!r}" + (f"; did you mean {hint!r}?" if hint else ""))
    strategy = sc.get("strategy", "Cartesian")
    match = [s for s in STRATEGIES if isinstance(strategy, str) and s.lower() == strategy.lower()]
    if not match:
        raise ValueError(f"search_criteria 'strategy': {strategy!r}; expected one of {list(STRATEGIES)}")
    out: dict[str, Any] = {"strategy": match[0]}
    if match[0] == "Cartesian":
        extra = set(sc) - {"strategy"}
        if extra:
            raise ValueError(f"search_criteria {sorted(extra)} apply to RandomDiscrete only")
        return out

    def number(key: str, default: Any, integer: bool) -> Any:
        v = sc.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int | float) or (integer and v != int(v)) \
                or v < 0 or (isinstance(v, float) and math.isnan(v)):
            raise ValueError(f"search_criteria {key!r}: expected a{'n integer' if integer else ' number'} "
                             f">= 0, got {v!r}")
        return int(v) if integer else float(v)

    out["max_models"] = number("max_models", 0, True)
    out["max_runtime_secs"] = number("max_runtime_secs", 0.0, False)
    out["stopping_rounds"] = number("stopping_rounds", 0, True)
    out["stopping_tolerance"] = number("stopping_tolerance", 0.001, False)
    seed = sc.get("seed", -1)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"search_criteria 'seed': expected an integer, got {seed!r}")
    out["seed"] = seed if seed != -1 else random.SystemRandom().randrange(1, 2**62)
    metric = sc.get("stopping_metric", "AUTO")
    ok = [m for m in STOPPING_METRICS if isinstance(metric, str) and m.lower() == metric.lower()]
    if not ok:
        raise ValueError(f"search_criteria 'stopping_metric': {metric!r}; expected one of {list(STOPPING_METRICS)}")
    out["stopping_metric"] = ok[0]
    return out


def combinations(space: dict[str, list[Any]], criteria: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every combination once: in order (Cartesian) or in a seeded random order (RandomDiscrete)."""
    names = list(space)
    combos = [dict(zip(names, c)) for c in itertools.product(*space.values())]
    if criteria["strategy"] == "RandomDiscrete":
        random.Random(criteria["seed"]).shuffle(combos)
    yield from combos


def space_size(space: dict[str, list[Any]]) -> int:
    return math.prod(len(v) for v in space.values())


# ---- sorting a grid's models by a metric -----------------------------------------------------
#: get_grid's sort_by names (H2O-3's and h2o-py's) -> key of a metrics dict.
SORT_KEYS = {"logloss": "logloss", "auc": "auc", "mse": "mse", "rmse": "rmse", "mae": "mae",
             "r2": "r2", "err": "classification_error", "error": "classification_error",
             "classification_error": "classification_error", "misclassification": "classification_error",
             "mean_per_class_error": "mean_per_class_error", "deviance": "mean_residual_deviance",
             "residual_deviance": "mean_residual_deviance",
             "mean_residual_deviance": "mean_residual_deviance", "f1": "max_f1", "max_f1": "max_f1"}
_MORE_IS_BETTER_KEYS = {"auc", "r2", "max_f1"} | {k.lower() for k in MORE_IS_BETTER}


def sort_key(sort_by: str | None, kind: str | None) -> str:
    """The metrics key to sort by; None: H2O-3's default (logloss for classifiers, deviance for
    regression, MSE for autoencoders)."""
    if sort_by is None:
        return {"binomial": "logloss", "multinomial": "logloss", "regression": "mean_residual_deviance"}.get(
            kind or "", "mse")
    key = SORT_KEYS.get(str(sort_by).lower())
    if key is None:
        raise ValueError(f"sort_by {sort_by!r}: expected one of {sorted(SORT_KEYS)}")
    return key


def more_is_better(key: str) -> bool:
    return key in _MORE_IS_BETTER_KEYS


def metrics_source(models: list[dict[str, Any]]) -> str:
    """As H2O-3: cross-validation metrics when every model has them, else validation, else training."""
    for which in ("xval", "valid"):
        if models and all(m.get("metrics", {}).get(which) for m in models):
            return which
    return "train"
