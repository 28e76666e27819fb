"""The node's event metrics (Prometheus, via prometheus_client): calls, errors, map/reduce tasks.

Counters and histograms that code increments as things happen live here, in one registry per
process (one node a process); gauges that read the node's state at scrape time (cloud size,
keys, jobs, ...) are computed by h2ocloud.web.metrics, which serves both at /metrics.
prometheus_client is used rather than hand-written exposition text because its text format,
label escaping and histogram buckets are what Prometheus and its parser expect.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

GRPC_CALLS = Counter("h2ocloud_grpc_calls", "gRPC calls served, by method (the operation name, or Heartbeat)",
                     ["method"], registry=REGISTRY)
GRPC_ERRORS = Counter("h2ocloud_grpc_errors", "gRPC calls that ended in an error status, by method and code",
                      ["method", "code"], registry=REGISTRY)
REST_CALLS = Counter("h2ocloud_rest_calls", "REST requests served, by HTTP method and route",
                     ["method", "route"], registry=REGISTRY)
REST_ERRORS = Counter("h2ocloud_rest_errors", "REST requests answered with a 4xx or 5xx status",
                      ["method", "route", "status"], registry=REGISTRY)
MR_TASKS = Counter("h2ocloud_mrtask_runs", "map/reduce tasks this node drove over the cloud, by task",
                   ["task"], registry=REGISTRY)
MR_DURATION = Histogram("h2ocloud_mrtask_duration_seconds", "wall time of a map/reduce task this node drove",
                        ["task"], registry=REGISTRY,
                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
MR_RECEIVED = Counter("h2ocloud_mrtask_partials_received",
                      "partials this node received from other nodes while reducing a task (a reduce tree's "
                      "fan-in: at most --mr-fanin a task for the node driving it), by task", ["task"],
                      registry=REGISTRY)
MR_MAPS = Counter("h2ocloud_mrtask_chunks_mapped", "chunks this node mapped, by task", ["task"], registry=REGISTRY)


@contextmanager
def timed_task(name: str) -> Iterator[None]:
    """Count and time one map/reduce task driven from here."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        MR_TASKS.labels(name).inc()
        MR_DURATION.labels(name).observe(time.perf_counter() - t0)
