"""Model export: a trained model leaves the cloud as code that scores with nothing of h2ocloud
installed (the booklet's section 3.3.2).

One description of the model's scoring (description.py) is read by one writer per format:

| format   | writer             | file                       |
| -------- | ------------------ | -------------------------- |
| "java"   | pojo.write_pojo    | <Class>.java (a POJO)      |
| "onnx"   | onnx_model.write_onnx | <model>.onnx            |
| "python" | python_module.write_python | <model>.py (numpy) |
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from h2ocloud.export.description import ScoringDescription, describe

if TYPE_CHECKING:
    from h2ocloud.dl.model import DeepLearningModel


@dataclass(frozen=True)
class ExportFormat:
    """One export format: its writer, the file name it gets and its media type."""

    name: str
    write: Callable[[ScoringDescription], bytes]
    filename: Callable[[ScoringDescription], str]
    content_type: str


def _pojo(d: ScoringDescription) -> bytes:
    from h2ocloud.export.pojo import write_pojo

    return write_pojo(d)


def _onnx(d: ScoringDescription) -> bytes:
    from h2ocloud.export.onnx_model import write_onnx

    return write_onnx(d)


def _python(d: ScoringDescription) -> bytes:
    from h2ocloud.export.python_module import write_python

    return write_python(d)


FORMATS: dict[str, ExportFormat] = {f.name: f for f in (
    ExportFormat("java", _pojo, lambda d: f"{d.java_class}.java", "text/x-java-source"),
    ExportFormat("onnx", _onnx, lambda d: f"{d.python_module}.onnx", "application/octet-stream"),
    ExportFormat("python", _python, lambda d: f"{d.python_module}.py", "text/x-python"),
)}


def export_model(model: DeepLearningModel, fmt: str,
                 output_columns: Sequence[str]) -> tuple[str, bytes, str]:
    """(file name, contents, media type) of ``model`` exported as ``fmt``."""
    f = FORMATS.get(fmt)
    if f is None:
        raise ValueError(f"parameter 'format': {fmt!r} is not one of {sorted(FORMATS)}")
    d = describe(model, output_columns)
    return f.filename(d), f.write(d), f.content_type
