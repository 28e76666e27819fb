"""Client tokens on the web port: the middleware every request passes, and the console's login.

With --auth-token-file (or H2OCLOUD_AUTH_TOKEN) every route needs the token but the probes
(GET /3/Ready, GET /healthz) and the login page itself. A caller proves it either with
`Authorization: Bearer <token>` (the Python client, curl) or with the session cookie the login
page sets (the console: its pages fetch /3/ with the browser's cookies). The cookie holds an
HMAC of the token, not the token, and is HttpOnly and SameSite=Strict, so another site's page
cannot make the browser send it. A refusal is logged with the caller's address: a 401 JSON body
for the API, a redirect to /login for a console page.
"""

from __future__ import annotations

import hmac
import html
import logging
import urllib.parse
from typing import TYPE_CHECKING

from aiohttp import web

from h2ocloud.node.cluster import auth
from h2ocloud.web.metrics import OPEN_PATHS

if TYPE_CHECKING:
    from h2ocloud.node.server import Node

log = logging.getLogger("h2ocloud.web.auth")

COOKIE = "h2ocloud_session"
# (method, path) answered without a token: the probes (they say nothing beyond health), and the
# login page, the way in.
OPEN = {("GET", p) for p in OPEN_PATHS} | {("GET", "/login"), ("POST", "/login")}
# Paths of data, not pages: a refusal there is a 401 JSON body, never a redirect.
API_PREFIXES = ("/3/", "/99/", "/metrics")


def refusal(node: Node, request: web.Request) -> str | None:
    """Why this request may not proceed (None: it may)."""
    token = node.config.auth_token
    if not token or (request.method, request.path) in OPEN:
        return None
    header = request.headers.get("Authorization")
    if header is None:
        cookie = request.cookies.get(COOKIE)
        if cookie and hmac.compare_digest(cookie.encode(), auth.session_cookie_value(token).encode()):
            return None
    return auth.token_refusal(token, header)


def _unauthorized(request: web.Request, why: str) -> web.Response:
    if request.method == "GET" and not request.path.startswith(API_PREFIXES):
        raise web.HTTPFound("/login?next=" + urllib.parse.quote(request.path_qs, safe="/"))
    from h2ocloud.web.middleware import json_response

    resp = json_response({"error": why, "error_type": "Unauthenticated", "http_status": 401}, 401)
    resp.headers["WWW-Authenticate"] = 'Bearer realm="h2ocloud"'
    return resp


def middleware(node: Node):
    @web.middleware
    async def require_token(request: web.Request, handler) -> web.StreamResponse:
        why = refusal(node, request)
        if why is None:
            return await handler(request)
        log.warning("refused %s %s from %s: %s", request.method, request.path, request.remote, why)
        return _unauthorized(request, why)

    return require_token


_LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>h2ocloud: log in</title>
<style>body{{font-family:sans-serif;margin:4em auto;max-width:24em}}input{{width:100%;box-sizing:border-box;padding:.4em;margin:.4em 0}}
.error{{color:#b00}}</style></head>
<body><h1>h2ocloud</h1><p>This cloud needs its token (the node's --auth-token-file).</p>
{error}<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<label for="token">Token</label><input id="token" name="token" type="password" autofocus autocomplete="current-password">
<input type="submit" value="Log in"></form></body></html>"""


def _safe_next(value: str | None) -> str:
    """Where to go after logging in: a path on this node only (never another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _login_page(next_path: str, error: str = "", status: int = 200) -> web.Response:
    body = _LOGIN_PAGE.format(next=html.escape(next_path, quote=True),
                              error=f'<p class="error" role="alert">{html.escape(error)}</p>' if error else "")
    return web.Response(text=body, status=status, content_type="text/html", headers={"Cache-Control": "no-store"})


def add_routes(app: web.Application, node: Node) -> None:
    """GET /login (the form), POST /login (sets the session cookie), GET /logout (clears it)."""

    async def login_form(request: web.Request) -> web.Response:
        if not node.config.auth_token:
            raise web.HTTPFound("/")
        return _login_page(_safe_next(request.query.get("next")))

    async def login(request: web.Request) -> web.Response:
        token = node.config.auth_token
        form = await request.post()
        next_path = _safe_next(str(form.get("next") or "/"))
        if not token:
            raise web.HTTPFound(next_path)
        why = auth.token_refusal(token, "Bearer " + str(form.get("token") or ""))
        if why:
            log.warning("refused console login from %s: %s", request.remote, why)
            return _login_page(next_path, f"Not logged in: {why}.", status=401)
        resp = web.HTTPFound(next_path)
        resp.set_cookie(COOKIE, auth.session_cookie_value(token), httponly=True, samesite="Strict",
                        secure=request.secure, path="/")
        raise resp

    async def logout(request: web.Request) -> web.Response:
        resp = web.HTTPFound("/login")
        resp.del_cookie(COOKIE, path="/")
        raise resp

    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_get("/logout", logout)
