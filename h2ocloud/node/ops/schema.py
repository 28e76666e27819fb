"""Typed operation arguments: each operation declares a frozen dataclass of its fields, and
`parse_args` builds it once from the JSON object a caller sent, before the handler runs.

The dataclass is the operation's schema: a field's annotation is its type (str, int, float, bool,
list[...], dict[str, Any], Literal[...], unions, `X | None` for optional), its default makes it
optional. Every refusal is an `OpArgumentError` naming the operation and the field, and a field
the operation does not declare is refused (with the closest declared name), so no caller can
slip a server-side value (a path the node made, a flag a test set) into an operation.

REST callers send query strings, so numbers and booleans are also read from their string forms
("20", "0.5", "true").
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import types
import typing
from typing import Any, Literal, TypeVar, Union

T = TypeVar("T")


class OpArgumentError(ValueError):
    """An operation's argument is missing, unknown or of the wrong type; names both."""

    def __init__(self, op: str, field: str | None, message: str):
        self.op = op
        self.field = field
        where = f"operation {op!r}" + (f": field {field!r}" if field else "")
        super().__init__(f"{where}: {message}")


@dataclasses.dataclass(frozen=True)
class NoArgs:
    """The arguments of an operation that takes none."""


class _Mismatch(Exception):
    """A value does not fit a type; the message says what was expected. `deep`: the value had
    the type's shape (a list) but not its items, the more useful message in a union."""

    def __init__(self, message: str, deep: bool = False):
        super().__init__(message)
        self.deep = deep


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if tp is Any:
        return "anything"
    if tp is str:
        return "a string"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is bool:
        return "a boolean"
    if tp is type(None):
        return "null"
    if origin is list:
        (item,) = typing.get_args(tp) or (Any,)
        return "a list" if item is Any else f"a list of {_describe(item).removeprefix('a ').removeprefix('an ')}s"
    if origin is dict:
        return "an object"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(tp))
    return getattr(tp, "__name__", str(tp))


def _convert(tp: Any, value: Any) -> Any:
    """value as type tp, or _Mismatch."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        deep = None
        for option in options:
            if option is type(None):
                continue
            try:
                return _convert(option, value)
            except _Mismatch as e:
                deep = deep or (e if e.deep else None)
        raise deep or _Mismatch(_describe(tp))
    if value is None:
        raise _Mismatch(_describe(tp))
    if tp is str:
        if isinstance(value, str):
            return value
    elif tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
    elif tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
    elif origin is list:
        (item,) = typing.get_args(tp) or (Any,)
        if isinstance(value, list | tuple):
            out = []
            for i, v in enumerate(value):
                try:
                    out.append(_convert(item, v))
                except _Mismatch as e:
                    raise _Mismatch(f"{_describe(tp)} (item {i} is {v!r}, not {e})", deep=True) from None
            return out
    elif origin is dict or tp is dict:
        if isinstance(value, dict):
            return value
    elif origin is Literal:
        if value in typing.get_args(tp):
            return value
    else:
        raise TypeError(f"unsupported argument type {tp!r}")
    raise _Mismatch(_describe(tp))


@functools.cache
def _fields(cls: Any) -> tuple[tuple[str, Any, bool], ...]:
    """(name, type, required) of each field of an arguments dataclass."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        out.append((f.name, hints[f.name], required))
    return tuple(out)


def field_names(cls: type) -> list[str]:
    """The fields an arguments dataclass declares."""
    return [name for name, _, _ in _fields(cls)]


def parse_args(op: str, cls: type[T], raw: Any) -> T:
    """The arguments `raw` (a JSON object) of operation `op` as an instance of `cls`."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise OpArgumentError(op, None, f"arguments must be a JSON object, got {type(raw).__name__}")
    declared = _fields(cls)  # type: ignore[arg-type]  # a class is hashable
    names = [name for name, _, _ in declared]
    for key in raw:
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise OpArgumentError(op, str(key), f"unknown field{hint}; the operation takes {names or 'no arguments'}")
    values = {}
    for name, tp, required in declared:
        if name not in raw:
            if required:
                raise OpArgumentError(op, name, "is required")
            continue
        try:
            values[name] = _convert(tp, raw[name])
        except _Mismatch as e:
            raise OpArgumentError(op, name, f"expected {e}, got {raw[name]!r}") from None
    return cls(**values)
