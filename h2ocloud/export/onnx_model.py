"""The ONNX model: the preprocessing and the network as one graph (needs the ``onnx`` package,
the ``export`` extra).

Inputs, one per predictor column, named after it, shape [N, 1]: tensor(float) for a numeric
column (NaN is missing), tensor(string) for a factor (a level the model never saw, "" and "NA"
light no unit). Outputs: ``label`` [N] (tensor(string), the class) and ``probabilities`` [N, K]
(float, in the response domain's order) for a classifier; ``predict`` [N, 1] for a regression;
``reconstruction`` [N, units] (in the inputs' units, as predict's reconstr_ columns) and
``reconstruction_mse`` [N] (standardized, as anomaly()) for an autoencoder. The names of the
columns predict() makes are in the model's metadata (``prediction_columns``, JSON).
"""

from __future__ import annotations

import json

import numpy as np

from h2ocloud.export.description import InputColumn, ScoringDescription

OPSET = 19  # Equal on strings (one-hot inside the graph) needs opset 19
IR_VERSION = 9  # what onnxruntime 1.15+ and every current runtime read


def _onnx():
    try:
        import onnx
    except ImportError as e:
        raise RuntimeError("ONNX export needs the onnx package on the node: "
                           "pip install 'h2ocloud[export]'") from e
    return onnx


class _Graph:
    """A tiny builder: constants and nodes with fresh names."""

    def __init__(self, onnx) -> None:
        self.onnx, self.h = onnx, onnx.helper
        self.nodes, self.inits, self._n = [], [], 0

    def name(self, hint: str) -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, value, hint: str = "c") -> str:
        arr = np.asarray(value)
        name = self.name(hint)
        self.inits.append(self.onnx.numpy_helper.from_array(arr, name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str | None = None, **attrs) -> str:
        out = self.name(hint or op_type.lower())
        self.nodes.append(self.h.make_node(op_type, inputs, [out], name=out, **attrs))
        return out


def _factor_units(g: _Graph, c: InputColumn) -> str:
    """[N, units] float one-hot of a factor column: a missing ("") or unseen level lights none."""
    levels = g.const(np.array(list(c.unit_levels), dtype=object), f"{c.name}_levels")
    hit = g.op("Equal", [c.name, levels])  # [N,1] vs [units] -> [N, units]
    return g.op("Cast", [hit], to=g.onnx.TensorProto.FLOAT, hint=f"{c.name}_onehot")


def _numeric_units(g: _Graph, cols: list[InputColumn]) -> str:
    """[N, n] float of the numeric columns (in unit order), standardized in one step;
    missing -> 0, the training mean. One block rather than nodes per column keeps a wide
    model's graph small and fast."""
    x = cols[0].name if len(cols) == 1 else g.op("Concat", [c.name for c in cols], axis=1)
    z = g.op("Div", [g.op("Sub", [x, g.const(np.float32([c.mean for c in cols]))]),
                     g.const(np.float32([c.sigma for c in cols]))])
    return g.op("Where", [g.op("IsNaN", [z]), g.const(np.float32([0.0])), z], hint="numeric_std")


def _layer(g: _Graph, x: str, lay, l: int) -> str:
    w = g.const(lay.weights.astype(np.float32), f"W{l}")
    b = g.const(lay.bias.astype(np.float32), f"b{l}")
    def scaled(v: str) -> str:
        return g.op("Mul", [v, g.const(np.float32([lay.scale]))], hint=f"layer{l}")

    if lay.activation == "Maxout":
        # max over the active (x != 0) inputs of W_ji x_i, 0 when none is active, plus b_j;
        # then the layer is divided by its largest unit when that exceeds 1.
        x3 = g.op("Unsqueeze", [x, g.const(np.int64([1]))])  # [N, 1, in]
        prod = g.op("Mul", [x3, w])  # [N, out, in]
        active = g.op("Not", [g.op("Equal", [x3, g.const(np.float32([0.0]))])])
        masked = g.op("Where", [active, prod, g.const(np.float32([-np.inf]))])
        best = g.op("ReduceMax", [masked, g.const(np.int64([2]))], keepdims=0)
        none = g.op("IsInf", [best], detect_positive=0)
        z = g.op("Add", [g.op("Where", [none, g.const(np.float32([0.0])), best]), b])
        big = g.op("ReduceMax", [z, g.const(np.int64([1]))], keepdims=1)
        norm = g.op("Max", [big, g.const(np.float32([1.0]))])
        return scaled(g.op("Div", [z, norm]))
    z = g.op("Gemm", [x, w, b], transB=1)
    if lay.activation == "Tanh":
        return scaled(g.op("Tanh", [z]))
    if lay.activation == "Rectifier":
        return scaled(g.op("Relu", [z]))
    if lay.activation == "Softmax":
        return g.op("Softmax", [z], axis=1, hint=f"layer{l}")
    return z


def write_onnx(d: ScoringDescription) -> bytes:
    """The serialized ONNX model, checked with onnx's checker."""
    onnx = _onnx()
    h, T = onnx.helper, onnx.TensorProto
    g = _Graph(onnx)
    inputs = [h.make_tensor_value_info(c.name, T.STRING if c.kind == "enum" else T.FLOAT,
                                       ["N", 1]) for c in d.columns]
    by_offset = sorted(d.columns, key=lambda c: c.offset)  # the units' order: factors, numerics
    parts = [_factor_units(g, c) for c in by_offset if c.kind == "enum"]
    numeric = [c for c in by_offset if c.kind == "numeric"]
    if numeric:
        parts.append(_numeric_units(g, numeric))
    x = parts[0] if len(parts) == 1 else g.op("Concat", parts, axis=1, hint="inputs")
    a = x
    for l, lay in enumerate(d.layers):
        a = _layer(g, a, lay, l)

    outputs = []
    if d.classifier:
        p = a
        if d.class_ratio is not None:  # undo balance_classes' resampling
            q = g.op("Mul", [p, g.const(d.class_ratio.astype(np.float32))])
            p = g.op("Div", [q, g.op("ReduceSum", [q, g.const(np.int64([1]))], keepdims=1)])
        if d.category == "Binomial":
            p1 = g.op("Gather", [p, g.const(np.int64(1))], axis=1)
            hit = g.op("GreaterOrEqual", [p1, g.const(np.float32(d.threshold))])
            idx = g.op("Cast", [hit], to=T.INT64)
        else:
            idx = g.op("ArgMax", [p], axis=1, keepdims=0)
        dom = g.const(np.array(list(d.response_domain), dtype=object), "domain")
        g.nodes.append(h.make_node("Gather", [dom, idx], ["label"], axis=0, name="label"))
        g.nodes.append(h.make_node("Identity", [p], ["probabilities"], name="probabilities"))
        outputs = [h.make_tensor_value_info("label", T.STRING, ["N"]),
                   h.make_tensor_value_info("probabilities", T.FLOAT, ["N", d.n_outputs])]
    elif d.category == "Regression":
        v = g.op("Add", [g.op("Mul", [a, g.const(np.float32([d.response_sigma]))]),
                         g.const(np.float32([d.response_mean]))])
        if d.response_link == "log":  # poisson, gamma, tweedie: the log link's inverse
            v = g.op("Exp", [g.op("Min", [v, g.const(np.float32([80.0]))])])
        g.nodes.append(h.make_node("Identity", [v], ["predict"], name="predict"))
        outputs = [h.make_tensor_value_info("predict", T.FLOAT, ["N", 1])]
    else:
        rec = g.op("Add", [g.op("Mul", [a, g.const(d.reconstruction_scale.astype(np.float32))]),
                           g.const(d.reconstruction_offset.astype(np.float32))])
        g.nodes.append(h.make_node("Identity", [rec], ["reconstruction"], name="reconstruction"))
        err = g.op("Sub", [a, x])
        mse = g.op("ReduceMean", [g.op("Mul", [err, err]), g.const(np.int64([1]))], keepdims=0)
        g.nodes.append(h.make_node("Identity", [mse], ["reconstruction_mse"],
                                   name="reconstruction_mse"))
        outputs = [h.make_tensor_value_info("reconstruction", T.FLOAT, ["N", d.n_inputs]),
                   h.make_tensor_value_info("reconstruction_mse", T.FLOAT, ["N"])]

    graph = h.make_graph(g.nodes, d.python_module, inputs, outputs, initializer=g.inits)
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", OPSET)],
                         producer_name="h2ocloud", ir_version=IR_VERSION,
                         doc_string=f"h2ocloud deep-learning model {d.model_id} ({d.category})")
    for k, v in {"model_id": d.model_id, "category": d.category,
                 "prediction_columns": json.dumps(list(d.output_columns)),
                 "response": d.response or "",
                 "layers": json.dumps(d.layer_sizes)}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString()
