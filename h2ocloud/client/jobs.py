"""Waiting on node jobs from the client: polling, a progress bar, Ctrl-C cancels the job."""

from __future__ import annotations

import sys
import time
from typing import Any

from h2ocloud.client.session import connection
from h2ocloud.errors import Cancelled, H2OResponseError, NotFound, OutOfMemory, _response_kind

_ERRORS: dict[str, type[Exception]] = {
    "FileNotFoundError": FileNotFoundError, "IsADirectoryError": IsADirectoryError,
    "PermissionError": PermissionError, "ParseError": ValueError, "ValueError": ValueError,
    "TypeError": ValueError, "NotFound": NotFound, "KeyError": NotFound, "Cancelled": Cancelled,
    "OutOfMemory": OutOfMemory, "NodeUnavailable": ConnectionError,
}

PROGRESS = True  # h2o.no_progress() turns the bar off


def no_progress() -> None:
    """Do not show progress bars."""
    global PROGRESS
    PROGRESS = False


def show_progress() -> None:
    """Show progress bars (the default)."""
    global PROGRESS
    PROGRESS = True


def job_error(job: dict[str, Any]) -> Exception:
    cls = _ERRORS.get(job.get("error_type") or "")
    message = job.get("error") or f"job {job['job_id']} {job['status'].lower()}"
    return _response_kind(cls)(message) if cls is not None else H2OResponseError(message)


def _bar(job: dict[str, Any], width: int = 40) -> str:
    done = int(round(job["progress"] * width))
    msg = job.get("progress_msg") or ""
    return f"\r{job['description'][:30]:30s} |{'█' * done}{' ' * (width - done)}| {job['progress'] * 100:5.1f}% {msg[:60]:60s}"


def list_jobs() -> list[dict[str, Any]]:
    """Every job the connected node knows, as dicts (job_id, description, status, progress, ...)."""
    result, _ = connection().call("jobs.list")
    return result["jobs"]


def cancel_job(job_id: str) -> dict[str, Any]:
    """Ask the node to cancel a running job."""
    result, _ = connection().call("jobs.cancel", {"job_id": job_id})
    return result


def wait_job(job: dict[str, Any], progress: bool | None = None) -> dict[str, Any]:
    """Poll a job until it ends; return it when DONE, raise its error otherwise.

    Ctrl-C cancels the job on the node and re-raises KeyboardInterrupt.
    """
    show = PROGRESS if progress is None else progress
    show = show and sys.stderr.isatty()
    conn = connection()
    last_draw = 0.0
    try:
        while job["status"] == "RUNNING":
            # Long poll: the node answers as soon as the job ends, or after wait_s to update the bar.
            job, _ = conn.call("jobs.get", {"job_id": job["job_id"], "wait_s": 0.25})
            time.sleep(0)  # a point where Ctrl-C lands between calls
            if show and time.time() - last_draw > 0.2:
                sys.stderr.write(_bar(job))
                sys.stderr.flush()
                last_draw = time.time()
    except KeyboardInterrupt:
        conn.call("jobs.cancel", {"job_id": job["job_id"]})
        if show:
            sys.stderr.write("\n")
        raise
    if show and last_draw:
        sys.stderr.write(_bar(job) + "\n")
    if job["status"] != "DONE":
        raise job_error(job)
    return job
