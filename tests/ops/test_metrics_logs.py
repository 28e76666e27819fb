"""/metrics read with prometheus_client's own parser, moving when a job runs; JSON and access
logs (issue 16)."""

from __future__ import annotations

import json
import re
import time
import urllib.request

import numpy as np
import pandas as pd
from prometheus_client.parser import text_string_to_metric_families

from tests.cloudfixture import start_cloud
from tests.conftest import REPO


def scrape(url: str) -> dict[str, dict[tuple, float]]:
    """family name -> {labels (sorted items): value}, parsed by prometheus_client."""
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/plain")
        text = r.read().decode()
    out: dict[str, dict[tuple, float]] = {}
    for fam in text_string_to_metric_families(text):
        out.setdefault("#families", {})[(fam.name,)] = 0  # families with no series yet, too
        for s in fam.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def total(m: dict, name: str, **labels) -> float:
    return sum(v for k, v in m.get(name, {}).items() if all(dict(k).get(a) == b for a, b in labels.items()))


def _small_frame(h2o, n=400, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    df["y"] = np.where(df.a + df.b > 0, "yes", "no")
    return h2o.H2OFrame(df)


def test_metrics_parse_and_move_when_a_job_runs(cloud3):
    import h2ocloud as h2o

    node = cloud3.nodes[0]
    h2o.init(url=node.url)
    before = scrape(node.url)
    assert total(before, "h2ocloud_cloud_size") == 3
    assert total(before, "h2ocloud_membership_epoch") >= 2
    ages = before["h2ocloud_peer_heartbeat_age_seconds"]
    assert len(ages) == 2 and all(0 <= v < 3 for v in ages.values())  # heartbeats every 0.5 s
    assert total(before, "h2ocloud_replication_deficit") == 0
    fr = _small_frame(h2o)
    m = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=2, seed=1)
    m.train(x=["a", "b"], y="y", training_frame=fr)
    after = scrape(node.url)
    assert total(after, "h2ocloud_jobs", kind="DeepLearning", state="DONE") == \
        total(before, "h2ocloud_jobs", kind="DeepLearning", state="DONE") + 1
    assert total(after, "h2ocloud_training_samples_total") >= total(before, "h2ocloud_training_samples_total") + 2 * 400
    assert total(after, "h2ocloud_store_keys", kind="model") >= 0  # the model may be homed elsewhere
    keys_everywhere = sum(total(scrape(n.url), "h2ocloud_store_keys", kind="chunk") for n in cloud3.nodes)
    assert keys_everywhere >= 2  # the frame's chunks, two copies each, somewhere in the cloud
    assert total(after, "h2ocloud_mrtask_runs_total") > total(before, "h2ocloud_mrtask_runs_total")
    assert total(after, "h2ocloud_mrtask_duration_seconds_count") == total(after, "h2ocloud_mrtask_runs_total")
    assert total(after, "h2ocloud_rest_calls_total", route="/3/Cloud") >= 1  # h2o.init asked it
    # Heartbeats keep coming in (a short job may end between two of them: poll for the next).
    beats = total(before, "h2ocloud_grpc_calls_total", method="Heartbeat")
    deadline = time.time() + 30
    while total(after, "h2ocloud_grpc_calls_total", method="Heartbeat") <= beats and time.time() < deadline:
        time.sleep(0.2)
        after = scrape(node.url)
    assert total(after, "h2ocloud_grpc_calls_total", method="Heartbeat") > beats
    assert total(after, "h2ocloud_grpc_calls_total", method="models.train") >= 1  # the client's call
    # An error is counted by route and status, with the route's template, not the key.
    try:
        urllib.request.urlopen(node.url + "/3/Frames/no-such-frame", timeout=5)
    except urllib.error.HTTPError as e:
        assert e.code == 404
    errs = scrape(node.url)
    assert total(errs, "h2ocloud_rest_errors_total", route="/3/Frames/{frame_id}", status="404") >= 1
    assert not any("no-such-frame" in str(k) for k in errs["h2ocloud_rest_errors_total"])
    with urllib.request.urlopen(node.url + "/healthz", timeout=5) as r:
        assert json.loads(r.read())["ok"] is True
    # Every series the sample Grafana dashboard plots is one the node serves.
    dash = json.loads((REPO / "deploy" / "grafana-dashboard.json").read_text())
    used = {name for panel in dash["panels"] for t in panel["targets"]
            for name in re.findall(r"\b(h2ocloud_[a-z_]+)", t["expr"])}
    served = set(errs) | {f for (f,) in errs["#families"]}
    assert used and all(n in served or n.removesuffix("_total") in served for n in used), sorted(used - served)


def test_json_log_lines_carry_node_and_job_and_access_log(tmp_path):
    import h2ocloud as h2o

    with start_cloud(1, args=["--log-format", "json", "--access-log"]) as cloud:
        node = cloud.nodes[0]
        h2o.init(url=node.url)
        fr = _small_frame(h2o, seed=2)
        m = h2o.H2ODeepLearningEstimator(hidden=[3], epochs=1, seed=1)
        m.train(x=["a", "b"], y="y", training_frame=fr)
        node_id = node.status()["node_id"]  # a GET /3/Cloud, for the access log
        text = node.log()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is JSON
    assert all({"time", "level", "logger", "node_id", "message"} <= set(x) for x in lines)
    assert {x["node_id"] for x in lines} == {node_id}
    job_lines = [x for x in lines if x.get("key") == m.model_id]
    msgs = " | ".join(x["message"] for x in job_lines)
    assert "started" in msgs and "done" in msgs and "iteration" in msgs, msgs  # start, scoring, end
    assert len({x["job_id"] for x in job_lines}) == 1
    scoring = [x for x in job_lines if "iteration" in x["message"]]
    assert scoring and scoring[0]["logger"] == "h2ocloud.training" and scoring[0]["level"] == "INFO"
    access = [x for x in lines if x["logger"] == "h2ocloud.access"]
    assert any(x.get("method") == "GET" and x.get("path") == "/3/Cloud" and x.get("status") == 200 for x in access)
