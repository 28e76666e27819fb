"""The two operation tables: a client reaches client operations only; peer operations (the DKV's
shards, membership, map tasks) are served only over the peer service with the cloud's secret.
Every operation's arguments are parsed into its dataclass once, errors naming op and field."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Literal

import pytest

from h2ocloud.node.ops.schema import OpArgumentError, parse_args
from h2ocloud.node.ops.tables import _ASKED_OF_PEERS, CLIENT_OPS, PEER_OPS
from tests.cloudfixture import start_cloud

PEER_ONLY = ["dkv.store", "dkv.fetch", "dkv.delete", "dkv.missing", "dkv.keys", "dkv.rebalance",
             "cloud.leave", "cloud.stop", "mr.map", "mr.run"]


def test_peer_operations_are_not_client_operations():
    for name in PEER_ONLY:
        assert name in PEER_OPS and name not in CLIENT_OPS, name
    # What peers may ask of each other among client operations is listed, and only that.
    shared = set(CLIENT_OPS.names()) & set(PEER_OPS.names())
    assert shared == set(_ASKED_OF_PEERS)
    for op in [*CLIENT_OPS, *PEER_OPS]:
        assert hasattr(op.args_type, "__dataclass_fields__"), op.name
        assert op.args_type.__dataclass_params__.frozen, op.name


@dataclass(frozen=True)
class _Args:
    frame_id: str
    nbins: int = 20
    ratios: list[float] | None = None
    kind: Literal["a", "b"] = "a"
    force: bool = False


def test_arguments_parse_once_into_a_typed_object_and_errors_name_op_and_field():
    a = parse_args("x.op", _Args, {"frame_id": "f", "nbins": "7", "ratios": [0.5, 1], "force": "true"})
    assert a == _Args("f", 7, [0.5, 1.0], "a", True)
    with pytest.raises(OpArgumentError, match=r"operation 'x\.op': field 'frame_id': is required"):
        parse_args("x.op", _Args, {})
    with pytest.raises(OpArgumentError, match=r"'x\.op': field 'nbins': expected an integer, got 'many'"):
        parse_args("x.op", _Args, {"frame_id": "f", "nbins": "many"})
    with pytest.raises(OpArgumentError, match=r"field 'ratios': expected a list of numbers .*item 1"):
        parse_args("x.op", _Args, {"frame_id": "f", "ratios": [0.5, "x"]})
    with pytest.raises(OpArgumentError, match=r"field 'kind': expected one of 'a', 'b'"):
        parse_args("x.op", _Args, {"frame_id": "f", "kind": "c"})
    with pytest.raises(OpArgumentError, match=r"field 'nbinz': unknown field \(did you mean 'nbins'\?\)"):
        parse_args("x.op", _Args, {"frame_id": "f", "nbinz": 3})
    with pytest.raises(OpArgumentError, match="must be a JSON object"):
        parse_args("x.op", _Args, [1, 2])
    with pytest.raises(OpArgumentError, match="field 'nbins'"):
        parse_args("x.op", _Args, {"frame_id": "f", "nbins": True})  # a bool is not an integer


def _post(url: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_a_secret_cloud_refuses_peer_operations_to_clients(tmp_path):
    """On a node started with --secret-file, the web port and the client gRPC service refuse
    every peer operation by name; the peer service with the secret serves them; a client cannot
    name a server-side path (the old `_spooled_path` hole) to have the node delete a file."""
    import h2ocloud
    from h2ocloud.client.session import connection

    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    with start_cloud(1, args=["--secret-file", str(secret)]) as cloud:
        node = cloud.nodes[0]
        for name, body in (("dkv.keys", {}), ("cloud.leave", {"node_id": "x"}), ("dkv.delete", {"keys": ["a"]}),
                           ("mr.map", {}), ("dkv.store", {}), ("cloud.stop", {})):
            status, reply = _post(f"{node.url}/3/Ops/{name}", body)
            assert status == 403, (name, status, reply)
            assert name in reply["error"] and "peer operation" in reply["error"], reply
        status, reply = _post(f"{node.url}/3/Ops/no.such_op", {})
        assert status == 404 and "no.such_op" in reply["error"]
        status, reply = _post(f"{node.url}/3/Ops/frames.get", {"frame_idd": "x"})
        assert status == 400 and "frames.get" in reply["error"] and "frame_idd" in reply["error"], reply
        # A handler's own refusal names the operation too, and the field.
        status, reply = _post(f"{node.url}/3/Ops/frames.rbind", {"frame_ids": ["a"]})
        assert status == 400 and reply["error"].startswith("operation 'frames.rbind': frame_ids"), reply

        h2ocloud.init(url=node.url)
        conn = connection()
        for name in ("dkv.keys", "cloud.leave", "dkv.fetch"):
            with pytest.raises(PermissionError, match=f"{name}.*peer operation"):
                conn.call(name, {"prefix": ""} if name == "dkv.keys" else {})
        with pytest.raises(ValueError, match=r"'frames.upload': field '_spooled_path': unknown field"):
            conn.call_stream("frames.upload", {"_spooled_path": str(victim)}, iter([b"a,b\n1,2\n"]), 8)
        status, reply = _post(f"{node.url}/3/Ops/frames.upload", {"filename": "x.csv"})  # REST streams no bytes
        assert status == 400 and "'frames.upload'" in reply["error"] and "streamed" in reply["error"], reply
        req = urllib.request.Request(f"{node.url}/3/PostFile?filename=t.csv&chunk_rows=0", data=b"a\n1\n", method="POST")
        with pytest.raises(urllib.error.HTTPError) as bad:
            urllib.request.urlopen(req, timeout=10)
        assert bad.value.code == 400 and b"chunk_rows" in bad.value.read()
        req = urllib.request.Request(f"{node.url}/3/PostFile?filename=t.csv&_spooled_path={victim}", data=b"a\n1\n",
                                     method="POST")
        with pytest.raises(urllib.error.HTTPError) as bad:
            urllib.request.urlopen(req, timeout=10)
        assert bad.value.code == 400 and b"_spooled_path" in bad.value.read()
        assert victim.read_text() == "keep me"
        data_dir = node.log_path.with_suffix(".data")
        assert not list(data_dir.glob("upload-*")), "a refused upload's spooled bytes were left behind"

        # A member (it knows the secret) is served; one that does not know it is refused.
        keys, _ = cloud.peer_call(node, "dkv.keys", {"prefix": ""}, secret="s3cret")
        assert keys == {"keys": []}
        with pytest.raises(PermissionError, match="secret"):
            cloud.peer_call(node, "dkv.keys", {"prefix": ""}, secret=None)
        with pytest.raises(PermissionError, match="client operation"):
            cloud.peer_call(node, "frames.list", {}, secret="s3cret")
        # The node keeps serving clients, and an upload without internal arguments still works.
        fr = h2ocloud.upload_file(str(_csv(tmp_path)))
        assert fr.nrows == 2
        assert node.alive()


def _csv(tmp_path):
    p = tmp_path / "tiny.csv"
    p.write_text("a,b\n1,2\n3,4\n")
    return p


def test_the_rest_routes_document_only_fields_their_operations_take():
    """A REST route that runs a client operation documents (OpenAPI) only that operation's
    fields and path names: what the docs promise, the op's typed arguments accept."""
    import re

    from h2ocloud.node.ops.frames import UploadArgs
    from h2ocloud.node.ops.schema import field_names
    from h2ocloud.web.routes import ROUTES

    for r in ROUTES:
        if r.op is None and r.path != "/3/PostFile":
            continue
        args_type = UploadArgs if r.path == "/3/PostFile" else CLIENT_OPS.get(r.op).args_type
        fields = set(field_names(args_type))
        documented = {p.name for p in (*r.query, *r.body)} | set(re.findall(r"{(\w+)}", r.path))
        assert documented <= fields, (r.method, r.path, sorted(documented - fields))
