"""GET /metrics (Prometheus text format), GET /healthz, and the REST call counters.

The gauges are read from the node when Prometheus scrapes (a custom collector), so they are
never stale: cloud size and epoch, each peer's heartbeat age, keys and bytes held by kind, the
replication deficit, jobs by kind and state, training samples/s. The event counters (gRPC and
REST calls and errors, map/reduce tasks and their durations) are h2ocloud.telemetry's. The
routes sit beside the REST API, not in it; with a client token (--auth-token-file) /healthz stays
open and /metrics needs the token (a scrape config's bearer token), as the issue's "only the
probes stay open" asks.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from h2ocloud import telemetry
from h2ocloud.node.tasks.jobs import job_kind

if TYPE_CHECKING:
    from h2ocloud.node.server import Node

JOB_STATES = ("RUNNING", "DONE", "FAILED", "CANCELLED")
# Paths the orchestrator's probes call: the client-token middleware (h2ocloud.web.auth) lets GETs
# of these through without a token, as the kubelet has none; they say nothing beyond health.
# /metrics is not one: it names peers and keys, so with --auth-token-file Prometheus scrapes it
# with the token (its scrape config's `authorization: {credentials_file: ...}`).
OPEN_PATHS = frozenset({"/healthz", "/3/Ready"})


class NodeCollector(Collector):
    """The node's state as gauges, computed at each scrape."""

    def __init__(self, node: Node):
        self.node = node

    def collect(self):
        n = self.node
        m = n.membership
        yield GaugeMetricFamily("h2ocloud_cloud_size", "live members of the cloud, this node included",
                                value=len(m.members))
        yield GaugeMetricFamily("h2ocloud_membership_epoch", "the membership epoch (one more at each change)",
                                value=m.epoch)
        yield GaugeMetricFamily("h2ocloud_cloud_consensus", "1 when every member agrees on epoch and members",
                                value=1 if m.consensus() else 0)
        yield GaugeMetricFamily("h2ocloud_ready", "1 when the readiness probe would pass",
                                value=0 if n.draining or m.not_ready_reason(n.config.cloud_size) else 1)
        age = GaugeMetricFamily("h2ocloud_peer_heartbeat_age_seconds",
                                "seconds since each known peer was last heard from", labels=["peer", "address", "alive"])
        now = time.monotonic()
        for nid, p in sorted(m.peers.items()):
            age.add_metric([nid, p.address, "true" if p.alive else "false"], now - p.last_seen)
        yield age
        keys = GaugeMetricFamily("h2ocloud_store_keys", "keys this node holds, by kind", labels=["kind"])
        nbytes = GaugeMetricFamily("h2ocloud_store_bytes", "bytes this node holds, by kind", labels=["kind"])
        for kind, (count, size) in sorted(n.store.by_kind().items()):
            keys.add_metric([kind], count)
            nbytes.add_metric([kind], size)
        yield keys
        yield nbytes
        yield GaugeMetricFamily("h2ocloud_store_max_bytes", "this node's store cap (0: none)",
                                value=n.config.effective_max_mem)
        yield GaugeMetricFamily("h2ocloud_replication_deficit",
                                "key copies missing among the keys this node is first home of",
                                value=n.dkv.replication_deficit())
        jobs = GaugeMetricFamily("h2ocloud_jobs", "jobs on this node, by kind and state", labels=["kind", "state"])
        tally = Tally((job_kind(j), j.status) for j in n.jobs.list())
        for kind in sorted({k for k, _ in tally} | {"DeepLearning", "Parse"}):
            for state in JOB_STATES:
                jobs.add_metric([kind, state], tally.get((kind, state), 0))
        yield jobs
        speed = GaugeMetricFamily("h2ocloud_training_samples_per_second",
                                  "samples/s of each running training job, at its last scoring", labels=["job_id"])
        samples = 0.0
        for j in n.jobs.list():
            if job_kind(j) != "DeepLearning":
                continue
            samples += float(j.info.get("samples") or 0)
            if j.status == "RUNNING" and j.info.get("samples_per_second") is not None:
                speed.add_metric([j.job_id], float(j.info["samples_per_second"]))
        yield speed
        yield CounterMetricFamily("h2ocloud_training_samples", "samples trained by the training jobs this node drove",
                                  value=samples)
        yield GaugeMetricFamily("h2ocloud_nthreads", "worker threads (from --nthreads or the cgroup CPU quota)",
                                value=n.config.effective_nthreads)


def _route_name(request: web.Request) -> str:
    """The route's template (/3/Frames/{frame_id}), so labels do not grow with every key."""
    info = request.match_info
    resource = info.route.resource if info is not None and info.route is not None else None
    canonical = getattr(resource, "canonical", None) if resource is not None else None
    if not canonical or canonical == "/{tail}":
        return "unmatched"
    return canonical


@web.middleware
async def count_requests(request: web.Request, handler):
    route = _route_name(request)
    status = 500
    try:
        resp = await handler(request)
        status = resp.status
        return resp
    except web.HTTPException as e:
        status = e.status
        raise
    finally:
        telemetry.REST_CALLS.labels(request.method, route).inc()
        if status >= 400:
            telemetry.REST_ERRORS.labels(request.method, route, str(status)).inc()


def add_routes(app: web.Application, node: Node) -> None:
    """Add /metrics and /healthz to the web app (the REST counters are middleware.py's)."""
    # The node's gauges in a registry of their own (a process may build more than one app);
    # the process-wide event counters are appended.
    state = CollectorRegistry(auto_describe=False)
    state.register(NodeCollector(node))

    async def metrics(request: web.Request) -> web.Response:
        body = generate_latest(state) + generate_latest(telemetry.REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(request: web.Request) -> web.Response:
        """Liveness: the node's loop answers (whether or not a cloud has formed)."""
        return web.json_response({"ok": True, "node_id": node.node_id, "draining": node.draining})

    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
