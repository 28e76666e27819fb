"""The job manager: long operations (parse, training, grid search) run as jobs with progress.

A job's work runs in a worker thread (CPU-heavy code releases the GIL); it reports progress through
`Job.update` and checks `Job.cancelled` between steps. Clients poll `jobs.get` and may cancel.

A job runs on one node (its driver), but its record is a DKV value (`job_key`), replicated like any
other: written when the job starts, at most every PUBLISH_SECONDS while its state changes, and when
it ends. So any node can answer for a job: a client whose node died asks another one, which
forwards to the driver while it lives and otherwise reports the job failed with its driver.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from h2ocloud.errors import Cancelled, NodeUnavailable, NotFound, TooBusy, error_message

log = logging.getLogger("h2ocloud.jobs")
# The job whose work is running in this thread (log lines carry its id and key; see logsetup).
current_job: contextvars.ContextVar[Job | None] = contextvars.ContextVar("current_job", default=None)
JOB_PREFIX = "$job/"  # DKV keys of job records (not frames or models: h2o.ls does not show them)
PUBLISH_SECONDS = 0.5  # a running job's record is rewritten at most this often


def job_key(job_id: str) -> str:
    """The DKV key of a job's record."""
    return JOB_PREFIX + job_id


def job_kind(job: Job) -> str:
    """The job's kind, from its description's first word: Parse, DeepLearning, Grid, ..."""
    return (job.description.split() or ["job"])[0]


@dataclass
class Job:
    job_id: str
    description: str
    dest: str | None = None  # key of the result (frame or model id)
    status: str = "RUNNING"  # RUNNING | DONE | FAILED | CANCELLED
    progress: float = 0.0
    progress_msg: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None
    start_time: float = field(default_factory=time.time)
    end_time: float | None = None
    keep_partial: bool = False  # cancelled by a stopping node with --checkpoint-on-stop: keep the work so far
    _cancel: threading.Event = field(default_factory=threading.Event)
    _done: asyncio.Event | None = None  # set on the event loop when the job ends
    version: int = 0  # bumped by every change, so the record is rewritten only when it changed

    def update(self, progress: float | None = None, msg: str | None = None, **info: Any) -> None:
        self.version += 1
        if progress is not None:
            self.progress = max(0.0, min(1.0, float(progress)))
        if msg is not None:
            self.progress_msg = msg
        self.info.update(info)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise Cancelled(f"job {self.job_id} was cancelled")

    def to_json(self) -> dict[str, Any]:
        end = self.end_time or time.time()
        return {
            "job_id": self.job_id, "description": self.description, "dest": self.dest,
            "status": self.status, "progress": self.progress, "progress_msg": self.progress_msg,
            "info": self.info, "error": self.error, "error_type": self.error_type,
            "start_time": self.start_time, "duration_s": end - self.start_time,
        }


class JobManager:
    """This node's jobs. At most `max_running` run at once (--max-jobs; 0: no bound) and the
    `keep_finished` most recently ended are remembered (--keep-jobs); older ones are forgotten,
    oldest first, so a node that runs jobs for months does not keep every one it ever ran."""

    def __init__(self, run_in_thread: Callable[..., Any], max_running: int = 0, keep_finished: int = 1000):
        # Set by the node: write a job's record to the DKV, and remove the records of forgotten jobs.
        self.publish: Callable[[Job], Awaitable[Any]] | None = None
        self.unpublish: Callable[[list[str]], Awaitable[Any]] | None = None
        self._published: dict[str, int] = {}  # job id -> version its record has
        self._publisher: asyncio.Task | None = None
        self._jobs: dict[str, Job] = {}
        self._run_in_thread = run_in_thread
        self.max_running = max_running
        self.keep_finished = keep_finished
        self.closed = False  # a draining node starts no new job

    def start(self, description: str, work: Callable[[Job], Any], dest: str | None = None) -> Job:
        """Run work(job) in a worker thread as a job; return at once."""
        if self.closed:
            raise NodeUnavailable("this node is stopping and starts no new job; use another node")
        if self.max_running and len(self.running()) >= self.max_running:
            raise TooBusy(f"this node already runs {self.max_running} jobs, its --max-jobs limit: wait for "
                                "one to end, or start this one on another node")
        job = Job(job_id="job-" + uuid.uuid4().hex[:12], description=description, dest=dest)
        job._done = asyncio.Event()
        self._jobs[job.job_id] = job

        # The work runs in a worker thread, which does not inherit context variables by
        # itself: it runs inside a copy of this context in which current_job is the job.
        ctx = contextvars.copy_context()
        ctx.run(current_job.set, job)
        extra = {"job_id": job.job_id, "key": dest}

        async def runner() -> None:
            log.info("job %s (%s) started", job.job_id, description, extra=extra)
            await self._publish(job)
            try:
                await self._run_in_thread(ctx.run, work, job)
                job.status, job.progress = "DONE", 1.0
                log.info("job %s (%s) done in %.1fs", job.job_id, description, time.time() - job.start_time, extra=extra)
            except Cancelled as e:
                job.status, job.error, job.error_type = "CANCELLED", error_message(e), "Cancelled"
                log.info("job %s (%s) cancelled: %s", job.job_id, description, job.error, extra=extra)
            except Exception as e:  # the job fails; the node goes on
                job.status, job.error, job.error_type = "FAILED", error_message(e), type(e).__name__
                # Bad input (ValueError and kin) is the user's to fix: one line. Anything else is ours.
                detail = "" if isinstance(e, ValueError | OSError | KeyError) else "\n" + traceback.format_exc()
                log.warning("job %s (%s) failed: %s%s", job.job_id, description, e, detail, extra=extra)
            finally:
                job.end_time = time.time()
                job.version += 1
                await self._publish(job)  # the final record, before anyone is told it ended
                job._done.set()
                self._forget_old()

        asyncio.get_running_loop().create_task(runner())
        if self.publish is not None and (self._publisher is None or self._publisher.done()):
            self._publisher = asyncio.get_running_loop().create_task(self._publish_loop())
        return job

    async def _publish(self, job: Job) -> None:
        """Write the job's record if it changed since it was last written (never fails the job)."""
        if self.publish is None or self._published.get(job.job_id) == job.version:
            return
        version = job.version
        try:
            await self.publish(job)
            self._published[job.job_id] = version
        except Exception as e:
            log.warning("record of job %s not written: %s", job.job_id, e)

    async def _publish_loop(self) -> None:
        """Keep running jobs' records current while any job runs."""
        while self.running():
            await asyncio.sleep(PUBLISH_SECONDS)
            for job in self.running():
                await self._publish(job)

    def has(self, job_id: str) -> bool:
        """Whether this node runs (or remembers) the job."""
        return job_id in self._jobs

    async def wait(self, job_id: str, timeout: float) -> Job:
        """The job once it has ended, or after timeout seconds (a long poll: no polling delay)."""
        job = self.get(job_id)
        if job._done is not None and timeout > 0:
            try:
                await asyncio.wait_for(job._done.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        return job

    def _forget_old(self) -> None:
        """Drop the oldest ended jobs beyond keep_finished (the dict is in start order)."""
        ended = [j for j in self._jobs.values() if j.status != "RUNNING"]
        gone = sorted(ended, key=lambda j: j.end_time or 0.0)[:max(0, len(ended) - self.keep_finished)]
        for j in gone:
            del self._jobs[j.job_id]
            self._published.pop(j.job_id, None)
        if gone and self.unpublish is not None:
            asyncio.get_running_loop().create_task(self._unpublish([j.job_id for j in gone]))

    async def _unpublish(self, job_ids: list[str]) -> None:
        try:
            assert self.unpublish is not None
            await self.unpublish(job_ids)
        except Exception as e:
            log.warning("records of %d forgotten jobs not removed: %s", len(job_ids), e)

    def get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"unknown job id {job_id!r}")
        return job

    def list(self) -> list[Job]:
        return list(self._jobs.values())

    def cancel(self, job_id: str) -> Job:
        job = self.get(job_id)
        if job.status == "RUNNING":
            job._cancel.set()
        return job

    def running(self) -> list[Job]:
        return [j for j in self._jobs.values() if j.status == "RUNNING"]

    def cancel_all(self, keep_partial: bool = False) -> None:
        """Cancel every running job; keep_partial asks those that can (training) to store
        what they have built so far before they end."""
        for job in self._jobs.values():
            if job.status == "RUNNING":
                job.keep_partial = keep_partial
            job._cancel.set()

    async def wait_all(self, timeout: float) -> list[Job]:
        """Wait up to timeout seconds for the running jobs to end; return those still running."""
        pending = [j._done.wait() for j in self.running() if j._done is not None]
        if pending:
            await asyncio.wait([asyncio.ensure_future(p) for p in pending], timeout=timeout)
        return self.running()
