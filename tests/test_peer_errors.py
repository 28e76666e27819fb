"""How a peer call's gRPC failure is named: a broken connection (UNAVAILABLE, a deadline, or the
INTERNAL status gRPC's core gives when a peer dies mid-stream) is NodeUnavailable, which map/reduce
answers by redoing the peer's chunks on their replicas; the peer's own errors keep their status."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from h2ocloud.errors import H2OResponseError, NodeUnavailable
from h2ocloud.node.cluster import peers


def _call_failing_with(monkeypatch, code: grpc.StatusCode, details: str):
    async def fail(call):
        raise grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)

    monkeypatch.setattr(peers.wire, "decode_async", fail)

    async def run():
        client = peers.PeerClient("c", None)
        try:
            await client.call("127.0.0.1:9", "dl.iteration", {})
        finally:
            await client.close()

    asyncio.run(run())


@pytest.mark.parametrize("code,details", [
    (grpc.StatusCode.UNAVAILABLE, "Socket closed"),
    (grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"),
    (grpc.StatusCode.INTERNAL, "Internal error from Core"),  # the peer was killed mid-call
])
def test_a_broken_connection_is_a_node_that_did_not_answer(monkeypatch, code, details):
    with pytest.raises(NodeUnavailable, match=r"peer 127\.0\.0\.1:9 did not answer dl\.iteration"):
        _call_failing_with(monkeypatch, code, details)


def test_a_peers_own_internal_error_stays_an_error(monkeypatch):
    with pytest.raises(H2OResponseError, match="operation failed: boom") as e:
        _call_failing_with(monkeypatch, grpc.StatusCode.INTERNAL, "operation failed: boom")
    assert not isinstance(e.value, NodeUnavailable)
