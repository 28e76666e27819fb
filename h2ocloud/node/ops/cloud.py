"""Cloud-level operations: status, readiness, shutdown (client); leave and stop (peer)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from h2ocloud.errors import NodeUnavailable
from h2ocloud.node.ops.schema import NoArgs


async def status(node, args: NoArgs, blobs: list[bytes]) -> dict[str, Any]:
    return node.membership.cloud_status_json()


@dataclass(frozen=True)
class ReadyArgs:
    min_size: int = 0  # 0: the node's --cloud-size


async def ready(node, args: ReadyArgs, blobs: list[bytes]) -> dict[str, Any]:
    """Readiness (the pod's probe): 503 until the cloud has formed with min_size members
    (default --cloud-size) in consensus; after that ready while the node runs, even when a peer
    dies (its data is replicated), and not ready once the node is draining for a stop."""
    if getattr(node, "draining", False):
        raise NodeUnavailable("node is stopping (draining jobs and keys)")
    min_size = max(1, args.min_size or node.config.cloud_size)
    why = node.membership.not_ready_reason(min_size)
    if why:
        raise NodeUnavailable(why)
    st = node.membership.cloud_status_json()
    return {"ready": True, "cloud_size": st["cloud_size"], "epoch": st["epoch"],
            "formed_size": node.membership.formed_size}


@dataclass(frozen=True)
class LeaveArgs:
    node_id: str


async def leave(node, args: LeaveArgs, blobs: list[bytes]) -> dict[str, Any]:
    """A peer is stopping: drop it from the members now."""
    node.membership.mark_left(args.node_id)
    return {}


def _stop_soon(node) -> None:
    # Answer first, then stop: the caller must get its reply before the ports close.
    asyncio.get_running_loop().call_later(0.2, node.request_stop)


@dataclass(frozen=True)
class ShutdownArgs:
    local_only: bool = False


async def shutdown(node, args: ShutdownArgs, blobs: list[bytes]) -> dict[str, Any]:
    """Stop this node and (unless local_only) every live peer, as h2o.shutdown() does."""
    stopped = [node.node_id]
    if not args.local_only:
        stopped += await node.membership.broadcast("cloud.stop", {})
    _stop_soon(node)
    return {"stopping": stopped}


async def stop(node, args: NoArgs, blobs: list[bytes]) -> dict[str, Any]:
    """A peer shuts the cloud down: stop this node."""
    _stop_soon(node)
    return {"stopping": [node.node_id]}
