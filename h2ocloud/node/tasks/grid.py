"""Grid search as a node-side job (booklet 3.4, H2O-3's GridSearch).

The grid is a DKV value of kind "grid" under its grid_id: its hyper-parameter space, the models
built (each with its hyper-parameter values and scalar metrics) and the failures (each with its
error and stack trace). The job that builds it runs on the node the client called; with
``parallelism`` N it builds up to N models at once, the i-th concurrent model driven by the i-th
live member after this one, so on a cloud different models train from different nodes. The grid
value is rewritten after every model, so any node sees the grid grow; a cancelled grid keeps the
models already built. Training again under the same grid_id builds only the missing models.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import traceback
from typing import TYPE_CHECKING, Any

from h2ocloud.dl.hyperspace import combinations, space_size, value_key
from h2ocloud.dl.params import DEFAULTS
from h2ocloud.dl.stopping import METRIC_KEYS, MORE_IS_BETTER, resolve_stopping_metric, stop_early
from h2ocloud.errors import Cancelled, NotFound, error_message
from h2ocloud.node.cluster.peercall import call_member
from h2ocloud.node.store.local import Value
from h2ocloud.node.tasks import models as md

if TYPE_CHECKING:
    from h2ocloud.node.tasks.host import TaskHost as Node
    from h2ocloud.node.tasks.jobs import Job

log = logging.getLogger("h2ocloud.grid")

_WHICH = {"train": "training_metrics", "valid": "validation_metrics", "xval": "cross_validation_metrics"}


def scalar_metrics(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A model's train/valid/xval metrics, numbers only (what the grid keeps and sorts by)."""
    out = {}
    for short, long in _WHICH.items():
        m = summary.get(long) or {}
        if m.get("nobs"):
            out[short] = {k: v for k, v in m.items() if isinstance(v, int | float | str) and not isinstance(v, bool)}
    return out


def load_grid(node: Node, grid_id: str) -> dict[str, Any] | None:
    try:
        return dict(node.dkv.get_kind_sync(grid_id, "grid", "grid_id").meta)
    except NotFound:
        return None


class _ModelJob:
    """What training one of the grid's models sees as its job: the grid's cancel flag, and
    progress that feeds the grid's."""

    def __init__(self, grid: GridBuild, job_id: str):
        self.grid, self.job_id, self.progress = grid, job_id, 0.0

    @property
    def cancelled(self) -> bool:
        return self.grid.job.cancelled

    def check_cancelled(self) -> None:
        self.grid.job.check_cancelled()

    def update(self, progress: float | None = None, msg: str | None = None, **info: Any) -> None:
        if progress is not None:
            self.progress = float(progress)
        self.grid.report()


class GridBuild:
    """One run of the grid job: walks the space, trains models, records them in the grid."""

    def __init__(self, node: Node, job: Job, request: dict[str, Any]):
        self.node, self.job, self.req = node, job, request
        self.grid_id: str = request["grid_id"]
        self.space: dict[str, list[Any]] = request["hyper_space"]
        self.criteria: dict[str, Any] = request["search_criteria"]
        self.lock = threading.Lock()
        self.running: dict[str, _ModelJob] = {}
        old = load_grid(node, self.grid_id)
        if old is not None:
            for k in ("training_frame", "y"):
                if old.get(k) != request.get(k):
                    raise ValueError(f"grid_id {self.grid_id!r} exists with {k} {old.get(k)!r}, not "
                                     f"{request.get(k)!r}: resume a grid with the frames it was built on")
        existing = [m for m in (old or {}).get("models", []) if self._model_exists(m["model_id"])]
        self.grid: dict[str, Any] = {
            "grid_id": self.grid_id, "hyper_names": list(self.space), "hyper_params": self.space,
            "search_criteria": self.criteria, "training_frame": request.get("training_frame"),
            "validation_frame": request.get("validation_frame"), "x": request.get("x"), "y": request.get("y"),
            "params": request["params"], "models": existing,
            # A resumed grid tries its failed combinations again (they may fail for a dead node).
            "failures": [], "job_id": job.job_id, "node_id": node.node_id, "status": "RUNNING",
        }
        self.built = {value_key(m["hyper"]) for m in existing}
        self.used_ids = {m["model_id"] for m in existing}
        self.todo = [c for c in combinations(self.space, self.criteria) if value_key(c) not in self.built]
        if self.criteria.get("max_models"):
            self.todo = self.todo[:max(0, self.criteria["max_models"] - len(existing))]
        self.total = len(self.todo)
        self.done = 0
        self.start = time.time()
        self.grid.update(total_models=space_size(self.space), to_build=self.total)
        self._next_index = 0
        self._stop_reason: str | None = None
        self._best: list[float] = []  # the best metric so far, after each model (RandomDiscrete stopping)

    def _model_exists(self, model_id: str) -> bool:
        try:
            self.node.dkv.get_kind_sync(model_id, "model")
            return True
        except (NotFound, ValueError):
            return False

    # ---- bookkeeping ---------------------------------------------------------------------
    def save(self) -> None:
        with self.lock:
            meta = {**self.grid, "models": list(self.grid["models"]), "failures": list(self.grid["failures"])}
        self.node.dkv.put_sync(self.grid_id, Value("grid", meta))

    def report(self) -> None:
        with self.lock:
            running = sum(m.progress for m in self.running.values())
            failed = len(self.grid["failures"])
            frac = (self.done + running) / self.total if self.total else 1.0
            self.job.update(frac, f"{self.done}/{self.total} models done ({failed} failed)",
                            models_done=self.done, models_total=self.total, models_failed=failed)

    def _new_model_id(self) -> str:
        with self.lock:
            while True:
                mid = f"{self.grid_id}_model_{self._next_index}"
                self._next_index += 1
                if mid not in self.used_ids:
                    self.used_ids.add(mid)
                    return mid

    def _take(self) -> dict[str, Any] | None:
        """The next combination to build, or None when the search is over."""
        with self.lock:
            if self.job.cancelled or self._stop_reason or not self.todo:
                return None
            limit = self.criteria.get("max_runtime_secs") or 0
            if limit and time.time() - self.start >= limit:
                self._stop_reason = f"max_runtime_secs {limit:g} reached"
                return None
            return self.todo.pop(0)

    def _remaining_time(self) -> float:
        limit = self.criteria.get("max_runtime_secs") or 0
        return max(limit - (time.time() - self.start), 1e-3) if limit else 0.0

    # ---- one model -----------------------------------------------------------------------
    def _model_args(self, hyper: dict[str, Any], model_id: str) -> dict[str, Any]:
        params = {**self.req["params"], **hyper, "model_id": model_id}
        remaining = self._remaining_time()
        if remaining and "max_runtime_secs" in DEFAULTS:
            own = params.get("max_runtime_secs") or 0
            params["max_runtime_secs"] = min(own, remaining) if own else remaining
        return {"params": params, "x": self.req.get("x"), "y": self.req.get("y"),
                "training_frame": self.req.get("training_frame"),
                "validation_frame": self.req.get("validation_frame")}

    def _train_here(self, args: dict[str, Any], mjob: _ModelJob) -> dict[str, Any]:
        params = md.check_train_request(args)
        return md.train_job(self.node, args, params, mjob).summary_json()

    def _train_on(self, nid: str, args: dict[str, Any], mjob: _ModelJob) -> dict[str, Any]:
        """Train on member nid: its models.train job, polled; cancelling the grid cancels it."""
        def call(name: str, a: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
            fut = asyncio.run_coroutine_threadsafe(call_member(self.node, nid, name, a, timeout=timeout),
                                                   self.node.dkv.loop)
            return fut.result()[0]

        started = call("models.train", args)
        job = started["job"]
        cancel_sent = False
        while job["status"] == "RUNNING":
            if self.job.cancelled and not cancel_sent:
                call("jobs.cancel", {"job_id": job["job_id"]})
                cancel_sent = True
            job = call("jobs.get", {"job_id": job["job_id"], "wait_s": 0.5})
            mjob.update(job.get("progress", 0.0))
        if job["status"] == "CANCELLED":
            raise Cancelled(job.get("error") or "cancelled")
        if job["status"] != "DONE":
            err = job.get("error") or f"model job {job['status'].lower()} on node {nid}"
            raise _RemoteFailure(job.get("error_type") or "H2OCloudError", err)
        return call("models.get", {"model_id": started["model_id"]})

    def _build(self, hyper: dict[str, Any], nid: str) -> None:
        model_id = self._new_model_id()
        mjob = _ModelJob(self, f"{self.job.job_id}.{model_id}")
        with self.lock:
            self.running[model_id] = mjob
        try:
            args = self._model_args(hyper, model_id)
            if nid == self.node.node_id:
                summary = self._train_here(args, mjob)
            else:
                summary = self._train_on(nid, args, mjob)
            entry = {"model_id": model_id, "hyper": hyper, "node": nid,
                     "model_category": summary.get("model_category"), "metrics": scalar_metrics(summary)}
            with self.lock:
                self.grid["models"].append(entry)
                self._after_model(entry)
        except Cancelled:
            return  # the grid was cancelled: the unfinished model is not kept
        except Exception as e:  # the model fails; the grid goes on
            kind = e.kind if isinstance(e, _RemoteFailure) else type(e).__name__
            stack = traceback.format_exc()
            log.info("grid %s: model %s failed: %s", self.grid_id, hyper, e)
            with self.lock:
                self.grid["failures"].append({"hyper": hyper, "model_id": model_id, "node": nid,
                                              "error": error_message(e), "error_type": kind,
                                              "stack_trace": stack})
        finally:
            with self.lock:
                self.running.pop(model_id, None)
                self.done += 1
            self.save()
            self.report()

    def _after_model(self, entry: dict[str, Any]) -> None:
        """RandomDiscrete's early stop: the best metric so far has stopped improving (lock held)."""
        rounds = self.criteria.get("stopping_rounds") or 0
        if self.criteria["strategy"] != "RandomDiscrete" or not rounds:
            return
        kind = entry.get("model_category") or ""
        metric = resolve_stopping_metric(self.criteria["stopping_metric"],
                                         kind in ("Binomial", "Multinomial"), kind == "AutoEncoder")
        which = next((w for w in ("xval", "valid", "train") if w in entry["metrics"]), None)
        value = entry["metrics"].get(which, {}).get(METRIC_KEYS[metric]) if which else None
        if value is None:
            return
        mib = metric in MORE_IS_BETTER
        best = value if not self._best else (max if mib else min)(self._best[-1], value)
        self._best.append(best)
        if stop_early(self._best, rounds, mib, self.criteria.get("stopping_tolerance", 0.001)):
            self._stop_reason = f"the best {metric} stopped improving over {rounds} models"

    # ---- the job -------------------------------------------------------------------------
    def run(self) -> None:
        self.save()
        self.report()
        members = list(self.node.membership.members)
        me = members.index(self.node.node_id) if self.node.node_id in members else 0
        parallelism = max(1, int(self.req.get("parallelism", 1)))
        slots = [members[(me + i) % len(members)] if members else self.node.node_id for i in range(parallelism)]

        def worker(nid: str) -> None:
            while (hyper := self._take()) is not None:
                target = nid if nid == self.node.node_id or nid in self.node.membership.members else self.node.node_id
                self._build(hyper, target)

        threads = [threading.Thread(target=worker, args=(nid,), name=f"grid-{self.grid_id}-{i}", daemon=True)
                   for i, nid in enumerate(slots[1:], 1)]
        for t in threads:
            t.start()
        worker(slots[0])
        for t in threads:
            t.join()
        with self.lock:
            self.grid["status"] = "CANCELLED" if self.job.cancelled else "DONE"
            self.grid["stop_reason"] = self._stop_reason
            self.grid["run_time"] = time.time() - self.start
        self.save()
        self.job.update(msg=f"{self.done}/{self.total} models done ({len(self.grid['failures'])} failed)"
                        + (f"; stopped: {self._stop_reason}" if self._stop_reason else ""))
        self.job.check_cancelled()


class _RemoteFailure(Exception):
    """A model that failed on another node, with the type its error had there."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def grid_job(node: Node, request: dict[str, Any], job: Job) -> None:
    GridBuild(node, job, request).run()
