"""A key copy lost while membership stands still is healed by the periodic re-replication round
(--repair-interval), not only by the next membership change."""

from __future__ import annotations

import time

from tests.cloudfixture import start_cloud
from tests.web.rest import ok


def _copies(cloud, key: str) -> int:
    held = 0
    for n in cloud.nodes:
        keys, _ = cloud.peer_call(n, "dkv.keys", {"prefix": key}, timeout=10)
        held += key in keys["keys"]
    return held


def test_a_key_stored_on_one_home_only_gets_its_second_copy():
    from h2ocloud.node.store.hashing import homes

    with start_cloud(3, args=["--repair-interval", "2"]) as cloud:
        members = [n["node_id"] for n in ok(cloud.nodes[0].url + "/3/Cloud")["nodes"]]
        by_id = {ok(n.url + "/3/Cloud")["node_id"]: n for n in cloud.nodes}
        key = "heal-me.model"
        first = homes(key, members, 2)[0]
        # A write that reached one home and not the other (its detached call to the other failed).
        cloud.peer_call(by_id[first], "dkv.store", {"key": key, "kind": "model", "meta": {"note": "one copy"}},
                        blobs=[b"weights"])
        assert _copies(cloud, key) == 1
        deadline = time.time() + 30
        while _copies(cloud, key) < 2 and time.time() < deadline:
            time.sleep(0.5)
        assert _copies(cloud, key) == 2, "the periodic round did not copy the key to its other home"
