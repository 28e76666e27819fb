"""The node's bounds: each refusal names its limit, as JSON with a 4xx (or a gRPC status), and the
node keeps running. Real daemons on 1 and 3 nodes."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import grpc
import pytest

from h2ocloud import wire
from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2_grpc as pb_grpc
from h2ocloud.frame.setup import MAX_COLUMNS
from tests.cloudfixture import start_cloud
from tests.web.rest import call

ARGS = ["--max-mem", "50m", "--max-jobs", "2", "--keep-jobs", "3", "--max-request-body", "1m"]


@pytest.fixture(scope="module")
def limited():
    with start_cloud(1, args=ARGS) as cloud:
        yield cloud


def _frame(h2o, ncols: int = 4, nrows: int = 40):
    cols = {f"c{j}": [float((i * (j + 3)) % 7) for i in range(nrows)] for j in range(ncols)}
    cols["y"] = ["a" if i % 2 else "b" for i in range(nrows)]
    return h2o.H2OFrame(cols)


def test_request_body_header_method_and_depth(limited):
    base = limited.nodes[0].url
    status, body, _ = call(base + "/3/Ops/cloud.status", "POST", data=b'{"x": "' + b"a" * (2 << 20) + b'"}')
    assert status == 413 and "--max-request-body" in body["error"] and "1048576" in body["error"], body
    req = urllib.request.Request(base + "/3/Ready", headers={"X-Big": "a" * 20000})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 400 and b"8190" in e.value.read()
    for method, path in [("DELETE", "/3/Cloud"), ("POST", "/3/Frames"), ("GET", "/3/Ops/cloud.status"),
                         ("PUT", "/3/Models")]:
        status, body, _ = call(base + path, method, data=b"")
        assert status == 405 and body["http_status"] == 405 and method in body["error"], (method, path, body)
    deep = b"[" * 100_000 + b"]" * 100_000
    for data in (deep, b'{"a": ' + deep + b"}"):
        status, body, _ = call(base + "/3/Ops/cloud.status", "POST", data=data)
        assert status == 400 and "nested too deeply" in body["error"], body
    with grpc.insecure_channel(limited.nodes[0].address) as ch:
        parts = list(wire.encode({"op": "cloud.status", "args": {}}))
        parts[0].header_json = '{"op": "cloud.status", "args": ' + "[" * 100_000 + "]" * 100_000 + "}"
        with pytest.raises(grpc.RpcError) as e:
            wire.decode(pb_grpc.NodeStub(ch).Call(iter(parts), timeout=30))
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "nested too deeply" in e.value.details()
    assert call(base + "/3/Cloud")[0] == 200


def test_summary_bins_columns_and_network_size(limited, tmp_path):
    import h2ocloud as h2o

    base = limited.nodes[0].url
    h2o.init(url=base)
    fr = _frame(h2o)
    for nbins in (10_000_000, 0):
        status, body, _ = call(f"{base}/3/Frames/{fr.frame_id}/summary?nbins={nbins}")
        assert status in (400, 413) and "nbins" in body["error"] and "10000" in body["error"], body
    assert call(f"{base}/3/Frames/{fr.frame_id}/summary?nbins=100")[0] == 200
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(["1"] * (MAX_COLUMNS + 1)) + "\n" + ",".join(["2"] * (MAX_COLUMNS + 1)) + "\n")
    with pytest.raises(ValueError, match=f"limit is {MAX_COLUMNS:,} columns"):
        h2o.upload_file(str(wide), header=-1)
    with pytest.raises(ValueError, match=r"hidden.*--max-mem") as e:
        h2o.H2ODeepLearningEstimator(hidden=[5000, 5000], epochs=1).train(y="y", training_frame=fr)
    assert "weights" in str(e.value)
    m = h2o.H2ODeepLearningEstimator(hidden=[10], epochs=1, seed=1)
    m.train(y="y", training_frame=fr)  # a network that fits trains
    assert m.model_id
    assert limited.nodes[0].alive()


def test_jobs_bounded_and_old_ones_forgotten(limited):
    import h2ocloud as h2o
    from h2ocloud.errors import NotFound

    h2o.init(url=limited.nodes[0].url)
    conn = h2o.connection()
    fr = _frame(h2o, nrows=400)
    fr["y"] = fr["y"].asfactor()
    train = {"training_frame": fr.frame_id, "y": "y", "x": ["c0", "c1"],
             "params": {"hidden": [4], "epochs": 1e6, "seed": 1}}
    running = []
    try:
        for _ in range(2):
            running.append(conn.call("models.train", train)[0]["job"]["job_id"])
        with pytest.raises(ValueError, match="--max-jobs") as e:
            conn.call("models.train", train)
        assert "2 jobs" in str(e.value)
        status, body, _ = call(limited.nodes[0].url + "/3/ModelBuilders/deeplearning", "POST", train)
        assert status == 429 and "--max-jobs" in body["error"], body
    finally:
        for j in running:
            conn.call("jobs.cancel", {"job_id": j})
    deadline = time.time() + 120
    while time.time() < deadline and any(conn.call("jobs.get", {"job_id": j})[0]["status"] == "RUNNING"
                                         for j in running if _known(conn, j)):
        time.sleep(0.2)
    # Ended jobs beyond --keep-jobs 3 are forgotten, oldest first.
    ids = []
    for i in range(5):
        f = h2o.H2OFrame({"a": [i, i + 1]})
        ids.append(f.frame_id)
    jobs = conn.call("jobs.list")[0]["jobs"]
    assert len([j for j in jobs if j["status"] != "RUNNING"]) <= 3, jobs
    for j in running:
        with pytest.raises(NotFound):
            conn.call("jobs.get", {"job_id": j})


def _known(conn, job_id: str) -> bool:
    try:
        conn.call("jobs.get", {"job_id": job_id})
        return True
    except KeyError:
        return False


def test_limits_on_a_three_node_cloud():
    import h2ocloud as h2o

    with start_cloud(3, args=["--max-mem", "50m", "--max-request-body", "1m"]) as cloud:
        base = cloud.nodes[1].url
        h2o.init(url=base)
        fr = _frame(h2o, nrows=300)
        status, body, _ = call(f"{base}/3/Frames/{fr.frame_id}/summary?nbins=10000000")
        assert status == 413 and "nbins" in body["error"], body
        with pytest.raises(ValueError, match=r"hidden.*--max-mem"):
            h2o.H2ODeepLearningEstimator(hidden=[5000, 5000], epochs=1).train(y="y", training_frame=fr)
        status, body, _ = call(base + "/3/Ops/cloud.status", "POST", data=b"[" * 100_000 + b"]" * 100_000)
        assert status == 400 and "nested too deeply" in body["error"], body
        status, body, _ = call(base + "/3/Ops/cloud.status", "POST", data=b'{"x": "' + b"a" * (2 << 20) + b'"}')
        assert status == 413, body
        assert json.loads(json.dumps(h2o.cluster().cloud_size)) == 3
        h2o.remove(fr)
