"""The registry of node operations and the dispatcher both adapters call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from h2ocloud.errors import NotFound
from h2ocloud.node.tasks.host import TaskHost


class OpHost(TaskHost, Protocol):
    """The node as operations see it: what tasks see, plus stopping the process."""

    def request_stop(self) -> None: ...


Node = OpHost  # handlers' annotations


@dataclass
class Reply:
    """What an operation returns: a JSON-able result and optional binary blobs."""

    result: dict[str, Any] = field(default_factory=dict)
    blobs: list[Any] = field(default_factory=list)


Handler = Callable[["Node", dict[str, Any], list[bytes]], Awaitable[Reply | dict[str, Any]]]

OPS: dict[str, Handler] = {}


def op(name: str) -> Callable[[Handler], Handler]:
    """Register a handler under `name`."""

    def register(fn: Handler) -> Handler:
        if name in OPS:
            raise RuntimeError(f"operation {name!r} registered twice")
        OPS[name] = fn
        return fn

    return register


async def dispatch(node: Node, name: str, args: dict[str, Any], blobs: list[bytes]) -> Reply:
    """Run operation `name`; an unknown name is a NotFound naming it."""
    handler = OPS.get(name)
    if handler is None:
        raise NotFound(f"unknown operation {name!r}")
    if not isinstance(args, dict):
        raise ValueError("operation arguments must be a JSON object")
    out = await handler(node, args, blobs)
    return out if isinstance(out, Reply) else Reply(out)
