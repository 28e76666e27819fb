"""h2o.import_file on a list of files, a folder with a pattern, and http(s) URLs (the node fetches
them); paths resolve on the node, as h2o-py's resolve on the H2O server (issue 12)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import threading

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def parts(tmp_path):
    rng = np.random.default_rng(4)
    frames = []
    for i in range(3):
        df = pd.DataFrame({"a": rng.normal(size=50).round(5), "g": rng.choice(["x", "y", f"only{i}"], 50)})
        df.to_csv(tmp_path / f"part-{i}.csv", index=False)
        frames.append(df)
    (tmp_path / "notes.txt").write_text("notes\nmore\n")
    return tmp_path, frames


@contextlib.contextmanager
def serving(folder):
    """A static HTTP server on 127.0.0.1 (a free port) for the node to fetch from."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _check(fr, want):
    got = fr.as_data_frame()
    np.testing.assert_allclose(got["a"].to_numpy(), want["a"].to_numpy())
    assert list(got["g"].astype(str)) == list(want["g"])
    assert fr.levels()[1] == sorted(set(want["g"]))


def test_list_and_folder_with_pattern(h2o, parts):
    folder, frames = parts
    fr = h2o.import_file([str(folder / "part-2.csv"), str(folder / "part-0.csv")])
    _check(fr, pd.concat([frames[2], frames[0]], ignore_index=True))
    every = h2o.import_file(str(folder), pattern=r"part-\d\.csv$", destination_frame="parts.hex")
    assert every.frame_id == "parts.hex" and every.nrows == 150
    _check(every, pd.concat(frames, ignore_index=True))
    with pytest.raises(FileNotFoundError, match="match pattern"):
        h2o.import_file(str(folder), pattern=r"\.parquet$")
    with pytest.raises(ValueError, match="pattern is not a regular expression"):
        h2o.import_file(str(folder), pattern="(")
    with pytest.raises(ValueError, match=r"part-0.csv: has 2 columns but .*notes.txt has 1"):
        h2o.import_file(str(folder), pattern=r"^(part-0\.csv|notes\.txt)$")


def test_http_urls_are_fetched_by_the_node(h2o, parts):
    folder, frames = parts
    with serving(folder) as base:
        fr = h2o.import_file(f"{base}/part-1.csv")
        _check(fr, frames[1])
        assert fr.frame_id == "part-1.hex"
        both = h2o.import_file([f"{base}/part-0.csv", str(folder / "part-1.csv")])
        _check(both, pd.concat(frames[:2], ignore_index=True))
        with pytest.raises(FileNotFoundError, match=r"cannot fetch http://127\.0\.0\.1:\d+/missing\.csv"):
            h2o.import_file(f"{base}/missing.csv")


def test_relative_paths_resolve_on_the_node(h2o, parts, monkeypatch, tmp_path_factory):
    folder, frames = parts
    node_cwd = os.getcwd()  # the test's daemons were started here and keep this working directory
    rel = os.path.relpath(folder / "part-0.csv", node_cwd)
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))  # the client's own directory differs
    _check(h2o.import_file(rel), frames[0])
    with pytest.raises(FileNotFoundError, match="upload_file"):
        h2o.upload_file(rel)  # upload_file reads the client's files: not there from here


def test_types_structure_describe(h2o, parts, capsys):
    folder, frames = parts
    fr = h2o.import_file(str(folder / "part-0.csv"))
    assert fr.types == {"a": "real", "g": "enum"}
    fr.structure()
    out = capsys.readouterr().out
    assert "H2OFrame: 50 obs. of 2 variables:" in out and " $ g: Factor w/ 3 levels" in out
    assert f" $ a: num {frames[0]['a'].iloc[0]}" in out
    fr.describe()
    out = capsys.readouterr().out
    assert "Rows: 50  Cols: 2" in out and "mean" in out and f"{frames[0]['a'].mean():.4g}" in out
