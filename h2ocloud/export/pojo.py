"""The POJO: one plain Java source file, one public class in the default package.

The code (preprocessing, forward pass, score0, a CSV main) is pojo_template.java; the model's
numbers go into it as one big-endian binary record, base64-encoded and cut into string
constants (see the template's header for why not array initializers). The record, read in
this order by the template's static initializer::

    int magic 'H2OD'; int ncols; per column: str name, int kind (0 enum, 1 numeric),
    int unit offset, int first level, double mean, double sigma, [enum: strs domain];
    int n_inputs; int nlayers; per layer: int n_in, int n_out, int activation,
    double scale, float W[n_out * n_in] (row-major), float b[n_out];
    str response; strs response domain; double threshold; doubles class ratio;
    double response mean; double response sigma; doubles reconstruction scale;
    doubles reconstruction offset; strs prediction columns

where str is int length + UTF-8 bytes, strs is int count + str each, and doubles is int count
(-1 for none) + double each.
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path
from string import Template

import numpy as np

from h2ocloud.export.description import ScoringDescription

TEMPLATE = Path(__file__).with_name("pojo_template.java")
PIECE = 60000  # characters per string constant: under the class file's 65535-byte limit
MAGIC = 0x48324F44  # "H2OD"
_ACT = {"Tanh": 0, "Rectifier": 1, "Maxout": 2, "Linear": 3, "Softmax": 4}


class _Record:
    """Big-endian writer of the record the template's static initializer reads."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def int(self, v: int) -> None:
        self.parts.append(struct.pack(">i", int(v)))

    def double(self, v: float) -> None:
        self.parts.append(struct.pack(">d", float(v)))

    def str(self, s: str | None) -> None:
        b = (s or "").encode("utf-8")
        self.int(len(b))
        self.parts.append(b)

    def strs(self, items) -> None:
        items = list(items)
        self.int(len(items))
        for s in items:
            self.str(s)

    def doubles(self, a: np.ndarray | None) -> None:
        if a is None:
            self.int(-1)
            return
        a = np.asarray(a, dtype=">f8")
        self.int(a.size)
        self.parts.append(a.tobytes())

    def floats(self, a: np.ndarray) -> None:
        self.parts.append(np.ascontiguousarray(a, dtype=">f4").tobytes())

    def bytes(self) -> bytes:
        return b"".join(self.parts)


def model_record(d: ScoringDescription) -> bytes:
    r = _Record()
    r.int(MAGIC)
    r.int(len(d.columns))
    for c in d.columns:
        r.str(c.name)
        r.int(0 if c.kind == "enum" else 1)
        r.int(c.offset)
        r.int(c.first_level)
        r.double(c.mean)
        r.double(c.sigma)
        if c.kind == "enum":
            r.strs(c.domain)
    r.int(d.n_inputs)
    r.int(len(d.layers))
    for lay in d.layers:
        r.int(lay.n_in)
        r.int(lay.n_out)
        r.int(_ACT[lay.activation])
        r.double(lay.scale)
        r.floats(lay.weights.reshape(-1))
        r.floats(lay.bias)
    r.str(d.response)
    r.strs(d.response_domain)
    r.double(d.threshold)
    r.doubles(d.class_ratio)
    r.double(d.response_mean)
    r.double(d.response_sigma)
    r.int(1 if d.response_link == "log" else 0)
    r.doubles(d.reconstruction_scale)
    r.doubles(d.reconstruction_offset)
    r.strs(d.output_columns)
    return r.bytes()


def _java_string(s: str) -> str:
    """A Java string literal's body (JSON escapes are Java's, bar \\/ which json never writes)."""
    return json.dumps(s)[1:-1]


def _comment(s: str) -> str:
    return s.replace("*/", "* /").replace("\n", " ")


def write_pojo(d: ScoringDescription) -> bytes:
    """The POJO's source (UTF-8); the file must be named ``d.java_class + ".java"``."""
    text = base64.b64encode(model_record(d)).decode("ascii")
    pieces = ",\n".join(f'        "{text[i:i + PIECE]}"' for i in range(0, len(text), PIECE))
    cols = ", ".join(f"{c.name} ({c.kind})" for c in d.columns[:50])
    if len(d.columns) > 50:
        cols += f", ... ({len(d.columns)} in all)"
    hidden = {lay.activation for lay in d.layers[:-1]}
    dropout = [round(1 - lay.scale, 6) for lay in d.layers[:-1]]
    activation = "/".join(sorted(hidden)) + (f", hidden dropout {dropout}" if any(dropout) else "")
    src = Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        CLASS=d.java_class,
        MODEL_ID=_comment(d.model_id),
        MODEL_ID_ESCAPED=_java_string(d.model_id),
        CATEGORY=d.category,
        LAYERS="-".join(str(n) for n in d.layer_sizes),
        ACTIVATION=activation,
        COLUMNS_COMMENT=_comment(cols),
        PIECE=PIECE,
        PIECES=pieces,
        TEXT_LENGTH=len(text),
    )
    return src.encode("utf-8")
