"""The reduce tree of the map/reduce mechanism (h2ocloud.node.tasks.mrtask): the node driving a task
receives at most --mr-fanin partials however many nodes map, the tree's model average is the flat
one, and a node that dies inside the tree (an inner node or a leaf) has its chunks redone.

The clouds here run --mr-fanin 1 (a chain: the driver, then one node forwarding to the next) so
that three nodes, the fixture's usual cost, tell a tree from a flat reduce; the fan-in-2 default
only differs from flat from four nodes on.
"""

from __future__ import annotations

import threading
import time
import urllib.request

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

import h2ocloud
from h2ocloud.frame.header import FrameHeader
from h2ocloud.node.tasks.mrtask import Part, Vertex, header_from_text, plan_tree
from tests.avg_tasks import made_net
from tests.cloudfixture import start_cloud
from tests.test_cloud_dkv import numeric_csv  # noqa: F401  (the fixture)
from tests.test_distributed import X, digits_frames

LAYERS = [20, 16, 16, 3]


def _counter(node, metric: str, task: str) -> float:
    """A node's counter for one task, read from its /metrics as Prometheus reads it."""
    with urllib.request.urlopen(node.url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    for fam in text_string_to_metric_families(text):
        if fam.name == metric:
            return sum(s.value for s in fam.samples if s.name == metric + "_total" and s.labels.get("task") == task)
    return 0.0


def _walk(vs: list[Vertex], depth: int = 1):
    for v in vs:
        yield v, depth
        yield from _walk(v.children, depth + 1)


@pytest.mark.parametrize("n,fanin", [(1, 2), (2, 2), (7, 2), (8, 2), (63, 2), (10, 3), (5, 1), (9, 0)])
def test_plan_tree_bounds_every_fan_in_and_keeps_every_part_once(n, fanin):
    parts = [Part(f"k{i}", f"n{i}", [i]) for i in range(n)]
    tree = plan_tree(parts, fanin)
    seen = [v.part.key for v, _ in _walk(tree)]
    assert sorted(seen) == sorted(p.key for p in parts)
    bound = fanin if fanin > 0 else n
    assert len(tree) <= bound and all(len(v.children) <= bound for v, _ in _walk(tree))
    depth = max(d for _, d in _walk(tree))
    if fanin == 1:
        assert depth == n
    elif fanin >= 2:
        assert depth <= int(np.ceil(np.log(n + 1) / np.log(fanin))) + 1, depth
    else:
        assert depth == 1
    assert [Vertex.from_dict(v.to_dict()).keys() for v in tree] == [v.keys() for v in tree]


def test_a_malformed_subtree_is_refused_by_name():
    with pytest.raises(ValueError, match="chunks"):
        Vertex.from_dict({"key": "a", "node": "n", "chunks": ["x"]})
    with pytest.raises(ValueError, match="'key' and 'node'"):
        Vertex.from_dict({"node": "n"})
    deep: dict = {"key": "a", "node": "n"}
    for _ in range(100):
        deep = {"key": "a", "node": "n", "children": [deep]}
    with pytest.raises(ValueError, match="too deeply"):
        Vertex.from_dict(deep)


def _header(n: int = 785) -> FrameHeader:
    names = [f"C{i}" for i in range(n)]
    return FrameHeader("wide.hex", names, ["numeric"] * n, [None] * n, 10, [4, 6],
                       [{"mean": 1.5, "sigma": float("nan"), "min": 0.0, "max": 3.0, "missing": 0}] * n, 80)


def test_the_header_travels_as_text_parsed_once_per_node():
    h = _header()
    text = h.to_json()
    got = header_from_text(text)
    assert got.to_dict() == h.to_dict() and got.chunk_rows == [4, 6]
    assert header_from_text(text) is got  # the second map call of a task: no parse
    assert header_from_text(_header(3).to_json()) is not got
    for bad in ("{", "[1, 2]", '{"frame_id": "x"}', '{"frame_id": "x", "names": 3, "types": [], '
                '"domains": [], "nrows": 1, "chunk_rows": [1]}'):
        with pytest.raises(ValueError, match="mr.map: header"):
            header_from_text(bad)


@pytest.fixture(scope="module")
def chain3():
    with start_cloud(3, args=["--mr-fanin", "1", "--preload", "tests.avg_tasks"]) as cloud:
        yield cloud


def _average(cloud, fanin, seeds, counts):
    driver = cloud.nodes[0]
    ids = [n.status()["node_id"] for n in cloud.nodes]
    head, blobs = cloud.peer_call(driver, "mr.run", {
        "task": "test.model_average", "args": {"layers": LAYERS}, "fanin": fanin,
        "node_args": {nid: {"seed": s, "n": c} for nid, s, c in zip(ids, seeds, counts)}})
    from h2ocloud.node.tasks.wireforms import net_from_wire

    part = head["partial"]
    return net_from_wire(part["net"], blobs), part, ids


def test_the_tree_average_is_the_flat_average_and_the_driver_gets_fanin_partials(chain3):
    seeds, counts = [11, 12, 13], [700, 200, 100]
    driver = chain3.nodes[0]
    got = {}
    for fanin in (None, 0):  # the cloud's --mr-fanin 1 (a chain), then flat
        before = _counter(driver, "h2ocloud_mrtask_partials_received", "test.model_average")
        got[fanin] = _average(chain3, fanin, seeds, counts)
        received = _counter(driver, "h2ocloud_mrtask_partials_received", "test.model_average") - before
        assert received == (1 if fanin is None else 2), (fanin, received)
    # The inner node of the chain received the leaf's partial: a tree, not the driver twice.
    inner = [n for n in chain3.nodes[1:] if _counter(n, "h2ocloud_mrtask_partials_received", "test.model_average")]
    assert len(inner) == 1
    wts = np.array(counts, np.float64) / sum(counts)
    nets = [made_net(tuple(LAYERS), s) for s in seeds]
    for fanin, (net, part, ids) in got.items():
        assert part["n"] == sum(counts) and sorted(part["nodes"]) == sorted(ids), fanin
        assert net.samples_seen == sum(counts)
        for attr in ("weights", "opt1", "opt2"):
            want = sum(w * getattr(m, attr).astype(np.float64) for w, m in zip(wts, nets))
            np.testing.assert_allclose(getattr(net, attr), want, rtol=1e-6, atol=1e-6, err_msg=f"{fanin} {attr}")
    np.testing.assert_allclose(got[None][0].weights, got[0][0].weights, rtol=1e-6, atol=1e-6)


@pytest.mark.slow
def test_training_iterations_reach_the_driver_as_fanin_partials(chain3):
    """A real training job's iterations: the driver receives one model per iteration from the
    chain (flat would be two), and every iteration still trains over every chunk."""
    h2ocloud.init(url=chain3.nodes[0].url)
    train, _ = digits_frames("tree")
    driver = chain3.nodes[0]
    runs0 = _counter(driver, "h2ocloud_mrtask_runs", "dl.iteration")
    got0 = _counter(driver, "h2ocloud_mrtask_partials_received", "dl.iteration")
    m = h2ocloud.H2ODeepLearningEstimator(hidden=[16], epochs=4, seed=1, train_samples_per_iteration=-1,
                                          replicate_training_data=False, score_interval=0)
    m.train(x=X, y="label", training_frame=train)
    runs = _counter(driver, "h2ocloud_mrtask_runs", "dl.iteration") - runs0
    received = _counter(driver, "h2ocloud_mrtask_partials_received", "dl.iteration") - got0
    s = m.summary_json()
    assert runs == len(s["iteration_samples"]) >= 4
    assert received == runs, (received, runs)
    assert all(len(nd) == 3 for nd in s["training_nodes"]), s["training_nodes"]
    assert s["iteration_samples"] == [train.nrows] * int(runs)
    assert all(c == s["training_chunks"] for c in s["iteration_chunks"])


@pytest.mark.slow
@pytest.mark.parametrize("victim", ["inner", "leaf"])
def test_sigkill_inside_the_tree_redoes_the_lost_chunks(numeric_csv, victim):  # noqa: F811
    path, arr = numeric_csv
    # tests.slow_tasks: each chunk's map of frame.colsum takes 0.1 s (60 chunks over 3 nodes).
    with start_cloud(3, args=["--heartbeat-timeout", "2", "--mr-fanin", "1",
                              "--preload", "tests.slow_tasks"]) as cloud:
        h2ocloud.init(url=cloud.nodes[0].url)
        h2ocloud.import_file(str(path), destination_frame="tree.hex", chunk_rows=500)
        # The chain below the driver runs in node-id order: the first forwards to the second.
        others = sorted(cloud.nodes[1:], key=lambda n: n.status()["node_id"])
        dead = others[0] if victim == "inner" else others[1]
        dead_id = dead.status()["node_id"]
        result = {}

        def run():
            result["r"] = h2ocloud.connection().call("frames.colsum", {"frame_id": "tree.hex"})[0]

        t = threading.Thread(target=run)
        t.start()
        time.sleep(0.8)
        dead.kill()
        t.join(60)
        assert not t.is_alive()
        np.testing.assert_allclose(result["r"]["sums"], np.nansum(arr, axis=0))
        assert result["r"]["chunks"] == 60
        # Who saw the failure: the driver (its child died) or the inner node (its child died).
        witness = cloud.nodes[0] if victim == "inner" else others[0]
        assert f"node {dead_id} failed during frame.colsum" in witness.log(), witness.log()[-3000:]


@pytest.mark.slow
def test_an_all_nodes_task_survives_its_inner_node_dying():
    """run_all_nodes over a chain: SIGKILL of the inner node loses its part and the leaf's (whose
    answer went through it). The leaf's part runs again on the leaf, which is alive; the dead
    node's part is skipped (no redo, as dl.setup and dl.release run): the driver's and the leaf's
    parts are in the average, once each."""
    with start_cloud(3, args=["--heartbeat-timeout", "2", "--mr-fanin", "1", "--preload", "tests.avg_tasks"]) as cloud:
        ids = [n.status()["node_id"] for n in cloud.nodes]
        inner, leaf = sorted(ids[1:])
        counts = dict(zip(ids, [100, 20, 3]))
        result = {}

        def run():
            result["r"] = cloud.peer_call(cloud.nodes[0], "mr.run", {
                "task": "test.model_average", "args": {"layers": LAYERS, "sleep": 1.5},
                "node_args": {nid: {"seed": i, "n": counts[nid]} for i, nid in enumerate(ids)}})

        t = threading.Thread(target=run)
        t.start()
        time.sleep(0.7)
        cloud.nodes[ids.index(inner)].kill()
        t.join(60)
        assert not t.is_alive()
        head, _ = result["r"]
        assert head["failed"] == [inner]
        part = head["partial"]
        assert sorted(part["nodes"]) == sorted([ids[0], leaf]), part["nodes"]
        assert part["n"] == counts[ids[0]] + counts[leaf]


def test_a_malformed_header_is_refused_by_name_and_the_node_keeps_serving(chain3):
    node = chain3.nodes[1]
    with pytest.raises(Exception, match="mr.map: header"):
        chain3.peer_call(node, "mr.map", {"task": "test.model_average", "header": '{"frame_id": 1}',
                                          "chunks": [0]})
    assert node.status()["node_id"]
