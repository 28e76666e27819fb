"""REST JSON API: each route is a thin adapter that turns an HTTP request into a client operation
(CLIENT_OPS only: a peer operation asked here is refused with 403 naming it).

Errors come back as JSON `{"error": ..., "error_type": ..., "http_status": ...}` with the 4xx/5xx
status the exception maps to (h2ocloud.errors), never as an HTML traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from h2ocloud import wire
from h2ocloud.errors import error_message, status_for
from h2ocloud.node.ops import dispatch
from h2ocloud.node.ops.tables import CLIENT_OPS, client_refusal

if TYPE_CHECKING:
    from h2ocloud.node.server import Node

log = logging.getLogger("h2ocloud.web")
STATIC = Path(__file__).parent / "static"

ArgsFn = Callable[[web.Request, dict[str, Any]], dict[str, Any]]


def _json_response(obj: Any, status: int = 200) -> web.Response:
    return web.Response(text=wire.dumps(obj), status=status, content_type="application/json")


def _error(exc: BaseException) -> web.Response:
    _, http = status_for(exc)
    if http >= 500:
        log.exception("REST operation failed")
    return _json_response({"error": error_message(exc), "error_type": type(exc).__name__, "http_status": http}, http)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    text = await request.text()
    if not text.strip():
        return {}
    try:
        body = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"request body is not valid JSON: {e}") from None
    if not isinstance(body, dict):
        raise ValueError("request body must be a JSON object")
    return body


def route(node: Node, op_name: str, args_fn: ArgsFn | None = None):
    """An aiohttp handler running op_name with args from the path, query and JSON body."""

    async def handler(request: web.Request) -> web.Response:
        try:
            args: dict[str, Any] = dict(request.query)
            args.update(await _body(request))
            args.update(request.match_info)
            if args_fn:
                args = args_fn(request, args)
            reply = await dispatch(CLIENT_OPS, node, op_name, args, [], client_refusal)
            return _json_response(reply.result)
        except Exception as e:
            return _error(e)

    return handler


# (method, path, operation). Operations registered later (frames, models) get routes here too;
# a route whose operation is not registered answers 404 with a JSON body naming it.
ROUTES: list[tuple[str, str, str]] = [
    ("GET", "/3/Cloud", "cloud.status"),
    ("GET", "/3/Ready", "cloud.ready"),
    ("POST", "/3/Shutdown", "cloud.shutdown"),
    ("GET", "/3/Jobs", "jobs.list"),
    ("GET", "/3/Jobs/{job_id}", "jobs.get"),
    ("POST", "/3/Jobs/{job_id}/cancel", "jobs.cancel"),
    ("POST", "/3/ImportFiles", "frames.import"),
    ("GET", "/3/Frames", "frames.list"),
    ("GET", "/3/Frames/{frame_id}", "frames.get"),
    ("GET", "/3/Frames/{frame_id}/summary", "frames.summary"),
    ("DELETE", "/3/Frames/{frame_id}", "dkv.remove_user"),
    ("GET", "/3/Models", "models.list"),
    ("GET", "/3/Models/{model_id}", "models.get"),
    ("DELETE", "/3/Models/{model_id}", "dkv.remove_user"),
    ("POST", "/3/ModelBuilders/deeplearning", "models.train"),
    ("POST", "/3/Predictions/models/{model_id}/frames/{frame_id}", "models.predict"),
    ("POST", "/3/ModelMetrics/models/{model_id}/frames/{frame_id}", "models.performance"),
    ("GET", "/3/Grids", "grids.list"),
    ("GET", "/3/Grids/{grid_id}", "grids.get"),
    ("DELETE", "/3/Grids/{grid_id}", "dkv.remove_user"),
    ("POST", "/99/Grid/deeplearning", "grids.train"),
    ("POST", "/3/Ops/{op}", "__generic__"),
]


# (path, export format): GET downloads the model as a file (the console's JAVA MODEL button is
# the first; /3/Models.java/{id} is H2O-3's spelling of it).
DOWNLOADS: list[tuple[str, str]] = [
    ("/3/Models/{model_id}/java", "java"),
    ("/3/Models.java/{model_id}", "java"),
    ("/3/Models/{model_id}/onnx", "onnx"),
    ("/3/Models/{model_id}/python", "python"),
]


def download(node: Node, fmt: str):
    """An aiohttp handler answering with the file models.export writes, as an attachment."""

    async def handler(request: web.Request) -> web.Response:
        try:
            args = {"model_id": request.match_info["model_id"], "format": fmt}
            reply = await dispatch(CLIENT_OPS, node, "models.export", args, [], client_refusal)
            r = reply.result
            return web.Response(body=bytes(reply.blobs[0]), content_type=r["content_type"],
                                headers={"Content-Disposition": f'attachment; filename="{r["filename"]}"'})
        except Exception as e:
            return _error(e)

    return handler


def _key_args(request: web.Request, args: dict[str, Any]) -> dict[str, Any]:
    args["key"] = args.get("frame_id") or args.get("model_id") or args.get("grid_id")
    return args


def make_app(node: Node) -> web.Application:
    app = web.Application(client_max_size=64 << 20)

    async def generic(request: web.Request) -> web.Response:
        try:
            args = await _body(request)
            reply = await dispatch(CLIENT_OPS, node, request.match_info["op"], args, [], client_refusal)
            return _json_response(reply.result)
        except Exception as e:
            return _error(e)

    for method, path, name in ROUTES:
        if name == "__generic__":
            handler = generic
        else:
            handler = route(node, name, _key_args if name == "dkv.remove_user" else None)
        app.router.add_route(method, path, handler)
    for path, fmt in DOWNLOADS:
        app.router.add_get(path, download(node, fmt))

    async def index(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html")

    async def not_found(request: web.Request) -> web.Response:
        return _json_response({"error": f"no route {request.method} {request.path}", "http_status": 404}, 404)

    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app
