"""Saving and loading DeepLearningModels: numpy arrays plus one JSON document, never pickle.

Format ``h2ocloud.deeplearning``, version 1. Two containers, same contents:

* a **single file** (``save_model(m, "m.h2odl")`` or ``model_to_bytes``): an ``np.savez`` zip
  archive holding the arrays ``net.weights``, ``net.opt1``, ``net.opt2``,
  ``net.samples_seen`` and ``model.json`` (the JSON document's UTF-8 bytes as uint8);
* a **directory** (``save_model(m, "dir/", directory=True)``): ``model.json`` (the document)
  and ``arrays.npz`` (the arrays above).

The JSON document::

    {"format": "h2ocloud.deeplearning", "version": 1,
     "model_id", "params" (all, filled; inf written "Infinity"), "datainfo" (DataInfo.to_dict),
     "netspec" (NetSpec.to_dict), "epochs_trained", "samples_trained", "iterations",
     "scoring_history", "training_metrics", "validation_metrics", "diagnostics",
     "variable_importances", "samples_per_iteration", "nodes_per_iteration", "run_time",
     "status", "prior_class_dist", "model_class_dist"}

Arrays are loaded with ``allow_pickle=False``. Loading raises ValueError for anything that is
not such a model (wrong or missing format name, a truncated or corrupt archive, arrays of the
wrong size) and for a version newer than :data:`FORMAT_VERSION`.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from h2ocloud.dl.datainfo import DataInfo
from h2ocloud.dl.model import DeepLearningModel, jsonable
from h2ocloud.dl.params import validate_parameters
from h2ocloud.kernel import Net, NetSpec

FORMAT_NAME = "h2ocloud.deeplearning"
FORMAT_VERSION = 1
_DOC_KEY = "model.json"
_NET_PREFIX = "net."
_FIELDS = ("epochs_trained", "samples_trained", "iterations", "scoring_history",
           "training_metrics", "validation_metrics", "diagnostics", "variable_importances",
           "samples_per_iteration", "nodes_per_iteration", "run_time", "status",
           "prior_class_dist", "model_class_dist", "training_nodes", "comm_seconds",
           "cross_validation_metrics", "cross_validation_metrics_summary",
           "cross_validation_models", "training_chunks", "training_frame", "validation_frame",
           "cross_validation_frames", "given_params", "iteration_samples", "iteration_chunks")


def _document(model: DeepLearningModel) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "model_id": model.model_id,
        "params": model.params,
        "datainfo": model.info.to_dict(),
        "netspec": model.spec.to_dict(),
    }
    for f in _FIELDS:
        doc[f] = getattr(model, f)
    return jsonable(doc)


def _arrays(model: DeepLearningModel) -> dict[str, np.ndarray]:
    return {_NET_PREFIX + k: np.asarray(v) for k, v in model.net.to_arrays().items()}


def _restore(doc: Any, arrays: dict[str, np.ndarray]) -> DeepLearningModel:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise ValueError(f"not an h2ocloud deep-learning model (format {FORMAT_NAME!r} expected)")
    version = doc.get("version")
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"invalid model format version {version!r}")
    if version > FORMAT_VERSION:
        raise ValueError(f"model format version {version} is newer than this h2ocloud reads "
                         f"(up to {FORMAT_VERSION}); upgrade h2ocloud to load it")
    try:
        spec = NetSpec.from_dict(doc["netspec"])
        net_arrays = {k[len(_NET_PREFIX):]: v for k, v in arrays.items()
                      if k.startswith(_NET_PREFIX)}
        net = Net.from_arrays(spec, net_arrays)
        model = DeepLearningModel(model_id=doc["model_id"],
                                  params=validate_parameters(doc["params"]),
                                  info=DataInfo.from_dict(doc["datainfo"]), net=net)
        for f in _FIELDS:
            if f in doc:
                setattr(model, f, doc[f])
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"corrupt h2ocloud model: {e}") from e
    return model


def model_to_bytes(model: DeepLearningModel) -> bytes:
    """The single-file format as bytes (for the DKV or the wire)."""
    buf = io.BytesIO()
    doc = json.dumps(_document(model), allow_nan=False).encode("utf-8")
    np.savez(buf, **_arrays(model), **{_DOC_KEY: np.frombuffer(doc, dtype=np.uint8)})
    return buf.getvalue()


def _read_npz(data: bytes | Path, what: str) -> dict[str, np.ndarray]:
    try:
        src = io.BytesIO(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
        with np.load(src, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        raise ValueError(f"{what} is not a readable h2ocloud model ({e})") from e


def model_from_bytes(data: bytes) -> DeepLearningModel:
    """Inverse of :func:`model_to_bytes`."""
    arrays = _read_npz(bytes(data), "the data")
    if _DOC_KEY not in arrays:
        raise ValueError("not an h2ocloud deep-learning model (no model.json)")
    try:
        doc = json.loads(arrays.pop(_DOC_KEY).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"corrupt h2ocloud model document: {e}") from e
    return _restore(doc, arrays)


def save_model(model: DeepLearningModel, path: str | Path, directory: bool = False) -> Path:
    """Write ``model`` to ``path``: one file, or a directory of model.json + arrays.npz."""
    path = Path(path)
    if directory:
        path.mkdir(parents=True, exist_ok=True)
        (path / "model.json").write_text(json.dumps(_document(model), allow_nan=False,
                                                    indent=1))
        np.savez(path / "arrays.npz", **_arrays(model))
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model_to_bytes(model))
    return path


def load_model(path: str | Path) -> DeepLearningModel:
    """Read a model saved by :func:`save_model` (either container)."""
    path = Path(path)
    if path.is_dir():
        try:
            doc = json.loads((path / "model.json").read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{path} is not an h2ocloud model directory ({e})") from e
        return _restore(doc, _read_npz(path / "arrays.npz", str(path / "arrays.npz")))
    if not path.exists():
        raise ValueError(f"{path}: no such model file")
    return model_from_bytes(path.read_bytes())
