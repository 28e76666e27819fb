"""`python -m h2ocloud.precompile`: compile the node's Numba kernels into the Numba cache.

Run at image build time (deploy/docker/Dockerfile) with NUMBA_CACHE_DIR set, so a pod loads
compiled kernels instead of compiling them when it starts. The kernels compile per argument
types on first call, so this runs the real work once on tiny data through a real local node:
a CSV parse, classification, regression and an autoencoder, scoring and prediction.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import numpy as np
import pandas as pd


def main() -> int:
    import h2ocloud as h2o
    from h2ocloud.client.local import LocalNode, free_port

    t0 = time.perf_counter()
    node = LocalNode(web_port=free_port(), grpc_port=free_port(), name=f"precompile-{os.getpid()}")
    try:
        node.wait_ready(120)
        h2o.init(url=node.url)
        rng = np.random.default_rng(0)
        n = 200
        df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                           "c": rng.choice(["u", "v", "w"], size=n)})
        df["y"] = np.where(df.a + df.b > 0, "yes", "no")
        df["r"] = df.a * 2 - df.b
        df["i"] = rng.integers(0, 9, size=n)  # whole numbers: stored as uint8, standardized as such
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "warm.csv")
            df.to_csv(path, index=False)
            fr = h2o.import_file(path)  # the CSV parser's kernels
        fr["y"] = fr["y"].asfactor()
        x = ["a", "b", "c"]
        for activation in ("Rectifier", "Tanh", "Maxout", "RectifierWithDropout"):
            m = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=1, activation=activation, seed=1,
                                             quiet_mode=True)
            m.train(x=x, y="y", training_frame=fr)
            m.predict(fr)
        reg = h2o.H2ODeepLearningEstimator(hidden=[4], epochs=1, seed=1, quiet_mode=True)
        reg.train(x=x, y="r", training_frame=fr)
        ae = h2o.H2ODeepLearningEstimator(hidden=[2], epochs=1, autoencoder=True, seed=1, quiet_mode=True)
        ae.train(x=["a", "b", "i"], training_frame=fr)
        ae.anomaly(fr)
    finally:
        node.stop()
    print(f"h2ocloud: kernels compiled into {os.environ.get('NUMBA_CACHE_DIR', 'the default Numba cache')} "
          f"in {time.perf_counter() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
