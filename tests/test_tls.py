"""TLS (--tls-cert, --tls-key) and mutual TLS (--tls-ca) with real daemons and a throwaway PKI.

A CA made at test time signs each node's certificate (127.0.0.1 and localhost) and a client's.
A 3-node cloud with mutual TLS forms and trains and predicts through the client over https;
nothing on either port answers plain text; a node whose certificate another CA signed is never
admitted; a client with the wrong CA, no client certificate, or an http:// URL gets a TLSError
saying what to pass.
"""

from __future__ import annotations

import argparse
import ssl
import time
import urllib.error
import urllib.request
from pathlib import Path

import grpc
import numpy as np
import pytest

import h2ocloud
from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2 as pb
from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2_grpc as pb_grpc
from h2ocloud.errors import TLSError
from tests.cloudfixture import NodeProc, free_ports, get_json, start_cloud
from tests.tlscerts import make_ca


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    ca = make_ca(folder / "ca")
    other = make_ca(folder / "other", "another CA")
    return {"ca": ca, "other": other, "nodes": [ca.issue(f"node{i}") for i in range(3)],
            "client": ca.issue("client"), "rogue": other.issue("rogue")}


def _grpc_status(address: str, creds: grpc.ChannelCredentials | None) -> pb.CloudStatus:
    ch = grpc.secure_channel(address, creds) if creds is not None else grpc.insecure_channel(address)
    with ch:
        return pb_grpc.NodeStub(ch).Status(pb.StatusRequest(), timeout=10)


def _plain_http_fails(url: str) -> str:
    """GET over plain HTTP; the error it gets (a TLS port answers no plain request)."""
    try:
        with urllib.request.urlopen(url.replace("https://", "http://") + "/3/Cloud", timeout=10) as r:
            return f"answered {r.status}"
    except (urllib.error.URLError, OSError) as e:
        return f"failed: {e}"


@pytest.mark.slow
def test_mutual_tls_cloud_trains_over_https_and_refuses_plain_text_and_strangers(pki, tmp_path):
    ca, client = pki["ca"], pki["client"]
    per_node = [["--tls-cert", str(c.cert), "--tls-key", str(c.key)] for c in pki["nodes"]]
    with start_cloud(3, args=["--tls-ca", str(ca.cert), "--heartbeat-timeout", "4"], per_node_args=per_node) as cloud:
        node = cloud.nodes[1]
        assert node.url.startswith("https://")
        st = node.status()  # the fixture reads it over HTTPS, verified against the CA
        assert st["cloud_size"] == 3 and st["tls"] == {"enabled": True, "client_certificate_required": True}

        # Encrypted on both ports: plain text gets nothing; gRPC needs TLS and a CA-signed certificate.
        assert _plain_http_fails(node.url).startswith("failed"), node.url
        rd = Path.read_bytes
        attempts = {
            "plain": None,
            "tls without a client certificate": grpc.ssl_channel_credentials(rd(ca.cert)),
            "another CA's client certificate": grpc.ssl_channel_credentials(rd(ca.cert), rd(pki["rogue"].key),
                                                                            rd(pki["rogue"].cert)),
        }
        for what, creds in attempts.items():
            with pytest.raises(grpc.RpcError) as e:
                _grpc_status(node.address, creds)
            assert e.value.code() == grpc.StatusCode.UNAVAILABLE, what
        ok = _grpc_status(node.address, grpc.ssl_channel_credentials(rd(ca.cert), rd(client.key), rd(client.cert)))
        assert ok.cloud_size == 3
        assert ssl.get_server_certificate(("127.0.0.1", node.grpc_port)).strip() == pki["nodes"][1].cert.read_text().strip()

        # The client: https for REST, TLS with its certificate for gRPC (learned from /3/Cloud).
        h2ocloud.init(url=node.url, verify=str(ca.cert), cert=(str(client.cert), str(client.key)))
        rng = np.random.default_rng(0)
        x1, x2 = rng.normal(size=600), rng.normal(size=600)
        fr = h2ocloud.H2OFrame({"x1": x1.tolist(), "x2": x2.tolist(),
                                "y": ["a" if a + b > 0 else "b" for a, b in zip(x1, x2)]})
        fr["y"] = fr["y"].asfactor()
        m = h2ocloud.H2ODeepLearningEstimator(hidden=[8], epochs=5, seed=1)
        m.train(x=["x1", "x2"], y="y", training_frame=fr)
        pred = m.predict(fr).as_data_frame()
        assert len(pred) == 600 and (pred["predict"] == ["a" if a + b > 0 else "b" for a, b in zip(x1, x2)]).mean() > 0.9
        h2ocloud.remove(fr)

        # Clients that cannot connect are told why and what to pass.
        with pytest.raises(TLSError, match="serves HTTPS.*https://"):
            h2ocloud.init(url=node.url.replace("https://", "http://"))
        with pytest.raises(TLSError, match="not verified.*verify="):
            h2ocloud.init(url=node.url, verify=str(pki["other"].cert), cert=(str(client.cert), str(client.key)))
        with pytest.raises(TLSError, match="not verified"):
            h2ocloud.init(url=node.url)  # the system's CAs do not know the test CA
        with pytest.raises(TLSError, match="requires a client certificate.*cert="):
            h2ocloud.init(url=node.url, verify=str(ca.cert))

        # A node whose certificate another CA signed (it trusts ours) is never admitted.
        web, grpc_port = free_ports(2)
        rogue = NodeProc(web, grpc_port, cloud.workdir / "rogue.log",
                         ["--name", cloud.name, "--heartbeat-interval", "0.5", "--no-zeroconf",
                          "--peers", ",".join(n.address for n in cloud.nodes), "--tls-ca", str(ca.cert),
                          "--tls-cert", str(pki["rogue"].cert), "--tls-key", str(pki["rogue"].key)])
        unverified = ssl.create_default_context()
        unverified.check_hostname, unverified.verify_mode = False, ssl.CERT_NONE

        def rogue_status() -> dict:
            return get_json(rogue.url + "/3/Cloud", timeout=5, context=unverified)

        try:
            rogue.start()
            with open(cloud.workdir / "flatfile", "a") as f:  # the cloud calls it too (re-read)
                f.write(rogue.address + "\n")
            deadline = time.time() + 60
            while time.time() < deadline:
                assert rogue.alive(), rogue.log()
                try:
                    if len(rogue_status()["refused"]) >= 3:
                        break
                except OSError:
                    pass
                time.sleep(0.3)
            time.sleep(1.0)  # a few more heartbeat rounds: nobody is admitted late
            st = rogue_status()
            assert st["cloud_size"] == 1, st["nodes"]
            assert all("TLS" in st["refused"].get(n.address, "") for n in cloud.nodes), st["refused"]
            for n in cloud.nodes:  # and each node of the cloud, calling it, refuses its certificate
                wait = time.time() + 30
                while time.time() < wait and rogue.address not in n.status()["refused"]:
                    time.sleep(0.3)
                theirs = n.status()
                assert theirs["cloud_size"] == 3 and st["node_id"] not in str(theirs["nodes"])
                assert "CERTIFICATE_VERIFY_FAILED" in theirs["refused"].get(rogue.address, ""), theirs["refused"]
        finally:
            rogue.stop()


def test_tls_without_a_ca_serves_clients_without_certificates(pki, cloud1):
    """Server-only TLS: the client verifies the node; no client certificate is asked for."""
    cert = pki["nodes"][0]
    with start_cloud(1, args=["--tls-cert", str(cert.cert), "--tls-key", str(cert.key)]) as cloud:
        node = cloud.nodes[0]
        assert node.status()["tls"] == {"enabled": True, "client_certificate_required": False}
        assert _plain_http_fails(node.url).startswith("failed")
        with pytest.raises(grpc.RpcError):
            _grpc_status(node.address, None)
        conn = h2ocloud.init(url=node.url, cacert=str(pki["ca"].cert))  # h2o-py's spelling of verify=
        fr = h2ocloud.H2OFrame({"a": [1, 2, 3]})
        assert fr.nrow == 3 and conn.call("cloud.status")[0]["tls"]["enabled"]
        h2ocloud.remove(fr)
        with pytest.warns(UserWarning, match="not checked"):
            h2ocloud.init(url=node.url, insecure=True)  # verify=False: trusts the certificate it is shown
        assert h2ocloud.cluster().cloud_size == 1
    # An https:// URL to a plain node is told so too.
    with pytest.raises(TLSError, match="does not speak TLS.*http://"):
        h2ocloud.init(url=cloud1.nodes[0].url.replace("http://", "https://"))


def test_tls_flags_are_checked_at_start(pki, tmp_path):
    from h2ocloud.node.config import ConfigError, add_node_arguments, config_from_args

    parser = argparse.ArgumentParser()
    add_node_arguments(parser)
    cert, key = pki["nodes"][0].cert, pki["nodes"][0].key
    other_key = pki["rogue"].key
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    cases = [
        (["--tls-cert", str(cert)], "--tls-cert and --tls-key go together"),
        (["--tls-ca", str(pki["ca"].cert)], "--tls-ca needs --tls-cert"),
        (["--tls-cert", str(cert), "--tls-key", str(other_key)], "cannot serve"),
        (["--tls-cert", str(cert), "--tls-key", str(tmp_path / "missing.key")], "cannot read --tls-key"),
        (["--tls-cert", str(junk), "--tls-key", str(key)], "--tls-cert .* is not a PEM file"),
    ]
    for argv, message in cases:
        with pytest.raises(ConfigError, match=message):
            config_from_args(parser.parse_args(argv))
    cfg = config_from_args(parser.parse_args(["--tls-cert", str(cert), "--tls-key", str(key)]))
    assert cfg.node_tls() is not None and not cfg.node_tls().mutual
