"""Model export benchmark (issue 14): the booklet's MNIST trial-run model (784-200-200-200-10,
RectifierWithDropout, input dropout 0.2, l1 1e-5) exported three ways.

Prints the POJO's source size and javac time, then rows/s scoring the 10,000 MNIST test rows
through the POJO (`java` reading the CSV on stdin, JVM start included), through onnxruntime,
through the numpy module and through the cloud's predict (one local node), with each export's
largest probability difference from the cloud's predict and its label agreement.

Run: python bench/export.py [--epochs N]   (default 1 epoch: the export does not depend on
how long the model trained; the booklet's run is 10)
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import data, local_node, mnist_frames

from h2ocloud.demo import PIXELS, TRIAL_RUN


def _agreement(name: str, probs: np.ndarray, labels, want_p: np.ndarray, want_l) -> str:
    diff = float(np.max(np.abs(probs - want_p)))
    same = float(np.mean(np.asarray(labels, dtype=str) == np.asarray(want_l, dtype=str)))
    return f"max |p - cloud p| {diff:.2e}, labels equal {same * 100:.2f}%"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=float, default=1.0)
    ns = ap.parse_args()
    test_df = pd.read_csv(data("mnist_test.csv.gz"), header=None, names=[*PIXELS, "label"])
    rows = len(test_df)
    work = Path(tempfile.mkdtemp(prefix="h2ocloud-export-bench-"))
    try:
        with local_node() as h2o:
            train, test = mnist_frames(h2o)
            m = h2o.H2ODeepLearningEstimator(**{**TRIAL_RUN, "epochs": ns.epochs})
            m.train(x=PIXELS, y="label", training_frame=train)
            print(f"model {m.model_id}: layers {m.summary_json()['layers']}, {ns.epochs:g} epochs")

            t = time.perf_counter()
            pred = m.predict(test)
            cloud_s = time.perf_counter() - t
            want = pred.as_data_frame()
            prob_cols = list(want.columns[1:])
            want_p, want_l = want[prob_cols].to_numpy(np.float64), want["predict"].astype(str)
            print(f"cloud predict (1 node):  {rows / cloud_s:10.0f} rows/s  ({cloud_s:.2f} s)")

            pojo = m.download_pojo(str(work))
            onnx_path = m.download_onnx(str(work / "model.onnx"))
            py = m.download_python(str(work))

        print(f"POJO source: {os.path.getsize(pojo) / 1e6:.2f} MB ({Path(pojo).name})")
        javac = shutil.which("javac")
        if javac is None:
            print("POJO: no javac here (install Debian's default-jdk-headless); skipped")
        else:
            t = time.perf_counter()
            subprocess.run([javac, "-d", str(work), pojo], check=True)
            print(f"javac: {time.perf_counter() - t:.2f} s")
            csv = test_df[PIXELS].to_csv(index=False).encode()
            t = time.perf_counter()
            out = subprocess.run(["java", "-cp", str(work), Path(pojo).stem], input=csv,
                                 capture_output=True, check=True)
            s = time.perf_counter() - t
            got = pd.read_csv(io.BytesIO(out.stdout), dtype={"predict": str})
            print(f"POJO (java, CSV stdin):  {rows / s:10.0f} rows/s  ({s:.2f} s, JVM start and "
                  f"CSV parse included); {_agreement('pojo', got[prob_cols].to_numpy(), got['predict'], want_p, want_l)}")

        import onnxruntime as ort

        sess = ort.InferenceSession(onnx_path)
        feed = {i.name: test_df[i.name].to_numpy(np.float32).reshape(-1, 1) for i in sess.get_inputs()}
        sess.run(None, {k: v[:10] for k, v in feed.items()})  # warm up
        t = time.perf_counter()
        label, probs = sess.run(["label", "probabilities"], feed)
        s = time.perf_counter() - t
        print(f"onnxruntime:             {rows / s:10.0f} rows/s  ({s:.2f} s); "
              f"{_agreement('onnx', probs, label, want_p, want_l)}")

        spec = importlib.util.spec_from_file_location(Path(py).stem, py)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        arr = test_df[mod.COLUMNS].to_numpy(np.float64)
        t = time.perf_counter()
        res = mod.predict(arr)
        s = time.perf_counter() - t
        probs = np.column_stack([res[c] for c in prob_cols])
        print(f"numpy module (2-D array):{rows / s:10.0f} rows/s  ({s:.2f} s); "
              f"{_agreement('numpy', probs, res['predict'], want_p, want_l)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
