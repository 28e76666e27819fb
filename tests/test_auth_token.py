"""Client tokens (--auth-token-file / H2OCLOUD_AUTH_TOKEN): every REST call, console page and
client gRPC call needs `Authorization: Bearer <token>` (or the console's login cookie); only the
probes answer without it. Real daemons, on one node and on a 3-node cloud."""

from __future__ import annotations

import http.cookiejar
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import grpc
import pytest

from h2ocloud import wire
from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2 as pb
from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2_grpc as pb_grpc
from h2ocloud.errors import Unauthenticated
from tests.cloudfixture import start_cloud

TOKEN = "s3cr3t-token-for-tests"
CSV = b"a,b,c\n1,2,x\n3,4,y\n5,6,x\n"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _http(url: str, method: str = "GET", token: str | None = None, data: bytes | None = None,
          headers: dict | None = None, opener=None) -> tuple[int, bytes, dict]:
    hdrs = dict(headers or {})
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    opener = opener or urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


@pytest.fixture(scope="module")
def token_node(tmp_path_factory):
    path = tmp_path_factory.mktemp("tok") / "token"
    path.write_text(TOKEN + "\n")
    with start_cloud(1, args=["--auth-token-file", str(path)]) as cloud:
        yield cloud


def test_probes_open_everything_else_needs_the_token(token_node):
    base = token_node.nodes[0].url
    assert _http(base + "/3/Ready")[0] == 200
    status, body, _ = _http(base + "/healthz")
    assert status == 200 and set(json.loads(body)) <= {"ok", "node_id", "draining"}
    for method, path in [("GET", "/3/Cloud"), ("GET", "/3/Frames"), ("GET", "/metrics"),
                         ("POST", "/3/Shutdown"), ("POST", "/3/ImportFiles"), ("GET", "/3/openapi.json"),
                         ("POST", "/3/Ops/cloud.status"), ("GET", "/static/console.js")]:
        for token in (None, "wrong-token"):
            status, body, hdrs = _http(base + path, method, token=token, data=b"{}" if method == "POST" else None)
            if path.startswith("/static/"):
                assert status in (302, 401), (path, status)
                continue
            assert status == 401, (method, path, token, status, body)
            err = json.loads(body)
            assert err["http_status"] == 401 and ("token" in err["error"]), err
            assert hdrs.get("WWW-Authenticate", "").startswith("Bearer")
    status, body, _ = _http(base + "/3/Cloud", token=TOKEN)
    assert status == 200 and json.loads(body)["cloud_size"] == 1
    status, body, _ = _http(base + "/3/Cloud", headers={"Authorization": f"Basic {TOKEN}"})
    assert status == 401 and "Bearer" in json.loads(body)["error"]
    # The node is still up, and each refusal was logged with the caller's address.
    assert _http(base + "/3/Cloud", token=TOKEN)[0] == 200
    log = token_node.nodes[0].log()
    assert "refused GET /3/Cloud from 127.0.0.1: wrong token" in log
    assert "refused POST /3/Shutdown from 127.0.0.1" in log


def test_grpc_needs_the_token(token_node):
    node = token_node.nodes[0]
    with grpc.insecure_channel(node.address) as ch:
        stub = pb_grpc.NodeStub(ch)
        for md in ([], [("authorization", "Bearer nope")]):
            with pytest.raises(grpc.RpcError) as e:
                stub.Status(pb.StatusRequest(), timeout=30, metadata=md)
            assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
            with pytest.raises(grpc.RpcError) as e:
                wire.decode(stub.Call(wire.encode({"op": "cloud.shutdown", "args": {}}, []), timeout=30, metadata=md))
            assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED and "token" in e.value.details()
        ok = stub.Status(pb.StatusRequest(), timeout=30, metadata=[("authorization", f"Bearer {TOKEN}")])
        assert ok.cloud_size == 1
    assert "refused gRPC Call from ipv4:127.0.0.1" in node.log()
    assert node.alive()


def test_client_sends_the_token(token_node, monkeypatch):
    import h2ocloud

    url = token_node.nodes[0].url
    monkeypatch.delenv("H2OCLOUD_AUTH_TOKEN", raising=False)
    with pytest.raises(Unauthenticated, match="token"):
        h2ocloud.init(url=url)
    with pytest.raises(PermissionError, match="wrong token"):
        h2ocloud.init(url=url, token="wrong")
    h2ocloud.init(url=url, token=TOKEN)
    fr = h2ocloud.H2OFrame({"a": [1, 2, 3], "b": [4, 5, 6]})
    assert fr.nrow == 3
    assert fr.frame_id in {f["frame_id"] for f in h2ocloud.connection().call("frames.list")[0]["frames"]}
    h2ocloud.remove(fr)
    monkeypatch.setenv("H2OCLOUD_AUTH_TOKEN", TOKEN)  # the environment variable, when token= is not given
    conn = h2ocloud.init(url=url)
    assert conn.call("cloud.status")[0]["cloud_size"] == 1


def test_console_login_sets_a_cookie(token_node):
    base = token_node.nodes[0].url
    status, _, hdrs = _http(base + "/frames?x=1&y=2")
    assert status == 302 and hdrs["Location"].startswith("/login?next=")
    assert urllib.parse.unquote(hdrs["Location"].split("next=", 1)[1]) == "/frames?x=1&y=2"
    status, body, _ = _http(base + "/login")
    assert status == 200 and b'type="password"' in body
    form = urllib.parse.urlencode({"token": "wrong", "next": "/frames"}).encode()
    status, body, hdrs = _http(base + "/login", "POST", data=form)
    assert status == 401 and b"wrong token" in body and "Set-Cookie" not in hdrs
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(_NoRedirect, urllib.request.HTTPCookieProcessor(jar))
    form = urllib.parse.urlencode({"token": TOKEN, "next": "https://evil.example/"}).encode()
    status, _, hdrs = _http(base + "/login", "POST", data=form, opener=opener)
    assert status == 302 and hdrs["Location"] == "/"  # never sent to another site
    cookie = hdrs["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
    # With the cookie, the console's pages and the API they fetch work.
    status, body, _ = _http(base + "/frames", opener=opener)
    assert status == 200 and b"console.js" in body
    assert _http(base + "/static/console.js", opener=opener)[0] == 200
    status, body, _ = _http(base + "/3/Frames", opener=opener)
    assert status == 200 and "frames" in json.loads(body)
    # Logging out clears it.
    _http(base + "/logout", opener=opener)
    assert _http(base + "/3/Frames", opener=opener)[0] == 401


def test_token_from_environment_on_a_three_node_cloud(tmp_path):
    """H2OCLOUD_AUTH_TOKEN on every node: the cloud forms (peers use the secret, not the token),
    a client with the token uploads and summarises a frame whose chunks span the nodes."""
    import h2ocloud

    with start_cloud(3, env={"H2OCLOUD_AUTH_TOKEN": TOKEN}) as cloud:
        for n in cloud.nodes:
            assert _http(n.url + "/3/Cloud")[0] == 401
        h2ocloud.init(url=cloud.nodes[1].url, token=TOKEN)
        csv = tmp_path / "t.csv"
        csv.write_bytes(b"a,b\n" + b"".join(f"{i},{i % 7}\n".encode() for i in range(20000)))
        fr = h2ocloud.upload_file(str(csv))
        assert fr.nrow == 20000
        assert abs(fr["a"].mean()[0] - 9999.5) < 1e-6
        jobs = _http(cloud.nodes[2].url + "/3/Jobs?all_nodes=true", token=TOKEN)
        assert jobs[0] == 200
        h2ocloud.remove(fr)


def test_warns_when_bound_beyond_loopback_without_a_token():
    with start_cloud(1, args=["--ip", "0.0.0.0", "--advertise-ip", "127.0.0.1"]) as cloud:
        deadline = time.time() + 60
        while time.time() < deadline and "no client token" not in cloud.nodes[0].log():
            time.sleep(0.2)
        log = cloud.nodes[0].log()
        assert "bound to 0.0.0.0 with no client token" in log
        assert "bound to 0.0.0.0 with no --import-root" in log and "bound to 0.0.0.0 with no --export-root" in log
        assert "bound to 0.0.0.0 with no --tls-cert" in log
