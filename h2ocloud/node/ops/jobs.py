"""Job operations: list, get, cancel.

A job runs on the node that started it. jobs.list with `all_nodes` gathers every live member's
jobs (each tagged with its node_id), and jobs.get / jobs.cancel for a job another member runs are
forwarded to it, so the console can follow and cancel any job from any node. The job's record in
the DKV (tasks/jobs.py) names its node when the caller does not, and answers when that node is
gone: a job still RUNNING there is reported FAILED, its driver having left the cloud.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any

from h2ocloud.errors import NodeUnavailable, NotFound
from h2ocloud.node.cluster.peercall import call_member
from h2ocloud.node.tasks.jobs import job_key

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


async def _record(node, job_id: str) -> dict[str, Any] | None:
    """The job's record in the DKV, or None."""
    v = await node.dkv.get_or_none(job_key(job_id))
    return dict(v.meta) if v is not None and v.kind == "job" else None


async def _elsewhere(node, name: str, args: JobArgs) -> dict[str, Any] | None:
    """For a job this node does not run: the answer of its node (forwarded), else its record
    (a job its dead node left RUNNING reported FAILED); None to answer here."""
    if (not args.node_id or args.node_id == node.node_id) and node.jobs.has(args.job_id):
        return None
    record = await _record(node, args.job_id)
    owner = args.node_id or (record or {}).get("node_id")
    fwd = {k: v for k, v in dataclasses.asdict(args).items() if k != "node_id"}
    # A node that does not answer may be dying: ask again until membership says it is gone
    # (then its record answers), within twice the heartbeat timeout.
    deadline = time.monotonic() + 2 * node.config.heartbeat_timeout
    while owner and owner != node.node_id and owner in node.membership.members:
        try:
            result, _ = await call_member(node, owner, name, fwd, timeout=60.0)
            return result
        except NodeUnavailable as e:
            if time.monotonic() > deadline:
                raise
            log.info("job %s: its node %s did not answer (%s); asking again", args.job_id, owner, e)
            await asyncio.sleep(0.5)
            record = await _record(node, args.job_id) or record
    if record is None:
        raise NotFound(f"unknown job id {args.job_id!r}")
    if record.get("status") == "RUNNING":
        record = {**record, "status": "FAILED", "error_type": "NodeUnavailable",
                  "error": f"job {args.job_id} ({record.get('description')}) was running on node {owner}, which "
                           f"left the cloud (it died or was stopped) before the job ended; its work is lost: "
                           f"run it again"}
    return record


async def get_job(node, args: JobArgs, blobs: list[bytes]) -> dict[str, Any]:
    """A job's state; with wait_s, wait up to that long for it to end first (long poll)."""
    answer = await _elsewhere(node, "jobs.get", args)
    if answer is not None:
        return answer
    wait_s = min(max(args.wait_s, 0.0), 30.0)
    return {**(await node.jobs.wait(args.job_id, wait_s)).to_json(), "node_id": node.node_id}


async def cancel_job(node, args: JobArgs, blobs: list[bytes]) -> dict[str, Any]:
    answer = await _elsewhere(node, "jobs.cancel", args)
    if answer is not None:
        return answer
    return {**node.jobs.cancel(args.job_id).to_json(), "node_id": node.node_id}
