"""Random JSON at every REST route (issue 15, bad input at every entry).

The route table (h2ocloud/web/routes.py ROUTES) is iterated against one real node: each route
gets random path ids, query strings and bodies -- any JSON value, raw bytes, and objects of the
fields its operation declares (h2ocloud/node/ops/schema.py) with values of their types at their
edges, so requests get past the argument parser into the handlers. Every answer must be a
success or a 4xx whose JSON body names the problem: never a 500, a hang, or a node that stops.

Two routes are driven apart: /3/Shutdown only with bodies it must refuse (a valid one would stop
the node under the test), and /3/Jobs/events (a stream that never ends) by its first event.
"""

from __future__ import annotations

import json
import os
import re
import time
import types
import typing
import urllib.parse
import urllib.request
from typing import Any, Literal, Union

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from h2ocloud.node.ops.schema import _fields
from h2ocloud.node.ops.tables import CLIENT_OPS
from h2ocloud.web.routes import ROUTES, Route
from tests.cloudfixture import start_cloud
from tests.fuzz.strategies import examples, json_values
from tests.web.rest import call, wait_job

DRIVEN_APART = ("/3/Shutdown", "/3/Jobs/events")
FUZZED = [r for r in ROUTES if r.path not in DRIVEN_APART]
# /3/Ops/{op} runs any client operation but the one that stops the cloud.
OPS = [n for n in CLIENT_OPS.names() if n != "cloud.shutdown"]


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """A node that reads and writes only under its own folder (random paths land nowhere else),
    with a frame 'a.hex' and a model 'm1' for the random ids to find."""
    root = tmp_path_factory.mktemp("rest-root")
    (root / "a.csv").write_text("a,b,y\n" + "".join(f"{i},{i % 3},{'p' if i % 2 else 'q'}\n" for i in range(60)))
    args = ["--import-root", str(root), "--export-root", str(root), "--max-jobs", "4", "--max-mem", "300m"]
    with start_cloud(1, args=args) as cloud:
        base = cloud.nodes[0].url
        _, out, _ = call(f"{base}/3/ImportFiles", "POST", {"path": str(root / "a.csv"), "destination_frame": "a.hex"})
        assert wait_job(base, out["job"])["status"] == "DONE"
        _, out, _ = call(f"{base}/3/ModelBuilders/deeplearning", "POST",
                         {"training_frame": "a.hex", "y": "y", "params": {"hidden": [3], "epochs": 1, "model_id": "m1"}})
        assert wait_job(base, out["job"])["status"] == "DONE"
        yield cloud.nodes[0], str(root)


def values_of(tp: Any, root: str) -> st.SearchStrategy[Any]:
    """Values of an argument's declared type, with the ids, columns and paths that exist here."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return st.one_of(*[values_of(a, root) for a in typing.get_args(tp)])
    if tp is type(None):
        return st.none()
    if tp is str:
        return st.one_of(st.sampled_from(["a.hex", "m1", "a", "y", "", "predict", "java", root,
                                          os.path.join(root, "a.csv"), "/etc/passwd", "../a.csv"]),
                         st.text(max_size=5))
    if tp is int:
        return st.one_of(st.sampled_from([0, 1, -1, 2, 10**12, -2**63, 2**64]), st.integers(-3, 100))
    if tp is float:
        return st.one_of(st.sampled_from([0.0, 0.5, -1.0, 1e308, 1e-308, 31.0]), st.floats(-5, 100))
    if tp is bool:
        return st.booleans()
    if origin is list:
        return st.lists(values_of((typing.get_args(tp) or (Any,))[0], root), max_size=3)
    if origin is dict or tp is dict:
        return st.dictionaries(st.sampled_from(["a", "b", "y", "hidden", "epochs", "x", "C1"]), json_values, max_size=3)
    if origin is Literal:
        return st.sampled_from(typing.get_args(tp))
    return json_values


def bodies(op: str | None, root: str) -> st.SearchStrategy[Any]:
    """Any JSON, raw bytes, or (mostly) an object of the operation's declared fields."""
    anything = [st.dictionaries(st.text(max_size=8), json_values, max_size=4), json_values, st.binary(max_size=24)]
    spec = CLIENT_OPS.get(op) if op else None
    if spec is None:
        return st.one_of(*anything)
    typed = st.fixed_dictionaries({}, optional={n: values_of(tp, root) for n, tp, _ in _fields(spec.args_type)})
    return st.one_of(*anything, *[typed] * 8)


def check_answer(status: int, out: Any, what: str) -> None:
    assert status < 500, f"{what}: {status} {out}"
    if status >= 400:
        assert isinstance(out, dict) and out.get("error") and out.get("http_status") == status, f"{what}: {status} {out}"


@example(route=next(r for r in FUZZED if r.path == "/3/Frames/{frame_id}/summary"), data=None)
@example(route=next(r for r in FUZZED if r.path == "/3/Jobs/{job_id}/cancel"), data=None)
@settings(max_examples=examples(150))
@given(st.sampled_from(FUZZED), st.data())
def test_every_route_answers_random_json(node, route: Route, data):
    proc, root = node
    if data is None and route.op == "frames.summary":  # a node went from 500 to 1,478 MB
        status, out, _ = call(f"{proc.url}/3/Frames/a.hex/summary?nbins=10000000")
        assert status == 413 and "nbins" in out["error"], out
        return
    if data is None:  # a node_id that is no member's is the caller's mistake: 404, not 503
        for how in ("cancel", "get"):
            url = f"{proc.url}/3/Jobs/a.hex" + ("/cancel" if how == "cancel" else "")
            status, out, _ = call(url, "POST" if how == "cancel" else "GET", {"node_id": "a.hex"})
            assert status == 404 and "'a.hex'" in out["error"], out
        return
    path, op = route.path, route.op
    for name in re.findall(r"\{(\w+)\}", route.path):
        v = data.draw(st.sampled_from(OPS) if name == "op" else
                      st.sampled_from(["a.hex", "m1"] * 4 + ["nope", "..", "x y", "a.hex/chunk/0", "é", "%"]),
                      label=name)
        op = v if name == "op" else op
        path = path.replace("{" + name + "}", urllib.parse.quote(v, safe=""))
    query = {}
    if data.draw(st.integers(0, 3), label="with query") == 0:  # unknown fields are refused: not often
        query = data.draw(st.dictionaries(
            st.sampled_from(["nrows", "nbins", "wait_s", "max_columns", "all_nodes", "min_size", "filename", "sep",
                             "header", "sort_by", "x"]),
            st.sampled_from(["1", "-1", "0", "10000000", "true", "x", "", "1e999"]), max_size=3), label="query")
    body = data.draw(bodies(op, root), label="body")
    if route.method in ("GET", "DELETE") and isinstance(body, dict) and data.draw(st.booleans(), label="as query"):
        query, body = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}, b""
    url = proc.url + path + ("?" + urllib.parse.urlencode(query) if query else "")
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, out, _ = call(url, route.method, data=raw or None, timeout=60)
    if route.op == "cloud.ready" and status == 503:  # its contract: 503 until the cloud has min_size
        assert "cloud not formed" in out["error"], out
        return
    check_answer(status, out, f"{route.method} {url} {raw[:200]!r}")


@settings(max_examples=examples(30))
@given(st.one_of(json_values.filter(lambda v: not isinstance(v, dict) and v is not None),
                 st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: k != "local_only"), json_values,
                                 min_size=1, max_size=3),
                 st.fixed_dictionaries({"local_only": json_values.filter(lambda v: not isinstance(v, bool) and v not in (0, 1)
                                                                         and str(v).strip().lower() not in
                                                                         {"true", "false", "0", "1", "yes", "no", "on", "off"})}),
                 st.binary(min_size=1, max_size=16).filter(lambda b: b.strip() not in (b"", b"{}", b"null"))))
def test_shutdown_refuses_what_is_not_its_body(node, body):
    """Bodies /3/Shutdown cannot take are refused with a 4xx, and the node stays up."""
    proc, _ = node
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, out, _ = call(f"{proc.url}/3/Shutdown", "POST", data=raw)
    check_answer(status, out, f"POST /3/Shutdown {raw!r}")
    assert status >= 400, f"/3/Shutdown accepted {raw!r}"
    assert proc.alive()


def test_job_events_stream_answers(node):
    proc, _ = node
    req = urllib.request.Request(f"{proc.url}/3/Jobs/events?junk=%7B", data=b"[1,", method="GET")
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/event-stream")
        line = r.readline()
        assert line.startswith(b"data: ") and "jobs" in json.loads(line[6:])


def test_node_still_serves_after_the_fuzz(node):
    proc, _ = node
    deadline = time.time() + 30
    while call(f"{proc.url}/3/Ready")[0] != 200 and time.time() < deadline:
        time.sleep(0.2)
    assert proc.alive() and call(f"{proc.url}/3/Cloud")[0] == 200
