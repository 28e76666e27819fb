"""The node's folders are layers: each module imports only its own layer and the layers below.

config (plain settings, and tls: the certificate files those settings name) < cluster (membership, discovery, peers, auth) < store (DKV, shard,
hashing) < tasks (map/reduce, frame/model/training tasks, jobs) < ops (the operation tables)
< the process (server, grpc_service, cli) that wires them. Every import counts, including
the ones under `if TYPE_CHECKING:` and inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import h2ocloud

ROOT = Path(h2ocloud.__file__).parent
NODE = ROOT / "node"
LAYERS = {"config": 0, "tls": 0, "cluster": 1, "store": 2, "tasks": 3, "ops": 4}
TOP = 5  # server, grpc_service, cli, __init__


def _layer(module: str) -> int | None:
    """The layer of an h2ocloud.node module name, None outside h2ocloud.node."""
    parts = module.split(".")
    if parts[:2] != ["h2ocloud", "node"]:
        return None
    if len(parts) == 2:
        return TOP
    return LAYERS.get(parts[2], TOP)


def _imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.ImportFrom) and n.module:
            if n.module == "h2ocloud.node":  # from h2ocloud.node import x
                out += [(n.lineno, f"h2ocloud.node.{a.name}") for a in n.names]
            else:
                out.append((n.lineno, n.module))
        elif isinstance(n, ast.Import):
            out += [(n.lineno, a.name) for a in n.names]
    return out


def test_every_node_module_imports_only_its_layer_and_below():
    upward = []
    for path in sorted(NODE.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        me = ".".join(rel.parts).removesuffix(".__init__")
        mine = _layer(me)
        for line, mod in _imports(path):
            theirs = _layer(mod)
            if theirs is not None and theirs > mine:
                upward.append(f"{rel}.py:{line} imports {mod}")
            if mine < TOP and (mod.startswith("h2ocloud.web") or mod.startswith("h2ocloud.client")):
                upward.append(f"{rel}.py:{line} imports {mod}")
    assert not upward, "imports running back up the layers:\n" + "\n".join(upward)


# h2o-py's path h2ocloud.frame.H2OFrame (issue 12): a lazy module __getattr__ alias of the
# client's H2OFrame, resolved only when a user script asks for it; nothing in the library uses it.
_USER_ALIASES = {("frame/__init__.py", "h2ocloud.client.frame")}


def test_libraries_below_the_node_do_not_import_it():
    """The kernels, the frame format and the DL maths know nothing of daemons."""
    bad = []
    for pkg in ("dl", "frame", "kernel"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = str(path.relative_to(ROOT))
            bad += [f"{rel}:{line} imports {mod}" for line, mod in _imports(path)
                    if mod.startswith(("h2ocloud.node", "h2ocloud.web", "h2ocloud.client"))
                    and (rel, mod) not in _USER_ALIASES]
    assert not bad, "\n".join(bad)


def test_the_layer_check_sees_an_upward_import(tmp_path):
    """The check itself can fail: a store module importing the server is reported."""
    f = tmp_path / "x.py"
    f.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from h2ocloud.node.server import Node\n")
    assert (3, "h2ocloud.node.server") in _imports(f)
    assert _layer("h2ocloud.node.server") > _layer("h2ocloud.node.store.dkv")
