"""A call to a cloud member that gives up as soon as membership declares the member dead, or
(when the caller can do without it) as soon as the member is late.

A SIGKILLed peer breaks its connection and the call fails at once; a frozen one (SIGSTOP, a
network partition) keeps the connection open, so waiting for the call's deadline would stall the
caller for as long as the deadline. Watching membership bounds that wait by the heartbeat timeout,
and for callers that have another way (a read or a map that another replica can serve, a write
the other homes take) by a few missed heartbeats (Membership.late_after).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, Protocol

from h2ocloud.errors import NodeUnavailable

if TYPE_CHECKING:
    from h2ocloud.node.cluster.membership import Membership
    from h2ocloud.node.cluster.peers import PeerClient


class Caller(Protocol):
    """What a member call needs from its node: the membership (who is live, who is late) and
    the peer client."""

    membership: Membership
    peer_client: PeerClient

log = logging.getLogger("h2ocloud.peercall")

#: What to do when the member is late: "wait" (until it answers or is declared dead), "cancel"
#: (give up: another replica does the work) or "detach" (give up waiting, but let the call run on
#: in the background so the member still gets it when it answers: writes and deletes).
Late = Literal["wait", "cancel", "detach"]
POLL_SECONDS = 0.1


class PeerLate(NodeUnavailable):
    """The member has missed heartbeats: the caller went on without it."""


def detached_done(what: str, on_fail: Callable[[BaseException], None] | None = None) -> Callable[[asyncio.Future], None]:
    """A done-callback for a detached call: log its failure and tell on_fail."""
    def done(fut: asyncio.Future) -> None:
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is not None:
            log.warning("%s, left to finish after its node was late, failed: %s", what, exc)
            if on_fail is not None:
                on_fail(exc)
    return done


async def call_member(node: Caller, nid: str, name: str, args: dict[str, Any], blobs: list[Any] = (),
                      timeout: float = 3600.0, late: Late = "wait",
                      on_detached_fail: Callable[[BaseException], None] | None = None,
                      ) -> tuple[dict[str, Any], list[bytes]]:
    """node.peer_client.call to member nid, failing with NodeUnavailable if nid leaves the cloud,
    or with PeerLate once it is late when ``late`` is "cancel" or "detach" (see Late)."""
    if nid not in node.membership.members:
        raise NodeUnavailable(f"node {nid} is not a live member")
    call = asyncio.ensure_future(node.peer_client.call(node.membership.address_of(nid), name, args, blobs,
                                                       timeout=timeout))
    poll = POLL_SECONDS if late != "wait" else 0.5
    while not call.done():
        await asyncio.wait([call], timeout=poll)
        if call.done():
            break
        if nid not in node.membership.members:
            call.cancel()
            raise NodeUnavailable(f"node {nid} left the cloud during {name}")
        if late != "wait" and node.membership.is_late(nid):
            if late == "cancel":
                call.cancel()
            else:
                call.add_done_callback(detached_done(f"{name} on {nid}", on_detached_fail))
            raise PeerLate(f"node {nid} is late (no heartbeat for {node.membership.late_after():.1f}s) during {name}")
    return call.result()
