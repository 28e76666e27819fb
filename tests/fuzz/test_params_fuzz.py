"""Random parameter dicts at the model builder (issue 15, bad input at every entry).

validate_parameters (h2ocloud/dl/params.py) is the boundary every training request passes: a
dict of any names and any JSON values must come back as a complete, frozen DLParams that
validates again to itself, or be refused by a ValueError/TypeError that names the parameter.
A few examples go through a real node's train operation (POST /3/ModelBuilders/deeplearning):
a 4xx naming the parameter, or a job that trains, or one that fails naming the problem --
never a 500, a job failed by an IndexError, or a node that stops answering.
"""

from __future__ import annotations

import re
import time
import urllib.parse
import warnings

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from h2ocloud.dl.params import (
    ALIASES,
    DEFAULTS,
    H2O3_DEFAULT_ONLY,
    PARAMETERS,
    DLParams,
    validate_parameters,
)
from tests.cloudfixture import start_cloud
from tests.fuzz.strategies import examples, json_values, parameter_value, typed_parameters
from tests.web.rest import call, wait_job

NAMES = sorted({*DEFAULTS, *ALIASES, *H2O3_DEFAULT_ONLY})
# A refusal names what it refuses: "parameter 'rho': ...", "unknown parameter 'rhoo'; did you
# mean 'rho'?", "parameter names must be strings, ...".
NAMED = re.compile(r"parameter '[^']+'|unknown parameter|parameter names must be strings|parameters must be a dict")

random_dicts = st.dictionaries(st.one_of(st.sampled_from(NAMES), st.text(max_size=6)), json_values, max_size=6)


def validated_or_named(d) -> DLParams | None:
    """The DLParams, or None when refused by a ValueError/TypeError naming the parameter."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the layout hints warn by design
            p = validate_parameters(d)
    except (ValueError, TypeError) as e:
        assert NAMED.search(str(e)), f"refusal names no parameter: {type(e).__name__}: {e}"
        return None
    assert isinstance(p, DLParams) and set(p) == set(DEFAULTS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = validate_parameters(dict(p))
    assert again == p, "validated parameters do not validate to themselves"
    return p


# Values that passed validation and failed inside the job before (issue 15).
@example({"epochs": 1e308})
@example({"rho": 0})
@example({"epochs": "Infinity"})
@example({"hidden": [2**63]})
@example({"hidden_dropout_ratios": 0.5, "activation": "TanhWithDropout"})
@settings(max_examples=examples(300))
@given(random_dicts)
def test_any_json_dict(d):
    validated_or_named(d)


@settings(max_examples=examples(300))
@given(typed_parameters)
def test_parameters_of_their_own_kind(d):
    """Values of each parameter's own type, at and beyond its bounds: reaches the rules that tie
    parameters together, not only the type checks."""
    validated_or_named(d)


def test_non_dicts_are_refused_by_name():
    for bad in (None, [], "epochs=1", 3, [("epochs", 1)]):
        with pytest.raises(ValueError, match="parameters must be a dict"):
            validate_parameters(bad)


# --------------------------------------------------------------- through a real node

@pytest.fixture(scope="module")
def node():
    """One real node with a small frame (a, b numeric; y a two-level factor) to train on."""
    with start_cloud(1, args=["--max-jobs", "4"]) as cloud:
        base = cloud.nodes[0].url
        rows = "".join(f"{i % 7},{(i * 3) % 5},{'p' if i % 3 else 'q'}\n" for i in range(60))
        status, out, _ = call(f"{base}/3/PostFile?filename=small.csv", "POST", data=("a,b,y\n" + rows).encode())
        assert status == 200, out
        assert wait_job(base, out["job"])["status"] == "DONE"
        yield cloud.nodes[0], out["frame_id"]


# Small networks and few passes (the node trains them for real); everything else as drawn.
_SMALL = {"hidden": st.lists(st.integers(-1, 4), max_size=2), "epochs": st.sampled_from([0.0, 0.5, 1.0, -1.0]),
          "nfolds": st.sampled_from([0, 1, 2, -1]), "max_runtime_secs": st.sampled_from([0.0, 5.0])}
_TRAINABLE = {p.name: _SMALL.get(p.name, parameter_value(p)) for p in PARAMETERS
              if not p.request and p.name not in ("export_checkpoints_dir", "model_id", "best_model_key")}


@st.composite
def small_parameters(draw):
    """A few parameters set (most requests set few; many at once are nearly always refused)."""
    names = draw(st.lists(st.sampled_from(sorted(_TRAINABLE)), max_size=4, unique=True))
    out = {n: draw(_TRAINABLE[n]) for n in names}
    out.setdefault("hidden", [3])
    out.setdefault("epochs", 1.0)
    return out


@example({"epochs": 1e308}, "y")
@example({"rho": 0.0}, "y")
@example({"hidden": [3], "epochs": 1.0, "loss": "Huber"}, "y")
@example({"checkpoint": "a"}, "y")
@settings(max_examples=examples(12))
@given(small_parameters(), st.sampled_from(["y", "a", None]))
def test_train_op_refuses_or_trains(node, params, y):
    proc, frame_id = node
    base = proc.url
    body = {"training_frame": frame_id, "params": params, **({"y": y} if y else {})}
    status, out, _ = call(f"{base}/3/ModelBuilders/deeplearning", "POST", body)
    if status != 200:
        assert 400 <= status < 500 and NAMED.search(out.get("error", "")), (status, out)
    else:
        job = wait_job(base, out["job"])
        if job["status"] == "FAILED":
            assert job["error_type"] in ("ValueError", "LimitExceeded", "TypeError"), job
            assert NAMED.search(job["error"]) or "column" in job["error"], job
        else:
            assert job["status"] == "DONE", job
            call(f"{base}/3/Models/{urllib.parse.quote(out['model_id'], safe='')}", "DELETE")
    deadline = time.time() + 10
    while call(f"{base}/3/Ready")[0] != 200 and time.time() < deadline:
        time.sleep(0.2)
    assert proc.alive() and call(f"{base}/3/Ready")[0] == 200
