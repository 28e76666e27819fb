"""What an operation is, a table of operations, and the dispatcher the adapters call.

An operation is `async def handler(node, args: SomeArgs, blobs: list) -> Reply | dict`, where
SomeArgs is the frozen dataclass of its arguments (see schema.py): the dispatcher parses the
caller's JSON into it once, so a handler reads typed fields and never a raw dict. Which caller
may run which operation is decided by the table it is served from (tables.py), not here.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from h2ocloud.errors import NotFound
from h2ocloud.node.ops.schema import parse_args
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


Handler = Callable[[Any, Any, list[Any]], Awaitable[Reply | dict[str, Any]]]


@dataclass(frozen=True)
class Op:
    """One operation: its name, handler, and the dataclass its arguments parse into (read from
    the annotation of the handler's `args` parameter, so it is declared once)."""

    name: str
    handler: Handler
    args_type: type

    @classmethod
    def of(cls, name: str, handler: Handler) -> Op:
        params = list(inspect.signature(handler).parameters)
        if len(params) != 3:
            raise TypeError(f"operation {name!r}: handler must take (node, args, blobs)")
        hints = typing.get_type_hints(handler)
        args_type = hints.get(params[1])
        if args_type is None or not hasattr(args_type, "__dataclass_fields__"):
            raise TypeError(f"operation {name!r}: annotate the handler's {params[1]!r} with its arguments dataclass")
        return cls(name, handler, args_type)


class OpTable:
    """The operations one service serves, by name."""

    def __init__(self, caller: str, ops: Iterable[tuple[str, Handler]]):
        self.caller = caller  # "client" or "peer", for messages
        self._ops: dict[str, Op] = {}
        for name, handler in ops:
            if name in self._ops:
                raise RuntimeError(f"{caller} operation {name!r} listed twice")
            self._ops[name] = Op.of(name, handler)

    def __contains__(self, name: object) -> bool:
        return name in self._ops

    def __iter__(self):
        return iter(self._ops.values())

    def names(self) -> list[str]:
        return sorted(self._ops)

    def get(self, name: str) -> Op | None:
        return self._ops.get(name)


class OpRefused(PermissionError):
    """An operation that exists, but not for this caller (a peer operation asked by a client)."""

    def __init__(self, op: str, message: str):
        self.op = op
        super().__init__(message)


async def dispatch(table: OpTable, node: Node, name: str, raw_args: Any, blobs: list[Any],
                   refuse: Callable[[str], str | None] | None = None) -> Reply:
    """Run operation `name` from `table`. An unknown name is a NotFound naming it; a name the
    `refuse` callback explains (an operation of another table) is an OpRefused with that reason."""
    op = table.get(name)
    if op is None:
        why = refuse(name) if refuse else None
        if why:
            raise OpRefused(name, why)
        raise NotFound(f"unknown operation {name!r}")
    args: Any = parse_args(name, op.args_type, raw_args)
    try:
        out = await op.handler(node, args, blobs)
    except ValueError as e:
        # A handler's own checks name the field ("ratios must be ..."); the operation is named
        # here, once, so every refusal says which operation refused which field.
        if type(e) is ValueError and not str(e).startswith("operation '"):
            raise ValueError(f"operation {name!r}: {e}") from e
        raise
    return out if isinstance(out, Reply) else Reply(out)
