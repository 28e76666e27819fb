"""Parse setup guesses and overrides."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from h2ocloud.frame import ParseError, guess_setup
from h2ocloud.frame.setup import ParseSetup, guess_header, guess_separator


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("sep", [",", ";", "\t", "|", " "])
def test_separator_guess(tmp_path: Path, sep: str) -> None:
    rows = [["a", "b", "c"], ["1", "x", "2.5"], ["3", "y", "4"]]
    p = write(tmp_path, "f.csv", "\n".join(sep.join(r) for r in rows) + "\n")
    s = guess_setup(p)
    assert s.sep == sep
    assert s.header and s.column_names == ["a", "b", "c"]
    assert s.column_types == ["numeric", "enum", "numeric"]


def test_separator_ignores_quoted_commas() -> None:
    assert guess_separator('x;y\n"a,b";1\n"c,d";2\n') == ";"
    assert guess_separator("one\ntwo\n") == ","


def test_no_header_gives_c1_names(tmp_path: Path) -> None:
    s = guess_setup(write(tmp_path, "f.csv", "1,2,3\n4,5,6\n"))
    assert not s.header
    assert s.column_names == ["C1", "C2", "C3"]
    assert s.column_types == ["numeric"] * 3


def test_header_rule() -> None:
    na = {"", "NA"}
    assert guess_header(["a", "b"], ["1", "2"], na)
    assert not guess_header(["1", "2"], ["3", "4"], na)
    assert not guess_header(["x", "y"], ["z", "w"], na)  # strings over strings: data
    assert guess_header(["a", "b"], ["u", "2"], na)


def test_header_forced(tmp_path: Path) -> None:
    p = write(tmp_path, "f.csv", "a,b\nc,d\n")
    assert guess_setup(p, header=1).column_names == ["a", "b"]
    s = guess_setup(p, header=-1)
    assert s.column_names == ["C1", "C2"] and not s.header


def test_col_names_and_types_override(tmp_path: Path) -> None:
    p = write(tmp_path, "f.csv", "1,2,x\n3,4,y\n")
    s = guess_setup(p, col_names=["p", "q", "r"], col_types={"q": "factor", "r": "string"})
    assert s.column_names == ["p", "q", "r"]
    assert s.column_types == ["numeric", "enum", "string"]
    s = guess_setup(p, col_types=["categorical", "numeric", "enum"])
    assert s.column_types == ["enum", "numeric", "enum"]


def test_na_strings(tmp_path: Path) -> None:
    p = write(tmp_path, "f.csv", "a,b\n1,missing\n?,2\n3,4\n")
    s = guess_setup(p)
    assert s.column_types == ["numeric", "numeric"]  # majority numbers
    s = guess_setup(p, na_strings={"b": ["missing"], "a": "?"})
    assert s.na_strings == [["?"], ["missing"]]
    s = guess_setup(p, na_strings=["missing", "?"])
    assert s.global_na == ["missing", "?"] and s.column_types == ["numeric", "numeric"]


def test_na_column_words_make_enum(tmp_path: Path) -> None:
    p = write(tmp_path, "f.csv", "a,b\n1,NA\n2,red\n3,blue\n,green\n")
    s = guess_setup(p)
    assert s.column_types == ["numeric", "enum"]


def test_compressed_and_setup_dict(tmp_path: Path) -> None:
    text = "a,b\n1,x\n2,y\n"
    gz = tmp_path / "f.csv.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    zp = tmp_path / "f.csv.zip"
    with zipfile.ZipFile(zp, "w") as zf:
        zf.writestr("inner.csv", text)
    for p, comp in ((gz, "gzip"), (zp, "zip")):
        s = guess_setup(p)
        assert s.compression == comp and s.column_names == ["a", "b"]
        assert ParseSetup.from_dict(s.to_dict()) == s


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"col_names": ["a"]}, "col_names has 1 names"),
        ({"col_types": {"nope": "enum"}}, "unknown column 'nope'"),
        ({"col_types": ["numeric"]}, "col_types has 1 types"),
        ({"col_types": {"a": "bogus"}}, "unknown column type"),
        ({"na_strings": {"zz": ["x"]}}, "unknown column 'zz'"),
    ],
)
def test_override_errors_name_file(tmp_path: Path, kwargs: dict, match: str) -> None:
    p = write(tmp_path, "f.csv", "a,b\n1,2\n")
    with pytest.raises(ParseError, match=match) as err:
        guess_setup(p, **kwargs)
    assert str(p) in str(err.value)
