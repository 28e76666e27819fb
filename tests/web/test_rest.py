"""The REST API under /3/: every route in the table answers, errors are JSON with 4xx statuses
naming the problem, and /3/openapi.json describes exactly the routes the app serves."""

from __future__ import annotations

import io
import json
import re
import urllib.request

import numpy as np
import pandas as pd
import pytest

from tests.web.rest import call, ok, wait_job

BAD_KEY = "no-such-key.hex"


def _csv(n: int = 240, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.uniform(0, 5, size=n),
                       "color": rng.choice(["red", "green", "blue"], size=n)})
    df["y"] = np.where(df.a + (df.color == "red") > 0.3, "yes", "no")
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return buf.getvalue().encode()


@pytest.fixture(scope="module")
def frame(cloud1):
    """A frame uploaded through POST /3/PostFile and parsed by its job."""
    base = cloud1.nodes[0].url
    out = ok(f"{base}/3/PostFile?filename=rest.csv&destination_frame=rest.hex", "POST", data=_csv())
    assert out["frame_id"] == "rest.hex" and out["bytes"] > 0
    assert wait_job(base, out["job"])["status"] == "DONE"
    return "rest.hex"


@pytest.fixture(scope="module")
def model(cloud1, frame):
    base = cloud1.nodes[0].url
    out = ok(f"{base}/3/ModelBuilders/deeplearning", "POST", {
        "training_frame": frame, "y": "y", "x": ["a", "b", "color"],
        "params": {"model_id": "rest_model", "hidden": [4], "epochs": 2, "seed": 1,
                   "variable_importances": True, "score_each_iteration": True}})
    assert out["model_id"] == "rest_model"
    job = wait_job(base, out["job"])
    assert job["status"] == "DONE", job
    return "rest_model"


def test_openapi_describes_exactly_the_routes(cloud1):
    base = cloud1.nodes[0].url
    doc = ok(f"{base}/3/openapi.json")
    assert doc["openapi"].startswith("3.")
    described = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    from h2ocloud.node.config import NodeConfig
    from h2ocloud.web.app import make_app

    class _Stub:  # make_app only wires handlers (and reads the body limit); nothing runs
        data_dir = "/nonexistent"
        config = NodeConfig()

    served = set()
    for res in make_app(_Stub()).router.routes():
        info = res.resource.get_info() if res.resource else {}
        path = info.get("formatter") or info.get("path")
        if path and re.match(r"^/(3|99)/", path) and path != "/3/openapi.json" and res.method != "HEAD":
            served.add((res.method, path))
    assert described == served
    for path, ops in doc["paths"].items():
        for m, spec in ops.items():
            names = {p["name"] for p in spec["parameters"] if p["in"] == "path"}
            assert names == set(re.findall(r"{(\w+)}", path)), (m, path)
            assert spec["summary"] and "default" in spec["responses"]


def test_cloud_ready_and_jobs(cloud1, frame):
    base = cloud1.nodes[0].url
    c = ok(f"{base}/3/Cloud")
    assert c["cloud_size"] == 1 and c["nodes"][0]["epoch"] == c["epoch"]
    assert ok(f"{base}/3/Ready")["ready"] is True
    jobs = ok(f"{base}/3/Jobs")["jobs"]
    parse = [j for j in jobs if j["dest"] == frame]
    assert parse and parse[0]["status"] == "DONE" and parse[0]["node_id"] == c["node_id"]
    assert ok(f"{base}/3/Jobs/{parse[0]['job_id']}")["dest"] == frame
    assert ok(f"{base}/3/Jobs?all_nodes=true")["jobs"]


def test_job_events_stream_the_jobs(cloud1, frame):
    base = cloud1.nodes[0].url
    with urllib.request.urlopen(f"{base}/3/Jobs/events", timeout=30) as r:
        assert r.headers["Content-Type"].startswith("text/event-stream")
        line = r.readline().decode()
    assert line.startswith("data: ")
    assert any(j["dest"] == frame for j in json.loads(line[6:])["jobs"])


def test_frames_routes(cloud1, frame):
    base = cloud1.nodes[0].url
    assert any(f["frame_id"] == frame and f["nrows"] == 240 for f in ok(f"{base}/3/Frames")["frames"])
    h = ok(f"{base}/3/Frames/{frame}")
    assert h["names"] == ["a", "b", "color", "y"]
    s = ok(f"{base}/3/Frames/{frame}/summary")
    a = next(c for c in s["columns"] if c["name"] == "a")
    assert sum(a["histogram"]["counts"]) == 240
    rows = ok(f"{base}/3/Frames/{frame}/rows?nrows=5")
    assert rows["nrows"] == 5 and rows["columns"][2]["values"][0] in ("red", "green", "blue")
    ch = ok(f"{base}/3/Frames/{frame}/charts")["columns"]
    assert set(ch) == {"a", "b", "color", "y"} and "<svg" in ch["a"] and ">red<" in ch["color"]


def test_import_and_delete_frame(cloud1, tmp_path):
    base = cloud1.nodes[0].url
    p = tmp_path / "imp.csv"
    p.write_bytes(_csv(50, 3))
    out = ok(f"{base}/3/ImportFiles", "POST", {"path": str(p), "destination_frame": "imp.hex"})
    assert wait_job(base, out["job"])["status"] == "DONE"
    assert ok(f"{base}/3/Frames/imp.hex", "DELETE") == {"removed": "imp.hex"}
    st, err, _ = call(f"{base}/3/Frames/imp.hex")
    assert st == 404 and "imp.hex" in err["error"]


@pytest.mark.slow
def test_models_routes(cloud1, frame, model):
    base = cloud1.nodes[0].url
    listed = {m["model_id"]: m for m in ok(f"{base}/3/Models")["models"]}
    m = listed[model]
    assert m["response_column"] == "y" and m["training_frame"] == frame
    assert m["headline"]["metric"] == "logloss" and m["headline"]["value"] > 0
    full = ok(f"{base}/3/Models/{model}")
    assert full["params"]["hidden"] == [4] and full["scoring_history"]
    ch = ok(f"{base}/3/Models/{model}/charts")
    assert "logloss" in ch["metrics"] and "training logloss" in ch["scoring_history"]["logloss"]
    for v in full["variable_importances"]["variable"]:
        assert f'data-label="{v}"' in ch["varimp"]
    for fmt, needle in (("java", b"class rest_model"), ("python", b"def predict")):
        st, body, hdrs = call(f"{base}/3/Models/{model}/{fmt}")
        assert st == 200 and needle in body and "attachment" in hdrs["Content-Disposition"]
    pred = ok(f"{base}/3/Predictions/models/{model}/frames/{frame}", "POST", {"dest": "rest_pred.hex"})
    assert pred["frame_id"] == "rest_pred.hex" and pred["names"][0] == "predict" and pred["nrows"] == 240
    perf = ok(f"{base}/3/ModelMetrics/models/{model}/frames/{frame}", "POST")
    assert perf["metrics"]["nobs"] == 240
    params = ok(f"{base}/3/ModelBuilders/deeplearning/parameters")["parameters"]
    by = {p["name"]: p for p in params}
    assert by["epochs"]["default"] == 10.0 and by["activation"]["choices"][0] == "Tanh"
    assert "passes over the training dataset" in by["epochs"]["help"] and all(p["help"] for p in params)
    assert ok(f"{base}/3/Ops/models.list", "POST", {})["models"]


@pytest.mark.slow
def test_grid_routes(cloud1, frame):
    base = cloud1.nodes[0].url
    out = ok(f"{base}/99/Grid/deeplearning", "POST", {
        "training_frame": frame, "y": "y", "grid_id": "rest_grid", "params": {"epochs": 1, "seed": 2},
        "hyper_params": {"hidden": [[3], [5]]}})
    assert wait_job(base, out["job"])["status"] == "DONE"
    assert any(g["grid_id"] == "rest_grid" for g in ok(f"{base}/3/Grids")["grids"])
    g = ok(f"{base}/3/Grids/rest_grid?sort_by=logloss&decreasing=true")
    losses = [m["metrics"][g["metrics_source"]]["logloss"] for m in g["models"]]
    assert len(losses) == 2 and losses == sorted(losses, reverse=True)
    assert ok(f"{base}/3/Grids/rest_grid", "DELETE") == {"removed": "rest_grid"}


@pytest.mark.parametrize("method,path", [
    ("GET", f"/3/Frames/{BAD_KEY}"), ("GET", f"/3/Frames/{BAD_KEY}/summary"),
    ("GET", f"/3/Frames/{BAD_KEY}/rows"), ("GET", f"/3/Frames/{BAD_KEY}/charts"),
    ("DELETE", f"/3/Frames/{BAD_KEY}"), ("GET", f"/3/Models/{BAD_KEY}"),
    ("GET", f"/3/Models/{BAD_KEY}/charts"), ("GET", f"/3/Models/{BAD_KEY}/java"),
    ("POST", f"/3/Predictions/models/{BAD_KEY}/frames/{BAD_KEY}"),
    ("GET", f"/3/Grids/{BAD_KEY}"), ("GET", "/3/Jobs/job-nonesuch"), ("POST", "/3/Jobs/job-nonesuch/cancel"),
    ("POST", "/3/Ops/no.such.op"), ("GET", "/3/NoSuchRoute"),
])
def test_unknown_keys_are_404_json(cloud1, method, path):
    st, err, hdrs = call(cloud1.nodes[0].url + path, method, {} if method == "POST" else None)
    assert st == 404, (path, st, err)
    assert hdrs["Content-Type"].startswith("application/json") and err["http_status"] == 404 and err["error"]


@pytest.mark.parametrize("method,path,body,needle", [
    ("POST", "/3/ModelBuilders/deeplearning", {"training_frame": "rest.hex", "y": "y", "params": {"epochs": -1}}, "epochs"),
    ("POST", "/3/ModelBuilders/deeplearning", {"training_frame": "rest.hex", "y": "y", "params": {"activaton": "Tanh"}}, "activation"),
    ("POST", "/3/ModelBuilders/deeplearning", {"y": "y"}, "training_frame"),
    ("GET", "/3/Frames/rest.hex/rows?nrows=abc", None, "nrows"),
    ("GET", "/3/Frames/rest.hex/charts?max_columns=0", None, "max_columns"),
    ("POST", "/3/ImportFiles", {}, "path"),
    ("POST", "/3/PostFile?filename=empty.csv", b"", "empty"),
    ("POST", "/99/Grid/deeplearning", {"training_frame": "rest.hex", "y": "y", "hyper_params": {"hiden": [[2]]}}, "hiden"),
])
def test_bad_parameters_are_400_json(cloud1, frame, method, path, body, needle):
    data = body if isinstance(body, bytes) else None
    st, err, _ = call(cloud1.nodes[0].url + path, method, None if data is not None else body, data)
    assert st == 400, (path, st, err)
    assert needle in err["error"] and err["http_status"] == 400


def test_bad_json_and_wrong_method_are_json(cloud1):
    base = cloud1.nodes[0].url
    st, err, _ = call(f"{base}/3/ModelBuilders/deeplearning", "POST", data=b"{not json")
    assert st == 400 and "JSON" in err["error"]
    st, err, _ = call(f"{base}/3/Cloud", "DELETE")
    assert st == 405 and err["http_status"] == 405


def test_flow_bookmark_redirects_to_the_console(cloud1):
    with urllib.request.urlopen(cloud1.nodes[0].url + "/flow/index.html", timeout=10) as r:
        assert r.url.rstrip("/") == cloud1.nodes[0].url and b'data-page="cloud"' in r.read()


@pytest.mark.slow
def test_three_nodes_list_and_cancel_each_others_jobs(cloud3):
    """A job started through node 0 is listed and cancelled through node 2."""
    a, c = cloud3.nodes[0].url, cloud3.nodes[2].url
    out = ok(f"{a}/3/PostFile?filename=three.csv&destination_frame=three.hex", "POST", data=_csv(3000, 5))
    wait_job(a, out["job"])
    started = ok(f"{a}/3/ModelBuilders/deeplearning", "POST", {
        "training_frame": "three.hex", "y": "y", "params": {"hidden": [50, 50], "epochs": 100000, "seed": 3}})
    job = started["job"]
    owner = ok(f"{a}/3/Cloud")["node_id"]
    seen = {j["job_id"]: j for j in ok(f"{c}/3/Jobs?all_nodes=1")["jobs"]}
    assert seen[job["job_id"]]["node_id"] == owner
    cancelled = ok(f"{c}/3/Jobs/{job['job_id']}/cancel", "POST", {"node_id": owner})
    assert cancelled["node_id"] == owner
    assert wait_job(c, {**job, "node_id": owner})["status"] == "CANCELLED"
    clouds = [ok(f"{n.url}/3/Cloud") for n in cloud3.nodes]
    assert len({tuple(sorted(x["node_id"] for x in cl["nodes"])) for cl in clouds}) == 1


def test_parquet_upload_parses(cloud1):
    base = cloud1.nodes[0].url
    buf = io.BytesIO()
    pd.DataFrame({"x": [1.5, 2.5, None], "k": ["a", "b", "a"]}).to_parquet(buf)
    out = ok(f"{base}/3/PostFile?filename=t.parquet&destination_frame=pq.hex", "POST", data=buf.getvalue())
    assert wait_job(base, out["job"])["status"] == "DONE"
    s = ok(f"{base}/3/Frames/pq.hex/summary")
    cols = {c["name"]: c for c in s["columns"]}
    assert s["nrows"] == 3 and cols["x"]["missing"] == 1 and cols["x"]["max"] == 2.5
    ok(f"{base}/3/Frames/pq.hex", "DELETE")
