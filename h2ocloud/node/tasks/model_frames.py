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
