"""A Numba parser for the common case of an all-numeric CSV block (MNIST and the like).

It reads plain decimal numbers (sign, digits, point, exponent) and empty fields (NA) straight
into a (columns x rows) float64 block: no Arrow table, no per-column conversion. Anything
else (quotes, words, NA strings, spaces, ragged rows, numbers it cannot round exactly) makes
it give up on the block, and the caller parses that block with pyarrow instead. Values are
exact: a mantissa of at most 15 digits times or divided by an exact power of ten <= 1e22 is
one correctly rounded IEEE operation (Clinger's fast path), the same double strtod gives.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_POW10 = np.array([10.0**i for i in range(23)])
OK, GIVE_UP = 0, 1


@njit(cache=True, nogil=True)
def _count_lines(buf):  # pragma: no cover - compiled
    n = 0
    for i in range(buf.size):
        if buf[i] == 10:
            n += 1
    return n + 1


@njit(cache=True, nogil=True)
def parse_numeric(buf, sep, ncols, pow10):  # pragma: no cover - compiled
    """(status, block, nrows): block[:, :nrows] holds the values when status is OK."""
    cap = _count_lines(buf)
    out = np.empty((ncols, cap))
    n = buf.size
    i = 0
    row = 0
    col = 0
    while i < n:
        # one field
        start = i
        neg = False
        mant = 0
        ndig = 0
        frac = 0
        dot = False
        exp = 0
        seen = False
        c = buf[i]
        if c == 43 or c == 45:  # + -
            neg = c == 45
            i += 1
        while i < n:
            c = buf[i]
            if 48 <= c <= 57:
                mant = mant * 10 + (c - 48)
                if mant > 0:
                    ndig += 1  # significant digits: leading zeros do not count
                seen = True
                if dot:
                    frac += 1
                i += 1
            elif c == 46 and not dot:  # .
                dot = True
                i += 1
            elif c == 101 or c == 69:  # e E
                i += 1
                eneg = False
                if i < n and (buf[i] == 43 or buf[i] == 45):
                    eneg = buf[i] == 45
                    i += 1
                edig = 0
                while i < n and 48 <= buf[i] <= 57:
                    exp = exp * 10 + (buf[i] - 48)
                    edig += 1
                    i += 1
                    if edig > 4:
                        return GIVE_UP, out, 0
                if edig == 0:
                    return GIVE_UP, out, 0
                if eneg:
                    exp = -exp
                break
            else:
                break
        end = i
        if i < n:
            c = buf[i]
            if c == 13:  # \r before \n
                i += 1
                if i < n and buf[i] != 10:
                    return GIVE_UP, out, 0
                c = 10 if i < n else c
            if i < n and c != sep and c != 10:
                return GIVE_UP, out, 0  # anything else: quotes, words, spaces
        if end == start:
            value = np.nan  # empty field: NA
        elif not seen or ndig > 15:
            return GIVE_UP, out, 0
        else:
            e10 = exp - frac
            value = float(mant)
            if e10 > 0:
                if e10 > 22:
                    return GIVE_UP, out, 0
                value = value * pow10[e10]
            elif e10 < 0:
                if e10 < -22:
                    return GIVE_UP, out, 0
                value = value / pow10[-e10]
            if neg:
                value = -value
        at_eol = i >= n or buf[i] == 10
        if at_eol and col == 0 and end == start:
            i += 1  # an empty line: skipped, as pyarrow does
            continue
        if col >= ncols:
            return GIVE_UP, out, 0  # ragged: let pyarrow report it
        out[col, row] = value
        col += 1
        i += 1  # past the separator or the newline
        if at_eol:
            if col != ncols:
                return GIVE_UP, out, 0
            row += 1
            col = 0
        elif i >= n:
            # a separator ends the data: the last field of the row is empty
            if col >= ncols:
                return GIVE_UP, out, 0
            out[col, row] = np.nan
            col += 1
            if col != ncols:
                return GIVE_UP, out, 0
            row += 1
            col = 0
    return OK, out, row


def try_parse_numeric(block: bytes, sep: str, ncols: int) -> np.ndarray | None:
    """The block as a (columns x rows) float64 array, or None to use pyarrow instead."""
    buf = np.frombuffer(block, dtype=np.uint8)
    if buf.size == 0:
        return np.empty((ncols, 0))
    status, out, nrows = parse_numeric(buf, ord(sep), ncols, _POW10)
    if status != OK:
        return None
    return out[:, :nrows]
