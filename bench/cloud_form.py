"""Benchmark: how fast a local cloud forms, and how fast a SIGKILLed node is declared dead.

Starts real daemons (separate processes on 127.0.0.1, flatfile discovery, heartbeat interval
0.5 s) and prints, for each run:
  - up:        process start until every node answers /3/Cloud (mostly Python start-up),
  - formed:    process start until every node reports the full cloud with one epoch (consensus),
  - dead:      SIGKILL of one node of 3 until every survivor lists it under dead_nodes
               (--heartbeat-timeout 3), and until the survivors agree again (size 2, one epoch).

Run from the repository root: python bench/cloud_form.py [--reps 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.cloudfixture

from tests.cloudfixture import Cloud, NodeProc, free_ports  # noqa: E402

HEARTBEAT_TIMEOUT = 3.0
POLL_S = 0.05


def _poll(pred, timeout: float) -> float:
    """Seconds until pred() holds (polling every POLL_S); raise after timeout."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        try:
            if pred():
                return time.perf_counter() - t0
        except OSError:
            pass
        time.sleep(POLL_S)
    raise TimeoutError("condition not reached")


def _formed(nodes: list[NodeProc], size: int) -> bool:
    sts = [n.status() for n in nodes]
    return all(s["cloud_size"] == size and s["consensus"] for s in sts) and len({s["epoch"] for s in sts}) == 1


def one_run(n: int, kill: bool) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix="h2ocloud-bench-"))
    ports = free_ports(2 * n)
    flat = workdir / "flatfile"
    flat.write_text("".join(f"127.0.0.1:{ports[2 * i + 1]}\n" for i in range(n)))
    name = f"bench-{ports[0]}"
    args = ["--name", name, "--heartbeat-interval", "0.5", "--heartbeat-timeout", str(HEARTBEAT_TIMEOUT),
            "--flatfile", str(flat), "--nthreads", "1"]
    nodes = [NodeProc(ports[2 * i], ports[2 * i + 1], workdir / f"n{i}.log", list(args)) for i in range(n)]
    cloud = Cloud(nodes, workdir, name)
    out: dict[str, float] = {}
    try:
        t0 = time.perf_counter()
        for nd in nodes:
            nd.start()
        _poll(lambda: all(nd.status() for nd in nodes), 60)
        out["up"] = time.perf_counter() - t0
        _poll(lambda: _formed(nodes, n), 60)
        out["formed"] = time.perf_counter() - t0
        if kill:
            victim, others = nodes[-1], nodes[:-1]
            vid = victim.status()["node_id"]
            t1 = time.perf_counter()
            victim.kill()
            _poll(lambda: all(vid in {d["node_id"] for d in s["dead_nodes"]} for s in (o.status() for o in others)), 30)
            out["dead"] = time.perf_counter() - t1
            _poll(lambda: _formed(others, n - 1), 30)
            out["agreed"] = time.perf_counter() - t1
    finally:
        cloud.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ns = ap.parse_args()
    for n, kill in ((3, True), (5, False)):
        runs = [one_run(n, kill) for _ in range(ns.reps)]
        for key in runs[0]:
            vals = [r[key] for r in runs]
            label = {"up": "processes up", "formed": "cloud formed (consensus)",
                     "dead": f"SIGKILLed node declared dead (timeout {HEARTBEAT_TIMEOUT:g}s)",
                     "agreed": "survivors agree again (size, epoch)"}[key]
            print(f"{n} nodes  {label:<48} median {statistics.median(vals):6.2f} s   "
                  f"runs {' '.join(f'{v:.2f}' for v in vals)}", flush=True)


if __name__ == "__main__":
    main()
