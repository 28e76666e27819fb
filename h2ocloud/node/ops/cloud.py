"""Cloud-level operations: status and shutdown."""

from __future__ import annotations

import asyncio
from typing import Any

from h2ocloud.node.ops.registry import op


@op("cloud.status")
async def status(node, args: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    return node.membership.cloud_status_json()


@op("cloud.ready")
async def ready(node, args: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    """Readiness (the pod's probe): 503 until the cloud has formed with min_size members
    (default --cloud-size) in consensus; after that ready while the node runs, even when a peer
    dies (its data is replicated), and not ready once the node is draining for a stop."""
    from h2ocloud.errors import NodeUnavailable

    if getattr(node, "draining", False):
        raise NodeUnavailable("node is stopping (draining jobs and keys)")
    min_size = int(args.get("min_size") or node.config.cloud_size or 1)
    why = node.membership.not_ready_reason(min_size)
    if why:
        raise NodeUnavailable(why)
    st = node.membership.cloud_status_json()
    return {"ready": True, "cloud_size": st["cloud_size"], "epoch": st["epoch"], "formed_size": node.membership.formed_size}


@op("cloud.leave")
async def leave(node, args: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    """A peer is stopping: drop it from the members now."""
    node.membership.mark_left(str(args.get("node_id")))
    return {}


@op("cloud.shutdown")
async def shutdown(node, args: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    """Stop this node and (unless local_only) every live peer, as h2o.shutdown() does."""
    stopped = [node.node_id]
    if not args.get("local_only"):
        stopped += await node.membership.broadcast("cloud.shutdown", {"local_only": True})
    # Answer first, then stop: the caller must get its reply before the ports close.
    asyncio.get_running_loop().call_later(0.2, node.request_stop)
    return {"stopping": stopped}
