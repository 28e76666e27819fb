"""The gRPC adapters: the Node service (clients) and the Peer service (other nodes).

Both decode a framed request, dispatch it to their own operation table (the Node service to
CLIENT_OPS, the Peer service, after the secret check, to PEER_OPS) and stream the framed reply;
an exception becomes a gRPC status with its message (see h2ocloud.errors).
"""

from __future__ import annotations

import logging
import os
import uuid
from typing import TYPE_CHECKING

import grpc

from h2ocloud import telemetry, wire
from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2 as pb
from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2_grpc as pb_grpc
from h2ocloud.errors import error_message, status_for
from h2ocloud.node.cluster import auth
from h2ocloud.node.ops import OpTable, dispatch
from h2ocloud.node.ops.frames import SpooledUpload, upload_too_large
from h2ocloud.node.ops.tables import CLIENT_OPS, PEER_OPS, client_refusal, peer_refusal

if TYPE_CHECKING:
    from h2ocloud.node.server import Node

log = logging.getLogger("h2ocloud.grpc")


# Client operations whose bytes are spooled to a file in the node's data dir as they arrive,
# rather than held in memory: uploads of files of any size. The file reaches the operation as a
# SpooledUpload blob; its path is the node's, never an argument.
SPOOLED_OPS = {"frames.upload"}


async def _receive(node: Node, request_iterator, spool: bool) -> tuple[dict, list]:
    first = None
    async for part in request_iterator:
        first = part
        break
    if first is None or not first.header_json:
        raise ValueError("malformed request: no header")
    header = wire.loads(first.header_json, "request header")
    if not isinstance(header, dict):
        raise ValueError("malformed request: the header is not a JSON object")
    if spool and header.get("op") in SPOOLED_OPS:
        cap = node.config.max_upload
        declared = header.get("blobs") or [0]
        if cap and isinstance(declared[0], int) and declared[0] > cap:
            raise upload_too_large(declared[0], cap)
        path = os.path.join(node.data_dir, "upload-" + uuid.uuid4().hex)  # only ever in the data dir
        try:
            with open(path, "wb") as f:
                size = len(first.data)
                f.write(first.data)
                async for part in request_iterator:
                    size += len(part.data)
                    if cap and size > cap:
                        raise upload_too_large(size, cap)
                    f.write(part.data)
        except BaseException:
            os.unlink(path)
            raise
        header.pop("blobs", None)
        return header, [SpooledUpload(path)]

    return await wire.decode_rest_async(header, first, request_iterator)


async def _serve_call(node: Node, table: OpTable, refuse, request_iterator, context):
    blobs: list = []
    label = "unknown"  # the metrics' method label: an operation of this table, or "unknown"
    try:
        header, blobs = await _receive(node, request_iterator, spool=table is CLIENT_OPS)
        name = header.get("op")
        if not isinstance(name, str):
            raise ValueError("request header has no 'op'")
        label = name if name in table else "unknown"  # made-up names must not grow the metrics
        telemetry.GRPC_CALLS.labels(label).inc()
        reply = await dispatch(table, node, name, header.get("args"), blobs, refuse)
    except Exception as e:
        code, _ = status_for(e)
        telemetry.GRPC_ERRORS.labels(label, code.name).inc()
        if code == grpc.StatusCode.INTERNAL:
            log.exception("operation failed")
        await context.abort(code, error_message(e))
        return
    finally:
        for b in blobs:  # an upload no operation claimed (refused, bad arguments) is deleted
            if isinstance(b, SpooledUpload):
                b.discard()
    for part in wire.encode({"result": reply.result}, reply.blobs):
        yield part


class NodeService(pb_grpc.NodeServicer):
    def __init__(self, node: Node):
        self.node = node

    async def _check_token(self, context, method: str) -> None:
        """Abort with UNAUTHENTICATED (logged with the caller's address) unless the call carries
        the node's client token (--auth-token-file); nothing to check without one."""
        why = auth.token_refusal(self.node.config.auth_token, auth.bearer_value(context.invocation_metadata()))
        if why:
            log.warning("refused gRPC %s from %s: %s", method, context.peer(), why)
            telemetry.GRPC_ERRORS.labels("unknown", grpc.StatusCode.UNAUTHENTICATED.name).inc()
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, why)

    async def Status(self, request, context) -> pb.CloudStatus:
        await self._check_token(context, "Status")
        m = self.node.membership
        st = m.cloud_status_json()
        return pb.CloudStatus(
            cloud_name=st["cloud_name"], cloud_size=st["cloud_size"], epoch=st["epoch"],
            consensus=st["consensus"], version=st["version"], answered_by=self.node.node_id,
            nodes=[m.self_status() if n == self.node.node_id else m.peers[n].status for n in m.members],
            dead_nodes=[p.status for p in m.peers.values() if not p.alive],
        )

    async def Call(self, request_iterator, context):
        await self._check_token(context, "Call")
        async for part in _serve_call(self.node, CLIENT_OPS, client_refusal, request_iterator, context):
            yield part


class PeerService(pb_grpc.PeerServicer):
    def __init__(self, node: Node):
        self.node = node

    def _refusal(self, context, method: str) -> str | None:
        return auth.verify(self.node.config.secret, context.invocation_metadata(), method, self.node.config.name)

    async def Heartbeat(self, request: pb.HeartbeatRequest, context) -> pb.HeartbeatReply:
        telemetry.GRPC_CALLS.labels("Heartbeat").inc()
        m = self.node.membership
        why = self._refusal(context, "Heartbeat") or m.admit(request.sender)
        if why:
            m.refuse(f"{request.sender.host}:{request.sender.grpc_port}", why)
            return m.heartbeat_reply(False, why)
        # A member only once we have called it back at the address it gives (reachback.py);
        # until then the reply names none of our peers.
        member = m.heard_from(request.sender, request.epoch, list(request.members), list(request.known))
        # Sign the acceptance too: the caller takes our status and gossip as a member's only if
        # we prove we know the secret (else anything listening on a seed address could join).
        md = auth.sign(self.node.config.secret, auth.HEARTBEAT_REPLY, self.node.config.name)
        if md:
            context.set_trailing_metadata(md)
        return m.heartbeat_reply(True, member=member)

    async def Call(self, request_iterator, context):
        why = self._refusal(context, "Call")
        if why:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, why)
            return
        async for part in _serve_call(self.node, PEER_OPS, peer_refusal, request_iterator, context):
            yield part
