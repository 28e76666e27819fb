"""Job operations: list, get, cancel."""

from __future__ import annotations

from typing import Any

from h2ocloud.node.ops.registry import op


@op("jobs.list")
async def list_jobs(node, args: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    return {"jobs": [j.to_json() for j in node.jobs.list()]}


@op("jobs.get")
async def get_job(node, args: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    """A job's state; with wait_s, wait up to that long for it to end first (long poll)."""
    wait_s = min(max(float(args.get("wait_s", 0) or 0), 0.0), 30.0)
    return (await node.jobs.wait(str(args.get("job_id")), wait_s)).to_json()


@op("jobs.cancel")
async def cancel_job(node, args: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    return node.jobs.cancel(str(args.get("job_id"))).to_json()
