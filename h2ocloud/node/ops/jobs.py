"""Job operations: list, get, cancel.

Jobs run on the node that started them. With `all_nodes`, jobs.list gathers every live member's
jobs (each tagged with its node), so the console served by any node shows the cloud's jobs; and
jobs.get / jobs.cancel with a `node_id` are forwarded to the node that runs the job.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from h2ocloud.node.cluster.peercall import call_member
from h2ocloud.node.ops.registry import op

log = logging.getLogger("h2ocloud.jobs")


def _local(node) -> list[dict[str, Any]]:
    return [{**j.to_json(), "node_id": node.node_id} for j in node.jobs.list()]


def _truthy(v: Any) -> bool:
    return v is True or (isinstance(v, str) and v.lower() in ("1", "true", "yes"))


@op("jobs.list")
async def list_jobs(node, args: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    jobs = _local(node)
    if _truthy(args.get("all_nodes")):
        peers = [nid for nid in node.membership.members if nid != node.node_id]

        async def one(nid: str) -> list[dict[str, Any]]:
            try:
                result, _ = await call_member(node, nid, "jobs.list", {}, timeout=5.0)
                return result.get("jobs", [])
            except Exception as e:  # a peer that does not answer must not hide the others' jobs
                log.warning("jobs of node %s not listed: %s", nid, e)
                return []

        for part in await asyncio.gather(*(one(n) for n in peers)):
            jobs.extend(part)
        jobs.sort(key=lambda j: j.get("start_time") or 0)
    return {"jobs": jobs}


async def _on_owner(node, name: str, args: dict[str, Any]) -> dict[str, Any] | None:
    """Forward to the job's node when the caller named another one; None to run it here."""
    owner = args.get("node_id")
    if not owner or owner == node.node_id:
        return None
    fwd = {k: v for k, v in args.items() if k != "node_id"}
    result, _ = await call_member(node, str(owner), name, fwd, timeout=60.0)
    return result


@op("jobs.get")
async def get_job(node, args: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    """A job's state; with wait_s, wait up to that long for it to end first (long poll)."""
    forwarded = await _on_owner(node, "jobs.get", args)
    if forwarded is not None:
        return forwarded
    wait_s = min(max(float(args.get("wait_s", 0) or 0), 0.0), 30.0)
    return {**(await node.jobs.wait(str(args.get("job_id")), wait_s)).to_json(), "node_id": node.node_id}


@op("jobs.cancel")
async def cancel_job(node, args: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    forwarded = await _on_owner(node, "jobs.cancel", args)
    if forwarded is not None:
        return forwarded
    return {**node.jobs.cancel(str(args.get("job_id"))).to_json(), "node_id": node.node_id}
