"""Benchmark: what TLS and mutual TLS (with a token) cost a client, on one node.

    python bench/tls.py [--repeats 100]

Starts one daemon three ways (plain; --tls-cert/--tls-key; --tls-ca as well, with
--auth-token-file), each with a certificate from a throwaway CA made here (needs the
`cryptography` package, in the test extra), and times from this client: h2o.init (the first
HTTPS call and the gRPC handshake), a small gRPC round trip (cloud.status), and predict on a
1-row and a 1,000-row frame with a small network. Prints p50/p99 in milliseconds per mode and
the overhead over plain text.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (puts the repository on sys.path)
import numpy as np

import h2ocloud as h2o
from tests.cloudfixture import start_cloud
from tests.tlscerts import make_ca


def _times(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _p(ts: list[float], q: float) -> float:
    return statistics.quantiles(ts, n=100)[q - 1] if len(ts) > 1 else ts[0]


def run_mode(args: list[str], init_kw: dict, repeats: int) -> dict[str, list[float]]:
    with start_cloud(1, args=args) as cloud:
        url = cloud.nodes[0].url
        t0 = time.perf_counter()
        h2o.init(url=url, **init_kw)
        init_ms = (time.perf_counter() - t0) * 1000
        rng = np.random.default_rng(0)
        big = h2o.H2OFrame({f"x{i}": rng.normal(size=1000).tolist() for i in range(10)} | {"y": rng.normal(size=1000).tolist()})
        one = h2o.H2OFrame({f"x{i}": [0.5] for i in range(10)})
        m = h2o.H2ODeepLearningEstimator(hidden=[32], epochs=1, seed=1)
        m.train(x=[f"x{i}" for i in range(10)], y="y", training_frame=big)
        conn = h2o.connection()
        res = {"init": [init_ms],
               "cloud.status": _times(lambda: conn.call("cloud.status"), repeats),
               "predict 1 row": _times(lambda: h2o.remove(m.predict(one)), max(10, repeats // 4)),
               "predict 1000 rows": _times(lambda: h2o.remove(m.predict(big)), max(10, repeats // 4))}
        return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=100)
    ns = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="h2ocloud-bench-tls-"))
    ca = make_ca(folder)
    node, client = ca.issue("node"), ca.issue("client")
    (folder / "token").write_text("bench-token\n")
    tls = ["--tls-cert", str(node.cert), "--tls-key", str(node.key)]
    modes = {
        "plain": ([], {}),
        "tls": (tls, {"verify": str(ca.cert)}),
        "mtls+token": (tls + ["--tls-ca", str(ca.cert), "--auth-token-file", str(folder / "token")],
                       {"verify": str(ca.cert), "cert": (str(client.cert), str(client.key)), "token": "bench-token"}),
    }
    results = {name: run_mode(a, kw, ns.repeats) for name, (a, kw) in modes.items()}
    print(f"{'mode':<12} {'operation':<18} {'p50 ms':>8} {'p99 ms':>8} {'vs plain p50':>13}")
    for name, res in results.items():
        for op, ts in res.items():
            base = statistics.median(results["plain"][op])
            p50 = statistics.median(ts)
            print(f"{name:<12} {op:<18} {p50:8.2f} {_p(ts, 99):8.2f} {p50 - base:+12.2f}")


if __name__ == "__main__":
    main()
