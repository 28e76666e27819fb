"""One table of deep learning parameters: validation into a frozen object, the estimator's
signature and docstring, the REST form and docs/parameters.md all come from it."""

from __future__ import annotations

import inspect
import math

import pytest

from h2ocloud.dl.params import (
    DEFAULTS,
    PARAMETERS,
    DLParams,
    parameter_table,
    resolve_nthreads,
    validate_parameters,
)
from h2ocloud.dl.params_render import constructor_parameters, stale
from h2ocloud.estimators.deeplearning import H2OAutoEncoderEstimator, H2ODeepLearningEstimator


def test_generated_files_are_current():
    """h2ocloud/estimators/deeplearning.py and docs/parameters.md are what the table gives
    (after editing the table: python -m h2ocloud.dl.params_render)."""
    assert stale() == []


def test_the_estimator_signature_is_the_table():
    sig = inspect.signature(H2ODeepLearningEstimator.__init__).parameters
    names = [n for n, p in sig.items() if p.kind == p.KEYWORD_ONLY]
    assert names == [p.name for p in constructor_parameters()]
    assert {"x", "y"}.isdisjoint(names) and {"training_frame", "validation_frame"} <= set(names)
    for p in constructor_parameters():
        d = sig[p.name].default
        assert (list(d) if isinstance(d, tuple) else d) == p.default or (math.isinf(d) and math.isinf(p.default))
        assert f"{p.name} : " in H2ODeepLearningEstimator.__doc__
    assert "passes over the training dataset" in H2ODeepLearningEstimator.__doc__


def test_unknown_keyword_names_the_closest_and_aliases_are_taken():
    with pytest.raises(ValueError, match="unknown parameter 'epoch'; did you mean 'epochs'"):
        H2ODeepLearningEstimator(epoch=3)
    with pytest.raises(ValueError, match="did you mean 'hidden_dropout_ratios'"):
        H2ODeepLearningEstimator(hiden_dropout_ratio=[0.1])
    m = H2ODeepLearningEstimator(hidden_dropout_ratio=[0.2], key="m1", hidden=(5,))
    assert m.params == {"hidden_dropout_ratios": [0.2], "model_id": "m1", "hidden": (5,)}
    with pytest.raises(ValueError, match="given twice"):
        H2ODeepLearningEstimator(hidden_dropout_ratios=[0.1], hidden_dropout_ratio=[0.2])
    assert H2ODeepLearningEstimator(hidden=[200, 200], epochs=10.0).params == {}  # the defaults


def test_sklearn_clone_and_set_params():
    from sklearn.base import clone

    m = H2ODeepLearningEstimator(hidden=[7], epochs=2, activation="Rectifier")
    c = clone(m)
    assert type(c) is H2ODeepLearningEstimator and c is not m
    assert c.get_params() == m.get_params() and c.params == m.params
    assert set(m.get_params()) == {p.name for p in constructor_parameters()}
    assert c.set_params(epochs=5) is c and c.params["epochs"] == 5 and m.params["epochs"] == 2
    with pytest.raises(ValueError, match="did you mean 'l1'"):
        c.set_params(l11=0.1)
    ae = clone(H2OAutoEncoderEstimator(hidden=[3]))
    assert type(ae) is H2OAutoEncoderEstimator and ae.params["autoencoder"] is True


def test_validated_once_into_a_frozen_object():
    p = validate_parameters({"hidden": [4], "seed": 3, "activation": "tanhwithdropout"})
    assert isinstance(p, DLParams) and p.activation == "TanhWithDropout" and p["hidden"] == [4]
    assert validate_parameters(p) is p  # not validated again down the stack
    with pytest.raises(TypeError, match="frozen"):
        p["epochs"] = 3  # type: ignore[index]
    q = p.replace(seed=9, nthreads=2)
    assert q["seed"] == 9 and q["nthreads"] == 2 and p["seed"] == 3
    with pytest.raises(ValueError, match="nthreads"):
        p.replace(nthreads="many")
    assert DLParams.from_validated(dict(p)) == p
    with pytest.raises(ValueError, match="not validated"):
        DLParams.from_validated({"epochs": 1})
    import copy
    import json
    import pickle

    assert json.loads(json.dumps(p))["hidden"] == [4]
    assert pickle.loads(pickle.dumps(p)) == p and copy.deepcopy(p) == p


def test_nthreads_is_resolved_in_one_place():
    p = validate_parameters({})
    assert resolve_nthreads(p, available=3) == 3
    assert resolve_nthreads(p.replace(nthreads=2), available=3) == 2
    assert resolve_nthreads(p.replace(reproducible=True), available=3) == 1


def test_the_rest_form_is_the_table():
    rows = {r["name"]: r for r in parameter_table()}
    assert set(rows) == {p.name for p in PARAMETERS if not p.request}
    assert set(rows) | {"x", "y", "training_frame", "validation_frame"} == set(DEFAULTS)
    assert all(r["help"] for r in rows.values())
    assert rows["rho"]["range"] == {"min": 0.0, "max": 1.0, "min_exclusive": True, "max_exclusive": True}
    assert rows["max_w2"]["default"] == "Infinity" and rows["hidden"]["default"] == [200, 200]
    assert rows["hidden_dropout_ratios"]["aliases"] == ["hidden_dropout_ratio"]


def test_the_rest_route_serves_the_table(h2o, cloud1):
    from tests.cloudfixture import get_json

    got = get_json(cloud1.nodes[0].url + "/3/ModelBuilders/deeplearning/parameters")
    assert got["parameters"] == parameter_table()


def test_the_sklearn_wrappers_defaults_are_the_tables():
    """h2ocloud.sklearn's estimators name their parameters in their own signature (scikit-learn
    wants that); their defaults must be the table's, so both APIs train the same model."""
    pytest.importorskip("sklearn")
    from h2ocloud.dl.params import BY_NAME
    from h2ocloud.sklearn import H2ODeepLearningClassifier

    for name, value in H2ODeepLearningClassifier().get_params().items():
        if name in BY_NAME:
            want = BY_NAME[name].default
            got = list(value) if isinstance(value, tuple) else value
            assert got == want or (isinstance(want, float) and math.isinf(want) and math.isinf(got)), name
