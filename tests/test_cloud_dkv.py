"""The distributed store and map/reduce across real daemons (issue 5)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest

import h2ocloud
from h2ocloud.errors import OutOfMemory
from h2ocloud.node.store.hashing import chunk_key, homes
from tests.cloudfixture import start_cloud


def wait_for(get, ok, timeout: float = 20.0):
    """Poll get() until ok(value) or the timeout; return the last value."""
    deadline = time.time() + timeout
    value = get()
    while not ok(value) and time.time() < deadline:
        time.sleep(0.3)
        value = get()
    return value


@pytest.fixture(scope="module")
def numeric_csv(tmp_path_factory):
    rng = np.random.default_rng(3)
    arr = rng.integers(0, 1000, size=(30_000, 8)).astype(float)
    arr[rng.random(arr.shape) < 0.01] = np.nan
    path = tmp_path_factory.mktemp("cloud") / "num.csv"
    pd.DataFrame(arr, columns=[f"c{i}" for i in range(8)]).to_csv(path, index=False)
    return path, arr


def test_rendezvous_homes_balance_chunks():
    members = ["n1", "n2", "n3"]
    counts = dict.fromkeys(members, 0)
    for i in range(301):
        counts[homes(chunk_key("big.hex", i), members, 2)[0]] += 1
    assert max(counts.values()) <= 1.25 * 301 / 3
    # two replicas on distinct nodes; every node computes the same homes
    h = homes(chunk_key("big.hex", 7), members, 2)
    assert len(set(h)) == 2 and h == homes(chunk_key("big.hex", 7), list(reversed(members)), 2)


def test_frame_summarized_identically_from_every_node(cloud3, numeric_csv):
    path, arr = numeric_csv
    h2ocloud.init(url=cloud3.nodes[0].url)

    def held():  # keys each node holds, as node 0 sees it (the shared cloud holds other tests' keys)
        return [n["keys"] for n in sorted(cloud3.nodes[0].status()["nodes"], key=lambda n: n["node_id"])]

    before = wait_for(held, lambda h: False, timeout=1.5)  # let heartbeats settle
    fr = h2ocloud.import_file(str(path), destination_frame="spread.hex", chunk_rows=100)
    summaries = []
    for node in cloud3.nodes:
        h2ocloud.init(url=node.url)
        summaries.append(h2ocloud.get_frame("spread.hex").summary(return_data=True))
    assert summaries[0] == summaries[1] == summaries[2]
    for j, col in enumerate(summaries[0]):
        assert col["mean"] == pytest.approx(np.nanmean(arr[:, j]), rel=1e-10)
        assert col["sigma"] == pytest.approx(np.nanstd(arr[:, j], ddof=1), rel=1e-10)
        assert col["missing"] == int(np.isnan(arr[:, j]).sum())
    conn = h2ocloud.connection()
    dist = conn.call("frames.distribution", {"frame_id": fr.frame_id})[0]
    assert dist["nchunks"] == 300 and dist["replication"] == 2
    assert max(dist["primary_homes"].values()) <= 1.25 * 300 / 3
    sums = conn.call("frames.colsum", {"frame_id": fr.frame_id})[0]
    assert sums["chunks"] == 300  # each chunk mapped once, not once per replica
    assert len(sums["nodes"]) == 3
    np.testing.assert_allclose(sums["sums"], np.nansum(arr, axis=0))
    # every node holds about 2/3 of the frame's 301 keys (R=2 of 3)
    after = wait_for(held, lambda h: sum(h) - sum(before) >= 2 * 301)
    added = [a - b for a, b in zip(after, before)]
    assert sum(added) == 2 * 301 and all(150 <= k <= 260 for k in added), added


def test_replication_one_parsing_node_holds_only_its_share(numeric_csv):
    path, _ = numeric_csv
    with start_cloud(3, args=["--replication", "1"]) as cloud:
        h2ocloud.init(url=cloud.nodes[0].url)
        h2ocloud.import_file(str(path), destination_frame="r1.hex", chunk_rows=100)
        me = cloud.nodes[0].status()["node_id"]
        keys = wait_for(lambda: {n["node_id"]: n["keys"] for n in cloud.nodes[0].status()["nodes"]},
                        lambda k: sum(k.values()) == 301)  # peers' counts arrive with heartbeats
        assert keys[me] <= 1.25 * 300 / 3 + 2  # its share of chunks (+ the header), not the frame
        assert sum(keys.values()) == 301


def test_sigkill_a_node_loses_no_frame(numeric_csv):
    path, arr = numeric_csv
    with start_cloud(3, args=["--heartbeat-timeout", "2"]) as cloud:
        h2ocloud.init(url=cloud.nodes[0].url)
        h2ocloud.import_file(str(path), destination_frame="survive.hex", chunk_rows=200)
        before = h2ocloud.get_frame("survive.hex").summary(return_data=True)
        cloud.nodes[2].kill()
        cloud.wait_formed(2, timeout=60, among=cloud.nodes[:2])
        for node in cloud.nodes[:2]:
            st = node.status()
            assert st["cloud_size"] == 2 and len(st["dead_nodes"]) == 1
        after = h2ocloud.get_frame("survive.hex").summary(return_data=True)
        assert after == before
        conn = h2ocloud.connection()
        sums = conn.call("frames.colsum", {"frame_id": "survive.hex"})[0]
        np.testing.assert_allclose(sums["sums"], np.nansum(arr, axis=0))
        # re-replication: each key again has two live copies
        held = wait_for(lambda: [n["keys"] for n in cloud.nodes[0].status()["nodes"]], lambda h: h == [151, 151])
        assert held == [151, 151]


def test_sigkill_during_map_reduce_still_correct(numeric_csv):
    path, arr = numeric_csv
    # tests.slow_tasks makes each chunk's map of frame.colsum take 0.1 s (60 chunks over 3 nodes).
    with start_cloud(3, args=["--heartbeat-timeout", "2", "--preload", "tests.slow_tasks"]) as cloud:
        h2ocloud.init(url=cloud.nodes[0].url)
        h2ocloud.import_file(str(path), destination_frame="mr.hex", chunk_rows=500)
        result = {}

        def run():
            result["r"] = h2ocloud.connection().call("frames.colsum", {"frame_id": "mr.hex"})[0]

        t = threading.Thread(target=run)
        t.start()
        time.sleep(1.0)
        cloud.nodes[1].kill()
        t.join(60)
        assert not t.is_alive()
        np.testing.assert_allclose(result["r"]["sums"], np.nansum(arr, axis=0))
        assert result["r"]["chunks"] == 60
        assert "preloaded tests.slow_tasks" in cloud.nodes[0].log()


def test_max_mem_refuses_a_put_with_a_clear_error(numeric_csv):
    path, _ = numeric_csv
    with start_cloud(1, args=["--max-mem", "50k"]) as cloud:
        h2ocloud.init(url=cloud.nodes[0].url)
        with pytest.raises(OutOfMemory, match="max-mem"):
            h2ocloud.import_file(str(path))
        assert h2ocloud.cluster().cloud_size == 1  # still serving


def test_sigterm_leaves_the_cloud_at_once():
    with start_cloud(3, args=["--heartbeat-timeout", "30"]) as cloud:
        t0 = time.time()
        assert cloud.nodes[2].stop() == 0
        cloud.wait_formed(2, timeout=60, among=cloud.nodes[:2])
        assert time.time() - t0 < 10  # far sooner than the 30 s heartbeat timeout
