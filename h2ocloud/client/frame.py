"""H2OFrame: a handle on a frame that lives in the cloud's store, with h2o-py's names."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from h2ocloud.client import tempframes
from h2ocloud.client.frame_ops import FrameOps
from h2ocloud.client.jobs import wait_job
from h2ocloud.client.session import connection
from h2ocloud.wire import PIECE

_PANDAS_TYPES = {"numeric": "real", "enum": "enum", "string": "string"}


def _parse_args(destination_frame, header, sep, col_names, col_types, na_strings, chunk_rows=None) -> dict[str, Any]:
    if header not in (-1, 0, 1):
        raise ValueError(f"header must be -1 (no header), 0 (guess) or 1 (first line), got {header!r}")
    args: dict[str, Any] = {"header": header}
    if chunk_rows is not None:
        args["chunk_rows"] = int(chunk_rows)
    if destination_frame is not None:
        args["destination_frame"] = destination_frame
    if sep is not None:
        args["sep"] = sep
    if col_names is not None:
        args["col_names"] = list(col_names)
    if col_types is not None:
        args["col_types"] = dict(col_types) if isinstance(col_types, dict) else list(col_types)
    if na_strings is not None:
        # one string is one NA string for every column (list("NA") would make "N" and "A" NA)
        args["na_strings"] = (dict(na_strings) if isinstance(na_strings, dict) else
                              na_strings if isinstance(na_strings, str) else list(na_strings))
    return args


def import_file(path: str | Sequence[str], destination_frame: str | None = None, header: int = 0,
                sep: str | None = None, col_names: Sequence[str] | None = None, col_types: Any = None,
                na_strings: Any = None, pattern: str | None = None, chunk_rows: int | None = None) -> H2OFrame:
    """Parse files the node reads (CSV, CSV.gz, CSV.zip, Parquet) into one frame.

    path: a file, a folder (its files; with ``pattern``, those whose names match that regular
    expression), an http(s) URL (the node fetches it), or a list of these; several files of one
    layout make one frame, in order. Paths are the node's, as h2o-py's are the H2O server's: a
    relative path resolves against the node's working directory (use upload_file for a file on
    this machine). header: -1 no header, 0 guess, 1 the first line is a header. sep: the
    separator (guessed when None). col_types: a list, or a dict by column name, of "numeric",
    "enum", "string" or "time". na_strings: strings read as missing (a list, or a dict by column
    name). chunk_rows: rows per chunk (default: about 1 MB stored per chunk), an h2ocloud extension.
    """
    args = _parse_args(destination_frame, header, sep, col_names, col_types, na_strings, chunk_rows)
    if isinstance(path, str):
        args["path"] = path  # as given: the node resolves it (and fetches a URL)
    elif isinstance(path, Sequence) and all(isinstance(p, str) for p in path):
        args["path"] = list(path)
    else:
        raise TypeError(f"path must be a string or a list of strings, got {type(path).__name__}")
    if pattern is not None:
        args["pattern"] = str(pattern)
    result, _ = connection().call("frames.import", args)
    wait_job(result["job"])
    return H2OFrame._from_id(result["frame_id"])


def _file_pieces(path: str):
    with open(path, "rb") as f:
        while True:
            piece = f.read(PIECE)
            if not piece:
                return
            yield piece


def upload_file(path: str, destination_frame: str | None = None, header: int = 0, sep: str | None = None,
                col_names: Sequence[str] | None = None, col_types: Any = None, na_strings: Any = None,
                chunk_rows: int | None = None) -> H2OFrame:
    """Stream a file of this machine to the node in pieces and parse it (same options as
    import_file); a relative path is this process's, as in h2o-py."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file on this machine: {path} (upload_file sends a client's file; "
                                "import_file reads the node's)")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a directory, not a file")
    args = _parse_args(destination_frame, header, sep, col_names, col_types, na_strings, chunk_rows)
    args["filename"] = os.path.basename(path)
    result, _ = connection().call_stream("frames.upload", args, _file_pieces(path), os.path.getsize(path))
    wait_job(result["job"])
    return H2OFrame._from_id(result["frame_id"])


def _upload_bytes(data: bytes, filename: str, **parse_args: Any) -> H2OFrame:
    args = _parse_args(parse_args.pop("destination_frame", None), 0, None, None,
                       parse_args.pop("col_types", None), parse_args.pop("na_strings", None))
    args["filename"] = filename
    pieces = (data[i : i + PIECE] for i in range(0, len(data), PIECE))
    result, _ = connection().call_stream("frames.upload", args, pieces, len(data))
    wait_job(result["job"])
    return H2OFrame._from_id(result["frame_id"])


def get_frame(frame_id: str) -> H2OFrame:
    """A handle on an existing frame (NotFound when there is none of that id)."""
    return H2OFrame._from_id(frame_id)


def assign(data: H2OFrame, xid: str) -> H2OFrame:
    """Store ``data`` under the name ``xid`` (h2o-py's h2o.assign); the handle then names that
    frame, which stays until removed, and the temporary it was is freed."""
    result, _ = connection().call("frames.select", {"frame_id": data.frame_id, "columns": data.columns,
                                                    "dest": xid})
    tempframes.untrack(data)
    data._header = result
    return data


def ls() -> list[str]:
    """Keys of the frames and models in the cloud."""
    frames, _ = connection().call("frames.list")
    models, _ = connection().call("models.list")
    return sorted([f["frame_id"] for f in frames["frames"]] + [m["model_id"] for m in models["models"]])


def remove(x: Any) -> None:
    """Remove a frame or model (by handle or id) from the cloud."""
    key = getattr(x, "frame_id", None) or getattr(x, "model_id", None) or x
    connection().call("dkv.remove_user", {"key": str(key)})


class H2OFrame(FrameOps):
    """A frame in the cloud. Construct from a pandas DataFrame, numpy array, dict or list of rows
    (uploaded), or get one from import_file/upload_file/get_frame."""

    def __init__(self, python_obj: Any = None, destination_frame: str | None = None,
                 column_names: Sequence[str] | None = None, column_types: Any = None,
                 na_strings: Any = None):
        self._header: dict[str, Any] = {}
        if python_obj is None:
            return
        import pandas as pd

        if isinstance(python_obj, pd.DataFrame):
            df = python_obj
        elif isinstance(python_obj, dict):
            df = pd.DataFrame(python_obj)
        else:
            arr = np.asarray(python_obj)
            if arr.ndim == 1:
                arr = arr[:, None]
            if arr.ndim != 2:
                raise ValueError(f"python_obj must be 2-D, got an array of shape {arr.shape}")
            df = pd.DataFrame(arr, columns=[f"C{i + 1}" for i in range(arr.shape[1])])
        if column_names is not None:
            if len(column_names) != df.shape[1]:
                raise ValueError(f"column_names has {len(column_names)} names for {df.shape[1]} columns")
            df = df.set_axis(list(column_names), axis=1)
        df = df.set_axis([str(c) for c in df.columns], axis=1)
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)  # typed, compact, and no pickle
        if destination_frame is None:  # a fresh key each time, as h2o-py's Key_Frame__upload_...
            import uuid

            destination_frame = f"Key_Frame__upload_{uuid.uuid4().hex[:16]}.hex"
        fr = _upload_bytes(buf.getvalue(), "python_obj.parquet", destination_frame=destination_frame,
                           col_types=column_types, na_strings=na_strings)
        self._header = fr._header

    @classmethod
    def _from_id(cls, frame_id: str) -> H2OFrame:
        fr = cls()
        result, _ = connection().call("frames.get", {"frame_id": frame_id})
        fr._header = result
        if tempframes.is_temporary(frame_id):  # one more handle of a temporary frame
            tempframes.track(fr, connection())
        return fr

    @classmethod
    def _from_header(cls, header: dict[str, Any], temporary: bool = True) -> H2OFrame:
        """A handle on a frame the node just derived; ``temporary`` (the default: selections,
        conversions, expressions, predictions): a frame nobody named, removed from the cloud when
        no handle of it is left (see h2ocloud.client.tempframes)."""
        fr = cls()
        fr._header = header
        if temporary or tempframes.is_temporary(fr.frame_id):
            tempframes.track(fr, connection())
        return fr

    def refresh(self) -> H2OFrame:
        self._header = H2OFrame._from_id(self.frame_id)._header
        return self

    # ---- shape and names -----------------------------------------------------------------
    @property
    def frame_id(self) -> str:
        return self._header["frame_id"]

    @property
    def nrows(self) -> int:
        return int(self._header["nrows"])

    @property
    def ncols(self) -> int:
        return len(self._header["names"])

    @property
    def shape(self) -> tuple[int, int]:
        return (self.nrows, self.ncols)

    @property
    def columns(self) -> list[str]:
        return list(self._header["names"])

    names = columns

    @property
    def col_names(self) -> list[str]:
        return self.columns

    @property
    def types(self) -> dict[str, str]:
        """Column name -> "int", "real", "enum" or "string", as h2o-py reports them."""
        out = {}
        for name, t, s in zip(self._header["names"], self._header["types"], self._header["stats"]):
            out[name] = ("int" if s.get("is_int") else "real") if t == "numeric" else _PANDAS_TYPES[t]
        return out

    def levels(self) -> list[list[str]]:
        """The levels of each column ([] for a non-factor)."""
        return [list(d or []) for d in self._header["domains"]]

    def nlevels(self) -> list[int]:
        return [len(d) for d in self.levels()]

    def isfactor(self) -> list[bool]:
        return [t == "enum" for t in self._header["types"]]

    def __len__(self) -> int:
        return self.nrows

    def __repr__(self) -> str:
        return f"H2OFrame({self.frame_id!r}, rows={self.nrows}, cols={self.ncols})"

    # ---- data -----------------------------------------------------------------------------
    def _fetch(self, nrows: int | None = None, columns: list[str] | None = None):
        import pandas as pd

        args: dict[str, Any] = {"frame_id": self.frame_id}
        if nrows is not None:
            args["nrows"] = int(nrows)
        if columns is not None:
            args["columns"] = columns
        meta, blobs = connection().call("frames.fetch", args)
        data = {}
        stats = dict(zip(self._header["names"], self._header["stats"]))
        for col in meta["columns"]:
            if col["type"] == "numeric":
                values = np.frombuffer(blobs[col["blob"]], "<f8")
                st = stats.get(col["name"], {})
                if st.get("is_int") and not st.get("missing"):
                    values = values.astype(np.int64)  # whole numbers show as ints, as in H2O
                data[col["name"]] = values
            elif col["type"] == "enum":
                codes = np.frombuffer(blobs[col["blob"]], "<i4")
                data[col["name"]] = pd.Categorical.from_codes(codes, categories=col["domain"] or [])
            else:
                data[col["name"]] = col["values"]
        return pd.DataFrame(data, columns=[c["name"] for c in meta["columns"]])

    def as_data_frame(self, use_pandas: bool = True):
        """The whole frame as a pandas DataFrame (factor columns shown by their level names)."""
        df = self._fetch()
        return df if use_pandas else df.values.tolist()

    def summary(self, return_data: bool = False) -> list[dict[str, Any]] | None:
        """Per column: type, min, max, mean, sigma, missing, zeros, cardinality, domain, histogram.
        Computed by map/reduce over the frame's chunks. Prints a table unless return_data."""
        result, _ = connection().call("frames.summary", {"frame_id": self.frame_id})
        cols = result["columns"]
        if return_data:
            return cols
        _print_summary(cols)
        return None

    def describe(self) -> None:
        """Print the frame's shape and its per-column summary table."""
        print(f"Rows: {self.nrows}  Cols: {self.ncols}")
        self.summary()

    # ---- derived frames ----------------------------------------------------------------------
    def _names_of(self, item: Any) -> list[str]:
        if isinstance(item, str):
            return [item]
        if isinstance(item, int):
            return [self.columns[item]]
        if isinstance(item, slice):
            return self.columns[item]
        if isinstance(item, list | tuple):
            return [self.columns[c] if isinstance(c, int) else c for c in item]
        raise TypeError(f"cannot select columns with {item!r}")

    def __getitem__(self, item: Any) -> H2OFrame:
        """fr["x"], fr[["a", "b"]], fr[0:10, :], fr[[1, 5], :], fr[mask], fr[mask, cols]."""
        return self._select(item)

    def __setitem__(self, name: str | int | Sequence[str], value: Any) -> None:
        """Replace or add columns in place: fr["y"] = fr["y"].asfactor(), fr[["a", "b"]] = ...,
        fr["z"] = 0 (a scalar fills the column)."""
        from h2ocloud.client.frame_ops import _op

        names = [name] if isinstance(name, str | int) else list(name)
        names = [self.columns[n] if isinstance(n, int) else n for n in names]
        if not isinstance(value, H2OFrame):
            if not (value is None or isinstance(value, bool | int | float | str)):
                raise TypeError(f"cannot assign a {type(value).__name__} to a column")
            value = _op("+", self[self.columns[0]] * 0, value) if not isinstance(value, str) else \
                _op("ifelse", self[self.columns[0]] * 0 == 0, value, value)
        if value.ncols != len(names):
            raise ValueError(f"assign {len(names)} column(s), got a frame of {value.ncols}")
        result, _ = connection().call("frames.assign", {"frame_id": self.frame_id, "columns": names,
                                                        "source_frame": value.frame_id,
                                                        "source_columns": value.columns})
        self._header = result

    def asfactor(self) -> H2OFrame:
        """A frame with every column as a factor (whole numbers give levels "0", "1", ...)."""
        result, _ = connection().call("frames.convert", {"frame_id": self.frame_id, "to": "asfactor"})
        return H2OFrame._from_header(result, temporary=True)

    def asnumeric(self) -> H2OFrame:
        """A frame with every column numeric."""
        result, _ = connection().call("frames.convert", {"frame_id": self.frame_id, "to": "asnumeric"})
        return H2OFrame._from_header(result, temporary=True)

    def split_frame(self, ratios: Sequence[float] = (0.75,), destination_frames: Sequence[str] | None = None,
                    seed: int | None = None) -> list[H2OFrame]:
        """Split rows at random into len(ratios)+1 frames (deterministic for a seed)."""
        args: dict[str, Any] = {"frame_id": self.frame_id, "ratios": [float(r) for r in ratios]}
        if destination_frames is not None:
            args["destination_frames"] = list(destination_frames)
        if seed is not None:
            args["seed"] = int(seed)
        result, _ = connection().call("frames.split", args)
        return [H2OFrame._from_header(h, temporary=destination_frames is None) for h in result["frames"]]


def _print_summary(cols: list[dict[str, Any]]) -> None:
    stats = ["type", "min", "max", "mean", "sigma", "missing", "zeros", "cardinality"]
    rows = [[""] + [c["name"] for c in cols]]
    for s in stats:
        row = [s]
        for c in cols:
            v = c.get(s)
            row.append("" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v)))
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(x.ljust(w) for x, w in zip(r, widths)))
