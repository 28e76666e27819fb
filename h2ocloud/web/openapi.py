"""The OpenAPI 3 description of the REST API, made from the route table (routes.ROUTES), so the
document cannot drift from the routes the app serves."""

from __future__ import annotations

import re
from typing import Any

from h2ocloud import __version__
from h2ocloud.web.routes import ROUTES, Param, Route

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "http_status"],
    "properties": {"error": {"type": "string", "description": "what went wrong, naming the parameter or key"},
                   "error_type": {"type": "string"}, "http_status": {"type": "integer"}},
}


def _schema(p: Param) -> dict[str, Any]:
    s: dict[str, Any] = {"type": p.type}
    if p.type == "array":
        s["items"] = {}
    return s


def _operation(r: Route) -> dict[str, Any]:
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
              for name in re.findall(r"{(\w+)}", r.path)]
    params += [{"name": p.name, "in": "query", "required": p.required, "description": p.help,
                "schema": _schema(p)} for p in r.query]
    op: dict[str, Any] = {
        "summary": r.summary,
        "operationId": f"{r.method.lower()}_{re.sub(r'[^A-Za-z0-9]+', '_', r.path).strip('_')}",
        "tags": [r.tag] if r.tag else [],
        "parameters": params,
        "responses": {
            "200": {"description": "success", "content": {r.content_type: {"schema": {"type": "string"} if r.content_type != "application/json" else {"type": "object"}}}},
            "400": {"$ref": "#/components/responses/Error"},
            "404": {"$ref": "#/components/responses/Error"},
            "default": {"$ref": "#/components/responses/Error"},
        },
    }
    if r.op:
        op["x-h2ocloud-operation"] = r.op
    if r.body:
        op["requestBody"] = {"content": {"application/json": {"schema": {
            "type": "object",
            "properties": {p.name: {**_schema(p), "description": p.help} for p in r.body},
            "required": [p.name for p in r.body if p.required],
        }}}}
    elif r.path == "/3/PostFile":
        op["requestBody"] = {"required": True, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
    return op


def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for r in ROUTES:
        paths.setdefault(r.path, {})[r.method.lower()] = _operation(r)
    return {
        "openapi": "3.0.3",
        "info": {"title": "h2ocloud REST API", "version": __version__,
                 "description": "The REST API the web console uses. Errors are JSON with a 4xx/5xx status."},
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "responses": {"Error": {"description": "an error, as JSON",
                                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
        },
    }
