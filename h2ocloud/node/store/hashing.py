"""Where keys live: rendezvous (HRW) hashing over the live members, balanced for frame chunks.

Plain HRW homes each key on the R members with the highest hash(key, member). For the chunks of one
frame that spreads them unevenly (a 300-chunk frame on 3 nodes varies by more than 25%), so chunk
keys are placed by their index instead: the frame's own HRW order of the members, rotated by the
chunk index. Every node computes the same homes from the same member list.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

_CHUNK = re.compile(r"^(?P<frame>.+)/chunk/(?P<index>\d+)$")


def chunk_key(frame_id: str, index: int) -> str:
    """The DKV key of chunk `index` of a frame."""
    return f"{frame_id}/chunk/{index:06d}"


def parse_chunk_key(key: str) -> tuple[str, int] | None:
    m = _CHUNK.match(key)
    return (m.group("frame"), int(m.group("index"))) if m else None


def _score(key: str, member: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{key}\x00{member}".encode(), digest_size=8).digest(), "big")


def hrw_order(key: str, members: Sequence[str]) -> list[str]:
    """Members sorted by rendezvous score for key, best first."""
    return sorted(members, key=lambda m: _score(key, m), reverse=True)


def homes(key: str, members: Sequence[str], replication: int) -> list[str]:
    """The nodes that hold key: the first is its primary home."""
    if not members:
        return []
    r = max(1, min(replication, len(members)))
    parsed = parse_chunk_key(key)
    if parsed is None:
        return hrw_order(key, members)[:r]
    frame, index = parsed
    order = hrw_order(frame, members)
    n = len(order)
    return [order[(index + i) % n] for i in range(r)]
