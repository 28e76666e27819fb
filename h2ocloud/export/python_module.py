"""The numpy-only Python scorer: scorer_template.py with the model's data put between its
markers (the description as JSON, the float32 parameters as base64 text)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np

from h2ocloud.export.description import ScoringDescription

TEMPLATE = Path(__file__).with_name("scorer_template.py")
_BEGIN, _END = "# BEGIN MODEL", "# END MODEL"
_LINE = 76 * 1000  # base64 characters per string literal (a multiple of 4)


def model_document(d: ScoringDescription) -> dict[str, Any]:
    """The description as JSON-able data (everything but the parameters)."""
    cols = []
    for c in d.columns:
        col: dict[str, Any] = {"name": c.name, "kind": c.kind, "offset": c.offset}
        if c.kind == "enum":
            col.update(domain=list(c.domain), first_level=c.first_level)
        else:
            col.update(mean=c.mean, sigma=c.sigma)
        cols.append(col)
    return {
        "model_id": d.model_id, "category": d.category, "columns": cols,
        "n_inputs": d.n_inputs, "input_names": list(d.input_names),
        "layers": [{"n_in": lay.n_in, "n_out": lay.n_out, "activation": lay.activation,
                    "scale": lay.scale} for lay in d.layers],
        "output_columns": list(d.output_columns), "response": d.response,
        "response_domain": list(d.response_domain), "threshold": d.threshold,
        "class_ratio": None if d.class_ratio is None else [float(v) for v in d.class_ratio],
        "response_mean": d.response_mean, "response_sigma": d.response_sigma,
        "response_link": d.response_link,
        "reconstruction_scale": _floats(d.reconstruction_scale),
        "reconstruction_offset": _floats(d.reconstruction_offset),
    }


def _floats(a: np.ndarray | None) -> list[float] | None:
    return None if a is None else [float(v) for v in a]


def write_python(d: ScoringDescription) -> bytes:
    """The scorer module's source (UTF-8)."""
    text = TEMPLATE.read_text(encoding="utf-8")
    head, rest = text.split(_BEGIN, 1)
    _, tail = rest.split(_END, 1)
    b64 = base64.b64encode(np.ascontiguousarray(d.params, dtype="<f4").tobytes()).decode("ascii")
    pieces = "".join(f'    "{b64[i:i + _LINE]}",\n' for i in range(0, len(b64), _LINE))
    data = (f"{_BEGIN} {d.model_id}: {d.category}, layers {d.layer_sizes}\n"
            f"MODEL_JSON = {json.dumps(json.dumps(model_document(d), allow_nan=False))}\n"
            f"PARAMS_B64: tuple[str, ...] = (\n{pieces})\n")
    head = head.replace("MODULE", d.python_module)
    return (head + data + _END + tail).encode("utf-8")
