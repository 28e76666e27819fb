"""The daemon, its two ports, and the client's first connection (issue 2)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest

import h2ocloud
from tests.cloudfixture import free_ports, get_json, start_cloud


def can_bind(port: int) -> bool:
    """Whether a server could listen on port now (SO_REUSEADDR, as every server sets, so a
    connection in TIME_WAIT does not count as the port being held)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def test_status_over_rest_and_grpc_then_sigterm_frees_ports():
    with start_cloud(1) as cloud:
        node = cloud.nodes[0]
        rest = get_json(node.url + "/3/Cloud")
        assert rest["cloud_size"] == 1 and rest["cloud_name"] == cloud.name
        assert rest["grpc_port"] == node.grpc_port
        conn = h2ocloud.init(url=node.url)
        assert conn.grpc_address.endswith(f":{node.grpc_port}")
        st = conn.status()
        assert st.cloud_size == 1 and st.cloud_name == cloud.name
        assert st.nodes[0].node_id == rest["nodes"][0]["node_id"]
        c = h2ocloud.cluster()
        assert c.cloud_name == cloud.name and c.cloud_size == 1
        n = c.nodes[0]
        assert n["cores"] >= 1 and n["free_mem"] > 0 and n["healthy"] and n["version"] == h2ocloud.__version__
        page = urllib.request.urlopen(node.url + "/").read().decode()
        assert "<title>h2ocloud</title>" in page and "/static/console.js" in page
        assert node.stop(signal.SIGTERM) == 0
        # Both ports can be bound again at once.
        assert can_bind(node.web_port) and can_bind(node.grpc_port)
        node.start()  # and a new daemon takes both ports at once
        assert node.wait_up()["grpc_port"] == node.grpc_port
        assert node.stop() == 0


def test_show_status_prints_table(h2o, capsys):
    h2o.cluster().show_status()
    out = capsys.readouterr().out
    assert "H2O cloud name" in out and "healthy" in out


@pytest.mark.parametrize("which", ["web", "grpc"])
def test_port_in_use_exits_nonzero_quickly_with_message(which):
    web, grpc_port = free_ports(2)
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", web if which == "web" else grpc_port))
    blocker.listen(1)
    try:
        t0 = time.time()
        r = subprocess.run([sys.executable, "-m", "h2ocloud", "node", "--port", str(web), "--grpc-port", str(grpc_port)],
                           capture_output=True, text=True, timeout=60)
        assert time.time() - t0 < 25  # no hang: the port check, not the import time of a loaded box
        assert r.returncode != 0
        assert "not available" in r.stderr and "Traceback" not in r.stderr
        assert ("web" if which == "web" else "gRPC") in r.stderr
    finally:
        blocker.close()


def test_second_daemon_cannot_share_grpc_port():
    with start_cloud(1) as cloud:
        web2 = free_ports(1)[0]
        r = subprocess.run([sys.executable, "-m", "h2ocloud", "node", "--port", str(web2), "--grpc-port",
                            str(cloud.nodes[0].grpc_port)], capture_output=True, text=True, timeout=30)
        assert r.returncode != 0 and "gRPC port" in r.stderr


def test_two_nodes_same_directory_have_distinct_ids_and_data_dirs(tmp_path):
    ports = free_ports(4)
    procs = [subprocess.Popen([sys.executable, "-m", "h2ocloud", "node", "--port", str(ports[2 * i]),
                               "--grpc-port", str(ports[2 * i + 1])], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(2)]
    try:
        sts = []
        for i in range(2):
            deadline = time.time() + 20
            while True:
                try:
                    sts.append(get_json(f"http://127.0.0.1:{ports[2 * i]}/3/Cloud"))
                    break
                except OSError:
                    assert time.time() < deadline
                    time.sleep(0.1)
        assert sts[0]["node_id"] != sts[1]["node_id"]
        assert sts[0]["data_dir"] != sts[1]["data_dir"]
        dirs = [s["data_dir"] for s in sts]
        assert all(os.path.isdir(d) for d in dirs)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
            p.wait(15)
    assert not any(os.path.exists(d) for d in dirs)  # a default data dir goes with its node


def test_environment_variables_set_flags():
    web, grpc_port = free_ports(2)
    env = dict(os.environ, H2OCLOUD_PORT=str(web), H2OCLOUD_GRPC_PORT=str(grpc_port), H2OCLOUD_NAME="envcloud")
    p = subprocess.Popen([sys.executable, "-m", "h2ocloud", "node"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 20
        while True:
            try:
                st = get_json(f"http://127.0.0.1:{web}/3/Cloud")
                break
            except OSError:
                assert time.time() < deadline and p.poll() is None
                time.sleep(0.1)
        assert st["cloud_name"] == "envcloud" and st["grpc_port"] == grpc_port
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(15) == 0


def test_init_to_dead_url_is_a_clear_connection_error():
    port = free_ports(1)[0]
    t0 = time.time()
    with pytest.raises(ConnectionError, match="no h2ocloud node answers"):
        h2ocloud.init(url=f"http://127.0.0.1:{port}")
    assert time.time() - t0 < 5


def test_init_starts_a_local_node_and_stops_it_at_exit(tmp_path):
    web = free_ports(1)[0]
    script = textwrap.dedent(f"""
        import h2ocloud as h2o
        conn = h2o.init(port={web})
        print("STARTED", conn.owned_process is not None, h2o.cluster().cloud_size, flush=True)
        conn2 = h2o.init(port={web})   # again: cheap, reuses the running node
        print("AGAIN", conn2.owned_process is not None, flush=True)
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=90)
    assert "STARTED True 1" in r.stdout, r.stdout + r.stderr
    assert "AGAIN True" in r.stdout
    time.sleep(0.5)
    assert can_bind(web), "the node started by init() is still running after the interpreter exited"


def test_version_mismatch_warns(cloud1, monkeypatch):
    import h2ocloud.client.node_connection as connmod

    monkeypatch.setattr(connmod, "__version__", "9.9.9")
    with pytest.warns(UserWarning, match="differs from the node's version"):
        h2ocloud.init(url=cloud1.nodes[0].url)


def test_rest_errors_are_json_with_4xx(cloud1):
    import json
    import urllib.error

    req = urllib.request.Request(cloud1.nodes[0].url + "/3/Jobs/nope")
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(req)
    assert ei.value.code == 404
    body = json.loads(ei.value.read().decode())
    assert "nope" in body["error"]


def test_shutdown_stops_the_cloud():
    with start_cloud(1) as cloud:
        h2ocloud.init(url=cloud.nodes[0].url)
        h2ocloud.shutdown()
        assert cloud.nodes[0].proc.wait(15) == 0


def test_readiness_endpoint(cloud1):
    import json
    import urllib.error

    url = cloud1.nodes[0].url
    assert get_json(url + "/3/Ready")["ready"] is True
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(url + "/3/Ready?min_size=3")
    assert ei.value.code == 503 and "not formed" in json.loads(ei.value.read().decode())["error"]
