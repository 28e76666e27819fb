"""The node's log lines: plain text, or with --log-format json one JSON object a line.

A JSON line holds time (ISO 8601, UTC), level, logger, node id and message, plus job_id and key
when the line was written while a job ran (the job manager sets them in a context variable that
the job's thread carries) or were passed as `extra=`; an exception's traceback goes in `exc`.
The access log (--access-log) adds method, path, status, remote and duration_ms.
"""

from __future__ import annotations

import datetime
import json
import logging
import sys

from h2ocloud.node.tasks.jobs import current_job

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ACCESS_LOGGER = "h2ocloud.access"
# aiohttp's AccessLogger passes these as `extra` (see aiohttp.web_log); we keep the useful ones.
_ACCESS_FIELDS = {"first_request_line": "request", "response_status": "status", "remote_address": "remote",
                  "request_time_frac": "duration_s", "response_size": "bytes"}
# aiohttp's access-log format, as the fields above (%r request line, %s status, %a remote, %Tf time).
ACCESS_FORMAT = '%a "%r" %s %b %Tf'


class ContextFilter(logging.Filter):
    """Stamps each record with the node id and the job (and its key) it was written under."""

    def __init__(self, node_id: str):
        super().__init__()
        self.node_id = node_id

    def filter(self, record: logging.LogRecord) -> bool:
        record.node_id = self.node_id
        job = current_job.get()
        if job is not None:
            if not getattr(record, "job_id", None):
                record.job_id = job.job_id
            if not getattr(record, "key", None) and job.dest:
                record.key = job.dest
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name,
            "node_id": getattr(record, "node_id", None), "message": record.getMessage(),
        }
        for k in ("job_id", "key"):
            v = getattr(record, k, None)
            if v:
                out[k] = v
        if record.name == ACCESS_LOGGER:
            for src, dst in _ACCESS_FIELDS.items():
                v = getattr(record, src, None)
                if v is not None:
                    out[dst] = v
            line = str(out.get("request", ""))
            if line.count(" ") >= 1:
                out["method"], out["path"] = line.split(" ")[:2]
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure(level: str, fmt: str, node_id: str, stream=None) -> None:
    """Send every h2ocloud (and library) log line to stream (stderr) in the chosen format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(ContextFilter(node_id))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
