"""The gRPC adapters: the Node service (clients) and the Peer service (other nodes).

Both decode a framed request, dispatch it to the operation registry and stream the framed reply;
an exception becomes a gRPC status with its message (see h2ocloud.errors).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import grpc

from h2ocloud import wire
from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2 as pb
from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2_grpc as pb_grpc
from h2ocloud.errors import error_message, status_for
from h2ocloud.node import auth
from h2ocloud.node.ops import dispatch

if TYPE_CHECKING:
    from h2ocloud.node.server import Node

log = logging.getLogger("h2ocloud.grpc")


async def _serve_call(node: Node, request_iterator, context):
    try:
        header, blobs = await wire.decode_async(request_iterator)
        name = header.get("op")
        if not isinstance(name, str):
            raise ValueError("request header has no 'op'")
        reply = await dispatch(node, name, header.get("args") or {}, blobs)
    except Exception as e:
        code, _ = status_for(e)
        if code == grpc.StatusCode.INTERNAL:
            log.exception("operation failed")
        await context.abort(code, error_message(e))
        return
    for part in wire.encode({"result": reply.result}, reply.blobs):
        yield part


class NodeService(pb_grpc.NodeServicer):
    def __init__(self, node: Node):
        self.node = node

    async def Status(self, request, context) -> pb.CloudStatus:
        m = self.node.membership
        st = m.cloud_status_json()
        return pb.CloudStatus(
            cloud_name=st["cloud_name"], cloud_size=st["cloud_size"], epoch=st["epoch"],
            consensus=st["consensus"], version=st["version"], answered_by=self.node.node_id,
            nodes=[m.self_status() if n == self.node.node_id else m.peers[n].status for n in m.members],
            dead_nodes=[p.status for p in m.peers.values() if not p.alive],
        )

    async def Call(self, request_iterator, context):
        async for part in _serve_call(self.node, request_iterator, context):
            yield part


class PeerService(pb_grpc.PeerServicer):
    def __init__(self, node: Node):
        self.node = node

    def _refusal(self, context, method: str) -> str | None:
        return auth.verify(self.node.config.secret, context.invocation_metadata(), method, self.node.config.name)

    async def Heartbeat(self, request: pb.HeartbeatRequest, context) -> pb.HeartbeatReply:
        m = self.node.membership
        why = self._refusal(context, "Heartbeat") or m.admit(request.sender)
        if why:
            return m.heartbeat_reply(False, why)
        m.observe(request.sender, request.epoch, list(request.members), list(request.known))
        return m.heartbeat_reply(True)

    async def Call(self, request_iterator, context):
        why = self._refusal(context, "Call")
        if why:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, why)
            return
        async for part in _serve_call(self.node, request_iterator, context):
            yield part
