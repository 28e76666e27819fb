"""Streaming parse against pandas, chunking, enum domains and bad input."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from h2ocloud.frame import FrameHeader, ParseError, parse_file, parse_table, to_pandas
from h2ocloud.frame.parse import default_chunk_rows
from h2ocloud.frame.setup import guess_setup

RNG = np.random.default_rng(11)


def synthetic(n: int = 3000) -> pd.DataFrame:
    """Mixed columns: small ints, floats with NAs, a factor whose levels drift by row."""
    colour = np.where(np.arange(n) < n // 2, RNG.choice(["red", "green"], n),
                      RNG.choice(["blue", "green", "zebra"], n)).astype(object)
    colour[RNG.random(n) < 0.05] = None
    real = RNG.normal(size=n).round(3)
    real[RNG.random(n) < 0.1] = np.nan
    return pd.DataFrame({
        "id": np.arange(n, dtype=np.float64),
        "small": RNG.integers(-3, 4, n).astype(np.float64),
        "real": real,
        "colour": colour,
    })


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False, na_rep="")
    return path


def assert_frame_matches(header: FrameHeader, chunks: list, expected: pd.DataFrame) -> None:
    got = to_pandas(header, chunks)
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected) == header.nrows
    for name in expected.columns:
        exp = expected[name]
        if header.is_enum(name):
            np.testing.assert_array_equal(got[name].astype(object).where(got[name].notna(), None),
                                          exp.astype(object).where(exp.notna(), None))
        else:
            np.testing.assert_allclose(got[name].to_numpy(), exp.to_numpy(dtype=np.float64),
                                       rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("kind", ["csv", "gz", "zip", "parquet"])
def test_formats_equal_pandas(tmp_path: Path, collector, kind: str) -> None:
    df = synthetic()
    csv_path = write_csv(df, tmp_path / "s.csv")
    if kind == "gz":
        path = tmp_path / "s.csv.gz"
        path.write_bytes(gzip.compress(csv_path.read_bytes()))
    elif kind == "zip":
        path = tmp_path / "s.csv.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(csv_path, "s.csv")
    elif kind == "parquet":
        path = tmp_path / "s.parquet"
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)
    else:
        path = csv_path
    header = parse_file(path, emit=collector, chunk_rows=700)
    assert header.types == ["numeric", "numeric", "numeric", "enum"]
    assert header.domains[3] == ["blue", "green", "red", "zebra"]
    assert header.chunk_rows == [700] * 4 + [200]
    assert collector.order == list(range(5))  # emitted as made, in order
    assert_frame_matches(header, collector.ordered(), pd.read_csv(csv_path))
    assert FrameHeader.from_dict(header.to_dict()).to_dict() == header.to_dict()


def test_weather_equals_pandas(data_dir: Path, collector) -> None:
    path = data_dir / "weather.csv"
    header = parse_file(path, emit=collector)
    expected = pd.read_csv(path, parse_dates=["Date"])
    # As H2O: the Date column is a time column, milliseconds since the epoch.
    expected["Date"] = (expected["Date"] - pd.Timestamp("1970-01-01")) // pd.Timedelta(milliseconds=1)
    assert header.names == list(expected.columns)
    for name in expected.columns:  # pandas' object columns are our enums
        assert header.is_enum(name) == (not pd.api.types.is_numeric_dtype(expected[name])), name
    assert_frame_matches(header, collector.ordered(), expected)


def test_small_chunks_concatenate_to_whole(tmp_path: Path, collector) -> None:
    df = synthetic(5000)
    path = write_csv(df, tmp_path / "s.csv")
    whole: list = []
    h_whole = parse_file(path, emit=lambda i, c: whole.append(c), chunk_rows=10**6)
    h_small = parse_file(path, emit=collector, chunk_rows=333)
    assert h_whole.nchunks == 1 and h_small.nchunks == 16
    assert h_small.row_offsets == list(range(0, 5000, 333))
    chunks = collector.ordered()
    assert [c.row_offset for c in chunks] == h_small.row_offsets
    pd.testing.assert_frame_equal(to_pandas(h_small, chunks), to_pandas(h_whole, whole))
    assert h_small.domains == h_whole.domains
    for a, b in zip(h_small.stats, h_whole.stats, strict=True):
        for key in ("min", "max", "missing", "zeros", "cardinality"):
            assert a[key] == b[key] or (a[key] != a[key] and b[key] != b[key])
        assert np.isclose(a["mean"], b["mean"], equal_nan=True)
        assert np.isclose(a["sigma"], b["sigma"], equal_nan=True)


def test_enum_codes_consistent_across_chunks(tmp_path: Path, collector) -> None:
    levels = ["delta", "alpha", "charlie", "bravo"]
    values = [levels[i // 50 % 4] if i % 7 else levels[(i // 50 + 1) % 4] for i in range(400)]
    path = tmp_path / "e.csv"
    path.write_text("lev\n" + "\n".join(values) + "\n")
    header = parse_file(path, emit=collector, chunk_rows=50, header=1)
    chunks = collector.ordered()
    local_domains = {tuple(c.columns[0].meta["domain"]) for c in chunks}
    assert len(local_domains) > 1  # chunks saw different levels...
    assert header.domains[0] == sorted(levels)
    got = np.concatenate([c.column(0, header.domains[0]) for c in chunks])
    expected = np.array([sorted(levels).index(v) for v in values])
    np.testing.assert_array_equal(got, expected)  # ...but one global coding


def test_non_numbers_in_numeric_column_become_na(tmp_path: Path, collector) -> None:
    rows = [f"{i},{i * 2}" for i in range(3000)]
    rows[2500] = "2500,oops"  # beyond the setup sample: pyarrow meets it mid-stream
    path = tmp_path / "n.csv"
    path.write_text("a,b\n" + "\n".join(rows) + "\n")
    header = parse_file(path, emit=collector, chunk_rows=1000)
    assert header.types == ["numeric", "numeric"]
    b = np.concatenate([c.column("b") for c in collector.ordered()])
    expected = np.arange(3000) * 2.0
    expected[2500] = np.nan
    np.testing.assert_array_equal(b, expected)
    assert header.stats[1]["missing"] == 1
    assert sorted(set(collector.order)) == [0, 1, 2]  # no chunk lost or duplicated


def test_na_strings_by_column_and_global(tmp_path: Path, collector) -> None:
    path = tmp_path / "na.csv"
    path.write_text("a,b,c\n1,x,-999\nnull,y,5\n3,?,-999\n")
    header = parse_file(path, emit=collector,
                        na_strings={"a": ["null"], "b": ["?"], "c": ["-999"]})
    chunk = collector.ordered()[0]
    np.testing.assert_array_equal(chunk.column("a"), [1, np.nan, 3])
    np.testing.assert_array_equal(chunk.column("b", header.domains[1]), [0, 1, -1])
    np.testing.assert_array_equal(chunk.column("c"), [np.nan, 5, np.nan])
    assert header.domains[1] == ["x", "y"]


def test_string_column(tmp_path: Path, collector) -> None:
    path = tmp_path / "s.csv"
    path.write_text('id,text\n1,"hello, world"\n2,\n3,ünïcode\n')
    header = parse_file(path, emit=collector, col_types={"text": "string"})
    assert header.types == ["numeric", "string"] and header.domains[1] is None
    assert list(collector.ordered()[0].column("text")) == ["hello, world", None, "ünïcode"]
    assert header.stats[1]["missing"] == 1


def test_mnist_one_byte_a_cell(data_dir: Path, collector) -> None:
    header = parse_file(data_dir / "mnist_test.csv.gz", emit=collector)
    assert header.nrows == 10000 and header.ncols == 785
    assert header.nbytes / (header.nrows * header.ncols) <= 1.05
    assert header.nchunks > 1
    label = np.concatenate([c.column(784) for c in collector.ordered()])
    assert set(np.unique(label)) == set(range(10))
    assert header.stats[784]["min"] == 0 and header.stats[784]["max"] == 9


def test_default_chunk_rows() -> None:
    class S:
        bytes_per_row, est_rows = 785.0, 100_000
    rows = default_chunk_rows(S())  # type: ignore[arg-type]
    assert 1000 <= rows <= 2000
    S.bytes_per_row, S.est_rows = 8.0, 10**6
    assert default_chunk_rows(S()) <= 10**6 // 4  # several chunks for a cloud to spread


def test_parse_table_inputs(collector) -> None:
    df = synthetic(1500)
    header = parse_table(df, emit=collector, chunk_rows=400, frame_id="t.hex")
    assert header.frame_id == "t.hex" and header.nchunks == 4
    assert_frame_matches(header, collector.ordered(), df)
    arr = RNG.integers(0, 256, (50, 3)).astype(np.uint8)
    chunks: list = []
    h = parse_table(arr, emit=lambda i, c: chunks.append(c))
    assert h.names == ["C1", "C2", "C3"] and h.nbytes <= arr.size
    np.testing.assert_array_equal(to_pandas(h, chunks).to_numpy(), arr)
    chunks = []
    h = parse_table({"x": [1, 2, None], "y": ["a", None, "b"]}, emit=lambda i, c: chunks.append(c))
    assert h.types == ["numeric", "enum"] and h.stats[0]["missing"] == 1


# --------------------------------------------------------------------------- bad input


def _bad(path: Path, match: str, line: int | None = None, **kw) -> None:
    with pytest.raises(ParseError, match=match) as err:
        parse_file(path, emit=lambda i, c: None, **kw)
    assert str(path) in str(err.value)
    if line is not None:
        assert err.value.line == line and f"line {line}" in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    _bad(tmp_path / "nope.csv", "no such file")


def test_directory(tmp_path: Path) -> None:
    _bad(tmp_path, "directory")


def test_empty_files(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text("")
    _bad(tmp_path / "e.csv", "empty")
    (tmp_path / "w.csv").write_text("\n\n  \n")
    _bad(tmp_path / "w.csv", "empty")
    (tmp_path / "e.csv.gz").write_bytes(gzip.compress(b""))
    _bad(tmp_path / "e.csv.gz", "empty")


def test_ragged_row_in_sample(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text("a,b,c\n1,2,3\n4,5\n6,7,8\n")
    _bad(p, "ragged", line=3)


def test_ragged_row_beyond_sample(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    lines = ["a,b,c"] + [f"{i},{i},{i}" for i in range(90000)]
    lines[85001] = "1,2"
    p.write_text("\n".join(lines) + "\n")
    assert p.stat().st_size > (1 << 20)  # past the setup's sample
    _bad(p, "ragged", line=85002)


def test_binary_file(tmp_path: Path) -> None:
    p = tmp_path / "b.csv"
    p.write_bytes(b"a,b\n1,2\n" + bytes(range(256)) * 4)
    _bad(p, "binary|UTF-8", line=3)
    p2 = tmp_path / "l.csv"
    p2.write_bytes("a,b\nx,\xe9\n".encode("latin-1"))
    _bad(p2, "UTF-8", line=2)


def test_header_only(tmp_path: Path) -> None:
    p = tmp_path / "h.csv"
    p.write_text("alpha,beta,gamma\n")
    _bad(p, "header")
    _bad(p, "header", header=1)


def test_zip_with_two_members(tmp_path: Path) -> None:
    p = tmp_path / "two.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("a.csv", "1\n")
        zf.writestr("b.csv", "2\n")
    _bad(p, "exactly one file")


def test_bad_overrides(tmp_path: Path) -> None:
    p = tmp_path / "f.csv"
    p.write_text("a,b\n1,2\n")
    _bad(p, "unknown column 'z'", col_types={"z": "enum"})
    _bad(p, "col_names has 3 names", col_names=["x", "y", "z"])


def test_corrupt_gzip(tmp_path: Path) -> None:
    p = tmp_path / "c.csv.gz"
    p.write_bytes(gzip.compress(b"a,b\n" + b"1,2\n" * 1000)[:-30])
    with pytest.raises(ParseError) as err:
        parse_file(p, emit=lambda i, c: None)
    assert str(p) in str(err.value)


def test_setup_reuse(tmp_path: Path, collector) -> None:
    p = tmp_path / "s.csv"
    p.write_text("a,b\n1,10\n2,9\n3,10\n")
    setup = guess_setup(p)
    setup.column_types[1] = "enum"  # edited setup, as H2O's ParseSetup then Parse
    header = parse_file(p, emit=collector, setup=setup)
    assert header.types == ["numeric", "enum"] and header.domains[1] == ["10", "9"]


def test_late_surprises_widen_columns(tmp_path: Path, collector, monkeypatch) -> None:
    """Integers in the sample, then a float, a huge integer and a BOM: nothing is lost."""
    monkeypatch.setattr("h2ocloud.frame.csvread.CSV_BLOCK_BYTES", 64 << 10)  # many blocks
    n = 120_000
    a = np.arange(n, dtype=np.float64)
    b = np.arange(n, dtype=np.float64) % 7
    a[100_000], b[110_000] = 2.5, 3e12
    body = "\n".join(f"{x:g},{y:.0f}" for x, y in zip(a, b, strict=True))
    path = tmp_path / "w.csv"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode() + b"\n")  # BOM, no header
    header = parse_file(path, emit=collector, chunk_rows=25_000)
    assert header.names == ["C1", "C2"] and header.nrows == n
    got = to_pandas(header, collector.ordered())
    np.testing.assert_array_equal(got["C1"].to_numpy(), a)
    np.testing.assert_array_equal(got["C2"].to_numpy(), b)
    assert collector.order == list(range(5))  # widening re-read emitted nothing twice


def test_crlf_quotes_and_no_final_newline(tmp_path: Path, collector) -> None:
    path = tmp_path / "q.csv"
    path.write_bytes(b'name,score\r\n"Smith, J",1.5\r\n"O""Brien",2\r\nLee,NA')
    header = parse_file(path, emit=collector)
    chunk = collector.ordered()[0]
    assert header.domains[0] == ["Lee", 'O"Brien', "Smith, J"]
    np.testing.assert_array_equal(chunk.column("score"), [1.5, 2.0, np.nan])


def test_binary_beyond_sample_names_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("h2ocloud.frame.setup.SAMPLE_BYTES", 1 << 10)
    lines = [b"name,v"] + [b"x%d,%d" % (i, i) for i in range(500)]
    lines[400] = b"\xff\xfe,1"
    path = tmp_path / "late.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    _bad(path, "UTF-8", line=401)


def test_failing_emit_leaves_no_threads(tmp_path: Path) -> None:
    import threading

    path = write_csv(synthetic(3000), tmp_path / "s.csv")
    before = threading.active_count()

    def emit(index: int, chunk) -> None:
        if index == 1:
            raise RuntimeError("store full")

    with pytest.raises(RuntimeError, match="store full"):
        parse_file(path, emit=emit, chunk_rows=500)
    assert threading.active_count() == before


def test_fast_numeric_path_equals_arrow_path(tmp_path: Path, monkeypatch) -> None:
    """All-numeric files take the Numba parser; it must agree with pyarrow exactly, also
    when it gives up half-way (an "NA" in a late block) and pyarrow takes over."""
    import h2ocloud.frame.csvread as csvread

    monkeypatch.setattr(csvread, "CSV_BLOCK_BYTES", 32 << 10)
    n = 6000
    cols = {
        "i": RNG.integers(-500, 500, n).astype(str),
        "f": np.char.mod("%.6g", RNG.normal(size=n) * 1e3),
        "e": np.char.mod("%.3e", RNG.random(n)),
        "z": np.where(RNG.random(n) < 0.1, "", RNG.integers(0, 9, n).astype(str)),
    }
    rows = [",".join(r) for r in zip(*cols.values(), strict=True)]
    rows[5000] = rows[5000].split(",", 1)[0] + ",NA,1e-3,"
    path = tmp_path / "num.csv"
    path.write_text("i,f,e,z\n" + "\n".join(rows) + "\n")
    calls: list[int] = []
    real = csvread.try_parse_numeric

    def counting(*a):
        out = real(*a)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(csvread, "try_parse_numeric", counting)
    fast: dict = {}
    h_fast = parse_file(path, emit=fast.__setitem__, chunk_rows=1000)
    assert any(calls) and not all(calls)  # some blocks fast, then pyarrow took over
    monkeypatch.setattr(csvread, "fast_path_applies", lambda setup: False)
    slow: dict = {}
    h_slow = parse_file(path, emit=slow.__setitem__, chunk_rows=1000)
    a = to_pandas(h_fast, [fast[i] for i in sorted(fast)])
    b = to_pandas(h_slow, [slow[i] for i in sorted(slow)])
    pd.testing.assert_frame_equal(a, b)
    expected = pd.read_csv(path)
    np.testing.assert_array_equal(a.to_numpy(), expected.to_numpy(dtype=np.float64))


def test_dates_become_time_columns_in_milliseconds(tmp_path: Path, collector) -> None:
    rows = ["2007-11-6,a,2007-11-06 10:22:01,2007/1/5,5", "2008-02-29,b,2008-02-29T23:59,2007/1/6,x",
            ",c,NA,2007/1/7,x", "2009-1-1,d,2009-01-01 00:00,2007/1/8,y"]
    path = tmp_path / "dates.csv"
    path.write_text("day,word,stamp,slash,mixed\n" + "\n".join(rows) + "\n")
    header = parse_file(path, emit=collector)
    assert header.types == ["numeric", "enum", "numeric", "numeric", "enum"]
    frame = to_pandas(header, collector.ordered())

    def ms(text: str) -> float:
        return float((pd.Timestamp(text) - pd.Timestamp("1970-01-01")) // pd.Timedelta(milliseconds=1))

    assert frame["day"].iloc[0] == ms("2007-11-06") and np.isnan(frame["day"].iloc[2])
    assert frame["day"].iloc[3] == ms("2009-01-01")
    assert frame["stamp"].tolist()[:2] == [ms("2007-11-06 10:22:01"), ms("2008-02-29 23:59")]
    assert frame["slash"].iloc[3] == ms("2007-01-08")
    # The user can keep dates as factors.
    collector2: dict = {}
    h2 = parse_file(path, emit=lambda i, c: collector2.__setitem__(i, c), col_types={"day": "enum"})
    assert h2.types[0] == "enum" and "2007-11-6" in h2.domains[0]


def test_quoted_fields_may_span_lines_across_blocks(tmp_path: Path, collector, monkeypatch) -> None:
    from h2ocloud.frame import csvread

    monkeypatch.setattr(csvread, "CSV_BLOCK_BYTES", 50)  # many blocks, cut inside quoted fields
    notes = ['plain', 'two\nlines', 'say ""hi""\nthen\nbye', 'comma, inside', '']
    df = pd.DataFrame({"x": np.arange(200, dtype=float),
                       "note": [notes[i % len(notes)] + str(i) for i in range(200)],
                       "y": np.arange(200) * 0.5})
    path = tmp_path / "quoted.csv"
    df.to_csv(path, index=False)
    assert '"two\nlines1"' in path.read_text()
    header = parse_file(path, emit=collector, chunk_rows=64)
    assert header.nrows == 200 and header.types == ["numeric", "enum", "numeric"]
    got = to_pandas(header, collector.ordered())
    assert got["note"].astype(str).tolist() == df["note"].tolist()
    np.testing.assert_array_equal(got["y"].to_numpy(), df["y"].to_numpy())
