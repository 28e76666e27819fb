"""A node holds BLAS to one thread from its main thread (kernel.score.hold_blas_to_one_thread,
called by `h2ocloud node`), so scoring passes in its map threads run on one BLAS thread each.

The per-pass limit alone did not: the OpenBLAS numpy ships (0.3.31) ignores a thread count set
from another thread once its thread pool is up, so passes in the map threads ran on two BLAS
threads after the first, and OpenBLAS's two-thread sums round differently: predictions changed in
their last bits from one run to the next. Run in a fresh interpreter: the check changes, and
depends on, process-wide BLAS state."""

import subprocess
import sys

import pytest

CHECK = """
import threading
import numpy as np
from threadpoolctl import threadpool_info
from h2ocloud.kernel import Net, NetSpec, forward
from h2ocloud.kernel.score import hold_blas_to_one_thread

def blas_threads():
    return sorted({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})

a = np.ones((300, 300))
a @ a  # OpenBLAS's thread pool is up, as in a node that has scored before
hold_blas_to_one_thread()
net = Net.initialize(NetSpec(n_inputs=20, hidden=(16,), n_outputs=3, activation="Rectifier"), seed=1)
X = np.ones((500, 20), np.float32)
seen = []

def score():
    forward(net, X, nthreads=2)
    seen.append(blas_threads())

threads = [threading.Thread(target=score) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(blas_threads(), seen)
"""


def test_node_holds_blas_to_one_thread():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    line = out.stdout.split("\n")[0]
    if line == "[] [[], []]":
        pytest.skip("threadpoolctl sees no BLAS library in this numpy: nothing to hold")
    assert line == "[1] [[1], [1]]"
