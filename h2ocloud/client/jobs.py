"""Waiting on node jobs from the client: polling, a progress bar, Ctrl-C cancels the job.

The bar is tqdm.auto's: a widget in Jupyter, text on a terminal (no hand-drawn bar that needs a
TTY). It is shown on a terminal or in a notebook, never into a log file, unless asked for with
progress=True; h2o.no_progress() turns every bar off, as in h2o-py."""

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


def in_notebook() -> bool:
    """True in a Jupyter kernel (the test tqdm.auto makes before drawing its widget there)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class JobBar:
    """A job's progress (0..1 on the node) as a tqdm.auto bar of 100 steps, with the job's
    message as its postfix."""

    def __init__(self, job: dict[str, Any]):
        from tqdm.auto import tqdm

        self._bar = tqdm(total=100, desc=str(job.get("description") or job["job_id"])[:40], file=sys.stderr,
                         bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]",
                         leave=True, mininterval=0.2)

    def update(self, job: dict[str, Any]) -> None:
        done = round(float(job.get("progress") or 0.0) * 100, 1)
        if job.get("status") == "DONE":
            done = 100.0
        self._bar.n = min(100.0, max(self._bar.n, done))
        msg = job.get("progress_msg") or ""
        self._bar.set_postfix_str(msg[:60], refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()


def _show_progress(progress: bool | None) -> bool:
    if not PROGRESS:
        return False
    if progress is not None:
        return progress
    return sys.stderr.isatty() or in_notebook()


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

    progress: True draws the bar even when stderr is a file, False never; None (the default)
    draws it on a terminal or in a notebook. h2o.no_progress() turns it off whatever is given.
    Ctrl-C cancels the job on the node and re-raises KeyboardInterrupt.
    """
    bar = JobBar(job) if _show_progress(progress) else None
    conn = connection()
    polls = 0
    try:
        while job["status"] == "RUNNING":
            # Long poll: the node answers as soon as the job ends, or after wait_s to update the bar.
            job, _ = conn.call("jobs.get", {"job_id": job["job_id"], "wait_s": 0.25})
            polls += 1
            if polls == 1 and job["status"] == "RUNNING":
                # The members to fail over to if this node dies while we wait (any node answers
                # for a job): asked once a job outlasts one poll, not before every job (a call
                # of its own, 5 ms of a 0.1 s training; until then the members known at connect
                # time serve).
                conn.refresh_members()
            time.sleep(0)  # a point where Ctrl-C lands between calls
            if bar is not None:
                bar.update(job)
    except KeyboardInterrupt:
        conn.call("jobs.cancel", {"job_id": job["job_id"]})
        raise
    finally:
        if bar is not None:
            bar.update(job)
            bar.close()
    if job["status"] != "DONE":
        raise job_error(job)
    return job
