"""h2o-py's `assert_is_type` and friends, raising its H2OTypeError / H2OValueError."""

from __future__ import annotations

from typing import Any

from h2ocloud.exceptions import H2OTypeError, H2OValueError


def assert_is_type(var: Any, *types: Any, **kw: Any) -> None:
    """Raise H2OTypeError unless var is an instance of one of types (None allowed by passing None)."""
    allowed = tuple(type(None) if t is None else t for t in types)
    if not isinstance(var, allowed):
        name = kw.get("var_name") or "argument"
        names = ", ".join(getattr(t, "__name__", str(t)) for t in allowed)
        raise H2OTypeError(f"{name} must be {names}, got {type(var).__name__}", var_name=name)


def assert_satisfies(var: Any, condition: bool, message: str | None = None) -> None:
    """Raise H2OValueError when condition is false."""
    if not condition:
        raise H2OValueError(message or f"argument {var!r} does not satisfy the condition")
