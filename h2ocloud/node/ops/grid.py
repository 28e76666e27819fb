"""Grid operations: train (a job), get (sorted), list."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from h2ocloud.dl.hyperspace import (
    check_hyper_space,
    check_search_criteria,
    metrics_source,
    more_is_better,
    sort_key,
)
from h2ocloud.node.ops.schema import NoArgs
from h2ocloud.node.tasks import models as md
from h2ocloud.node.tasks.frames import check_frame_id
from h2ocloud.node.tasks.grid import grid_job


@dataclass(frozen=True)
class GridTrainArgs:
    training_frame: str
    params: dict[str, Any] | None = None  # the base model's parameters
    hyper_params: Any = None  # {name: [values]} (check_hyper_space names what is wrong)
    search_criteria: Any = None  # {"strategy": ...} (check_search_criteria)
    parallelism: int = 1  # models trained at once; 0: one per live node
    grid_id: str | None = None
    x: list[str | int] | str | int | None = None
    y: str | int | None = None
    validation_frame: str | None = None


async def train(node, g: GridTrainArgs, blobs: list[bytes]) -> dict[str, Any]:
    """Check the whole request (base parameters, hyper space, search criteria, frames) before
    anything trains, then start the grid job."""
    base = dict(g.params or {})
    for k in ("model_id", "key"):
        base.pop(k, None)
    args = {"params": base, "x": g.x, "y": g.y, "training_frame": g.training_frame,
            "validation_frame": g.validation_frame}
    md.check_train_request(dict(args))
    space = check_hyper_space(base, g.hyper_params)
    criteria = check_search_criteria(g.search_criteria)
    parallelism = g.parallelism
    if parallelism < 0:
        raise ValueError(f"parallelism: expected an integer >= 0, got {parallelism!r}")
    if parallelism == 0:  # H2O-3: 0 means "adaptive"; here one model per live node
        parallelism = max(1, len(node.membership.members))
    if not g.training_frame:
        raise ValueError("training_frame is required")
    await node.run_in_thread(md.frame_header_sync, node, g.training_frame, "training_frame")
    if g.validation_frame:
        await node.run_in_thread(md.frame_header_sync, node, g.validation_frame, "validation_frame")
    grid_id = check_frame_id(g.grid_id or f"Grid_DeepLearning_{uuid.uuid4().hex[:12]}", "grid_id")
    existing = await node.dkv.get_or_none(grid_id)
    if existing is not None and existing.kind != "grid":
        raise ValueError(f"grid_id {grid_id!r} names a {existing.kind}, not a grid")
    request = {"grid_id": grid_id, "params": base, "hyper_space": space, "search_criteria": criteria,
               "parallelism": parallelism, "x": g.x, "y": g.y, "training_frame": g.training_frame,
               "validation_frame": g.validation_frame}
    job = node.jobs.start(f"Grid {grid_id}", lambda j: grid_job(node, request, j), dest=grid_id)
    return {"job": job.to_json(), "grid_id": grid_id}


def sorted_grid(meta: dict, sort_by: str | None, decreasing: bool | None) -> dict:
    """The grid with its models sorted by a metric (cross-validation, else validation, else
    training metrics, as H2O-3), the best first; models lacking the metric last."""
    models = list(meta.get("models", []))
    source = metrics_source(models)
    kind = None
    if models:
        first = (models[0].get("metrics") or {}).get(source) or {}
        kind = first.get("kind")
    key = sort_key(sort_by, kind)
    desc = more_is_better(key) if decreasing is None else bool(decreasing)

    def value(m):
        return ((m.get("metrics") or {}).get(source) or {}).get(key)

    have = [m for m in models if isinstance(value(m), int | float)]
    lack = [m for m in models if not isinstance(value(m), int | float)]
    have.sort(key=value, reverse=desc)
    out = dict(meta)
    out.update(models=have + lack, sort_by=key, decreasing=desc, metrics_source=source)
    return out


@dataclass(frozen=True)
class GridGetArgs:
    grid_id: str = ""
    key: str = ""  # the REST routes' generic name for the grid id
    sort_by: str | None = None
    decreasing: bool | None = None


async def get(node, args: GridGetArgs, blobs: list[bytes]) -> dict[str, Any]:
    grid_id = args.grid_id or args.key
    if not grid_id:
        raise ValueError("grid_id is required")
    meta = dict((await node.dkv.get_kind(grid_id, "grid", "grid_id")).meta)
    # Models deleted since they were built drop out of the grid, as in H2O-3.
    alive = []
    for m in meta.get("models", []):
        v = await node.dkv.get_or_none(m["model_id"])
        if v is not None and v.kind == "model":
            alive.append(m)
    meta["models"] = alive
    return sorted_grid(meta, args.sort_by or None, args.decreasing)


async def list_grids(node, args: NoArgs, blobs: list[bytes]) -> dict[str, Any]:
    return {"grids": [{"grid_id": key, "hyper_names": v.meta.get("hyper_names"),
                       "models": len(v.meta.get("models", [])), "failures": len(v.meta.get("failures", [])),
                       "status": v.meta.get("status")}
                      for key, v in await node.dkv.values_of_kind("grid")]}
