"""h2o-py's `h2o.utils.shared_utils` helpers that user scripts call."""

from __future__ import annotations

import importlib.util
import re


def can_use_pandas() -> bool:
    """True when pandas imports (it is a core dependency of h2ocloud, so always)."""
    return importlib.util.find_spec("pandas") is not None


def can_use_numpy() -> bool:
    """True when numpy imports (a core dependency, so always)."""
    return importlib.util.find_spec("numpy") is not None


def quoted(key: object) -> str:
    """A value quoted the way h2o-py quotes keys in messages (None stays None)."""
    if key is None:
        return "None"
    escaped = str(key).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def temp_ctr() -> str:
    """A fresh temporary key name (h2o-py's _py_tmp_key)."""
    import uuid

    return f"py_{uuid.uuid4().hex[:12]}"


def is_type_numeric(name: str) -> bool:
    """True for h2o-py's numeric column type names ("int", "real")."""
    return bool(re.fullmatch(r"int|real|numeric", name))
