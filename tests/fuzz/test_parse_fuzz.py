"""Random bytes and CSV-like text at the parser (issue 15, bad input at every entry).

Each file, with random parse options, must parse to a frame whose chunks hold every row the
header counts, or be refused by a ParseError naming the file (a ValueError: INVALID_ARGUMENT /
HTTP 400 on the node) -- never an IndexError, a UnicodeDecodeError, a hang. Most examples call
the parse library in process (the node's parse job calls the same parse_files); a smaller number
go through a real node's upload (client gRPC and REST) and import, where the job's error must
be the same named one and the node must stay up.
"""

from __future__ import annotations

import gzip
import json
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from h2ocloud.frame import csvread
from h2ocloud.frame.errors import ParseError
from h2ocloud.frame.parse import parse_file
from tests.cloudfixture import start_cloud
from tests.fuzz.strategies import examples, files, huge_field_csv, packed, parse_options
from tests.web.rest import call, wait_job

# Types a failed parse job may report: each names the problem in its message.
NAMED_ERRORS = {"ParseError", "ValueError", "OpArgumentError", "LimitExceeded", "TypeError"}


@contextmanager
def block_bytes(n: int | None):
    """Cut the text into blocks of n bytes (the reader's 4 MiB otherwise), so small files cross
    block boundaries: the cut must never fall inside a quoted field or a character."""
    saved = csvread.CSV_BLOCK_BYTES
    csvread.CSV_BLOCK_BYTES = n or saved
    try:
        yield
    finally:
        csvread.CSV_BLOCK_BYTES = saved


def parse_outcome(path: Path, options: dict) -> tuple[int, int] | ParseError:
    """(rows, columns) of the parse, or the ParseError; anything else raises (the test fails)."""
    rows: dict[int, int] = {}
    try:
        h = parse_file(path, emit=lambda i, c: rows.__setitem__(i, c.nrows), **options)
    except ParseError as e:
        assert e.detail.strip() and str(e).startswith(str(path)), f"an error that names nothing: {e}"
        return e
    assert sorted(rows) == list(range(len(rows))), "chunks missing or out of order"
    assert sum(rows.values()) == h.nrows > 0 and h.ncols == len(h.names) == len(h.types)
    return h.nrows, h.ncols


def _write(tmp_path_factory, data: bytes) -> Path:
    p = tmp_path_factory.mktemp("fuzz") / "input.csv"
    p.write_bytes(data)
    return p


# The faults the issue names, fixed now, kept as examples: CR-only lines, one huge field, an
# unclosed quote, and separators and header choices that gave IndexError.
@example(b"a,b\r1,x\r3,y\r5,z", {}, None)
@example(b'a,b\n1,x\n2,"never closed\n3,y\n', {}, None)
@example(b"a;b\n1;2\n", {"sep": '"', "header": 1}, None)
@example(b"a;b\n1;2\n", {"sep": "\n"}, None)
@example(b"\nNA", {"sep": "é"}, None)
@example(b"\n\n\n", {"sep": "\n"}, None)
@example(b"x\n", {"header": 1}, None)
@example(b'"a"b,c\n1,2\n', {}, 16)
@example(b'a,b\n"1\n2",3\n4,"5\r\n6"\n', {}, 16)
@example(b"a\xc3\xa9,b\n1,2\n", {}, 3)
@settings(max_examples=examples(150))
@given(files, parse_options, st.sampled_from([None, None, 16, 100]))
def test_parser_on_random_files(tmp_path_factory, data, options, block):
    with block_bytes(block):
        parse_outcome(_write(tmp_path_factory, data), options)


@settings(max_examples=examples(8))
@given(packed(huge_field_csv()), st.sampled_from([None, 1 << 16]))
def test_parser_on_huge_fields(tmp_path_factory, data, block):
    with block_bytes(block):
        parse_outcome(_write(tmp_path_factory, data), {"col_types": {"h1": "string", "h2": "string"}})


def test_a_quoted_field_longer_than_the_sample(tmp_path):
    """A valid file whose second record is a quoted 3 MB text of many lines: the guesser's sample
    grows until it holds two whole records (line ends inside quotes do not count), instead of
    refusing the file as "a header line but no data rows"."""
    p = tmp_path / "quoted.csv"
    p.write_bytes(b'id,text\n1,"' + b"line\n" * (600 << 10) + b'"\n2,short\n')
    assert parse_outcome(p, {"col_types": {"text": "string"}}) == (2, 2)


def test_a_long_record_is_scanned_once(tmp_path):
    """A quoted record far longer than a block (an 8 MB field read 4 KiB at a time) is found by
    scanning each new block once, not the whole record again for every block it spans (which
    made the parse quadratic in the record's length: minutes for this file)."""
    p = tmp_path / "long.csv"
    p.write_bytes(b'a,b\n1,"' + b"x,\n" * (8 << 18) + b'"\n2,y\n')
    t = time.perf_counter()
    with block_bytes(4096):
        assert parse_outcome(p, {"col_types": {"b": "string"}}) == (2, 2)
    assert time.perf_counter() - t < 15


# --------------------------------------------------------------- through a real node

@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """One real node, importing only from its own folder (a fresh one: the files it parses here
    are the test's)."""
    root = tmp_path_factory.mktemp("import-root")
    with start_cloud(1, args=["--import-root", str(root), "--max-jobs", "8"]) as cloud:
        yield cloud.nodes[0], root


def _job_outcome(base: str, started: tuple[int, dict]) -> tuple[int, int] | str:
    """(rows, columns) of the node's parse, or its job's error (asserted to be named)."""
    status, out = started
    if status != 200:
        assert 400 <= status < 500 and out.get("error"), (status, out)
        return out["error"]
    job = wait_job(base, out["job"])
    if job["status"] == "DONE":
        _, fr, _ = call(f"{base}/3/Frames/{urllib.parse.quote(out['frame_id'], safe='')}")
        call(f"{base}/3/Frames/{urllib.parse.quote(out['frame_id'], safe='')}", "DELETE")
        return fr["nrows"], fr["ncols"]
    assert job["status"] == "FAILED" and job["error_type"] in NAMED_ERRORS and job["error"], job
    return job["error"]


@example(b"", {"na_strings": "x"})
@settings(max_examples=examples(12))
@given(files, parse_options)
def test_node_parses_or_names_the_problem(node, data, options):
    """The same bytes through POST /3/PostFile and POST /3/ImportFiles on a real node: the
    outcome is the library's (same rows and columns, or the same error, naming the user's file
    rather than the node's spool path), and the node answers afterwards."""
    proc, root = node
    base = proc.url
    (root / "input.csv").write_bytes(data)
    local = parse_outcome(root / "input.csv", options)
    q = {k: v if isinstance(v, str) else json.dumps(v) for k, v in options.items()
         if k in ("sep", "header")}
    status, out, _ = call(f"{base}/3/PostFile?" + urllib.parse.urlencode({"filename": "mine.csv", **q}),
                          "POST", data=data)
    uploaded = _job_outcome(base, (status, out))
    status, out, _ = call(f"{base}/3/ImportFiles", "POST", {"path": str(root / "input.csv"), **options})
    imported = _job_outcome(base, (status, out))
    if isinstance(local, ParseError):
        assert isinstance(imported, str) and local.detail in imported, (local, imported)
        if not any(k in options for k in ("col_names", "col_types", "na_strings", "chunk_rows")):
            assert isinstance(uploaded, str) and "mine.csv" in uploaded and "upload-" not in uploaded
    else:
        assert imported == local, (imported, local)
    assert proc.alive() and call(f"{base}/3/Ready")[0] == 200


@settings(max_examples=examples(6))
@given(files, st.sampled_from([{}, {"header": 1}, {"sep": ";"}, {"col_types": ["enum", "numeric"]}]))
def test_grpc_upload_parses_or_names_the_problem(node, tmp_path_factory, data, options):
    """The client's upload (a gRPC stream to the node, then its parse job): the library's
    outcome, or a ValueError naming the user's file."""
    import h2ocloud as h2o

    proc, _ = node
    h2o.init(url=proc.url)
    path = tmp_path_factory.mktemp("grpc") / "mine.csv"
    path.write_bytes(data)
    local = parse_outcome(path, options)
    try:
        fr = h2o.upload_file(str(path), **options)
    except ValueError as e:
        assert isinstance(local, ParseError) and "mine.csv" in str(e) and local.detail in str(e), (local, e)
    else:
        assert (fr.nrow, fr.ncol) == local, ((fr.nrow, fr.ncol), local)
        h2o.remove(fr)
    assert proc.alive()


def test_one_na_string_is_one_string(node, tmp_path):
    """na_strings="ab" makes the field ab missing, through the client and the REST import alike
    (the client split it into "a" and "b"; the operation refused a string the library takes)."""
    import h2ocloud as h2o

    proc, root = node
    h2o.init(url=proc.url)
    text = b"x,y\nab,1\na,2\nb,3\n"
    path = tmp_path / "na.csv"
    path.write_bytes(text)
    fr = h2o.upload_file(str(path), na_strings="ab", destination_frame="na_up.hex")
    (root / "na.csv").write_bytes(text)
    _, out, _ = call(f"{proc.url}/3/ImportFiles", "POST",
                     {"path": str(root / "na.csv"), "na_strings": "ab", "destination_frame": "na_imp.hex"})
    assert wait_job(proc.url, out["job"])["status"] == "DONE", out
    for frame_id in (fr.frame_id, "na_imp.hex"):
        _, rows, _ = call(f"{proc.url}/3/Frames/{frame_id}/rows")
        assert rows["columns"][0]["values"] == [None, "a", "b"], rows
        call(f"{proc.url}/3/Frames/{frame_id}", "DELETE")


def test_client_upload_of_random_bytes(node, tmp_path):
    """The client's gRPC upload: a parse error is a ValueError naming the user's file, and a
    truncated gzip is refused, not read as far as it goes."""
    import h2ocloud as h2o

    proc, _ = node
    h2o.init(url=proc.url)
    bad = tmp_path / "cut.csv.gz"
    rows = b"".join(b"%d,%d\n" % (i * 7919 % 100003, i * 104729 % 1000033) for i in range(300_000))
    whole = gzip.compress(b"a,b\n" + rows)
    bad.write_bytes(whole[: len(whole) // 2])  # past the guesser's first MiB: the reader finds the cut
    with pytest.raises(ValueError, match=r"cut\.csv\.gz.*[Tt]runcated"):
        h2o.upload_file(str(bad))
    weird = tmp_path / "weird.csv"
    weird.write_bytes(b"a;b\n1;2\n")
    for sep in ("\n", "\r", '"'):
        with pytest.raises(ValueError, match=r"weird\.csv: separator .* cannot be a line end or the quote"):
            h2o.upload_file(str(weird), sep=sep, header=1)
    assert proc.alive()
