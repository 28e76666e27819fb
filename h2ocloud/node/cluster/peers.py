"""Outgoing calls to peers: one cached gRPC channel per address, a deadline on every call.

Nothing waits forever on a dead or frozen peer: a call given no deadline (None or <= 0) gets
DEFAULT_CALL_TIMEOUT_S, and retries are off, so a call fails once its deadline passes.
"""

from __future__ import annotations

from typing import Any

import grpc

from h2ocloud import wire
from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2 as pb
from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2_grpc as pb_grpc
from h2ocloud.errors import NodeUnavailable, exception_from_status
from h2ocloud.node.cluster import auth
from h2ocloud.node.tls import NodeTLS

CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", 8 << 20),
    ("grpc.max_send_message_length", 8 << 20),
    ("grpc.enable_retries", 0),
    # Reconnect fast after a peer restarts on the same port.
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


DEFAULT_CALL_TIMEOUT_S = 60.0


def _deadline(timeout: float | None) -> float:
    return timeout if timeout is not None and timeout > 0 else DEFAULT_CALL_TIMEOUT_S


# What gRPC's core reports, as INTERNAL, when a call's connection breaks mid-stream (a peer
# killed while it answers). A peer's own errors carry its message, never this one.
_CORE_BREAK = "Internal error from Core"


def _broken(e: grpc.aio.AioRpcError) -> bool:
    """True when a call failed because its connection broke, not because the peer refused it."""
    return e.code() == grpc.StatusCode.INTERNAL and (e.details() or "") == _CORE_BREAK


class PeerClient:
    """The node's side of calls to other nodes."""

    def __init__(self, cloud_name: str, secret: str | None, tls: NodeTLS | None = None):
        self._cloud = cloud_name
        self._secret = secret
        self._tls = tls  # with TLS, peers are called over it, presenting this node's certificate
        self._channels: dict[str, grpc.aio.Channel] = {}

    def _stub(self, address: str) -> pb_grpc.PeerStub:
        ch = self._channels.get(address)
        if ch is None:
            if self._tls is not None:
                ch = grpc.aio.secure_channel(address, self._tls.channel_credentials(), options=CHANNEL_OPTIONS)
            else:
                ch = grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
            self._channels[address] = ch
        return pb_grpc.PeerStub(ch)

    async def heartbeat(self, address: str, request: pb.HeartbeatRequest, timeout: float) -> pb.HeartbeatReply:
        """Send a heartbeat; an acceptance that does not prove the secret comes back as a
        refusal (so membership records why and never admits the responder)."""
        md = auth.sign(self._secret, "Heartbeat", self._cloud)
        call = self._stub(address).Heartbeat(request, timeout=_deadline(timeout), metadata=md)
        reply = await call
        if reply.accepted:
            why = auth.verify(self._secret, await call.trailing_metadata(), auth.HEARTBEAT_REPLY, self._cloud)
            if why:
                who = pb.NodeStatus(node_id=reply.receiver.node_id, cloud_name=reply.receiver.cloud_name,
                                    host=reply.receiver.host, grpc_port=reply.receiver.grpc_port)
                return pb.HeartbeatReply(receiver=who, accepted=False, reason=f"its reply is not authentic: {why}")
        return reply

    async def call(
        self, address: str, name: str, args: dict[str, Any], blobs: list[Any] = (),
        timeout: float | None = DEFAULT_CALL_TIMEOUT_S,
    ) -> tuple[dict[str, Any], list[bytes]]:
        """Run operation `name` on the peer at address; raise the peer's error as ours."""
        md = auth.sign(self._secret, "Call", self._cloud)
        call = self._stub(address).Call(wire.encode({"op": name, "args": args}, blobs), timeout=_deadline(timeout), metadata=md)
        try:
            header, out = await wire.decode_async(call)
        except grpc.aio.AioRpcError as e:
            if e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED) or _broken(e):
                raise NodeUnavailable(f"peer {address} did not answer {name}: {e.details()}") from None
            raise exception_from_status(e.code(), e.details() or "") from None
        return header.get("result", {}), out

    def forget(self, address: str) -> None:
        ch = self._channels.pop(address, None)
        if ch is not None:
            # close() is a coroutine; a dropped channel is closed by its finalizer otherwise.
            import asyncio

            asyncio.ensure_future(ch.close())

    async def close(self) -> None:
        for ch in self._channels.values():
            await ch.close(grace=0.1)
        self._channels.clear()
