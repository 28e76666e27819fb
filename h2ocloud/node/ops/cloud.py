"""Cloud-level operations: status and shutdown."""

from __future__ import annotations

import asyncio
from typing import Any

from h2ocloud.node.ops.registry import op


@op("cloud.status")
async def status(node, args: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    st = node.membership.cloud_status_json()
    st["training_states"] = node.training_states.keys()  # this node's parts of training jobs
    return st


@op("cloud.ready")
async def ready(node, args: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    """Readiness: the cloud has formed (consensus, and at least min_size members). 503 otherwise."""
    from h2ocloud.errors import NodeUnavailable

    st = node.membership.cloud_status_json()
    min_size = int(args.get("min_size", 1) or 1)
    if not st["consensus"] or st["cloud_size"] < min_size:
        raise NodeUnavailable(f"cloud not formed: size {st['cloud_size']} (want {min_size}), consensus {st['consensus']}")
    return {"ready": True, "cloud_size": st["cloud_size"], "epoch": st["epoch"]}


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
