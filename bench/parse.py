"""Benchmark: h2o.import_file() as the client sees it vs pandas.read_csv, and stored bytes per cell.

The file is 100,000 MNIST rows (mnist_test.csv.gz repeated ten times), gzipped. Prints the median
of 3 runs of each and the ratio; the target is ratio <= 1.0 and <= 1.05 stored bytes per cell.
Run: python bench/parse.py
"""

from __future__ import annotations

import gzip
import statistics
import tempfile
import time
from pathlib import Path

from _common import data, local_node


def make_file() -> Path:
    src = gzip.decompress(data("mnist_test.csv.gz").read_bytes())
    out = Path(tempfile.gettempdir()) / "h2ocloud-bench-mnist100k.csv.gz"
    if not out.exists():
        out.write_bytes(gzip.compress(src * 10, compresslevel=6))
    return out


def main() -> None:
    import pandas as pd

    path = make_file()
    with local_node() as h2o:
        h2o.no_progress()
        h2o.import_file(str(data("ecg_discord_train.csv")))  # warm the node's parser
        times, fr = [], None
        for i in range(3):
            t = time.perf_counter()
            fr = h2o.import_file(str(path), destination_frame=f"mnist100k_{i}.hex")
            times.append(time.perf_counter() - t)
        info, _ = h2o.connection().call("frames.get", {"frame_id": fr.frame_id})
        cells = info["nrows"] * len(info["names"])
        pd_times = []
        for _ in range(3):
            t = time.perf_counter()
            df = pd.read_csv(path, header=None)
            pd_times.append(time.perf_counter() - t)
        assert df.shape == (info["nrows"], len(info["names"]))
    ours, theirs = statistics.median(times), statistics.median(pd_times)
    print(f"file: {path.name} ({path.stat().st_size / 2**20:.1f} MiB gzipped), {info['nrows']} rows x {len(info['names'])} cols")
    print(f"h2o.import_file median of 3: {ours:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in times)})")
    print(f"pandas.read_csv median of 3: {theirs:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in pd_times)})")
    print(f"ratio import/pandas: {ours / theirs:.2f}  (target <= 1.0)")
    print(f"stored bytes: {info['nbytes']} for {cells} cells = {info['nbytes'] / cells:.3f} bytes/cell (target <= 1.05), {info['nchunks']} chunks")


if __name__ == "__main__":
    main()
