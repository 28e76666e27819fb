"""Parser faults found by probing (issue 15): CR-only line ends, a 32 MB field, an unclosed quote,
upload errors naming the spool path, and parameters that passed validation only to fail in the
job. In-process for the parser, and through real daemons (1 node, 3 nodes) for the client."""

from __future__ import annotations

import pytest

from h2ocloud.frame.errors import ParseError
from h2ocloud.frame.parse import parse_file
from tests.cloudfixture import start_cloud


def _parse(tmp_path, data: bytes, name: str = "t.csv", **options):
    p = tmp_path / name
    p.write_bytes(data)
    chunks = []
    return parse_file(p, emit=lambda i, c: chunks.append(c), **options), chunks


def test_cr_only_line_endings(tmp_path):
    h, _ = _parse(tmp_path, b"a,b\r1,x\r3,y\r5,z")
    assert h.nrows == 3 and h.names == ["a", "b"]
    h, _ = _parse(tmp_path, b"1,2\r3,4\r", header=-1)
    assert h.nrows == 2 and h.ncols == 2


def test_one_32_mb_field(tmp_path):
    big = b"x" * (32 << 20)
    h, chunks = _parse(tmp_path, b"a,b\n1," + big + b"\n2,y\n", col_types={"b": "string"})
    assert h.nrows == 2 and h.names == ["a", "b"]
    h, _ = _parse(tmp_path, b"a,b\n" + big + b",1\n2,3\n")
    assert h.nrows == 2


def test_unclosed_quote_says_where_it_opened(tmp_path):
    with pytest.raises(ParseError, match=r"line 3: unclosed quote"):
        _parse(tmp_path, b'a,b\n1,x\n2,"never closed\n3,y\n4,z\n')
    with pytest.raises(ParseError, match=r"line 2: unclosed quote"):
        _parse(tmp_path, b'a,b\n1,"hello\n2,x\n3,y\n')
    # Closed quotes spanning lines, doubled quotes and a quote inside a field are no fault.
    h, _ = _parse(tmp_path, b'a,b\n1,"two\nlines"\n2,"say ""hi"""\n3,5\'11"\n')
    assert h.nrows == 3


def test_upload_errors_name_the_users_file(h2o, tmp_path):
    bad = tmp_path / "my_data.csv"
    bad.write_bytes(b'a,b\n1,x\n2,"open\n3,y\n')
    with pytest.raises(ValueError) as e:
        h2o.upload_file(str(bad))
    msg = str(e.value)
    assert "my_data.csv" in msg and "unclosed quote" in msg and "line 3" in msg, msg
    assert "upload-" not in msg
    cr = tmp_path / "mac.csv"
    cr.write_bytes(b"a,b\r1,2\r3,4\r5,6\r")
    fr = h2o.upload_file(str(cr))
    assert fr.nrow == 3
    assert h2o.connection().call("frames.get", {"frame_id": fr.frame_id})[0]["source"] == "mac.csv"


def test_epochs_and_rho_refused_at_the_call(h2o):
    fr = h2o.H2OFrame({"a": [float(i % 5) for i in range(40)], "y": ["p" if i % 2 else "q" for i in range(40)]})
    for kw, name in (({"epochs": 1e308}, "epochs"), ({"rho": 0.0}, "rho")):
        est = h2o.H2ODeepLearningEstimator(hidden=[2], seed=1, **({"epochs": 1} | kw))
        with pytest.raises(ValueError, match=name) as e:
            est.train(y="y", training_frame=fr)
        assert "job" not in str(e.value).lower()  # refused by the call, not by a failed job
    h2o.remove(fr)


def test_parser_faults_on_a_three_node_cloud(tmp_path):
    import h2ocloud as h2o

    with start_cloud(3) as cloud:
        h2o.init(url=cloud.nodes[0].url)
        p = tmp_path / "cr3.csv"
        p.write_bytes(b"a,b\r" + b"".join(f"{i},{i % 4}\r".encode() for i in range(3000)))
        fr = h2o.upload_file(str(p), chunk_rows=300)
        assert fr.nrow == 3000
        q = tmp_path / "quote3.csv"
        q.write_bytes(b"a,b\n" + b"".join(f"{i},{i}\n".encode() for i in range(500)) + b'7,"oops\n8,9\n')
        with pytest.raises(ValueError, match=r"quote3.csv, line 502: unclosed quote"):
            h2o.upload_file(str(q))
        h2o.remove(fr)
