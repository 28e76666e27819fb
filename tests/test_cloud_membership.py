"""Discovery and membership of a cloud of real daemons (issue 5): flatfile, peers, zeroconf and
Kubernetes DNS; agreement on members and epoch; death by SIGKILL within the timeout and rejoin;
a frozen (SIGSTOPped) peer blocks nothing; shared secret and cloud name admission.

Every daemon is a separate process started by tests/cloudfixture.py and stopped even on failure.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

import h2ocloud
from h2ocloud.node.cluster import auth
from tests.cloudfixture import Cloud, NodeProc, free_ports, start_cloud, wait_until
from tests.dnsserver import TinyDNS

TIMEOUT = 3.0  # --heartbeat-timeout used by the death tests
FAST = ["--heartbeat-timeout", str(TIMEOUT)]


# ---- helpers ---------------------------------------------------------------------------------
def statuses(nodes: list[NodeProc]) -> list[dict]:
    return [n.status() for n in nodes]


def assert_same_view(nodes: list[NodeProc]) -> dict:
    """Every node, asked through the client, reports the same members and epoch."""
    views = []
    for n in nodes:
        h2ocloud.init(url=n.url)
        c = h2ocloud.cluster()
        views.append((c.epoch, tuple(sorted(x["node_id"] for x in c.nodes)), c.consensus))
    assert len(set(views)) == 1, views
    epoch, members, consensus = views[0]
    assert consensus and len(members) == len(nodes)
    # The members are exactly the nodes' own ids.
    assert set(members) == {n.status()["node_id"] for n in nodes}
    return {"epoch": epoch, "members": members}




@contextmanager
def cloud_of(nodes: list[NodeProc], workdir: Path, name: str):
    """Start the given (not yet started) nodes in order; stop every one of them at the end."""
    cloud = Cloud(nodes, workdir, name)
    try:
        yield cloud
    except BaseException:
        print(cloud.logs())
        raise
    finally:
        for n in nodes:
            if n.proc is not None and n.proc.poll() is None:
                os.kill(n.proc.pid, signal.SIGCONT)  # a stopped process cannot handle SIGTERM
        cloud.stop()


class IpNode(NodeProc):
    """A node bound to another loopback address (all of 127.0.0.0/8 is loopback on Linux)."""

    ip: str = "127.0.0.1"

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{self.web_port}"


# ---- flatfile in any start order: agreement, SIGKILL -> dead within the timeout, rejoin ---
def test_flatfile_any_start_order_sigkill_and_rejoin(tmp_path):
    ports = free_ports(6)
    flat = tmp_path / "flatfile"
    flat.write_text("# the cloud\n" + "".join(f"127.0.0.1:{ports[2 * i + 1]}\n" for i in range(3)))
    name = f"flat-{ports[0]}"
    args = ["--name", name, "--heartbeat-interval", "0.5", "--flatfile", str(flat), *FAST]
    nodes = [NodeProc(ports[2 * i], ports[2 * i + 1], tmp_path / f"n{i}.log", list(args)) for i in range(3)]
    with cloud_of(nodes, tmp_path, name) as cloud:
        nodes[2].start()  # node 3 first, alone, heartbeating addresses where nothing listens yet
        nodes[2].wait_up()
        time.sleep(1.0)
        assert nodes[2].status()["cloud_size"] == 1
        nodes[0].start()
        nodes[1].start()
        cloud.wait_formed(3, timeout=60, among=nodes)
        before = assert_same_view(nodes)

        victim, others = nodes[1], [nodes[0], nodes[2]]
        victim_id = victim.status()["node_id"]
        t0 = time.time()
        victim.kill()

        def declared_dead():
            sts = statuses(others)
            return all(victim_id in {d["node_id"] for d in s["dead_nodes"]} and s["cloud_size"] == 2 for s in sts)

        # Declared dead by both within the timeout (plus the 0.25 s check tick and polling).
        wait_until(declared_dead, TIMEOUT + 1.0, "both survivors listing the killed node as dead")
        assert time.time() - t0 >= TIMEOUT - 1.0  # not before the timeout either (interval 0.5)
        cloud.wait_formed(2, timeout=TIMEOUT, among=others)
        after = assert_same_view(others)
        assert after["epoch"] > before["epoch"] and victim_id not in after["members"]

        victim.start()  # same ports, new node id
        victim.wait_up()
        cloud.wait_formed(3, timeout=60, among=nodes)
        back = assert_same_view(nodes)
        new_id = victim.status()["node_id"]
        assert new_id != victim_id and new_id in back["members"] and back["epoch"] > after["epoch"]
        for s in statuses(nodes):
            assert victim_id not in {x["node_id"] for x in s["nodes"]}


# ---- peers, and a frozen peer --------------------------------------------------------------
def test_peers_cloud_and_sigstopped_peer_blocks_nothing():
    with start_cloud(3, args=FAST, discovery="peers") as cloud:
        assert_same_view(cloud.nodes)
        frozen, others = cloud.nodes[0], cloud.nodes[1:]
        frozen_id = frozen.status()["node_id"]
        os.kill(frozen.proc.pid, signal.SIGSTOP)
        try:
            # /3/Cloud keeps answering fast, before and after the frozen peer is declared dead.
            slowest = 0.0
            t_end = time.time() + TIMEOUT + 1.5
            while time.time() < t_end:
                for n in others:
                    t0 = time.time()
                    n.status()
                    slowest = max(slowest, time.time() - t0)
                time.sleep(0.1)
            assert slowest < 1.0, slowest
            for s in statuses(others):
                assert s["cloud_size"] == 2 and frozen_id in {d["node_id"] for d in s["dead_nodes"]}
            # The client's cluster() (a gRPC call) answers fast too.
            h2ocloud.init(url=others[0].url)
            t0 = time.time()
            assert h2ocloud.cluster().cloud_size == 2
            assert time.time() - t0 < 1.0
        finally:
            os.kill(frozen.proc.pid, signal.SIGCONT)
        # Thawed, it comes back with the same id.
        cloud.wait_formed(3, timeout=60)
        assert frozen_id in assert_same_view(cloud.nodes)["members"]


# ---- zeroconf ---------------------------------------------------------------------------------
def loopback_multicast_works() -> bool:
    """Whether a multicast datagram sent on 127.0.0.1 reaches a socket joined on 127.0.0.1."""
    group = "224.0.0.251"
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        rx.bind(("", 0))
        rx.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                      socket.inet_aton(group) + socket.inet_aton("127.0.0.1"))
        rx.settimeout(1.0)
        tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
        tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        tx.sendto(b"probe", (group, rx.getsockname()[1]))
        return rx.recv(16) == b"probe"
    except OSError:
        return False
    finally:
        rx.close()
        tx.close()


def test_zeroconf_cloud_forms_on_loopback():
    if not loopback_multicast_works():
        pytest.skip("multicast on the loopback interface is unavailable here, so mDNS cannot run")
    with start_cloud(3, args=["--zeroconf"], discovery="none") as cloud:  # start_cloud waits for 3
        assert_same_view(cloud.nodes)
        assert all("zeroconf: announcing _h2ocloud._tcp.local. on 127.0.0.1" in n.log() for n in cloud.nodes)


def test_zeroconf_ignores_other_clouds():
    from h2ocloud.node.cluster.mdns import instance_name, seed_from_info, txt_properties

    class Info:  # what AsyncServiceInfo gives the browser callback
        def __init__(self, props):
            self.properties = {k.encode(): v.encode() for k, v in props.items()}

        def parsed_addresses(self, version):
            return ["127.0.0.9"]

    assert seed_from_info(Info(txt_properties("a", "id1", 7001, 7000)), "a", "me") == "127.0.0.9:7001"
    assert seed_from_info(Info(txt_properties("b", "id1", 7001, 7000)), "a", "me") is None
    assert seed_from_info(Info(txt_properties("a", "me", 7001, 7000)), "a", "me") is None
    name = instance_name("x" * 100, "abcdef123456")
    assert name.endswith("._h2ocloud._tcp.local.") and len(name.split(".")[0].encode()) <= 63


def test_zeroconf_multicasts_only_on_the_bound_interface():
    """The announcing sockets send multicast out of 127.0.0.1 alone (never every interface)."""
    from h2ocloud.node.cluster.mdns import ZeroconfDiscovery, interface_ip
    from h2ocloud.node.config import NodeConfig

    def fake_node(ip: str, advertise: str):
        return SimpleNamespace(config=NodeConfig(name=f"probe-{os.getpid()}", ip=ip), advertise_host=advertise,
                               node_id="probe1", grpc_port=1, web_port=2, membership=SimpleNamespace(seeds=set()))

    assert interface_ip(fake_node("0.0.0.0", "127.0.0.1")) == "127.0.0.1"  # one interface, not all
    assert interface_ip(fake_node("localhost", "127.0.0.1")) == "127.0.0.1"

    async def sending_interfaces() -> list[str] | None:
        zc = ZeroconfDiscovery(fake_node("127.0.0.1", "127.0.0.1"))
        await zc.start()
        try:
            socks = getattr(zc._azc.zeroconf.engine, "_respond_sockets", None)  # zeroconf internals
            if not socks:
                return None
            return [socket.inet_ntoa(s.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, 4)) for s in socks]
        finally:
            await zc.stop()

    got = asyncio.run(sending_interfaces())
    if got is None:
        pytest.skip("this zeroconf version does not expose its sockets")
    assert got == ["127.0.0.1"]


def test_peer_call_to_a_frozen_peer_has_a_deadline():
    """A peer that accepts the connection but never answers (as a SIGSTOPped one) costs the
    caller its deadline, not forever."""
    from h2ocloud.errors import NodeUnavailable
    from h2ocloud.node.cluster.peers import PeerClient

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel completes handshakes; nobody ever reads
    address = f"127.0.0.1:{silent.getsockname()[1]}"

    async def go() -> float:
        client = PeerClient("c", None)
        t0 = time.monotonic()
        try:
            with pytest.raises(NodeUnavailable):
                await client.call(address, "cloud.status", {}, timeout=0.5)
            return time.monotonic() - t0
        finally:
            await client.close()

    try:
        took = asyncio.run(go())
    finally:
        silent.close()
    assert 0.4 <= took < 2.0, took


# ---- Kubernetes DNS -----------------------------------------------------------------------
def test_k8s_resolver_against_independent_dns_server():
    from h2ocloud.node.cluster.k8s import resolve_service

    with TinyDNS("svc.ns.svc.cluster.local", ["10.1.0.7", "10.1.0.3", "10.1.0.7"]) as dns:
        got = asyncio.run(resolve_service("svc.ns.svc.cluster.local.", 54322, dns.address))
        assert got == ["10.1.0.3:54322", "10.1.0.7:54322"]
        assert asyncio.run(resolve_service("other.ns.svc.cluster.local", 54322, dns.address)) == []


def test_k8s_dns_cloud_on_one_grpc_port(tmp_path):
    service = "h2o-headless.default.svc.cluster.local"
    ips = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
    grpc_port, web_port = free_ports(2)  # the same ports on every address, as in a StatefulSet
    name = f"k8s-{grpc_port}"
    with TinyDNS(service, ips) as dns:
        nodes = []
        for i, ip in enumerate(ips):
            # The first node takes the service name from H2OCLOUD_K8S_SERVICE_DNS, the others by flag.
            by_flag = ["--k8s-service-dns", service] if i else []
            env = {"H2OCLOUD_K8S_NAMESERVER": dns.address, **({} if i else {"H2OCLOUD_K8S_SERVICE_DNS": service})}
            n = IpNode(web_port, grpc_port, tmp_path / f"n{i}.log",
                       ["--ip", ip, "--name", name, "--heartbeat-interval", "0.5", *by_flag], env=env)
            n.ip = ip
            nodes.append(n)
        with cloud_of(nodes, tmp_path, name) as cloud:
            for n in nodes:
                n.start()
            cloud.wait_formed(3, timeout=60, among=nodes)
            view = assert_same_view(nodes)
            addresses = {x["address"] for x in nodes[0].status()["nodes"]}
            assert addresses == {f"{ip}:{grpc_port}" for ip in ips} and len(view["members"]) == 3
            assert dns.queries >= 3


# ---- admission: shared secret and cloud name ----------------------------------------------
def test_secret_and_cloud_name_admission(tmp_path):
    ports = free_ports(8)
    flat = tmp_path / "flatfile"
    flat.write_text("".join(f"127.0.0.1:{ports[2 * i + 1]}\n" for i in range(4)))
    (tmp_path / "right").write_text("s3cret-shared\n")
    (tmp_path / "wrong").write_text("not-the-secret\n")
    name = f"adm-{ports[0]}"
    base = ["--heartbeat-interval", "0.5", "--flatfile", str(flat)]
    specs = [  # (args, env)
        (["--name", name], {"H2OCLOUD_SECRET": "s3cret-shared"}),  # right secret, by environment
        (["--name", name, "--secret-file", str(tmp_path / "right")], {}),  # right secret, by file
        (["--name", name, "--secret-file", str(tmp_path / "wrong")], {}),  # wrong secret
        (["--name", "another-cloud", "--secret-file", str(tmp_path / "right")], {}),  # wrong name
    ]
    nodes = [NodeProc(ports[2 * i], ports[2 * i + 1], tmp_path / f"n{i}.log", [*base, *a], env=e)
             for i, (a, e) in enumerate(specs)]
    for n in nodes:
        n.env.setdefault("H2OCLOUD_SECRET", "")  # none leaks in from the test's environment
    with cloud_of(nodes, tmp_path, name) as cloud:
        for n in nodes:
            n.start()
        good, wrong_secret, wrong_name = nodes[:2], nodes[2], nodes[3]
        cloud.wait_formed(2, timeout=60, among=good)
        assert_same_view(good)

        def refusals_recorded():
            sts = statuses(nodes)
            return all(len(s["refused"]) >= 2 for s in sts[:2]) and sts[2]["refused"] and sts[3]["refused"]

        wait_until(refusals_recorded, 30, "every side recording its refusals")
        time.sleep(1.0)  # a few more heartbeat rounds: nobody is admitted late
        sts = statuses(nodes)
        assert [s["cloud_size"] for s in sts] == [2, 2, 1, 1]
        for s in sts[:2]:
            assert "secret" in s["refused"][wrong_secret.address]
            assert "cloud name" in s["refused"][wrong_name.address]
        # Both sides refuse: the outsiders list the good nodes too, with the reason.
        assert all("secret" in sts[2]["refused"][g.address] for g in good)
        assert all("cloud name" in sts[3]["refused"][g.address] for g in good)
        # The secret never crosses the wire (nor reaches the status page).
        for s in sts:
            assert "s3cret-shared" not in str(s)


def test_an_impostor_answering_heartbeats_without_the_secret_is_not_admitted(tmp_path):
    """Something listening on a seed address that accepts every heartbeat, knowing the cloud's
    name and version but not its secret, never becomes a member."""
    from concurrent import futures

    import grpc

    from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2 as pb
    from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2_grpc as pb_grpc

    web, grpc_port, fake_port = free_ports(3)
    name = f"imp-{web}"
    impostor = pb.NodeStatus(node_id="impostor0000", cloud_name=name, version=h2ocloud.__version__,
                             host="127.0.0.1", grpc_port=fake_port)

    class Impostor(pb_grpc.PeerServicer):
        calls = 0

        def Heartbeat(self, request, context):
            Impostor.calls += 1
            return pb.HeartbeatReply(receiver=impostor, epoch=request.epoch + 5, accepted=True,
                                     members=sorted([impostor.node_id, request.sender.node_id]))

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    pb_grpc.add_PeerServicer_to_server(Impostor(), server)
    server.add_insecure_port(f"127.0.0.1:{fake_port}")
    server.start()
    node = NodeProc(web, grpc_port, tmp_path / "n0.log",
                    ["--name", name, "--heartbeat-interval", "0.3", "--peers", f"127.0.0.1:{fake_port}"],
                    env={"H2OCLOUD_SECRET": "the-real-secret"})
    try:
        with cloud_of([node], tmp_path, name):
            node.start()
            node.wait_up()
            addr = f"127.0.0.1:{fake_port}"
            wait_until(lambda: addr in node.status()["refused"], 30, "the impostor recorded as refused")
            time.sleep(1.0)
            st = node.status()
            assert Impostor.calls >= 3
            assert st["cloud_size"] == 1 and "impostor0000" not in str(st["nodes"])
            assert "not authentic" in st["refused"][addr] and "secret" in st["refused"][addr]
    finally:
        server.stop(0)


def test_secret_from_file_or_environment(tmp_path, monkeypatch):
    import argparse

    from h2ocloud.node.config import add_node_arguments, config_from_args

    def cfg(*argv):
        parser = argparse.ArgumentParser()
        add_node_arguments(parser)
        return config_from_args(parser.parse_args(list(argv)))

    monkeypatch.setenv("H2OCLOUD_SECRET", "from-env")
    assert cfg().secret == "from-env"
    (tmp_path / "s").write_text("from-file\n")
    assert cfg("--secret-file", str(tmp_path / "s")).secret == "from-file"  # the flag wins
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(OSError, match="empty"):  # an empty file must not mean "no secret"
        cfg("--secret-file", str(tmp_path / "empty"))
    monkeypatch.delenv("H2OCLOUD_SECRET")
    assert cfg().secret is None


def test_auth_proofs():
    md = auth.sign("k-secret", "Heartbeat", "c")
    assert "k-secret" not in str(md)  # a MAC of it, never the secret itself
    assert auth.verify("k-secret", md, "Heartbeat", "c") is None
    assert "wrong shared secret" in auth.verify("k2", md, "Heartbeat", "c")
    md = auth.sign("k", "Heartbeat", "c")
    assert auth.verify("k", md, "Call", "c") is not None  # bound to the method
    assert "cloud name 'c' is not 'other'" in auth.verify("k", md, "Heartbeat", "other")
    forged = [(auth.HEADER, md[0][1][:-1] + "other")]  # claiming another cloud breaks the MAC
    assert "wrong shared secret" in auth.verify("k", forged, "Heartbeat", "other")
    assert "no proof" in auth.verify("k", [], "Heartbeat", "c")
    assert "has none" in auth.verify(None, md, "Heartbeat", "c")  # both sides refuse
    assert auth.verify(None, [], "Heartbeat", "c") is None
    stale = [(auth.HEADER, f"{int((time.time() - 600) * 1000)}:00:c")]
    assert "too old" in auth.verify("k", stale, "Heartbeat", "c")


def test_admit_refuses_other_major_version_and_records_it():
    from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2 as pb
    from h2ocloud.node.cluster.membership import Membership
    from h2ocloud.node.config import NodeConfig

    node = SimpleNamespace(config=NodeConfig(name="c"), node_id="me")
    m = Membership(node)
    other_major = str(int(h2ocloud.__version__.split(".")[0]) + 1) + ".0.0"
    st = pb.NodeStatus(node_id="x", cloud_name="c", version=other_major, host="127.0.0.5", grpc_port=9)
    assert "version" in m.admit(st)
    assert "version" in m.refused["127.0.0.5:9"]
    same = pb.NodeStatus(node_id="y", cloud_name="c", version=h2ocloud.__version__, host="127.0.0.6", grpc_port=9)
    assert m.admit(same) is None and "127.0.0.6:9" not in m.refused


# ---- forgetting the dead -------------------------------------------------------------------------
def test_seedbook_forgets_addresses_nobody_names_but_keeps_the_users_peers(monkeypatch):
    from h2ocloud.node.cluster import seedbook

    now = [100.0]
    monkeypatch.setattr(seedbook.time, "monotonic", lambda: now[0])
    book = seedbook.SeedBook()
    book.name(["a:1", "b:2"])
    book.name(["p:9"], permanent=True)
    now[0] = 105.0
    book.name(["a:1"])  # a is still named (by the flatfile, DNS or gossip), b is not
    now[0] = 112.0
    assert book.forget_older_than(10.0, keep=["c:3"]) == ["b:2"]
    assert set(book) == {"a:1", "p:9"}
    now[0] = 1e9
    assert book.forget_older_than(10.0, keep=["a:1"]) == [] and set(book) == {"a:1", "p:9"}


def test_a_dead_node_taken_out_of_the_flatfile_is_forgotten(tmp_path):
    ports = free_ports(6)
    flat = tmp_path / "flatfile"
    lines = [f"127.0.0.1:{ports[2 * i + 1]}\n" for i in range(3)]
    flat.write_text("".join(lines))
    name = f"forget-{ports[0]}"
    args = ["--name", name, "--heartbeat-interval", "0.5", "--flatfile", str(flat), *FAST, "--forget-dead", "2"]
    nodes = [NodeProc(ports[2 * i], ports[2 * i + 1], tmp_path / f"n{i}.log", list(args)) for i in range(3)]
    with cloud_of(nodes, tmp_path, name) as cloud:
        for n in nodes:
            n.start()
        cloud.wait_formed(3, timeout=60, among=nodes)
        victim, others = nodes[2], nodes[:2]
        victim_id, victim_addr = victim.status()["node_id"], lines[2].strip()
        assert all(victim_addr in s["seed_addresses"] for s in statuses(others))
        victim.kill()
        flat.write_text("".join(lines[:2]))  # the operator takes it out of the cloud's list

        def listed_dead():
            return all(victim_id in {d["node_id"] for d in s["dead_nodes"]} for s in statuses(others))

        wait_until(listed_dead, TIMEOUT + 2.0, "the killed node listed as dead")

        def forgotten():
            return all(victim_id not in {d["node_id"] for d in s["dead_nodes"]}
                       and victim_addr not in s["seed_addresses"] for s in statuses(others))

        # Dead after TIMEOUT, forgotten TIMEOUT + 2 s later (and its address with it).
        wait_until(forgotten, 2 * TIMEOUT + 2.0 + 3.0, "the dead node and its address forgotten")
        assert all(s["cloud_size"] == 2 for s in statuses(others))
        assert all("forgot peer " + victim_id in n.log_path.read_text() for n in others)
