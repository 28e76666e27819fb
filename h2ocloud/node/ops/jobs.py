"""Job operations: list, get, cancel.

A job runs on the node that started it. jobs.list with `all_nodes` gathers every live member's
jobs (each tagged with its node_id), and jobs.get / jobs.cancel with a `node_id` naming another
member are forwarded to it, so the console can follow and cancel any job from any node.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from h2ocloud.errors import NotFound
from h2ocloud.node.cluster.peercall import call_member

log = logging.getLogger("h2ocloud.jobs")


def _local(node) -> list[dict[str, Any]]:
    return [{**j.to_json(), "node_id": node.node_id} for j in node.jobs.list()]


@dataclass(frozen=True)
class ListArgs:
    all_nodes: bool = False  # every live member's jobs, not only this node's


async def list_jobs(node, args: ListArgs, blobs: list[bytes]) -> dict[str, Any]:
    jobs = _local(node)
    if args.all_nodes:
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


@dataclass(frozen=True)
class JobArgs:
    job_id: str
    wait_s: float = 0.0  # jobs.get: wait up to this long for the job to end (long poll, <= 30 s)
    node_id: str | None = None  # the job's node, when another member started it


async def _on_owner(node, name: str, args: JobArgs) -> dict[str, Any] | None:
    """Forward to the job's node when the caller named another one; None to run it here."""
    if not args.node_id or args.node_id == node.node_id:
        return None
    if args.node_id not in node.membership.members and args.node_id not in node.membership.peers:
        # never a member (a typo, a stale id from another cloud): the caller's mistake, not an
        # outage; a member that died is still a 503 (NodeUnavailable) from call_member
        raise NotFound(f"job {args.job_id!r}: node_id {args.node_id!r} is not a node of this cloud")
    fwd = {k: v for k, v in dataclasses.asdict(args).items() if k != "node_id"}
    result, _ = await call_member(node, args.node_id, name, fwd, timeout=60.0)
    return result


async def get_job(node, args: JobArgs, blobs: list[bytes]) -> dict[str, Any]:
    """A job's state; with wait_s, wait up to that long for it to end first (long poll)."""
    forwarded = await _on_owner(node, "jobs.get", args)
    if forwarded is not None:
        return forwarded
    wait_s = min(max(args.wait_s, 0.0), 30.0)
    return {**(await node.jobs.wait(args.job_id, wait_s)).to_json(), "node_id": node.node_id}


async def cancel_job(node, args: JobArgs, blobs: list[bytes]) -> dict[str, Any]:
    forwarded = await _on_owner(node, "jobs.cancel", args)
    if forwarded is not None:
        return forwarded
    return {**node.jobs.cancel(args.job_id).to_json(), "node_id": node.node_id}
