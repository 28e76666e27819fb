"""The addresses a node sends heartbeats to besides its known peers, and when each was last named.

Discovery providers re-name their addresses every few seconds (the flatfile is re-read, DNS
re-resolved) and peers gossip the live nodes they know. An address nobody has named for
``--forget-dead`` seconds -- a line taken out of the flatfile, a pod IP DNS no longer returns,
a node that died and is gossiped by no one -- is dropped, so a long-lived cloud with churn
does not heartbeat every address it has ever heard of. Addresses given with ``--peers`` are
the user's own list and are never dropped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator


class SeedBook:
    """Addresses (host:grpc_port) with the time each was last named (time.monotonic())."""

    def __init__(self) -> None:
        self._named: dict[str, float] = {}

    def name(self, addresses: Iterable[str], permanent: bool = False) -> None:
        """A source names these addresses now (``permanent``: never forget them)."""
        now = math.inf if permanent else time.monotonic()
        for a in addresses:
            if self._named.get(a, -math.inf) < now:
                self._named[a] = now

    def forget_older_than(self, seconds: float, keep: Iterable[str] = ()) -> list[str]:
        """Drop the addresses not named for ``seconds`` (except ``keep``); return them."""
        cutoff = time.monotonic() - seconds
        kept = set(keep)
        gone = [a for a, t in self._named.items() if t < cutoff and a not in kept]
        for a in gone:
            del self._named[a]
        return gone

    def __contains__(self, address: object) -> bool:
        return address in self._named

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._named))

    def __len__(self) -> int:
        return len(self._named)
