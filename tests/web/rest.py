"""A small REST client for the web tests: JSON in, (status, JSON or bytes) out, errors included."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any


def call(url: str, method: str = "GET", body: Any = None, data: bytes | None = None,
         timeout: float = 60.0) -> tuple[int, Any, dict]:
    """(status, parsed JSON or raw bytes, headers); an HTTP error status is returned, not raised."""
    headers = {}
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw, hdrs = r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        status, raw, hdrs = e.code, e.read(), dict(e.headers)
    if hdrs.get("Content-Type", "").startswith("application/json"):
        return status, json.loads(raw.decode()), hdrs
    return status, raw, hdrs


def probe(url: str, timeout: float = 3.0) -> tuple[int, Any]:
    """(status, body) as a probe sees it: status 0 (and the reason) when nothing answers."""
    try:
        return call(url, timeout=timeout)[:2]
    except OSError as e:
        return 0, {"error": str(e)}


def ok(url: str, method: str = "GET", body: Any = None, data: bytes | None = None) -> Any:
    status, out, _ = call(url, method, body, data)
    assert status == 200, (url, status, out)
    return out


def wait_job(base: str, job: dict, timeout: float = 240.0) -> dict:
    """Long-poll a job until it ends (generous deadline: a loaded 2-core machine)."""
    deadline = time.time() + timeout
    q = f"?node_id={job['node_id']}" if job.get("node_id") else ""
    while time.time() < deadline:
        j = ok(f"{base}/3/Jobs/{job['job_id']}{q}{'&' if q else '?'}wait_s=10")
        if j["status"] != "RUNNING":
            return j
    raise TimeoutError(f"job {job['job_id']} still running after {timeout} s")
