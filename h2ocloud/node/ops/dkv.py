"""Peer operations on this node's shard of the DKV (store, fetch, delete, missing, keys, rebalance)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from h2ocloud.errors import NotFound
from h2ocloud.node.ops.registry import Reply
from h2ocloud.node.ops.schema import NoArgs
from h2ocloud.node.store.dkv import value_from_wire, value_to_wire


@dataclass(frozen=True)
class StoreArgs:
    """A value's wire head (value_to_wire) and its key."""

    key: str
    kind: str
    meta: dict[str, Any]


async def store(node, args: StoreArgs, blobs: list[bytes]) -> dict[str, Any]:
    node.store.put(args.key, value_from_wire({"kind": args.kind, "meta": args.meta}, blobs))
    return {}


@dataclass(frozen=True)
class KeyArgs:
    key: str


async def fetch(node, args: KeyArgs, blobs: list[bytes]) -> Reply:
    v = node.store.get(args.key)
    if v is None:
        raise NotFound(f"no key {args.key!r} on node {node.node_id}")
    head, out = value_to_wire(v)
    return Reply(head, out)


@dataclass(frozen=True)
class KeysArgs:
    keys: list[str]


async def delete(node, args: KeysArgs, blobs: list[bytes]) -> dict[str, Any]:
    for k in args.keys:
        node.store.remove(k)
    return {}


async def missing(node, args: KeysArgs, blobs: list[bytes]) -> dict[str, Any]:
    return {"missing": [k for k in args.keys if k not in node.store]}


@dataclass(frozen=True)
class PrefixArgs:
    prefix: str = ""


async def keys(node, args: PrefixArgs, blobs: list[bytes]) -> dict[str, Any]:
    return {"keys": node.store.keys(args.prefix)}


async def rebalance(node, args: NoArgs, blobs: list[bytes]) -> dict[str, Any]:
    return await node.dkv.rebalance()
