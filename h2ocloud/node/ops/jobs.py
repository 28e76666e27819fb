"""Job operations: list, get, cancel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from h2ocloud.node.ops.schema import NoArgs


@dataclass(frozen=True)
class JobArgs:
    job_id: str
    wait_s: float = 0.0  # jobs.get: wait up to this long for the job to end (long poll, <= 30 s)


async def list_jobs(node, args: NoArgs, blobs: list[bytes]) -> dict[str, Any]:
    return {"jobs": [j.to_json() for j in node.jobs.list()]}


async def get_job(node, args: JobArgs, blobs: list[bytes]) -> dict[str, Any]:
    """A job's state; with wait_s, wait up to that long for it to end first (long poll)."""
    wait_s = min(max(args.wait_s, 0.0), 30.0)
    return (await node.jobs.wait(args.job_id, wait_s)).to_json()


@dataclass(frozen=True)
class CancelArgs:
    job_id: str


async def cancel_job(node, args: CancelArgs, blobs: list[bytes]) -> dict[str, Any]:
    return node.jobs.cancel(args.job_id).to_json()
