"""Load (issue 15): 32 concurrent clients predicting on one model through one node while 4 training
jobs run at once. Every prediction equals the model's answer alone, every training job ends with
the model a reproducible run alone gives, no request fails; once it is over (the outputs
removed), the node's DKV bytes are back at their baseline and its RSS within 20% (+50 MB) of it.

Clients are threads with their own HTTP connections to the REST API (as 32 users' scripts would
be); the node is a real daemon of its own, so its memory is this test's alone.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.cloudfixture import start_cloud
from tests.web.rest import ok, wait_job

CLIENTS = 32
PREDICTS_PER_CLIENT = 10
TRAINING_JOBS = 4
PARAMS = {"hidden": [8], "epochs": 200, "seed": 7, "reproducible": True, "activation": "Rectifier"}


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def dkv_bytes(base: str) -> int:
    st = ok(f"{base}/3/Cloud")
    return next(n["bytes"] for n in st["nodes"] if n["node_id"] == st["node_id"])


def q(key: str) -> str:
    return urllib.parse.quote(key, safe="")


def predict_once(base: str, model: str, frame: str, dest: str) -> dict:
    """Predict into `dest`, read the predictions back, remove them."""
    ok(f"{base}/3/Predictions/models/{q(model)}/frames/{q(frame)}", "POST", {"dest": dest})
    rows = ok(f"{base}/3/Frames/{q(dest)}/rows?nrows=1000")
    ok(f"{base}/3/Frames/{q(dest)}", "DELETE")
    return {c["name"]: c["values"] for c in rows["columns"]}


def train(base: str, model_id: str) -> dict:
    out = ok(f"{base}/3/ModelBuilders/deeplearning", "POST",
             {"training_frame": "load_train.hex", "y": "y", "params": {**PARAMS, "model_id": model_id}})
    return out["job"]


def training_logloss(base: str, model_id: str) -> float:
    return ok(f"{base}/3/Models/{q(model_id)}")["training_metrics"]["logloss"]


@pytest.mark.slow
def test_32_clients_predict_while_4_models_train():
    with start_cloud(1) as cloud:
        node = cloud.nodes[0]
        base = node.url
        rows = "".join(f"{i % 11},{(i * 7) % 13},{(i * 3) % 5 - 2},{'p' if (i % 11) + (i * 3) % 5 > 6 else 'q'}\n"
                       for i in range(400))
        for name in ("load_train", "load_score"):
            out = ok(f"{base}/3/PostFile?filename={name}.csv&destination_frame={name}.hex", "POST",
                     data=("a,b,c,y\n" + rows).encode())
            assert wait_job(base, out["job"])["status"] == "DONE"
        # warm up everything the load uses (kernels compiled or loaded, thread pools started)
        assert wait_job(base, train(base, "ref"))["status"] == "DONE"
        expected = predict_once(base, "ref", "load_score.hex", "warm.hex")
        assert len(expected["predict"]) == 400 and set(expected["predict"]) <= {"p", "q"}
        ref_logloss = training_logloss(base, "ref")
        assert wait_job(base, train(base, "warm"))["status"] == "DONE"
        ok(f"{base}/3/Models/warm", "DELETE")
        time.sleep(1.0)
        base_dkv, base_rss = dkv_bytes(base), rss_bytes(node.proc.pid)

        failures: list[str] = []
        lock = threading.Lock()

        def client(c: int) -> int:
            done = 0
            for k in range(PREDICTS_PER_CLIENT):
                try:
                    got = predict_once(base, "ref", "load_score.hex", f"load-pred-{c}-{k}.hex")
                    if got != expected:
                        raise AssertionError(f"client {c}: predictions differ from the model's alone")
                    done += 1
                except Exception as e:  # every failure is reported, none stops the others
                    with lock:
                        failures.append(f"client {c} request {k}: {type(e).__name__}: {e}")
            return done

        started = time.time()
        jobs = [train(base, f"load-m{j}") for j in range(TRAINING_JOBS)]  # 4 at once
        with ThreadPoolExecutor(CLIENTS) as pool:
            answered = sum(pool.map(client, range(CLIENTS)))
        ends = [wait_job(base, j) for j in jobs]
        elapsed = time.time() - started
        assert not failures, failures[:5]
        assert answered == CLIENTS * PREDICTS_PER_CLIENT
        assert [j["status"] for j in ends] == ["DONE"] * TRAINING_JOBS, [j.get("error") for j in ends]
        for j in range(TRAINING_JOBS):  # reproducible: the same model as the one trained alone
            assert training_logloss(base, f"load-m{j}") == pytest.approx(ref_logloss, rel=1e-6)
            ok(f"{base}/3/Models/load-m{j}", "DELETE")

        deadline = time.time() + 30
        while dkv_bytes(base) != base_dkv and time.time() < deadline:
            time.sleep(0.5)
        after_dkv, after_rss = dkv_bytes(base), rss_bytes(node.proc.pid)
        print(f"load: {answered} predictions by {CLIENTS} clients and {TRAINING_JOBS} training jobs in "
              f"{elapsed:.1f} s; DKV {base_dkv:,} -> {after_dkv:,} bytes; RSS {base_rss / 2**20:.0f} -> "
              f"{after_rss / 2**20:.0f} MB")
        assert after_dkv == base_dkv, f"DKV bytes {base_dkv:,} before the load, {after_dkv:,} after"
        assert after_rss <= 1.2 * base_rss + (50 << 20), f"RSS {base_rss:,} -> {after_rss:,}"
        assert node.alive() and ok(f"{base}/3/Ready")
