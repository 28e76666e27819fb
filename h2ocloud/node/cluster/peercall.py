"""A call to a cloud member that gives up as soon as membership declares the member dead.

A SIGKILLed peer breaks its connection and the call fails at once; a frozen one (SIGSTOP, a
network partition) keeps the connection open, so waiting for the call's deadline would stall the
caller for as long as the deadline. Watching membership bounds that wait by the heartbeat timeout.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from h2ocloud.errors import NodeUnavailable

if TYPE_CHECKING:
    from h2ocloud.node.cluster.host import ClusterHost


async def call_member(node: ClusterHost, nid: str, name: str, args: dict[str, Any], blobs: list[Any] = (),
                      timeout: float = 3600.0) -> tuple[dict[str, Any], list[bytes]]:
    """node.peer_client.call to member nid, failing with NodeUnavailable if nid leaves the cloud."""
    if nid not in node.membership.members:
        raise NodeUnavailable(f"node {nid} is not a live member")
    call = asyncio.ensure_future(node.peer_client.call(node.membership.address_of(nid), name, args, blobs,
                                                       timeout=timeout))
    while not call.done():
        await asyncio.wait([call], timeout=0.5)
        if not call.done() and nid not in node.membership.members:
            call.cancel()
            raise NodeUnavailable(f"node {nid} left the cloud during {name}")
    return call.result()
