"""The client's connection to one node: REST for discovery, gRPC for every operation.

`init()` finds (or starts) a node, asks its web port for /3/Cloud, learns the node's gRPC port from
the answer, and from then on calls operations over gRPC. Errors come back as the same Python
exceptions the node raised (ValueError, NotFound, ...), see h2ocloud.errors.

Failover: the connection knows every member of the cloud (from /3/Cloud, refreshed when a job
starts). When its node stops answering, a call goes to the next member that answers, and the
connection stays with that one: the cloud's frames, models and job records have copies on the
other nodes, so a running train() keeps waiting on its job through any node.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
import warnings
from typing import Any

import grpc

from h2ocloud import __version__, wire
from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2 as pb
from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2_grpc as pb_grpc
from h2ocloud.client.tls import ClientTLS, explain, grpc_channel
from h2ocloud.errors import NodeUnavailable, Unauthenticated, exception_from_status

log = logging.getLogger("h2ocloud.client")

CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", 8 << 20),
    ("grpc.max_send_message_length", 8 << 20),
]


TOKEN_ENV = "H2OCLOUD_AUTH_TOKEN"


def bearer_headers(token: str | None) -> dict[str, str]:
    """HTTP headers carrying the client's token (the node's --auth-token-file), none without one."""
    return {"Authorization": f"Bearer {token}"} if token else {}


def fetch_cloud(url: str, timeout: float = 2.0, token: str | None = None, tls: ClientTLS | None = None) -> dict[str, Any]:
    """GET {url}/3/Cloud; raise ConnectionError when nothing answers, Unauthenticated (a
    PermissionError) when the node wants a token this client does not have, TLSError (a
    ConnectionError) when TLS is what failed (an https:// URL is checked with `tls`)."""
    req = urllib.request.Request(url.rstrip("/") + "/3/Cloud", headers=bearer_headers(token))
    context = tls.ssl_context() if tls is not None and url.startswith("https:") else None
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as r:
            return json.loads(r.read().decode())
    except urllib.error.HTTPError as e:
        if e.code == 401:
            try:
                why = json.loads(e.read().decode()).get("error")
            except ValueError:
                why = e.reason
            raise Unauthenticated(f"the node at {url} refused this client: {why}") from None
        raise ConnectionError(f"no h2ocloud node answers at {url}: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        tls_error = explain(url, reason if isinstance(reason, BaseException) else e)
        if tls_error is not None:
            raise tls_error from None
        raise ConnectionError(f"no h2ocloud node answers at {url}: {getattr(e, 'reason', e)}") from None


class Connection:
    """A live connection to one node of a cloud."""

    def __init__(self, url: str, status: dict[str, Any], owned_process=None, token: str | None = None,
                 tls: ClientTLS | None = None):
        self.token = token
        self.tls = tls if url.startswith("https:") else None  # gRPC uses TLS when REST does
        self._metadata = [("authorization", f"Bearer {token}")] if token else []
        self.owned_process = owned_process  # a LocalNode this client started, or None
        self._connect(url, status)
        if self.node_version and self.node_version != __version__:
            warnings.warn(
                f"h2ocloud client version {__version__} differs from the node's version {self.node_version}",
                stacklevel=3,
            )

    def _connect(self, url: str, status: dict[str, Any]) -> None:
        """Talk to the node at url (whose /3/Cloud answer is status) from now on."""
        self.url = url.rstrip("/")
        host = self.url.split("://", 1)[-1].rsplit(":", 1)[0]
        self.grpc_address = f"{host}:{status['grpc_port']}"
        self.node_id = status.get("node_id")
        self.node_version = status.get("version")
        self._remember_members(status)
        self._channel = grpc_channel(self.grpc_address, self.tls, CHANNEL_OPTIONS, status)
        self._stub = pb_grpc.NodeStub(self._channel)

    # ---- failover ---------------------------------------------------------------------
    def _remember_members(self, status: dict[str, Any]) -> None:
        """Keep the web address of every member a cloud status names (to fail over to)."""
        scheme = self.url.split("://", 1)[0] if "://" in self.url else "http"
        urls = [f"{scheme}://{n['ip']}:{n['web_port']}" for n in status.get("nodes", [])
                if n.get("ip") and n.get("web_port")]
        known = getattr(self, "member_urls", [])
        self.member_urls = list(dict.fromkeys(urls + [u for u in known if u not in urls]))

    def refresh_members(self) -> None:
        """Ask the node for the cloud's current members (a node that joined since init)."""
        try:
            self._remember_members(self._call_once("cloud.status", {}, (), 10.0)[0])
        except Exception as e:  # the list is a fallback: keep the one we have
            log.debug("member list not refreshed: %s", e)

    def _fail_over(self, why: Exception) -> bool:
        """Move to another member that answers; False when none does, or when this node still
        answers (then the error was the node's own, e.g. a peer of its was unavailable)."""
        try:
            fetch_cloud(self.url, timeout=2.0, token=self.token, tls=self.tls)
            return False
        except ConnectionError:
            pass
        for url in self.member_urls:
            if url == self.url:
                continue
            try:
                status = fetch_cloud(url, timeout=2.0, token=self.token, tls=self.tls)
            except ConnectionError:
                continue
            old = self.url
            try:
                self._channel.close()
            except Exception:  # the old channel's node is gone; closing it may complain
                pass
            self._connect(url, status)
            log.warning("node at %s is not answering (%s); continuing with node %s at %s", old, why, self.node_id, url)
            return True
        return False

    def call(
        self, name: str, args: dict[str, Any] | None = None, blobs: list[Any] = (), timeout: float | None = None
    ) -> tuple[dict[str, Any], list[bytes]]:
        """Run operation `name` on the node; raise its error as the matching Python exception.
        When the node does not answer, the call is made on another member of its cloud."""
        tried = 0
        while True:
            try:
                return self._call_once(name, args, blobs, timeout)
            except NodeUnavailable as e:
                tried += 1
                if tried > len(self.member_urls) or not self._fail_over(e):
                    raise

    def _call_once(self, name: str, args: dict[str, Any] | None, blobs: list[Any],
                   timeout: float | None) -> tuple[dict[str, Any], list[bytes]]:
        try:
            parts = self._stub.Call(wire.encode({"op": name, "args": args or {}}, blobs), timeout=timeout,
                                   metadata=self._metadata)
            header, out = wire.decode(parts)
        except grpc.RpcError as e:
            code = e.code()
            if code == grpc.StatusCode.UNAVAILABLE:
                raise NodeUnavailable(f"node at {self.grpc_address} is not answering: {e.details()}") from None
            raise exception_from_status(code, e.details() or str(code)) from None
        return header.get("result", {}), out

    def call_stream(self, name: str, args: dict[str, Any], parts_iter, nbytes: int, timeout: float | None = None):
        """Send a request whose one blob, of nbytes, comes from an iterator of byte pieces (uploads)."""
        def gen():
            yield pb.Part(header_json=wire.dumps({"op": name, "args": args, "blobs": [nbytes]}))
            for piece in parts_iter:
                yield pb.Part(data=piece)

        try:
            header, out = wire.decode(self._stub.Call(gen(), timeout=timeout, metadata=self._metadata))
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.UNAVAILABLE:
                # The stream is spent: no retry here, but later calls go to a member that answers.
                self._fail_over(e)
                raise NodeUnavailable(f"node at {self.grpc_address} is not answering: {e.details()}") from None
            raise exception_from_status(e.code(), e.details() or "") from None
        return header.get("result", {}), out

    def status(self, timeout: float = 10.0) -> pb.CloudStatus:
        return self._stub.Status(pb.StatusRequest(), timeout=timeout, metadata=self._metadata)

    def close(self) -> None:
        self._channel.close()
