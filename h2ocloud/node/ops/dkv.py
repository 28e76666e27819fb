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
    stamp: float = 0.0  # when the value was made (0: now)


async def store(node, args: StoreArgs, blobs: list[bytes]) -> dict[str, Any]:
    head = {"kind": args.kind, "meta": args.meta, "stamp": args.stamp}
    # False: the key was removed after this value was made (a late write): not stored.
    return {"stored": node.store.put(args.key, value_from_wire(head, blobs))}


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
class DeleteArgs:
    keys: list[str]
    stamp: float = 0.0  # when they were removed (0: now); a tombstone remembers it


async def delete(node, args: DeleteArgs, blobs: list[bytes]) -> dict[str, Any]:
    for k in args.keys:
        node.store.delete(k, args.stamp or None)
    return {}


@dataclass(frozen=True)
class MissingArgs:
    keys: list[str]
    stamps: list[float] | None = None  # when the caller's copy of each key was made


async def missing(node, args: MissingArgs, blobs: list[bytes]) -> dict[str, Any]:
    """Which of the caller's keys this node lacks, and which were removed after the caller's
    copy was made (key -> when): the caller drops those instead of pushing them back."""
    stamps = args.stamps if args.stamps is not None and len(args.stamps) == len(args.keys) else [None] * len(args.keys)
    lacking, removed = [], {}
    for k, made in zip(args.keys, stamps):
        if k in node.store:
            continue
        when = node.store.removed_at(k)
        if when is not None and made is not None and made < when:
            removed[k] = when
        else:
            lacking.append(k)
    return {"missing": lacking, "removed": removed}


@dataclass(frozen=True)
class PrefixArgs:
    prefix: str = ""


async def keys(node, args: PrefixArgs, blobs: list[bytes]) -> dict[str, Any]:
    return {"keys": node.store.keys(args.prefix)}


async def rebalance(node, args: NoArgs, blobs: list[bytes]) -> dict[str, Any]:
    return await node.dkv.rebalance()
