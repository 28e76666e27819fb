"""Admission by reach-back: a heartbeat alone never makes its sender a member.

Without a shared secret, anyone who reaches a node's gRPC port can send it a heartbeat naming
any node id and any address. Such a sender is a member only once the cloud has called it back on
the address it advertises and the same node id answered there; until then its heartbeat's reply
names none of the cloud's peers. Real daemons (the shared 3-node cloud), a real gRPC call.
"""

from __future__ import annotations

import time

import grpc

import h2ocloud
from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2 as pb
from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2_grpc as pb_grpc
from tests.cloudfixture import free_port

FORGED_ID = "forged000001"


def _forge(cloud, node, port: int) -> pb.HeartbeatReply:
    """One heartbeat from a node id with no process behind it, advertising an address where
    nothing listens, as a node of this cloud would send it (its name and version)."""
    sender = pb.NodeStatus(node_id=FORGED_ID, cloud_name=cloud.name, version=h2ocloud.__version__,
                           host="127.0.0.1", grpc_port=port, web_port=port, cores=64, max_mem=1 << 40,
                           health="healthy")
    request = pb.HeartbeatRequest(sender=sender, epoch=1, members=[FORGED_ID])
    with grpc.insecure_channel(node.address) as ch:
        return pb_grpc.PeerStub(ch).Heartbeat(request, timeout=30)


def _member_ids(node) -> set[str]:
    return {n["node_id"] for n in node.status()["nodes"]}


def test_a_forged_heartbeat_is_not_admitted_and_homes_no_key(cloud3):
    target = cloud3.nodes[0]
    port = free_port()  # nothing listens here
    reply = _forge(cloud3, target, port)
    # The reply names nobody: a stranger learns no peer's address from it.
    peers = {f"127.0.0.1:{n.grpc_port}" for n in cloud3.nodes[1:]}
    assert not reply.known and not reply.members, reply
    assert not peers & {f"{k.host}:{k.grpc_port}" for k in reply.known}
    # Keys written now are homed only on members that answer: every one has its two copies on
    # the three real nodes, and the forged id is never counted as a member meanwhile.
    h2ocloud.init(url=target.url)
    assert all(FORGED_ID not in _member_ids(n) for n in cloud3.nodes)
    fr = h2ocloud.H2OFrame({"a": list(range(4000)), "b": [i % 5 for i in range(4000)]})
    try:
        assert all(FORGED_ID not in _member_ids(n) for n in cloud3.nodes)
        assert fr.nrow == 4000 and fr["a"].sum()[0] == sum(range(4000))
        held: dict[str, int] = {}
        for n in cloud3.nodes:
            keys, _ = cloud3.peer_call(n, "dkv.keys", {"prefix": fr.frame_id}, timeout=10)
            for k in keys["keys"]:
                held[k] = held.get(k, 0) + 1
        assert held and all(c == 2 for c in held.values()), held
        # The call-back failed, and the node says so on its status page.
        addr = f"127.0.0.1:{port}"
        deadline = time.time() + 20
        while time.time() < deadline and addr not in target.status()["refused"]:
            time.sleep(0.2)
        why = target.status()["refused"].get(addr, "")
        assert FORGED_ID in why and "does not answer" in why, target.status()["refused"]
        assert FORGED_ID not in _member_ids(target)
    finally:
        h2ocloud.remove(fr)


def test_the_call_back_book_is_bounded():
    from h2ocloud.node.cluster.reachback import ReachBack

    book = ReachBack(limit=3)
    assert book.ask("a:1", "x") and not book.ask("a:1", "x")
    for i in range(2, 10):
        book.ask(f"a:{i}", f"n{i}")
    assert len(book) == 3 and list(book) == ["a:7", "a:8", "a:9"]  # the oldest go first
    assert book.claimed("a:9") == "n9" and book.claimed("a:1") is None
    book.done("a:9")
    assert "a:9" not in book


def test_a_seed_that_names_a_node_another_way_is_reached_at_its_own_address(tmp_path):
    """Only the first node has a seed, spelled `localhost:port` (nodes advertise 127.0.0.1). The
    reply at the seed is not yet admission: the first node calls the second at the address it
    advertises; the second, which has no seeds, admits the first only by calling it back."""
    from tests.cloudfixture import Cloud, NodeProc, free_ports

    ports = free_ports(4)
    name = f"alias-{ports[0]}"
    nodes = [NodeProc(ports[2 * i], ports[2 * i + 1], tmp_path / f"n{i}.log",
                      ["--name", name, "--heartbeat-interval", "0.5", "--no-zeroconf",
                       *(["--peers", f"localhost:{ports[3]}"] if i == 0 else [])]) for i in range(2)]
    cloud = Cloud(nodes, tmp_path, name)
    try:
        for node in nodes:
            node.start()
        cloud.wait_formed(2, timeout=60)
        for node in nodes:
            assert {m["address"] for m in node.status()["nodes"]} == {n.address for n in nodes}
    finally:
        cloud.stop()
