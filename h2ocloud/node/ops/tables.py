"""The node's two operation tables: what a client may ask, and what a cloud member may ask.

CLIENT_OPS are served by the client gRPC service (h2ocloud.node.grpc_service.NodeService) and the
REST API (`/3/...` routes and `POST /3/Ops/{op}`) to anyone who reaches those ports. PEER_OPS are
served only by the Peer gRPC service, after the caller proved it knows the cloud's shared secret
(h2ocloud.node.cluster.auth): they write and delete DKV shards, drop members and map tasks, so
a client asking for one is refused (403) by name. Each table is this one list; nothing registers
an operation anywhere else. As Dask's servers list their handlers: one table per caller.
"""

from __future__ import annotations

from h2ocloud.node.ops import cloud, dkv, frame_expr, frames, grid, jobs, models, mr
from h2ocloud.node.ops.registry import OpTable

# Operations a client (h2ocloud's Python client, the console, curl) may call.
CLIENT_OPS = OpTable("client", [
    ("cloud.status", cloud.status),
    ("cloud.ready", cloud.ready),
    ("cloud.shutdown", cloud.shutdown),
    ("jobs.list", jobs.list_jobs),
    ("jobs.get", jobs.get_job),
    ("jobs.cancel", jobs.cancel_job),
    ("frames.import", frames.import_file),
    ("frames.upload", frames.upload_file),
    ("frames.create", frames.create_frame),
    ("frames.get", frames.get_frame),
    ("frames.list", frames.list_frames),
    ("frames.summary", frames.summary),
    ("frames.rollups", frames.rollups),
    ("frames.colsum", frames.colsum),
    ("frames.fetch", frames.fetch),
    ("frames.select", frames.select),
    ("frames.convert", frames.convert),
    ("frames.assign", frames.assign),
    ("frames.split", frames.split),
    ("frames.distribution", frames.distribution),
    ("frames.expr", frame_expr.expr),
    ("frames.rbind", frame_expr.rbind),
    ("frames.quantile", frame_expr.quantile),
    ("frames.group_by", frame_expr.group_by),
    ("frames.table", frame_expr.table),
    ("frames.cov", frame_expr.cov),
    ("frames.sort", frame_expr.sort),
    ("frames.merge", frame_expr.merge),
    ("frames.impute", frame_expr.impute),
    ("frames.export", frame_expr.export),
    ("dkv.remove_user", frames.remove),
    ("models.train", models.train),
    ("models.get", models.get),
    ("models.list", models.list_models),
    ("models.parameters", models.parameters),
    ("models.predict", models.predict),
    ("models.performance", models.performance),
    ("models.save", models.save),
    ("models.load", models.load),
    ("models.weights", models.weights),
    ("models.export", models.export),
    ("grids.train", grid.train),
    ("grids.get", grid.get),
    ("grids.list", grid.list_grids),
])

# Client operations one member asks of another: a grid trains some of its models on other nodes
# (h2ocloud.node.tasks.grid) and follows their jobs; the console lists and follows any node's jobs.
_ASKED_OF_PEERS = ("models.train", "models.get", "jobs.list", "jobs.get", "jobs.cancel")

# Operations only cloud members may call (over the Peer service, with the secret's proof).
PEER_OPS = OpTable("peer", [
    ("dkv.store", dkv.store),
    ("dkv.fetch", dkv.fetch),
    ("dkv.delete", dkv.delete),
    ("dkv.missing", dkv.missing),
    ("dkv.keys", dkv.keys),
    ("dkv.rebalance", dkv.rebalance),
    ("cloud.leave", cloud.leave),
    ("cloud.stop", cloud.stop),
    ("mr.map", mr.map_chunks),  # every map/reduce task: parse, summaries, metrics, prediction, training
    ("mr.run", mr.run),  # drive a task from this node (bench/averaging.py times a reduce as its driver sees it)
    *((name, CLIENT_OPS.get(name).handler) for name in _ASKED_OF_PEERS),  # type: ignore[union-attr]
])


def client_refusal(name: str) -> str | None:
    """Why a client may not run `name` (None when it is no operation at all: a 404)."""
    if name in PEER_OPS:
        return (f"operation {name!r} is a peer operation: only cloud members may call it, over the peer "
                f"service with the cloud's secret")
    return None


def peer_refusal(name: str) -> str | None:
    """Why a peer may not run `name` (None when it is no operation at all)."""
    if name in CLIENT_OPS:
        return f"operation {name!r} is a client operation, not served by the peer service"
    return None
