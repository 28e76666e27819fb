"""Hypothesis strategies for the property tests: CSV-like files (quotes, separators, NAs, huge
fields, ragged rows, invalid UTF-8, gzip and zip, truncated), parse options, parameter dicts
and JSON values. Shared by the in-process tests and the ones that go through a real node."""

from __future__ import annotations

import gzip
import io
import math
import os
import zipfile
from typing import Any

from hypothesis import strategies as st

from h2ocloud.dl.params import PARAMETERS, P

# The profile "explore" (tests/conftest.py) multiplies every test's example count by this.
SCALE = 10 if os.environ.get("HYPOTHESIS_PROFILE") == "explore" else 1


def examples(n: int) -> int:
    """A test's example count (modest: the suite stays fast), scaled up for a hunt."""
    return n * SCALE


# ---------------------------------------------------------------------------------- CSV text

# Fields chosen for what breaks parsers: quotes open, closed, doubled and inside a field, every
# separator the guesser tries, the NA spellings, numbers at float's edges, dates, non-ASCII.
FIELD_ATOMS = ("", "NA", "1", "-2.5", "1e308", "-1e-320", "inf", "nan", "abc", '"q"', '"a,b"', '"', '""',
               "5'11\"", " ", "\t", ";", "|", ",", "é", "2020-01-02", "2020-13-45", "00", "+", ".",
               'x"y', '"two\nlines"', "NaN", "TRUE", "9" * 30)
SEPARATORS = (",", ";", "\t", "|", " ")
LINE_ENDS = ("\n", "\r\n", "\r")
BAD_BYTES = (b"\xff", b"\xc3", b"\x00", b"\x80\x80", b"\xef\xbb\xbf", b"\xed\xa0\x80")

field = st.one_of(st.sampled_from(FIELD_ATOMS), st.text(max_size=8))


@st.composite
def csv_text(draw: Any, max_rows: int = 12) -> bytes:
    """Rows of one width (so parses get past the guesser), sometimes a ragged row, a run of
    plain rows that pushes the odd ones past the guesser's sample, a stray bad byte."""
    sep = draw(st.sampled_from(SEPARATORS))
    eol = draw(st.sampled_from(LINE_ENDS))
    ncols = draw(st.integers(1, 5))
    rows = draw(st.lists(st.lists(field, min_size=ncols, max_size=ncols), max_size=max_rows))
    if rows and draw(st.integers(0, 3)) == 0:  # a ragged row
        rows.insert(draw(st.integers(0, len(rows))), draw(st.lists(field, max_size=7)))
    if rows and draw(st.integers(0, 2)) == 0:  # the guesser samples 500 rows: the rest come later
        pad = draw(st.sampled_from([10, 499, 501, 1200]))
        rows = rows[:1] + [[str(i % 7)] * ncols for i in range(pad)] + rows[1:]
    text = eol.join(sep.join(r) for r in rows)
    if draw(st.booleans()):
        text += eol
    data = text.encode("utf-8")
    if data and draw(st.integers(0, 4)) == 0:  # invalid UTF-8, a NUL, a BOM in the middle
        i = draw(st.integers(0, len(data)))
        data = data[:i] + draw(st.sampled_from(BAD_BYTES)) + data[i:]
    return data


@st.composite
def huge_field_csv(draw: Any) -> bytes:
    """A valid file with one field around the guesser's 1 MiB sample (or larger), anywhere."""
    from h2ocloud.frame.setup import SAMPLE_BYTES

    size = draw(st.sampled_from([SAMPLE_BYTES - 7, SAMPLE_BYTES + 3, 3 * SAMPLE_BYTES]))
    big = draw(st.sampled_from([b"x", b"7", b"\xc3\xa9"])) * (size // 2 if draw(st.booleans()) else size)
    if draw(st.booleans()):
        big = b'"' + big.replace(b"x", b"x,\n", 1) + b'"'  # quoted, with a separator and a line end
    rows = [[b"1", b"a"], [b"2", b"b"], [b"3", b"c"]]
    r = draw(st.integers(0, 2))
    rows[r][draw(st.integers(0, 1))] = big
    eol = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    return b"h1,h2" + eol + eol.join(b",".join(x) for x in rows) + eol


@st.composite
def packed(draw: Any, payload: st.SearchStrategy[bytes]) -> bytes:
    """The payload as a plain file, gzip or a one-member zip, sometimes cut short."""
    data = draw(payload)
    kind = draw(st.sampled_from(["plain", "plain", "gzip", "zip"]))
    if kind == "gzip":
        data = gzip.compress(data)
    elif kind == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("inner.csv", data)
        data = buf.getvalue()
    if kind != "plain" and data and draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data) - 1))]  # truncated
    return data


files = packed(st.one_of(csv_text(), csv_text(), csv_text(), st.binary(max_size=64)))

# Parse options as a user (or a careless script) gives them: every separator, including ones
# that cannot be a separator, each header choice, overrides that fit the data or do not.
parse_options = st.fixed_dictionaries({}, optional={
    "sep": st.sampled_from([",", ";", "\t", "|", " ", '"', "a", "1", "\n", "\r", ".", "-", "é"]),
    "header": st.sampled_from([-1, 0, 1]),
    "chunk_rows": st.integers(1, 5),
    "na_strings": st.one_of(st.lists(st.sampled_from(["NA", "", "1", "abc", "-"]), max_size=3),
                            st.sampled_from(["x", "1"])),
    "col_types": st.one_of(
        st.lists(st.sampled_from(["numeric", "enum", "string", "time", "bogus"]), max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(["C1", "C2", "a"]), st.integers(-1, 4)),
                        st.sampled_from(["numeric", "enum", "string", "time"]), max_size=2)),
    "col_names": st.lists(st.sampled_from(["a", "b", "", "a ", "C1"]), max_size=4),
})


# -------------------------------------------------------------------------------- JSON values

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                      st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
                      st.sampled_from(["Infinity", "-Infinity", "NaN", "Tanh", "AUTO", "../x", "/etc/passwd"]))
json_values = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)), max_leaves=6)


# ------------------------------------------------------------------------- model parameters


def _numbers(p: P, integer: bool) -> st.SearchStrategy[Any]:
    """Numbers at and around a parameter's bounds, and far outside them."""
    edges: list[float] = [0, 1, -1, 2, 0.5, 1e-300, 1e300, 2**31, 2**63, -2**63, 1e9, 1e10]
    for b in (p.lo, p.hi):
        if b is not None and math.isfinite(b):
            edges += [b, b + 1e-9, b - 1e-9, b + 1, b - 1]
    if integer:
        return st.one_of(st.sampled_from(sorted({int(v) for v in edges})), st.integers(-5, 50))
    return st.one_of(st.sampled_from([float(v) for v in edges] + [math.inf, -math.inf]),
                     st.floats(-10, 10))


def parameter_value(p: P) -> st.SearchStrategy[Any]:
    """A value of the parameter's own kind (in range or not), so the validator's cross-checks
    (_check_together) are reached, not only its type checks."""
    k = p.kind
    if k == "bool":
        return st.booleans()
    if k == "int":
        return _numbers(p, True)
    if k == "float":
        return _numbers(p, False)
    if k == "enum":
        return st.sampled_from(list(p.choices or ()))
    if k == "str":
        return st.one_of(st.none(), st.sampled_from(["a", "y", "b", "", " ", "m1"]))
    if k == "int_list":
        return st.lists(_numbers(p, True), max_size=4)
    if k == "float_list":
        return st.lists(_numbers(p, False), max_size=4)
    if k == "str_list":
        return st.lists(st.sampled_from(["a", "y", "b", ""]), max_size=3)
    return st.lists(st.one_of(st.none(), st.just("f")), max_size=3)


typed_parameters = st.fixed_dictionaries({}, optional={p.name: parameter_value(p) for p in PARAMETERS})
