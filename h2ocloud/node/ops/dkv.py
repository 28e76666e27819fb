"""Peer operations on this node's shard of the DKV (store, fetch, delete, missing, keys, rebalance)."""

from __future__ import annotations

from h2ocloud.errors import NotFound
from h2ocloud.node.ops.registry import Reply, op
from h2ocloud.node.store.dkv import value_from_wire, value_to_wire


# ---- peer operations on this node's shard ------------------------------------------------
@op("dkv.store")
async def _store(node, args, blobs):
    node.store.put(str(args["key"]), value_from_wire(args, blobs))
    return {}


@op("dkv.fetch")
async def _fetch(node, args, blobs):
    v = node.store.get(str(args["key"]))
    if v is None:
        raise NotFound(f"no key {args['key']!r} on node {node.node_id}")
    head, out = value_to_wire(v)
    return Reply(head, out)


@op("dkv.delete")
async def _delete(node, args, blobs):
    for k in args.get("keys", []):
        node.store.remove(str(k))
    return {}


@op("dkv.missing")
async def _missing(node, args, blobs):
    return {"missing": [k for k in args.get("keys", []) if k not in node.store]}


@op("dkv.keys")
async def _keys(node, args, blobs):
    return {"keys": node.store.keys(str(args.get("prefix", "")))}


@op("dkv.rebalance")
async def _rebalance(node, args, blobs):
    return await node.dkv.rebalance()
