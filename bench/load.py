"""Benchmark: prediction under load. Prints, for one node and a 3-node cloud, requests/s, rows/s
and p50/p99 latency of 1-row and 1,000-row prediction requests at 1, 8 and 32 concurrent clients;
then the same with a client token on (--auth-token-file) and with TLS and the token on, and the
overhead each adds over plain HTTP.

    python bench/load.py [--seconds 3] [--nodes 1,3] [--clients 1,8,32] [--rows 1,1000]

A request is what a REST client does to score rows: POST /3/Predictions/models/{m}/frames/{f}
(the map/reduce prediction into a new frame), then GET its rows back; the client then deletes the
prediction frame (not timed). Clients are asyncio tasks on aiohttp sessions of their own, spread
over the cloud's nodes round robin, each looping for --seconds. The model is small (10 inputs,
hidden [32, 32]): the figures are the cost of the request path, not of the network.

TLS rows run when this build's node takes --tls-cert (`h2ocloud node --help`); the node gets a
certificate signed by a throwaway CA made here with the openssl command (--tls-ca too, so peers
of the 3-node cloud check each other), and the clients trust that CA.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import _common  # noqa: F401  (puts the repository on sys.path)
import aiohttp
import numpy as np

from tests.cloudfixture import start_cloud

TOKEN = "bench-load-token"
FEATURES = [f"x{i}" for i in range(10)]


def tls_supported() -> bool:
    out = subprocess.run([sys.executable, "-m", "h2ocloud", "node", "--help"], capture_output=True, text=True)
    return "--tls-cert" in out.stdout


def make_certs(folder: Path) -> dict[str, Path]:
    """A throwaway CA and one certificate it signs for 127.0.0.1 (server and client use)."""
    def run(*cmd: str) -> None:
        subprocess.run(["openssl", *cmd], check=True, capture_output=True, cwd=folder)

    (folder / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                    "extendedKeyUsage=serverAuth,clientAuth\n")
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=h2ocloud bench CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr", "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "node.pem", "-days", "2", "-extfile", "ext.cnf")
    return {"ca": folder / "ca.pem", "cert": folder / "node.pem", "key": folder / "node.key"}


class Client:
    """One REST client: its own session (connection), token and TLS context."""

    def __init__(self, base: str, token: str | None, ssl_ctx: ssl.SSLContext | None):
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.ssl = ssl_ctx if ssl_ctx is not None else False
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Client:
        self.session = aiohttp.ClientSession(headers=self.headers, timeout=aiohttp.ClientTimeout(total=120))
        return self

    async def __aexit__(self, *exc) -> None:
        assert self.session is not None
        await self.session.close()

    async def call(self, method: str, path: str, json_body=None, data: bytes | None = None) -> dict:
        assert self.session is not None
        async with self.session.request(method, self.base + path, json=json_body, data=data, ssl=self.ssl) as r:
            out = await r.json(content_type=None)
            if r.status != 200:
                raise RuntimeError(f"{method} {path}: {r.status} {out}")
            return out

    async def wait_job(self, job: dict) -> dict:
        while True:
            j = await self.call("GET", f"/3/Jobs/{job['job_id']}?wait_s=10")
            if j["status"] != "RUNNING":
                if j["status"] != "DONE":
                    raise RuntimeError(f"job failed: {j.get('error')}")
                return j

    async def upload(self, name: str, text: str) -> str:
        out = await self.call("POST", f"/3/PostFile?filename={name}.csv&destination_frame={name}.hex",
                              data=text.encode())
        await self.wait_job(out["job"])
        return out["frame_id"]

    async def predict(self, model: str, frame: str, rows: int) -> float:
        """One request: predict, read the rows back; its latency (s). The frame is then removed."""
        dest = f"bench-pred-{uuid.uuid4().hex[:12]}.hex"
        t0 = time.perf_counter()
        await self.call("POST", f"/3/Predictions/models/{model}/frames/{frame}", {"dest": dest})
        got = await self.call("GET", f"/3/Frames/{dest}/rows?nrows={rows}")
        latency = time.perf_counter() - t0
        if len(got["columns"][0]["values"]) != rows:
            raise RuntimeError(f"{len(got['columns'][0]['values'])} predictions for {rows} rows")
        await self.call("DELETE", f"/3/Frames/{dest}")
        return latency


def csv_text(n: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(FEATURES)))
    y = x @ rng.normal(size=len(FEATURES)) + 0.1 * rng.normal(size=n)
    rows = "".join(",".join(f"{v:.5f}" for v in (*r, t)) + "\n" for r, t in zip(x, y))
    return ",".join(FEATURES + ["y"]) + "\n" + rows


async def prepare(base: str, token: str | None, ssl_ctx) -> None:
    """The frames and the model every mode scores with."""
    async with Client(base, token, ssl_ctx) as c:
        await c.upload("bench_train", csv_text(2000, 1))
        for rows in (1, 1000):
            await c.upload(f"bench_score{rows}", csv_text(rows, 2))
        out = await c.call("POST", "/3/ModelBuilders/deeplearning",
                           {"training_frame": "bench_train.hex", "y": "y",
                            "params": {"hidden": [32, 32], "epochs": 2, "seed": 1, "model_id": "bench_model"}})
        await c.wait_job(out["job"])
        await c.predict("bench_model", "bench_score1.hex", 1)  # warm-up: scoring kernels loaded


async def measure(bases: list[str], token: str | None, ssl_ctx, rows: int, clients: int,
                  seconds: float) -> dict[str, float]:
    """Run `clients` looping clients for `seconds`; requests/s, rows/s, p50 and p99 (ms), errors."""
    latencies: list[float] = []
    errors: list[str] = []
    stop = time.perf_counter() + seconds

    async def one(i: int) -> None:
        async with Client(bases[i % len(bases)], token, ssl_ctx) as c:
            while time.perf_counter() < stop:
                try:
                    latencies.append(await c.predict("bench_model", f"bench_score{rows}.hex", rows))
                except Exception as e:  # counted and reported, the loop goes on
                    errors.append(str(e)[:200])

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(clients)))
    wall = time.perf_counter() - t0
    ms = sorted(x * 1000 for x in latencies) or [float("nan")]
    p99 = statistics.quantiles(ms, n=100)[98] if len(ms) > 1 else ms[0]
    return {"req_s": len(latencies) / wall, "rows_s": len(latencies) * rows / wall,
            "p50": statistics.median(ms), "p99": p99, "errors": len(errors), "n": len(latencies),
            "first_error": errors[0] if errors else ""}


def run_mode(mode: str, n: int, args: list[str], token: str | None, ssl_ctx, opts) -> dict:
    results = {}
    with start_cloud(n, args=args) as cloud:
        scheme = "https" if ssl_ctx is not None else "http"
        bases = [f"{scheme}://127.0.0.1:{node.web_port}" for node in cloud.nodes]
        asyncio.run(prepare(bases[0], token, ssl_ctx))
        for rows in opts.rows:
            for clients in opts.clients:
                r = asyncio.run(measure(bases, token, ssl_ctx, rows, clients, opts.seconds))
                results[(rows, clients)] = r
                err = f"  {r['errors']} errors, e.g. {r['first_error']}" if r["errors"] else ""
                print(f"{mode:<10} {n:>5} {rows:>5} {clients:>7} {r['req_s']:>9.1f} {r['rows_s']:>11,.0f} "
                      f"{r['p50']:>8.1f} {r['p99']:>8.1f} {r['n']:>6}{err}", flush=True)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="each measurement's duration")
    ap.add_argument("--nodes", default="1,3", help="cloud sizes")
    ap.add_argument("--clients", default="1,8,32", help="concurrent clients")
    ap.add_argument("--rows", default="1,1000", help="rows a request scores")
    opts = ap.parse_args()
    opts.rows = [int(x) for x in opts.rows.split(",")]
    opts.clients = [int(x) for x in opts.clients.split(",")]
    sizes = [int(x) for x in opts.nodes.split(",")]

    folder = Path(tempfile.mkdtemp(prefix="h2ocloud-bench-load-"))
    (folder / "token").write_text(TOKEN + "\n")
    token_args = ["--auth-token-file", str(folder / "token")]
    modes: list[tuple[str, list[str], str | None, ssl.SSLContext | None]] = [
        ("plain", [], None, None), ("token", token_args, TOKEN, None)]
    if tls_supported():
        certs = make_certs(folder)
        ctx = ssl.create_default_context(cafile=str(certs["ca"]))
        ctx.load_cert_chain(str(certs["cert"]), str(certs["key"]))  # for a node that asks (mutual TLS)
        tls_args = ["--tls-cert", str(certs["cert"]), "--tls-key", str(certs["key"]), "--tls-ca", str(certs["ca"])]
        modes.append(("tls+token", tls_args + token_args, TOKEN, ctx))
        tls_note = None
    else:
        tls_note = "TLS: not supported by this build (h2ocloud node has no --tls-cert)"

    print(f"prediction load, {opts.seconds:g} s per row; {os.cpu_count()} cores on this machine; "
          "latency = predict + read the rows back")
    print(f"{'mode':<10} {'nodes':>5} {'rows':>5} {'clients':>7} {'req/s':>9} {'rows/s':>11} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'reqs':>6}")
    results: dict[tuple[str, int], dict] = {}
    for n in sizes:
        for mode, args, token, ctx in modes:
            try:
                results[(mode, n)] = run_mode(mode, n, args, token, ctx, opts)
            except Exception as e:  # a mode that cannot start is reported, the others still run
                print(f"{mode:<10} {n:>5}  could not run: {type(e).__name__}: {str(e)[:300]}")
    if tls_note:
        print(tls_note)
    print("overhead over plain (p50 latency, req/s):")
    for (mode, n), res in results.items():
        if mode == "plain" or ("plain", n) not in results:
            continue
        plain = results[("plain", n)]
        for key, r in res.items():
            p = plain[key]
            print(f"  {mode:<10} {n} node(s), {key[0]:>4} rows, {key[1]:>2} clients: p50 {r['p50'] - p['p50']:+.1f} ms "
                  f"({(r['p50'] / p['p50'] - 1) * 100:+.0f}%), req/s {(r['req_s'] / p['req_s'] - 1) * 100:+.0f}%")


if __name__ == "__main__":
    main()
