"""The web app's middlewares, in one list: JSON errors, and the place authentication goes.

Every request passes through MIDDLEWARES in order. `json_errors` turns whatever a handler raises
(a node operation's ValueError, an aiohttp 404/405, a bug) into a JSON body with its HTTP status,
so no caller ever sees an HTML error page or a traceback.

Authentication (the login page of the security work) is one more middleware: a function
`auth_middleware(node) -> aiohttp middleware` appended by `middlewares()` below. It runs after
`json_errors` (so its refusals are JSON too) and before every route, the pages included; the
console's pages fetch /3/ with the browser's cookies, so a session cookie set by a login page
covers them with no change to the pages. It lets GETs of `h2ocloud.web.metrics.OPEN_PATHS` (the
probes) through without a token: the kubelet has none (h2ocloud.web.auth).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from h2ocloud import wire
from h2ocloud.errors import error_message, status_for

if TYPE_CHECKING:
    from h2ocloud.node.server import Node

log = logging.getLogger("h2ocloud.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(obj: Any, status: int = 200) -> web.Response:
    return web.Response(text=wire.dumps(obj), status=status, content_type="application/json")


def error_response(exc: BaseException) -> web.Response:
    """The JSON error for an exception raised by a node operation or a handler."""
    if isinstance(exc, web.HTTPException):
        http, message = exc.status, exc.reason
    else:
        _, http = status_for(exc)
        message = error_message(exc)
    if http >= 500:
        log.exception("REST request failed", exc_info=exc)
    return json_response({"error": message, "error_type": type(exc).__name__, "http_status": http}, http)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPRedirection:
        raise
    except web.HTTPException as e:
        if e.status < 400:
            raise
        if e.status == 404:
            return json_response({"error": f"no route {request.method} {request.path}",
                                  "error_type": "HTTPNotFound", "http_status": 404}, 404)
        if e.status == 413:  # aiohttp's text names the sizes: "Maximum request body size N exceeded, ..."
            return json_response({"error": f"request body too large: {e.text} (the node's "
                                  "--max-request-body; files go to POST /3/PostFile)",
                                  "error_type": "HTTPRequestEntityTooLarge", "http_status": 413}, 413)
        if e.status == 405:
            return json_response({"error": f"method {request.method} not allowed on {request.path}",
                                  "error_type": "HTTPMethodNotAllowed", "http_status": 405}, 405)
        return error_response(e)
    except Exception as e:
        return error_response(e)


def middlewares(node: Node) -> list[Any]:
    """The app's middlewares, outermost first. Authentication is appended here, and only here."""
    from h2ocloud.web import auth
    from h2ocloud.web.metrics import count_requests

    # counting outside: it sees the status json_errors gives; the token check inside, so its
    # refusals are counted and every route (pages, /metrics) is behind it.
    return [count_requests, json_errors, auth.middleware(node)]
