"""Parse setup, as H2O's ParseSetup: look at the head of a file and guess how to read it.

Guesses the separator, whether the first line is a header, column names and column types
from a sample of the first MiB, then applies the user's overrides (``col_names``,
``col_types``, ``na_strings``). Handles plain, gzip and single-member zip CSV and Parquet
(recognised by their magic bytes, not the file name).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from h2ocloud.frame.chunk import ENUM, NUMERIC, STRING
from h2ocloud.frame.errors import ParseError

SEPARATORS = (",", ";", "\t", "|", " ")  # tried in this order; the first consistent one wins
NA_DEFAULT = ("", "NA")  # always missing, as in H2O
SAMPLE_BYTES = 1 << 20
# A sample holding fewer than two whole records (a 32 MB field, a very wide header) is read
# again, four times larger each time, up to this; a longer first record is refused naming it.
MAX_SAMPLE_BYTES = 256 << 20
SAMPLE_ROWS = 500
SEP_GUESS_ROWS = 50
# A parse of more columns is refused: each column is an array per chunk and a summary row, and a
# ragged or binary "CSV" guessed with the wrong separator can claim millions.
MAX_COLUMNS = 100_000
_CSV_FIELD_LIMIT = 1 << 30

# Dates and times H2O reads as time columns: year first, '-' or '/', one- or two-digit month and
# day, optionally a time of day (' ' or 'T', HH:MM or HH:MM:SS).
DATE_RE = re.compile(r"^\d{4}([-/])\d{1,2}\1\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2})?)?$")
TIME = "time"  # a type of the setup only: a time column is stored as numeric (ms since 1970)
NUMBER_RE = re.compile(r"^[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|inf|infinity|nan)$", re.IGNORECASE)

_TYPE_ALIASES = {
    "numeric": NUMERIC, "real": NUMERIC, "int": NUMERIC, "float": NUMERIC, "double": NUMERIC,
    "enum": ENUM, "factor": ENUM, "categorical": ENUM,
    "string": STRING, "str": STRING,
    "time": TIME, "date": TIME,
}

csv.field_size_limit(_CSV_FIELD_LIMIT)


@dataclass
class ParseSetup:
    """How to read one source. JSON-able (``to_dict``/``from_dict``) so a node can ship it."""

    source: str
    format: str  # "csv" or "parquet"
    compression: str | None  # None, "gzip" or "zip"
    sep: str
    header: bool
    column_names: list[str]
    column_types: list[str]
    na_strings: list[list[str]]  # per column, on top of NA_DEFAULT and global_na
    global_na: list[str] = field(default_factory=list)  # NA strings of every column
    int_text: list[bool] = field(default_factory=list)  # sampled numbers all small integers
    bytes_per_row: float = 8.0  # estimated stored bytes a row, to size chunks
    est_rows: int | None = None  # estimated row count of the whole source
    time_columns: list[int] = field(default_factory=list)  # text dates -> ms since the epoch
    cr_newlines: bool = False  # lines end with a lone CR (old Mac files): read as LF

    @property
    def ncols(self) -> int:
        """Number of columns."""
        return len(self.column_names)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ParseSetup:
        """Inverse of to_dict."""
        return cls(**dict(d))


def is_number(field_text: str) -> bool:
    """True when a (stripped) field reads as a number."""
    return bool(NUMBER_RE.match(field_text))


def normalize_type(t: str, source: str = "<input>", column: str | None = None) -> str:
    """Map H2O's type names and aliases (factor, categorical, real, ...) to ours."""
    try:
        return _TYPE_ALIASES[str(t).lower()]
    except KeyError:
        where = f" for column {column!r}" if column is not None else ""
        raise ParseError(
            source, f"unknown column type {t!r}{where}; use numeric, enum, string or time"
        ) from None


# --------------------------------------------------------------------------- sniffing


def sniff_format(path: str | Path) -> tuple[str, str | None]:
    """(format, compression) of a file from its first bytes; raises ParseError for a missing
    file, a directory or an empty file."""
    p = Path(path)
    src = str(path)
    if not p.exists():
        raise ParseError(src, "no such file")
    if p.is_dir():
        raise ParseError(src, "is a directory, not a file")
    if p.stat().st_size == 0:
        raise ParseError(src, "empty file")
    with open(p, "rb") as f:
        magic = f.read(4)
    if magic == b"PAR1":
        return "parquet", None
    if magic[:2] == b"\x1f\x8b":
        return "csv", "gzip"
    if magic in (b"PK\x03\x04", b"PK\x05\x06"):
        return "csv", "zip"
    return "csv", None


def zip_member(path: str | Path) -> zipfile.ZipInfo:
    """The single file inside a zip archive (ParseError otherwise)."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist() if not i.is_dir()]
    except zipfile.BadZipFile as exc:
        raise ParseError(str(path), f"not a valid zip archive ({exc})") from None
    if len(members) != 1:
        raise ParseError(str(path), f"a zip archive must hold exactly one file, it holds {len(members)}")
    return members[0]


def open_binary(path: str | Path, compression: str | None) -> io.BufferedIOBase:
    """A binary file object over the decompressed bytes of a CSV source."""
    if compression == "gzip":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if compression == "zip":
        zf = zipfile.ZipFile(path)
        return zf.open(zip_member(path))  # type: ignore[return-value]
    return open(path, "rb")


def _read_sample(path: str | Path, compression: str | None, size: int = SAMPLE_BYTES) -> tuple[bytes, bool]:
    """Up to `size` decompressed bytes and whether the source is longer."""
    try:
        with open_binary(path, compression) as f:
            data = f.read(size + 1)
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise ParseError(str(path), f"cannot read {compression or 'file'} data ({exc})") from None
    return data[:size], len(data) > size


def _sample_text(source: str, path: str | Path, compression: str | None) -> tuple[str, bool]:
    """The sample as text, grown until it holds two whole lines (or the whole source), so a
    first record longer than SAMPLE_BYTES is read rather than cut away."""
    size = SAMPLE_BYTES
    while True:
        data, truncated = _read_sample(path, compression, size)
        if not truncated or _record_ends(data) >= 2:
            return _decode_text(source, data, truncated), truncated
        if size >= MAX_SAMPLE_BYTES:
            raise ParseError(source, f"the first records are longer than {MAX_SAMPLE_BYTES >> 20} MB "
                                     "(the parser's limit on a record; an unclosed quote?)")
        size *= 4


def _record_ends(data: bytes) -> int:
    """Line ends outside double quotes: a quoted field may hold line ends (a 32 MB quoted text
    with newlines is one record, and the sample must hold it whole). Lone CRs when there is no
    LF (old Mac files). A quote opens or closes a field as CSV's doubled quotes do."""
    end = 10 if b"\n" in data else 13
    a = np.frombuffer(data, dtype=np.uint8)
    ends = a == end
    if b'"' in data:
        ends &= np.cumsum(a == 34, dtype=np.uint8) % 2 == 0  # uint8 wraps at 256: parity kept
    return int(np.count_nonzero(ends))


def _uncompressed_size(path: str | Path, compression: str | None) -> int:
    size = Path(path).stat().st_size
    if compression == "gzip":
        # gzip's trailer holds the input size mod 2**32 (exact for one member under 4 GiB).
        with open(path, "rb") as f:
            f.seek(-4, io.SEEK_END)
            isize = struct.unpack("<I", f.read(4))[0]
        return isize if isize >= size else size * 4
    if compression == "zip":
        return zip_member(path).file_size
    return size


def _decode_text(source: str, data: bytes, truncated: bool) -> str:
    """The sample as text; ParseError for binary (NUL or non-UTF-8) bytes, naming the line."""
    if truncated:  # the cut may split a line (or a UTF-8 character): drop the partial line
        cut = data.rfind(b"\n") if b"\n" in data else data.rfind(b"\r")
        data = data[: cut + 1] if cut >= 0 else data
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise ParseError(source, "binary data (NUL byte), not a text file", line)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ParseError(source, f"not UTF-8 text (byte 0x{data[exc.start]:02x})", line) from None
    return text.removeprefix("\ufeff")


# --------------------------------------------------------------------------- guessing


def _rows(text: str, sep: str, limit: int) -> list[tuple[int, list[str]]]:
    """(physical line number, fields) of the first ``limit`` non-empty records."""
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    out: list[tuple[int, list[str]]] = []
    line = 1  # physical line where the next record starts
    try:
        for rec in reader:
            if rec and not (len(rec) == 1 and rec[0].strip() == ""):
                out.append((line, rec))
                if len(out) >= limit:
                    break
            line = reader.line_num + 1
    except csv.Error:
        pass  # an unterminated quote at the end of a cut sample
    return out


def guess_separator(text: str) -> str:
    """The first separator giving the same number (> 1) of fields on every sampled line;
    failing that, the one giving most fields on the first line; ',' for one column."""
    best, best_n = ",", 1
    for sep in SEPARATORS:
        rows = _rows(text, sep, SEP_GUESS_ROWS)
        if not rows:
            continue
        counts = {len(r) for _, r in rows}
        if len(counts) == 1 and counts.pop() > 1:
            return sep
        # a header line may differ (R's write.csv); look at the data lines alone too
        if len(rows) > 2 and len({len(r) for _, r in rows[1:]}) == 1 and len(rows[1][1]) > 1:
            return sep
        if len(rows[0][1]) > best_n:
            best, best_n = sep, len(rows[0][1])
    return best


def guess_header(first: Sequence[str], second: Sequence[str] | None, na: set[str]) -> bool:
    """H2O's rule: a header when some field of the first line is not a number where the
    second line has a number. With one line only, a line of names (no numbers) is a header."""
    first = [f.strip() for f in first]
    if second is None:
        return all(f and not is_number(f) and f not in na for f in first)
    second = [f.strip() for f in second]
    for a, b in zip(first, second, strict=False):
        if a not in na and not is_number(a) and b not in na and is_number(b):
            return True
    return False


@dataclass
class _Profile:
    """What the sample says about one column."""

    numbers: int  # non-missing fields that read as numbers
    others: int  # non-missing fields that do not
    values: np.ndarray  # the finite numbers
    fields: list[str]  # the raw sampled fields
    int_text: bool  # every number is a small integer as text (no '.', no exponent, < 2**24)


def _profiles(rows: Sequence[Sequence[str]], ncols: int, na: Sequence[set[str]]) -> list[_Profile]:
    """Profiles of every column, computed on all sampled fields at once with Arrow (a wide
    file such as MNIST has 785 columns: per-column calls would cost a second)."""
    m = len(rows)
    flat = [r[j] if j < len(r) else "" for j in range(ncols) for r in rows]
    arr = pc.utf8_trim_whitespace(pa.array(flat, pa.string()))
    common = set.intersection(*na) if na else set()
    isna = pc.is_in(arr, value_set=pa.array(sorted(common), pa.string()))
    isna = isna.to_numpy(zero_copy_only=False).reshape(ncols, m)
    for j, extra in enumerate(na):
        if extra - common:  # the column's own NA strings
            col = np.array([v.strip() for v in flat[j * m : (j + 1) * m]], dtype=object)
            isna[j] |= np.isin(col, sorted(extra - common))
    isnum = pc.match_substring_regex(arr, NUMBER_RE.pattern, ignore_case=True)
    isnum = isnum.to_numpy(zero_copy_only=False).reshape(ncols, m) & ~isna
    numeric_text = pc.if_else(pa.array(isnum.ravel()), arr, pa.scalar(None, pa.string()))
    try:
        values = pc.cast(numeric_text, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:  # spellings Arrow does not read ("infinity", ...)
        values = np.array([np.nan if v is None else float(v) for v in numeric_text.to_pylist()])
    values = values.reshape(ncols, m)
    isint = pc.match_substring_regex(arr, r"^[+-]?\d{1,18}$").to_numpy(zero_copy_only=False)
    ints = (isint.reshape(ncols, m) & ~isna).sum(axis=1)
    numbers = isnum.sum(axis=1)
    others = (~isna & ~isnum).sum(axis=1)
    out = []
    for j in range(ncols):
        v = values[j]
        out.append(_Profile(int(numbers[j]), int(others[j]), v[np.isfinite(v)],
                            [f for f, bad in zip(flat[j * m : (j + 1) * m], isna[j], strict=True)
                             if not bad],
                            bool(numbers[j] > 0 and ints[j] == numbers[j]
                                 and np.all(np.abs(v[np.isfinite(v)]) < 2**24))))
    return out


def guess_types(rows: Sequence[Sequence[str]], ncols: int, na: Sequence[set[str]]) -> list[str]:
    """numeric when a column's non-missing sampled fields are mostly numbers (a stray
    word becomes NA, as in H2O), else enum."""
    return [_guess_type(p) for p in _profiles(rows, ncols, na)]


def _guess_type(p: _Profile) -> str:
    if p.numbers >= p.others:
        return NUMERIC
    # As H2O: a column of dates is a time column (numeric), not a factor of every day.
    dates = sum(1 for f in p.fields if DATE_RE.match(f.strip()))
    return TIME if dates and dates >= 0.9 * (p.numbers + p.others) else ENUM


def split_time_types(types: list[str]) -> tuple[list[str], list[int]]:
    """(types with time columns as numeric, indices of the time columns)."""
    return [NUMERIC if t == TIME else t for t in types], [j for j, t in enumerate(types) if t == TIME]


def _estimate_cell_bytes(p: _Profile, ctype: str) -> float:
    """Stored bytes a cell, judged from the sample (sizes the default chunk)."""
    if ctype == STRING:
        return 4.0 + (sum(len(f) for f in p.fields) / len(p.fields) if p.fields else 0.0)
    if ctype == TIME:
        return 8.0
    if ctype == ENUM:
        return 1.0 if len(set(p.fields)) < 255 else 2.0
    nums = p.values
    if nums.size == 0:
        return 1.0
    if np.all(nums == np.rint(nums)):
        span = nums.max() - nums.min()
        return 1.0 if span <= 255 else 2.0 if span <= 65535 else 4.0
    return 4.0 if np.all(nums.astype(np.float32) == nums) else 8.0


# --------------------------------------------------------------------------- overrides


def _resolve_names(
    source: str, names: list[str], col_names: Sequence[str] | None
) -> list[str]:
    if col_names is not None:
        if len(col_names) != len(names):
            raise ParseError(
                source, f"col_names has {len(col_names)} names but the data has {len(names)} columns"
            )
        names = [str(n) for n in col_names]
    out, seen = [], set()
    for j, n in enumerate(names):
        n = n.strip() or f"C{j + 1}"
        base, k = n, 1
        while n in seen:  # duplicate names would make columns unaddressable
            k += 1
            n = f"{base}_{k}"
        seen.add(n)
        out.append(n)
    return out


def _column_index(source: str, names: list[str], key: str | int, what: str) -> int:
    if isinstance(key, int) and not isinstance(key, bool):
        if 0 <= key < len(names):
            return key
        raise ParseError(source, f"{what}: column index {key} out of range 0..{len(names) - 1}")
    if key in names:
        return names.index(key)
    raise ParseError(source, f"{what}: unknown column {key!r} (columns: {', '.join(names[:20])})")


def apply_col_types(
    source: str,
    names: list[str],
    types: list[str],
    col_types: Sequence[str] | Mapping[str | int, str] | None,
) -> list[str]:
    """Types after the user's overrides (a list for every column, or a dict by name)."""
    types = list(types)
    if col_types is None:
        return types
    if isinstance(col_types, Mapping):
        for key, t in col_types.items():
            j = _column_index(source, names, key, "col_types")
            types[j] = normalize_type(t, source, names[j])
        return types
    if len(col_types) != len(names):
        raise ParseError(
            source, f"col_types has {len(col_types)} types but the data has {len(names)} columns"
        )
    return [normalize_type(t, source, n) for t, n in zip(col_types, names, strict=True)]


def apply_na_strings(
    source: str,
    names: list[str],
    na_strings: Sequence[str] | Mapping[str | int, Sequence[str] | str] | None,
) -> tuple[list[str], list[list[str]]]:
    """(NA strings of all columns, extra NA strings per column)."""
    per_col: list[list[str]] = [[] for _ in names]
    if na_strings is None:
        return [], per_col
    if isinstance(na_strings, str):
        return [na_strings], per_col
    if isinstance(na_strings, Mapping):
        for key, vals in na_strings.items():
            j = _column_index(source, names, key, "na_strings")
            per_col[j] = [vals] if isinstance(vals, str) else [str(v) for v in vals]
        return [], per_col
    return [str(v) for v in na_strings], per_col


# --------------------------------------------------------------------------- entry points


def guess_setup(
    path: str | Path,
    sep: str | None = None,
    header: int = 0,
    col_names: Sequence[str] | None = None,
    col_types: Sequence[str] | Mapping[str | int, str] | None = None,
    na_strings: Sequence[str] | Mapping[str | int, Sequence[str] | str] | None = None,
) -> ParseSetup:
    """Guess how to parse ``path`` (header: -1 none, 0 guess, 1 first line is a header)."""
    source = str(path)
    fmt, compression = sniff_format(path)
    if fmt == "parquet":
        return _parquet_setup(source, col_names, col_types, na_strings)
    text, truncated = _sample_text(source, path, compression)
    if not text.strip():
        raise ParseError(source, "empty file (no data)")
    cr_newlines = "\r" in text and "\n" not in text
    if cr_newlines:  # old Mac line ends: the blocks are read the same way (csvread)
        text = text.replace("\r", "\n")
    if sep is None:
        sep = guess_separator(text)
    elif len(sep) != 1:
        raise ParseError(source, f"separator must be one character, got {sep!r}")
    elif not sep.isascii():  # Arrow's reader takes one byte ("Expecting an ASCII character")
        raise ParseError(source, f"separator must be an ASCII character, got {sep!r}")
    elif sep in '\r\n"':  # Arrow's reader refuses them with its own words ("ParseOptions: ...")
        raise ParseError(source, f"separator {sep!r} cannot be a line end or the quote character")
    rows = _rows(text, sep, SAMPLE_ROWS + 1)
    if truncated and len(rows) > 1:
        rows = rows[:-1]  # the last record may be cut
    if not rows:
        raise ParseError(source, "no records found (an unclosed quote in the first line?)")
    ncols = len(rows[0][1])
    _check_columns(source, ncols)
    for line, r in rows:
        if len(r) != ncols:
            raise ParseError(source, f"ragged row: {len(r)} fields where line 1 has {ncols}", line)
    base_na = set(NA_DEFAULT) | set(_flat_na(na_strings))
    if header == 0:
        has_header = guess_header(rows[0][1], rows[1][1] if len(rows) > 1 else None, base_na)
    elif header in (1, -1):
        has_header = header == 1
    else:
        raise ParseError(source, f"header must be -1, 0 or 1, got {header!r}")
    data_rows = [r for _, r in rows[1:]] if has_header else [r for _, r in rows]
    if has_header and not data_rows:
        raise ParseError(source, "the file has a header line but no data rows")
    raw_names = rows[0][1] if has_header else [f"C{j + 1}" for j in range(ncols)]
    names = _resolve_names(source, list(raw_names), col_names)
    global_na, per_col_na = apply_na_strings(source, names, na_strings)
    na_sets = [set(NA_DEFAULT) | set(global_na) | set(extra) for extra in per_col_na]
    profiles = _profiles(data_rows, ncols, na_sets)
    types = apply_col_types(source, names, [_guess_type(p) for p in profiles], col_types)
    bpr = sum(_estimate_cell_bytes(p, t) for p, t in zip(profiles, types, strict=True))
    sampled = len(text.encode("utf-8"))
    est_rows = int(_uncompressed_size(path, compression) / max(sampled / max(len(rows), 1), 1.0))
    types, time_columns = split_time_types(types)
    int_text = [p.int_text and t == NUMERIC and j not in time_columns
                for j, (p, t) in enumerate(zip(profiles, types, strict=True))]
    return ParseSetup(source, "csv", compression, sep, has_header, names, types, per_col_na,
                      global_na, int_text, float(bpr), est_rows, time_columns, cr_newlines)


def _check_columns(source: str, ncols: int) -> None:
    if ncols > MAX_COLUMNS:
        raise ParseError(source, f"{ncols:,} columns is more than a parse may have (the limit is "
                                 f"{MAX_COLUMNS:,} columns)")


def _flat_na(na_strings: Any) -> list[str]:
    """Every NA string the user gave (used only while guessing the header)."""
    if na_strings is None:
        return []
    if isinstance(na_strings, str):
        return [na_strings]
    if isinstance(na_strings, Mapping):
        out: list[str] = []
        for v in na_strings.values():
            out.extend([v] if isinstance(v, str) else [str(x) for x in v])
        return out
    return [str(v) for v in na_strings]


def arrow_type_to_ctype(t: pa.DataType) -> str | None:
    """Our column type for an Arrow type (None when unsupported)."""
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        return NUMERIC
    if pa.types.is_decimal(t) or pa.types.is_temporal(t):
        return NUMERIC
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return ENUM  # as H2O: strings from a typed source become factors
    return None


def _arrow_cell_bytes(t: pa.DataType) -> float:
    if pa.types.is_integer(t) or pa.types.is_boolean(t):
        return float(max(t.bit_width // 8, 1))
    if pa.types.is_floating(t):
        return float(t.bit_width // 8)
    return 2.0 if pa.types.is_dictionary(t) or pa.types.is_string(t) else 8.0


def schema_setup(
    source: str,
    schema: pa.Schema,
    col_names: Sequence[str] | None = None,
    col_types: Sequence[str] | Mapping[str | int, str] | None = None,
    na_strings: Sequence[str] | Mapping[str | int, Sequence[str] | str] | None = None,
    fmt: str = "table",
    est_rows: int | None = None,
) -> ParseSetup:
    """Setup of a typed source (Parquet file or Arrow table): types from the schema."""
    _check_columns(source, len(schema))
    types = []
    for f in schema:
        ctype = arrow_type_to_ctype(f.type)
        if ctype is None:
            raise ParseError(source, f"column {f.name!r} has unsupported type {f.type}")
        types.append(ctype)
    names = _resolve_names(source, [str(n) for n in schema.names], col_names)
    types, time_columns = split_time_types(apply_col_types(source, names, types, col_types))
    global_na, per_col_na = apply_na_strings(source, names, na_strings)
    bpr = sum(_arrow_cell_bytes(f.type) for f in schema)
    return ParseSetup(source, fmt, None, ",", False, names, types, per_col_na, global_na,
                      [False] * len(names), float(bpr), est_rows, time_columns)


def _parquet_setup(
    source: str,
    col_names: Sequence[str] | None,
    col_types: Sequence[str] | Mapping[str | int, str] | None,
    na_strings: Sequence[str] | Mapping[str | int, Sequence[str] | str] | None,
) -> ParseSetup:
    try:
        meta = pq.ParquetFile(source)
        schema = meta.schema_arrow
        nrows = meta.metadata.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise ParseError(source, f"not a readable Parquet file ({exc})") from None
    if len(schema) == 0:
        raise ParseError(source, "Parquet file has no columns")
    return schema_setup(source, schema, col_names, col_types, na_strings, "parquet", nrows)
