"""The node's web app: the REST API under /3/ (routes.py), its OpenAPI description, and the
console's pages (static/), all behind one list of middlewares (middleware.py).

Errors come back as JSON `{"error": ..., "error_type": ..., "http_status": ...}` with the 4xx/5xx
status the exception maps to (h2ocloud.errors), never as an HTML traceback.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from h2ocloud.web import auth, metrics
from h2ocloud.web.middleware import json_response, middlewares
from h2ocloud.web.openapi import openapi_document
from h2ocloud.web.routes import CLOSING, ROUTES, add_routes

if TYPE_CHECKING:
    from h2ocloud.node.server import Node

STATIC = Path(__file__).parent / "static"

# The console's pages: path -> the page the one shell (console.html) renders. Every page is
# reachable from the navigation bar (Cloud, Jobs, Frames, Models, Grids) or from a list.
PAGES: dict[str, str] = {
    "/": "cloud",
    "/jobs": "jobs",
    "/frames": "frames",
    "/frames/{frame_id}": "frame",
    "/models": "models",
    "/models/{model_id}": "model",
    "/grids": "grids",
    "/grids/{grid_id}": "grid",
    "/build": "build",
}


def _page(name: str):
    async def handler(request: web.Request) -> web.Response:
        html = (STATIC / "console.html").read_text().replace("__PAGE__", name)
        return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-cache"})

    return handler


def make_app(node: Node) -> web.Application:
    app = web.Application(client_max_size=node.config.max_request_body or (1 << 62), middlewares=middlewares(node))
    app[CLOSING] = asyncio.Event()

    async def on_shutdown(app: web.Application) -> None:
        app[CLOSING].set()

    app.on_shutdown.append(on_shutdown)
    add_routes(app, node)
    metrics.add_routes(app, node)  # /metrics and /healthz, beside the API
    auth.add_routes(app, node)  # /login, /logout: the console's session cookie (--auth-token-file)

    async def openapi(request: web.Request) -> web.Response:
        return json_response(openapi_document())

    async def flow(request: web.Request) -> web.Response:
        raise web.HTTPFound("/")  # where H2O users bookmarked Flow

    app.router.add_get("/3/openapi.json", openapi)
    for path, name in PAGES.items():
        app.router.add_get(path, _page(name))
    app.router.add_get("/flow/index.html", flow)
    app.router.add_get("/flow", flow)
    app.router.add_static("/static/", STATIC)
    # An unknown path (404) or method (405) is answered as JSON by middleware.json_errors.
    return app


__all__ = ["make_app", "ROUTES", "PAGES"]
