"""Callers to call back before they are admitted: a heartbeat alone never makes a member.

Anyone who reaches a node's gRPC port can send a heartbeat naming any node id and any address
(and, without a shared secret, nothing proves it is a node of the cloud at all). Admitting such
a sender would home keys on an address where nothing answers, and those copies would be lost.
So a node is admitted only by a heartbeat of our own: its address (the one it advertises) goes
in this book, the membership loop calls it back there, and only a reply from the same node id
makes it a member. A call-back that fails is dropped (and the refusal recorded); a real node
calls again and is asked again.

The book is bounded: a flood of forged heartbeats cannot make a node call out to more than
MAX_PENDING addresses at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

MAX_PENDING = 64


class ReachBack:
    """Addresses (host:grpc_port) to call back, with the node id each caller claimed."""

    def __init__(self, limit: int = MAX_PENDING) -> None:
        self._limit = limit
        self._pending: dict[str, tuple[str, float]] = {}  # address -> (claimed id, first asked)

    def ask(self, address: str, node_id: str) -> bool:
        """Queue a call-back to address; False when it was queued already."""
        if address in self._pending:
            return False
        if len(self._pending) >= self._limit:  # drop the oldest rather than grow without bound
            self._pending.pop(next(iter(self._pending)))
        self._pending[address] = (node_id, time.monotonic())
        return True

    def claimed(self, address: str) -> str | None:
        """The node id the caller at address claimed, or None when none is pending there."""
        entry = self._pending.get(address)
        return entry[0] if entry else None

    def done(self, address: str) -> None:
        """The call-back to address is over (answered or failed)."""
        self._pending.pop(address, None)

    def __contains__(self, address: object) -> bool:
        return address in self._pending

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._pending))

    def __len__(self) -> int:
        return len(self._pending)
