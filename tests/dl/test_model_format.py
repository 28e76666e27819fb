"""Save/load round trips predict bit-identically; non-models, truncated files and future
versions are refused with ValueError."""

import io
import json

import numpy as np
import pytest
from dl_frames import frame

from h2ocloud.dl import (
    DataInfo,
    LocalBackend,
    load_model,
    model_from_bytes,
    model_to_bytes,
    save_model,
    train_model,
    validate_parameters,
)


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(0)
    n = 200
    c = rng.integers(0, 3, n).astype(np.int32)
    a = rng.normal(size=n)
    y = ((a + c) > 1).astype(np.int32)
    metas, cols = frame(numeric={"a": a}, enums={"c": (["x", "y", "z"], c),
                                                 "r": (["n", "p"], y)})
    p = validate_parameters({"hidden": [6, 5], "epochs": 3, "seed": 9, "y": "r",
                             "variable_importances": True, "max_w2": float("inf")})
    info = DataInfo.build(metas, ["a", "c"], "r", p)
    be = LocalBackend(info.transform(metas, cols), info.transform_response(metas[1], cols["r"]),
                      params=p, info=info)
    return train_model(p, info, be), metas, cols


def same_predictions(m1, m2, metas, cols):
    p1, p2 = m1.predict(metas, cols), m2.predict(metas, cols)
    assert p1.keys() == p2.keys()
    for k in p1:
        np.testing.assert_array_equal(p1[k], p2[k])


def test_round_trip_file_and_dir(trained, tmp_path):
    m, metas, cols = trained
    f = save_model(m, tmp_path / "m.h2odl")
    m2 = load_model(f)
    same_predictions(m, m2, metas, cols)
    np.testing.assert_array_equal(m.net.weights, m2.net.weights)
    np.testing.assert_array_equal(m.net.opt1, m2.net.opt1)
    assert m2.params == m.params and m2.info == m.info and m2.model_id == m.model_id
    assert m2.scoring_history == json.loads(json.dumps(m.scoring_history))
    assert m2.summary_json() == m.summary_json()
    d = save_model(m, tmp_path / "mdir", directory=True)
    same_predictions(m, load_model(d), metas, cols)
    same_predictions(m, model_from_bytes(model_to_bytes(m)), metas, cols)


def test_refuses_bad_files(trained, tmp_path):
    m, _, _ = trained
    data = model_to_bytes(m)
    bad = tmp_path / "trunc"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError):
        load_model(bad)
    (tmp_path / "text").write_text("hello, I am not a model\n")
    with pytest.raises(ValueError):
        load_model(tmp_path / "text")
    # a valid npz that is not a model
    buf = io.BytesIO()
    np.savez(buf, a=np.arange(3))
    with pytest.raises(ValueError, match="not an h2ocloud"):
        model_from_bytes(buf.getvalue())
    # a future version
    d = save_model(m, tmp_path / "future", directory=True)
    doc = json.loads((d / "model.json").read_text())
    doc["version"] = 99
    (d / "model.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="version 99"):
        load_model(d)
    doc["version"] = 1
    doc["format"] = "something.else"
    (d / "model.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="not an h2ocloud"):
        load_model(d)
    with pytest.raises(ValueError):
        load_model(tmp_path / "missing")
