"""Timing (not a test): parse_file vs pandas.read_csv on 100,000 MNIST rows, gzipped.

Run: python tests/frame/bench_parse.py [--rows-file /tmp/mnist100k.csv.gz]
Builds the file by repeating ../shared/data/mnist_test.csv.gz ten times, then prints the
seconds of each reader and the stored bytes a cell of our chunks.
"""

from __future__ import annotations

import argparse
import gzip
import time
from pathlib import Path

import pandas as pd

from h2ocloud.frame import Chunk, parse_file

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def build(path: Path, repeats: int = 10) -> None:
    """Write ``repeats`` copies of the MNIST test set into one gzip file."""
    raw = gzip.decompress((DATA / "mnist_test.csv.gz").read_bytes())
    with gzip.open(path, "wb", compresslevel=6) as f:
        for _ in range(repeats):
            f.write(raw)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows-file", default="/tmp/mnist100k.csv.gz")
    ap.add_argument("--wire", action="store_true", help="also serialize each chunk (to_wire)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    path = Path(args.rows_file)
    if not path.exists():
        build(path)
    stored = {"bytes": 0, "chunks": 0}

    def emit(_i: int, chunk: Chunk) -> None:
        stored["chunks"] += 1
        if args.wire:
            _meta, bufs = chunk.to_wire()
            stored["bytes"] += sum(len(b) for b in bufs)

    # Alternate the readers and keep each one's best run: the machine may be shared.
    ours, theirs = [], []
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        hdr = parse_file(path, emit=emit)
        ours.append((time.perf_counter() - t0, time.process_time() - c0))
        t0, c0 = time.perf_counter(), time.process_time()
        df = pd.read_csv(path, header=None)
        theirs.append((time.perf_counter() - t0, time.process_time() - c0))
    cells = hdr.nrows * hdr.ncols
    (t_ours, c_ours), (t_pd, c_pd) = min(ours), min(theirs)
    print(f"rows={hdr.nrows} cols={hdr.ncols} chunks={hdr.nchunks} (rows/chunk {hdr.chunk_rows[0]})"
          f", best of {args.repeat}")
    print(f"parse_file      {t_ours:6.2f} s wall {c_ours:6.2f} s cpu  "
          f"stored {hdr.nbytes / cells:.3f} bytes/cell")
    print(f"pandas.read_csv {t_pd:6.2f} s wall {c_pd:6.2f} s cpu  "
          f"({df.memory_usage().sum() / cells:.1f} bytes/cell in memory)")
    print(f"ratio ours/pandas = {t_ours / t_pd:.2f}")

if __name__ == "__main__":
    main()
