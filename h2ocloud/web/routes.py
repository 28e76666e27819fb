"""The REST API under /3/: one table of routes, each a thin adapter from an HTTP request to a node
operation (or, for the few that are not one operation's JSON, a small handler named in the table).

The table is the single description of the API: make_app adds its routes, openapi.py describes
them, and the tests check both against the app's router. The console's pages use exactly these.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from aiohttp import web

from h2ocloud import wire
from h2ocloud.node.ops import dispatch
from h2ocloud.node.ops.frames import SpooledUpload, upload_too_large
from h2ocloud.node.ops.tables import CLIENT_OPS, client_refusal
from h2ocloud.web import charts
from h2ocloud.web.middleware import json_response

if TYPE_CHECKING:
    from h2ocloud.node.server import Node

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CLOSING = web.AppKey("closing", asyncio.Event)  # set when the app shuts down: live streams end


async def run_op(node: Node, name: str, args: dict[str, Any], blobs: list[Any] | None = None):
    """Run a client operation for a REST caller (the one place the web layer dispatches): the
    REST API serves CLIENT_OPS only, and refuses a peer operation with a 403 naming it."""
    return await dispatch(CLIENT_OPS, node, name, args, blobs or [], client_refusal)


async def body_json(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body ({} when there is none); a 400 naming the fault otherwise."""
    if not request.can_read_body:
        return {}
    text = await request.text()
    if not text.strip():
        return {}
    body = wire.loads(text, "request body")
    if not isinstance(body, dict):
        raise ValueError("request body must be a JSON object")
    return body


@dataclass(frozen=True)
class Param:
    """A documented query or body parameter of a route (for OpenAPI and the tests)."""

    name: str
    type: str  # JSON schema type: string, integer, number, boolean, array, object
    help: str
    required: bool = False


@dataclass(frozen=True)
class Route:
    """One REST route: method, path, what it runs, and what OpenAPI says of it.

    `op` names the node operation a plain route runs with the path, query and JSON body merged
    as its arguments; `make` (when set) builds a handler for the routes that are more than that.
    """

    method: str
    path: str
    summary: str
    op: str | None = None
    make: Callable[[Node, Route], Handler] | None = None
    query: tuple[Param, ...] = ()
    body: tuple[Param, ...] = ()
    content_type: str = "application/json"  # of a successful response
    tag: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def op_route(node: Node, r: Route) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        args: dict[str, Any] = dict(request.query)
        args.update(await body_json(request))
        args.update(request.match_info)
        if r.op == "dkv.remove_user":
            args["key"] = args.get("frame_id") or args.get("model_id") or args.get("grid_id")
        reply = await run_op(node, str(r.op), args)
        return json_response(reply.result)

    return handler


def generic_route(node: Node, r: Route) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        reply = await run_op(node, request.match_info["op"], await body_json(request))
        return json_response(reply.result)

    return handler


def download_route(node: Node, r: Route) -> Handler:
    """The model as a file (the console's JAVA MODEL button and its siblings)."""

    async def handler(request: web.Request) -> web.Response:
        args = {"model_id": request.match_info["model_id"], "format": r.extra["format"]}
        reply = await run_op(node, "models.export", args)
        res = reply.result
        return web.Response(body=bytes(reply.blobs[0]), content_type=res["content_type"],
                            headers={"Content-Disposition": f'attachment; filename="{res["filename"]}"'})

    return handler


def upload_route(node: Node, r: Route) -> Handler:
    """A file's bytes as the request body (a browser's fetch of a File, or curl --data-binary),
    spooled to the node's data dir as they arrive, then parsed by a job (frames.upload)."""

    async def handler(request: web.Request) -> web.Response:
        filename = os.path.basename(request.query.get("filename") or "upload.csv")
        path = os.path.join(node.data_dir, "upload-" + uuid.uuid4().hex)
        upload = SpooledUpload(path)  # the path is the node's: it reaches the op as a blob
        size = 0
        cap = node.config.max_upload
        if cap and (request.content_length or 0) > cap:
            raise upload_too_large(request.content_length or 0, cap)
        try:
            with open(path, "wb") as f:
                async for piece in request.content.iter_chunked(1 << 20):
                    size += len(piece)
                    if cap and size > cap:
                        raise upload_too_large(size, cap)
                    f.write(piece)
            if size == 0:
                raise ValueError(f"the uploaded file {filename!r} is empty (the request body holds its bytes)")
            args: dict[str, Any] = dict(request.query)
            args["filename"] = filename
            reply = await run_op(node, "frames.upload", args, [upload])
        finally:
            upload.discard()  # unless frames.upload claimed it (its parse job deletes it)
        return json_response({**reply.result, "bytes": size})

    return handler


def rows_route(node: Node, r: Route) -> Handler:
    """The first rows of a frame as JSON columns (factors as their level names)."""

    async def handler(request: web.Request) -> web.Response:
        nrows = _int_param(request, "nrows", 10, 0, 1000)
        reply = await run_op(node, "frames.fetch", {"frame_id": request.match_info["frame_id"], "nrows": nrows})
        cols = []
        for c in reply.result["columns"]:
            if "values" in c:
                values = c["values"]
            elif c["type"] == "enum":
                codes = np.frombuffer(bytes(reply.blobs[c["blob"]]), dtype="<i4")
                values = [None if k < 0 else c["domain"][k] for k in codes]
            else:
                data = np.frombuffer(bytes(reply.blobs[c["blob"]]), dtype="<f8")
                values = [None if np.isnan(v) else float(v) for v in data]
            cols.append({"name": c["name"], "type": c["type"], "values": values})
        return json_response({"frame_id": reply.result["frame_id"], "nrows": reply.result["nrows"], "columns": cols})

    return handler


def frame_charts_route(node: Node, r: Route) -> Handler:
    """SVG charts of a frame's columns (histograms, factor levels) from one summary pass."""

    async def handler(request: web.Request) -> web.Response:
        limit = _int_param(request, "max_columns", 50, 1, 1000)
        reply = await run_op(node, "frames.summary", {"frame_id": request.match_info["frame_id"]})
        out: dict[str, str] = {}
        for col in reply.result["columns"]:
            if len(out) >= limit:
                break
            svg = charts.column_chart(col)
            if svg is not None:
                out[col["name"]] = svg
        return json_response({"frame_id": reply.result["frame_id"], "columns": out})

    return handler


def model_charts_route(node: Node, r: Route) -> Handler:
    """SVG charts of a model: the scoring history (one per metric) and variable importances."""

    async def handler(request: web.Request) -> web.Response:
        m = (await run_op(node, "models.get", {"model_id": request.match_info["model_id"]})).result
        history = m.get("scoring_history") or []
        metrics = charts.scoring_history_metrics(history)
        out: dict[str, Any] = {
            "model_id": m["model_id"], "metrics": metrics,
            "scoring_history": {k: charts.scoring_history_chart(history, k) for k in metrics},
            "varimp": charts.varimp_chart(m["variable_importances"]) if m.get("variable_importances") else None,
        }
        return json_response(out)

    return handler


def parameters_route(node: Node, r: Route) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return json_response((await run_op(node, "models.parameters", {})).result)

    return handler


def job_events_route(node: Node, r: Route) -> Handler:
    """Server-sent events: the cloud's jobs, sent whenever they change (checked twice a second),
    so the Jobs page updates live without a reload."""

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        closing: asyncio.Event = request.app[CLOSING]
        last = None
        idle = 0.0
        try:
            while not closing.is_set():
                reply = await run_op(node, "jobs.list", {"all_nodes": True})
                text = json.dumps(reply.result, default=str)
                if text != last:
                    await resp.write(f"data: {text}\n\n".encode())
                    last, idle = text, 0.0
                elif idle >= 15.0:  # a comment keeps proxies from closing an idle stream
                    await resp.write(b": keep-alive\n\n")
                    idle = 0.0
                try:
                    await asyncio.wait_for(closing.wait(), 0.5)
                except asyncio.TimeoutError:
                    idle += 0.5
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return resp

    return handler


def _int_param(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        v = int(raw)
    except ValueError:
        raise ValueError(f"parameter {name!r}: expected an integer, got {raw!r}") from None
    if not lo <= v <= hi:
        raise ValueError(f"parameter {name!r}: must be in {lo}..{hi}, got {v}")
    return v


P = Param
_TRAIN_BODY = (
    P("training_frame", "string", "id of the frame to train on", True),
    P("x", "array", "predictor column names (default: all but y)"),
    P("y", "string", "response column name (none for an autoencoder)"),
    P("validation_frame", "string", "id of a frame to score on while training"),
    P("params", "object", "deep learning parameters (see /3/ModelBuilders/deeplearning/parameters)"),
)
_PARSE = (P("destination_frame", "string", "id of the frame to create"),
          P("header", "integer", "-1 no header, 0 guess, 1 first line is the header"),
          P("sep", "string", "the field separator (one character)"),
          P("col_types", "object", "column name -> numeric | enum | string | time"))

ROUTES: list[Route] = [
    Route("GET", "/3/Cloud", "The cloud: its nodes, health, epoch", "cloud.status", tag="Cloud"),
    Route("GET", "/3/Ready", "503 until the cloud has formed", "cloud.ready", tag="Cloud",
          query=(P("min_size", "integer", "members the cloud must have"),)),
    Route("POST", "/3/Shutdown", "Stop the cloud (or this node with local_only)", "cloud.shutdown", tag="Cloud",
          body=(P("local_only", "boolean", "stop only this node"),)),
    Route("GET", "/3/Jobs", "Every job: kind, target key, status, progress", "jobs.list", tag="Jobs",
          query=(P("all_nodes", "boolean", "include the jobs of every node of the cloud"),)),
    Route("GET", "/3/Jobs/events", "The cloud's jobs as server-sent events, sent on each change",
          make=job_events_route, content_type="text/event-stream", tag="Jobs"),
    Route("GET", "/3/Jobs/{job_id}", "One job", "jobs.get", tag="Jobs",
          query=(P("wait_s", "number", "wait up to this long for the job to end"),)),
    Route("POST", "/3/Jobs/{job_id}/cancel", "Cancel a running job", "jobs.cancel", tag="Jobs"),
    Route("POST", "/3/ImportFiles", "Parse a file the node can read into a frame (a job)", "frames.import",
          tag="Frames", body=(P("path", "string", "a path on the node", True), *_PARSE)),
    Route("POST", "/3/PostFile", "Upload a CSV or Parquet file (the request body) and parse it (a job)",
          make=upload_route, tag="Frames",
          query=(P("filename", "string", "the file's name (its extension picks the parser)"), *_PARSE[:3])),
    Route("GET", "/3/Frames", "Every frame: rows, columns, bytes", "frames.list", tag="Frames"),
    Route("GET", "/3/Frames/{frame_id}", "A frame's header: names, types, domains, chunks", "frames.get", tag="Frames"),
    Route("GET", "/3/Frames/{frame_id}/summary", "Per column: type, min, max, mean, sigma, missing, cardinality, histogram",
          "frames.summary", tag="Frames", query=(P("nbins", "integer", "histogram bins"),)),
    Route("GET", "/3/Frames/{frame_id}/rows", "The first rows, as columns of values", make=rows_route, tag="Frames",
          query=(P("nrows", "integer", "how many rows (0..1000, default 10)"),)),
    Route("GET", "/3/Frames/{frame_id}/charts", "SVG charts of the columns (histograms, top levels)",
          make=frame_charts_route, tag="Frames",
          query=(P("max_columns", "integer", "chart at most this many columns (default 50)"),)),
    Route("DELETE", "/3/Frames/{frame_id}", "Delete a frame", "dkv.remove_user", tag="Frames"),
    Route("GET", "/3/Models", "Every model: kind, response, training frame, headline metric", "models.list", tag="Models"),
    Route("GET", "/3/Models/{model_id}", "A model: parameters, metrics, scoring history, diagnostics", "models.get", tag="Models"),
    Route("GET", "/3/Models/{model_id}/charts", "SVG charts: scoring history per metric, variable importances",
          make=model_charts_route, tag="Models"),
    Route("DELETE", "/3/Models/{model_id}", "Delete a model", "dkv.remove_user", tag="Models"),
    Route("GET", "/3/Models/{model_id}/java", "The model as a POJO (Java source)", make=download_route,
          content_type="text/x-java-source", tag="Models", extra={"format": "java"}),
    Route("GET", "/3/Models.java/{model_id}", "The model as a POJO (H2O-3's spelling)", make=download_route,
          content_type="text/x-java-source", tag="Models", extra={"format": "java"}),
    Route("GET", "/3/Models/{model_id}/onnx", "The model as an ONNX graph", make=download_route,
          content_type="application/octet-stream", tag="Models", extra={"format": "onnx"}),
    Route("GET", "/3/Models/{model_id}/python", "The model as a numpy-only Python module", make=download_route,
          content_type="text/x-python", tag="Models", extra={"format": "python"}),
    Route("GET", "/3/ModelBuilders/deeplearning/parameters", "Every deep learning parameter: default, type, choices, help",
          make=parameters_route, tag="Models"),
    Route("POST", "/3/ModelBuilders/deeplearning", "Train a deep learning model (a job)", "models.train",
          tag="Models", body=_TRAIN_BODY),
    Route("POST", "/3/Predictions/models/{model_id}/frames/{frame_id}", "Predict on a frame into a new frame",
          "models.predict", tag="Models",
          body=(P("dest", "string", "id of the prediction frame"),
                P("kind", "string", "predict | anomaly | deepfeatures"))),
    Route("POST", "/3/ModelMetrics/models/{model_id}/frames/{frame_id}", "The model's metrics on a frame",
          "models.performance", tag="Models"),
    Route("GET", "/3/Grids", "Every grid", "grids.list", tag="Grids"),
    Route("GET", "/3/Grids/{grid_id}", "A grid's models, sorted by a metric", "grids.get", tag="Grids",
          query=(P("sort_by", "string", "metric to sort by"), P("decreasing", "boolean", "sort order"))),
    Route("DELETE", "/3/Grids/{grid_id}", "Delete a grid", "dkv.remove_user", tag="Grids"),
    Route("POST", "/99/Grid/deeplearning", "Start a grid search (a job)", "grids.train", tag="Grids",
          body=(*_TRAIN_BODY, P("hyper_params", "object", "parameter -> list of values", True),
                P("grid_id", "string", "id of the grid"), P("search_criteria", "object", "Cartesian or RandomDiscrete"))),
    Route("POST", "/3/Ops/{op}", "Run a node operation by name with a JSON body", make=generic_route, tag="Ops"),
]


def add_routes(app: web.Application, node: Node) -> None:
    for r in ROUTES:
        app.router.add_route(r.method, r.path, (r.make or op_route)(node, r))
