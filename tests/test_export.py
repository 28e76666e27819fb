"""Model export (issue 14): the POJO compiled with javac and run, the ONNX model run with
onnxruntime and the numpy module imported in a fresh interpreter score a test frame as the
cloud's predict() does, on one node and on a three-node cloud."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

JAVAC = shutil.which("javac")
needs_javac = pytest.mark.skipif(JAVAC is None, reason="no javac: .ci/run installs Debian's "
                                                       "default-jdk-headless; none could be had here")
PROB_TOL = 1e-5


@pytest.fixture(params=["cloud1", "cloud3"])
def h2o(request):
    """The client connected to a one-node cloud, then to a three-node one."""
    import h2ocloud

    cloud = request.getfixturevalue(request.param)
    h2ocloud.init(url=cloud.nodes[-1].url)
    return h2ocloud


def _data(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    color = rng.choice(["red", "green", "blue"], n).astype(object)
    color[rng.random(n) < 0.1] = None
    a = rng.normal(size=n)
    b = rng.normal(size=n) * 10 + 50
    a_obs = a.copy()
    a_obs[rng.random(n) < 0.1] = np.nan
    score = a + (b - 50) / 10 + np.where(color == "red", 1.0, 0.0)
    return pd.DataFrame({
        "color": color, "a": a_obs, "b": b, "const": 3.0,
        "y": np.where(score > 0.3, "yes", "no"),
        "kind": np.where(score > 1, "high", np.where(score > -0.5, "mid", "low")),
        "value": 2 * score + rng.normal(scale=0.1, size=n),
    })


@pytest.fixture(scope="module")
def frames():
    train, test = _data(400, 1), _data(60, 2)
    test.loc[3, "color"] = "purple"  # a level training never saw
    test.loc[4, "a"] = np.nan
    test.loc[5, "color"] = None
    return train, test


def _upload(h2o, df: pd.DataFrame, factors=("color", "y", "kind")):
    fr = h2o.H2OFrame(df)
    for c in factors:
        fr[c] = fr[c].asfactor()
    return fr


def _cloud_predictions(m, test_fr) -> pd.DataFrame:
    return m.predict(test_fr).as_data_frame()


def _compare(got: dict, want: pd.DataFrame, what: str, classifier: bool) -> None:
    assert list(got) == list(want.columns), f"{what}: columns {list(got)} != {list(want.columns)}"
    for c in want.columns:
        g, w = np.asarray(got[c]), want[c].to_numpy()
        if c == "predict" and classifier:
            assert [str(v) for v in g] == [str(v) for v in w], f"{what}: labels differ"
        else:
            err = np.max(np.abs(g.astype(np.float64) - w.astype(np.float64)))
            assert err <= PROB_TOL, f"{what}: column {c} differs by {err}"


def _csv(test: pd.DataFrame) -> bytes:
    return test.to_csv(index=False, na_rep="NA").encode()


def _run_pojo(path: str, test: pd.DataFrame, workdir: Path) -> pd.DataFrame:
    classes = workdir / "classes"
    classes.mkdir(exist_ok=True)
    subprocess.run([JAVAC, "-d", str(classes), path], check=True, capture_output=True)
    out = subprocess.run(["java", "-cp", str(classes), Path(path).stem], input=_csv(test),
                         capture_output=True, check=True)
    return pd.read_csv(io.BytesIO(out.stdout), dtype={"predict": str}, keep_default_na=False)


def _run_onnx(path: str, test: pd.DataFrame) -> dict[str, np.ndarray]:
    import onnx
    import onnxruntime as ort

    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    sess = ort.InferenceSession(path)
    feed = {}
    for inp in sess.get_inputs():
        col = test[inp.name]
        if inp.type == "tensor(string)":
            feed[inp.name] = col.fillna("").astype(str).to_numpy(dtype=object).reshape(-1, 1)
        else:
            feed[inp.name] = col.to_numpy(np.float32).reshape(-1, 1)
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, feed)))


def _onnx_columns(outs: dict, columns: list[str]) -> dict[str, np.ndarray]:
    if "label" in outs:
        return {"predict": outs["label"], **{c: outs["probabilities"][:, k] for k, c in enumerate(columns[1:])}}
    if "reconstruction" in outs:
        return {c: outs["reconstruction"][:, k] for k, c in enumerate(columns)}
    return {"predict": outs["predict"][:, 0]}


FRESH = r"""
import json, sys
sys.modules["pandas"] = None    # the module must not need pandas for dicts and arrays ...
sys.modules["h2ocloud"] = None  # ... nor anything of h2ocloud
sys.path.insert(0, sys.argv[1])
mod = __import__(sys.argv[2])
rows = json.load(sys.stdin)
res = mod.predict(rows)
arr = [[r.get(c) for c in mod.COLUMNS] for r in rows]
res2 = mod.predict(__import__("numpy").array(arr, dtype=object))
assert all((res[k] == res2[k]).all() for k in res), "a 2-D array and dicts disagree"
extra = {"anomaly": mod.anomaly(rows)["Reconstruction.MSE"].tolist()} if mod.CATEGORY == "AutoEncoder" else {}
mods = sorted(m.split(".")[0] for m in sys.modules if sys.modules[m] is not None)
print(json.dumps({"columns": {k: [str(v) if k == "predict" and mod.RESPONSE_DOMAIN else float(v)
                              for v in res[k]] for k in res}, "modules": mods, **extra}))
"""


def _run_python(path: str, test: pd.DataFrame) -> dict:
    rows = json.loads(test.to_json(orient="records"))  # NaN -> null
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    p = Path(path)
    out = subprocess.run([sys.executable, "-c", FRESH, str(p.parent), p.stem], input=json.dumps(rows).encode(),
                         capture_output=True, check=True, env=env, cwd=p.parent)
    res = json.loads(out.stdout)
    assert "numpy" in res["modules"] and not {"pandas", "h2ocloud"} & set(res["modules"])
    return res


def _check_all_formats(m, test_fr, test: pd.DataFrame, tmp_path: Path, classifier: bool) -> pd.DataFrame:
    want = _cloud_predictions(m, test_fr)
    columns = list(want.columns)
    pojo = m.download_pojo(str(tmp_path / "pojo"))
    assert Path(pojo).name.endswith(".java") and Path(pojo).parent == tmp_path / "pojo"
    onnx_path = m.download_onnx(str(tmp_path / "model.onnx"))
    py = m.download_python(str(tmp_path))
    assert onnx_path == str(tmp_path / "model.onnx") and Path(py).parent == tmp_path

    _compare(_onnx_columns(_run_onnx(onnx_path, test), columns), want, "onnx", classifier)
    _compare(_run_python(py, test)["columns"], want, "python (fresh interpreter)", classifier)
    # In this process, a pandas frame gives a pandas frame of the same columns.
    import importlib.util

    spec = importlib.util.spec_from_file_location(Path(py).stem, py)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    got = mod.predict(test)
    assert isinstance(got, pd.DataFrame)
    _compare({c: got[c] for c in got.columns}, want, "python (pandas)", classifier)
    if JAVAC is not None:
        pojo_df = _run_pojo(pojo, test, tmp_path)
        assert list(pojo_df.columns) == columns
        _compare({c: pojo_df[c] for c in pojo_df.columns}, want, "pojo", classifier)
    return want


@pytest.mark.parametrize("activation,kw", [
    ("Tanh", {}),
    ("RectifierWithDropout", {"input_dropout_ratio": 0.1}),
    ("MaxoutWithDropout", {"use_all_factor_levels": False}),
])
def test_classifier_exports_score_as_predict(h2o, frames, tmp_path, activation, kw):
    train, test = frames
    tr, te = _upload(h2o, train), _upload(h2o, test)
    m = h2o.H2ODeepLearningEstimator(activation=activation, hidden=[8, 6], epochs=5, seed=7,
                                     reproducible=True, **kw)
    m.train(x=["color", "a", "b", "const"], y="y", training_frame=tr)
    want = _check_all_formats(m, te, test, tmp_path, classifier=True)
    assert list(want.columns) == ["predict", "no", "yes"]


def test_multinomial_exports_score_as_predict(h2o, frames, tmp_path):
    train, test = frames
    tr, te = _upload(h2o, train), _upload(h2o, test)
    m = h2o.H2ODeepLearningEstimator(activation="Rectifier", hidden=[10], epochs=5, seed=3,
                                     reproducible=True)
    m.train(x=["a", "color", "b"], y="kind", training_frame=tr)
    want = _check_all_formats(m, te, test, tmp_path, classifier=True)
    assert len(set(want["predict"])) > 1


def test_regressor_exports_score_as_predict(h2o, frames, tmp_path):
    train, test = frames
    tr, te = _upload(h2o, train), _upload(h2o, test)
    m = h2o.H2ODeepLearningEstimator(activation="Tanh", hidden=[10, 10], epochs=10, seed=5,
                                     reproducible=True)
    m.train(x=["color", "a", "b", "const"], y="value", training_frame=tr)
    want = _check_all_formats(m, te, test, tmp_path, classifier=False)
    assert list(want.columns) == ["predict"] and want["predict"].std() > 0.5


@pytest.mark.parametrize("distribution", ["poisson", "gamma"])
def test_log_link_regressor_exports_score_as_predict(h2o, frames, tmp_path, distribution):
    """A log-link model's exports apply exp to the output, as the cloud's predict does."""
    train, test = frames
    train, test = train.assign(count=np.exp(train["value"] / 4)), test.assign(count=np.exp(test["value"] / 4))
    tr, te = _upload(h2o, train), _upload(h2o, test)
    m = h2o.H2ODeepLearningEstimator(activation="Tanh", hidden=[6], epochs=5, seed=5, reproducible=True,
                                     distribution=distribution)
    m.train(x=["color", "a", "b"], y="count", training_frame=tr)
    want = _check_all_formats(m, te, test, tmp_path, classifier=False)
    assert (want["predict"] > 0).all() and want["predict"].std() > 0.1


def test_autoencoder_exports_score_as_predict(h2o, frames, tmp_path):
    train, test = frames
    tr, te = _upload(h2o, train), _upload(h2o, test)
    m = h2o.H2OAutoEncoderEstimator(activation="Tanh", hidden=[4], epochs=10, seed=2,
                                    reproducible=True)
    m.train(x=["color", "a", "b"], training_frame=tr)
    want = _check_all_formats(m, te, test, tmp_path, classifier=False)
    assert want.columns[0].startswith("reconstr_")
    # The reconstruction error: the numpy module's anomaly() and ONNX's output are the cloud's.
    cloud_mse = m.anomaly(te).as_data_frame()["Reconstruction.MSE"].to_numpy()
    np.testing.assert_allclose(_run_python(m.download_python(str(tmp_path)), test)["anomaly"], cloud_mse,
                               atol=PROB_TOL)
    outs = _run_onnx(m.download_onnx(str(tmp_path)), test)
    np.testing.assert_allclose(outs["reconstruction_mse"], cloud_mse, atol=PROB_TOL)


def test_unseen_level_scores_the_same_everywhere(h2o, frames, tmp_path):
    """One frame, every row a level training never saw: all four agree, and they score it
    as a missing level (the row with the factor missing)."""
    train, test = frames
    tr = _upload(h2o, train)
    m = h2o.H2ODeepLearningEstimator(activation="Tanh", hidden=[6], epochs=3, seed=1, reproducible=True)
    m.train(x=["color", "a", "b"], y="y", training_frame=tr)
    unseen = test.head(8).copy()
    unseen["color"] = ["violet", "teal", "violet", "ochre", "teal", "violet", "ochre", "teal"]
    want = _check_all_formats(m, _upload(h2o, unseen), unseen, tmp_path, classifier=True)
    as_missing = pd.concat([unseen.assign(color=None), test.head(1)], ignore_index=True)
    missing = _cloud_predictions(m, _upload(h2o, as_missing))["yes"].to_numpy()[:8]
    np.testing.assert_allclose(want["yes"], missing, atol=1e-7)


def test_rest_routes_download_each_format(frames, cloud1):
    import h2ocloud

    h2ocloud.init(url=cloud1.nodes[0].url)
    tr = _upload(h2ocloud, frames[0])
    m = h2ocloud.H2ODeepLearningEstimator(hidden=[3], epochs=1, seed=1, model_id="rest.export-1")
    m.train(x=["color", "a"], y="y", training_frame=tr)
    url = cloud1.nodes[0].url
    for route, name in (("/3/Models/rest.export-1/java", "rest_export_1.java"),
                        ("/3/Models.java/rest.export-1", "rest_export_1.java"),
                        ("/3/Models/rest.export-1/onnx", "rest_export_1.onnx"),
                        ("/3/Models/rest.export-1/python", "rest_export_1.py")):
        with urllib.request.urlopen(url + route, timeout=60) as r:
            body = r.read()
            assert name in r.headers["Content-Disposition"]
        if name.endswith(".java"):
            assert b"public class rest_export_1 {" in body and b"score0(double[] row, double[] preds)" in body
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url + "/3/Models/no-such-model/java", timeout=10)
    assert e.value.code == 404 and "no-such-model" in json.loads(e.value.read())["error"]


def test_bad_requests_are_named(h2o, frames, tmp_path):
    from h2ocloud.errors import NotFound

    with pytest.raises(NotFound):
        h2o.download_pojo("no-such-model", str(tmp_path))
    with pytest.raises(ValueError, match="format"):
        h2o.connection().call("models.export", {"model_id": "x", "format": "pmml"})
    (tmp_path / "afile").write_text("")
    tr = _upload(h2o, frames[0])
    m = h2o.H2ODeepLearningEstimator(hidden=[3], epochs=1, seed=1)
    m.train(x=["a"], y="y", training_frame=tr)
    with pytest.raises(ValueError, match="path"):
        m.download_pojo(str(tmp_path / "afile"))
    with pytest.raises(ValueError, match="path"):
        m.download_onnx(str(tmp_path / "no" / "such" / "m.onnx"))


@needs_javac
def test_mnist_sized_pojo_compiles_and_scores(h2o, tmp_path, request):
    """A 784-500-500-500-10 network (1.1 million weights) compiles: javac's limits of 64 KB a
    method and 65535 constants a class are not met by the generated source."""
    if "cloud3" in request.node.name:
        pytest.skip("one cloud is enough to compile a large POJO")
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(120, 784)).astype(float)
    pixels[:, :20] = 0.0  # constant columns, dropped as for MNIST's borders
    df = pd.DataFrame(pixels, columns=[f"C{i + 1}" for i in range(784)])
    df["label"] = rng.integers(0, 10, 120).astype(str)
    fr = h2o.H2OFrame(df)
    fr["label"] = fr["label"].asfactor()
    m = h2o.H2ODeepLearningEstimator(activation="RectifierWithDropout", hidden=[500, 500, 500],
                                     input_dropout_ratio=0.2, epochs=1, seed=1)
    m.train(x=list(df.columns[:784]), y="label", training_frame=fr)
    pojo = m.download_pojo(str(tmp_path))
    assert os.path.getsize(pojo) > 4_000_000
    test = df.head(20)
    got = _run_pojo(pojo, test, tmp_path)
    pred = m.predict(h2o.H2OFrame(test.drop(columns="label")))
    # The probability columns only: with a few rows the label column may hold few of the
    # levels, which a derived frame's header did not always keep (issue 10 fixes it).
    want = pred._fetch(columns=pred.columns[1:])
    labels = np.asarray(m.summary_json()["response_domain"])[want.to_numpy().argmax(axis=1)]
    want.insert(0, "predict", labels)
    _compare({c: got[c] for c in got.columns}, want, "pojo (784-500-500-500-10)", classifier=True)


def test_hashed_factors_export_as_predict(h2o, frames, tmp_path):
    """max_categorical_features: the exports read one-hot factors and fold each unit onto its
    hash bucket's weights, so they score as the cloud does."""
    train, test = frames
    tr, te = _upload(h2o, train), _upload(h2o, test)
    m = h2o.H2ODeepLearningEstimator(activation="Tanh", hidden=[6], epochs=5, seed=11, reproducible=True,
                                     max_categorical_features=2)
    m.train(x=["color", "a", "kind", "b"], y="y", training_frame=tr)
    assert m.summary_json()["n_inputs"] == 2 + 2  # 6 one-hot units hashed into 2, then a and b
    _check_all_formats(m, te, test, tmp_path, classifier=True)


def test_offset_model_export_is_refused_naming_offset_column(h2o, frames, tmp_path):
    train, _ = frames
    tr = _upload(h2o, train)
    m = h2o.H2ODeepLearningEstimator(hidden=[3], epochs=1, seed=1, offset_column="b")
    m.train(x=["a", "color"], y="value", training_frame=tr)
    for download in (m.download_pojo, m.download_onnx, m.download_python):
        with pytest.raises(ValueError, match="offset_column"):
            download(str(tmp_path))
