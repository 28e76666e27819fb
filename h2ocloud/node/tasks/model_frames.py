"""A model's layers as frames: H2O-3's export_weights_and_biases, and the matrices
``m.weights(i)`` / ``m.biases(i)`` read."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from h2ocloud.dl.model import DeepLearningModel

if TYPE_CHECKING:
    from h2ocloud.node.tasks.host import TaskHost as Node


def layer_matrix(model: DeepLearningModel, layer: int, what: str) -> tuple[np.ndarray, list[str]]:
    """Weight layer ``layer``'s matrix (what="weights": one row per unit of layer+1, one column
    per unit of layer; the first layer's columns named by input, as h2o-py shows them) or bias
    vector (what="biases", one column), float32."""
    n_layers = model.spec.n_layers
    if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < n_layers:
        raise ValueError(f"matrix_id must be an integer in 0..{n_layers - 1} (the model has "
                         f"{n_layers} weight layers), got {layer!r}")
    if what not in ("weights", "biases"):
        raise ValueError(f"what must be 'weights' or 'biases', got {what!r}")
    w, b = model.net.layer(layer)
    if what == "biases":
        return np.asarray(b, np.float32).reshape(-1, 1), ["C1"]
    values = np.asarray(w, np.float32)
    inputs = list(model.info.input_names) if layer == 0 else []
    names = inputs if len(inputs) == values.shape[1] else [f"C{i + 1}" for i in range(values.shape[1])]
    return values, names


def layer_frame_id(model_id: str, what: str, layer: int) -> str:
    """H2O-3's key of an exported layer frame: <model_id>.weights.<i> / <model_id>.biases.<i>."""
    return f"{model_id}.{what}.{layer}"


def initial_layers(node: Node, params: dict, info) -> dict[int, tuple[np.ndarray | None, np.ndarray | None]]:
    """The starting weights a model asks for (thread-side): initial_weights / initial_biases
    frames (one per weight layer, None entries keep the random start), or the hidden layers of
    pretrained_autoencoder, which must read the same inputs through the same hidden layers."""
    out: dict[int, list] = {}
    for k, name in enumerate(("initial_weights", "initial_biases")):
        for l, fid in enumerate(params.get(name) or []):
            if fid is not None:
                out.setdefault(l, [None, None])[k] = _frame_matrix(node, fid, name)
    ae_id = params.get("pretrained_autoencoder")
    if ae_id:
        from h2ocloud.node.tasks.models import load_model_sync

        try:
            ae = load_model_sync(node, ae_id)
        except Exception as e:
            raise ValueError(f"parameter 'pretrained_autoencoder': {e}") from e
        if not ae.info.autoencoder:
            raise ValueError(f"parameter 'pretrained_autoencoder': {ae_id!r} is not an autoencoder")
        if list(ae.spec.hidden) != list(params["hidden"]):
            raise ValueError(f"parameter 'pretrained_autoencoder': its hidden layers {list(ae.spec.hidden)} "
                             f"differ from hidden {list(params['hidden'])}")
        if ae.info.input_names != info.input_names:
            raise ValueError("parameter 'pretrained_autoencoder': it was trained on other inputs "
                             f"({len(ae.info.input_names)} units vs {len(info.input_names)})")
        if ae.spec.activation != params["activation"].removesuffix("WithDropout"):
            raise ValueError(f"parameter 'pretrained_autoencoder': its activation {ae.spec.activation} "
                             f"differs from {params['activation']}")
        for l in range(len(ae.spec.hidden)):
            w, b = ae.net.layer(l)
            out[l] = [np.array(w), np.array(b)]
    return {l: (w, b) for l, (w, b) in out.items()}


def _frame_matrix(node: Node, frame_id: str, name: str) -> np.ndarray:
    """A numeric frame as a float32 matrix (rows x columns)."""
    from h2ocloud.node.tasks import framedata
    from h2ocloud.node.tasks.models import frame_header_sync

    try:
        h = frame_header_sync(node, frame_id, name)
    except Exception as e:
        raise ValueError(f"parameter {name!r}: {e}") from e
    bad = [n for n, t in zip(h.names, h.types) if t != "numeric"]
    if bad:
        raise ValueError(f"parameter {name!r}: frame {frame_id!r} has non-numeric columns {bad}")
    cols = framedata.columns(node, h)
    return np.column_stack([np.asarray(cols[n], np.float64) for n in h.names]).astype(np.float32)


def export_weights_and_biases(node: Node, model: DeepLearningModel) -> list[str]:
    """Store every layer's weights and biases as frames in the DKV (thread-side); their ids."""
    import pyarrow as pa

    from h2ocloud.node.tasks.frame_expr import store_table_sync

    ids = []
    for layer in range(model.spec.n_layers):
        for what in ("weights", "biases"):
            values, names = layer_matrix(model, layer, what)
            table = pa.table({n: pa.array(values[:, j].astype(np.float64)) for j, n in enumerate(names)})
            dest = layer_frame_id(model.model_id, what, layer)
            store_table_sync(node, dest, table, {n: "numeric" for n in names})
            ids.append(dest)
    return ids
