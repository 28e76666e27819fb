"""Helpers shared by the benchmarks: where the data is, and a node to run against."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))


def data(name: str) -> Path:
    p = DATA / name
    if not p.exists():
        sys.exit(f"benchmark needs {p} (the shared data folder)")
    return p


@contextlib.contextmanager
def local_node(nthreads: int = 0):
    """A fresh daemon on free ports, connected; stopped at the end."""
    import h2ocloud as h2o
    from h2ocloud.client.local import LocalNode, free_port

    node = LocalNode(web_port=free_port(), grpc_port=free_port(), nthreads=nthreads)
    try:
        node.wait_ready()
        h2o.init(url=node.url)
        yield h2o
    finally:
        node.stop()



def mnist_frames(h2o):
    """The booklet's MNIST frames, loaded as the demo loads them."""
    from h2ocloud.demo import mnist_frames as load

    data("mnist_train_10k.csv.gz")
    return load(h2o, DATA)
