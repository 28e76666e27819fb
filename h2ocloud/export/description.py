"""One description of a model's scoring, read by every export writer.

A :class:`ScoringDescription` holds exactly what the cloud's ``predict`` does to a row, as plain
numbers and names: how each predictor column becomes input units (DataInfo's one-hot with unseen
levels and missing values activating nothing, standardization with the training mean and sigma,
missing numerics imputed with the mean, constant columns dropped), the network's layers
(weights, biases, activation, the (1 - dropout) scale of scoring), and how the outputs become
the prediction columns (class-balance correction, the binomial threshold, the regression
response's units, an autoencoder's reconstruction in the inputs' units).

The POJO, ONNX and numpy writers translate this description and nothing else, so they cannot
disagree about the preprocessing; the kernel's forward pass (h2ocloud/kernel/core.py) is the
reference each of them follows:

* Tanh / Rectifier: ``a = act(W x + b) * scale``;
* Maxout: ``a_j = max over inputs i with x_i != 0 of W_ji x_i (0 when none) + b_j``; the layer
  is divided by its largest activation when that exceeds 1; then ``* scale``;
* the output layer: softmax (classifier), linear (regression) or the hidden activation with
  scale 1 (autoencoder).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from h2ocloud.kernel import core
from h2ocloud.kernel.layout import layer_kinds

if TYPE_CHECKING:
    from h2ocloud.dl.model import DeepLearningModel

#: Activation names of the layers, as the writers switch on them.
ACTIVATION_NAMES = {core.ACT_TANH: "Tanh", core.ACT_RECT: "Rectifier", core.ACT_MAXOUT: "Maxout",
                    core.ACT_LINEAR: "Linear", core.ACT_SOFTMAX: "Softmax"}


@dataclass(frozen=True)
class InputColumn:
    """One predictor column the model reads and the input units it fills.

    A factor column fills ``len(domain) - first_level`` one-hot units from ``offset``: level
    index k lights unit ``offset + k - first_level`` when ``k >= first_level`` (level 0 has no
    unit without use_all_factor_levels); a missing or unseen level lights none. A numeric
    column fills unit ``offset`` with ``(v - mean) / sigma``, 0 (the mean) when missing.
    """

    name: str
    kind: str  # "enum" or "numeric"
    offset: int
    domain: tuple[str, ...] = ()
    first_level: int = 0
    mean: float = 0.0
    sigma: float = 1.0

    @property
    def n_units(self) -> int:
        return len(self.domain) - self.first_level if self.kind == "enum" else 1

    @property
    def unit_levels(self) -> tuple[str, ...]:
        """The levels that have a unit, in unit order (enum columns)."""
        return self.domain[self.first_level:]


@dataclass(frozen=True)
class Layer:
    """One weight layer: ``weights`` float32 (n_out, n_in), ``bias`` float32 (n_out)."""

    weights: np.ndarray
    bias: np.ndarray
    activation: str  # one of ACTIVATION_NAMES' values
    scale: float  # 1 - hidden dropout ratio (scoring); 1 for the output layer

    @property
    def n_in(self) -> int:
        return int(self.weights.shape[1])

    @property
    def n_out(self) -> int:
        return int(self.weights.shape[0])


@dataclass(frozen=True)
class ScoringDescription:
    """Everything a writer needs to reproduce the model's ``predict`` outside the cloud."""

    model_id: str
    category: str  # Binomial | Multinomial | Regression | AutoEncoder
    columns: tuple[InputColumn, ...]  # the predictors used, in their training order
    n_inputs: int
    input_names: tuple[str, ...]  # one per input unit ("color.red", "x1")
    layers: tuple[Layer, ...]
    params: np.ndarray  # float32: every layer's W (row-major) then b, in layer order
    output_columns: tuple[str, ...]  # the columns predict() returns, in order
    response: str | None = None
    response_domain: tuple[str, ...] = ()
    threshold: float = 0.5  # binomial: label 1 when p1 >= threshold
    class_ratio: np.ndarray | None = None  # balance_classes: prior / model class distribution
    response_mean: float = 0.0  # regression: value = output * sigma + mean
    response_sigma: float = 1.0
    response_link: str = "identity"  # regression: "log" (poisson, gamma, tweedie) -> exp(value)
    reconstruction_scale: np.ndarray | None = None  # autoencoder: reconstr = out * scale + offset
    reconstruction_offset: np.ndarray | None = None

    @property
    def classifier(self) -> bool:
        return self.category in ("Binomial", "Multinomial")

    @property
    def autoencoder(self) -> bool:
        return self.category == "AutoEncoder"

    @property
    def n_outputs(self) -> int:
        return self.layers[-1].n_out

    @property
    def layer_sizes(self) -> list[int]:
        return [self.n_inputs, *(lay.n_out for lay in self.layers)]

    @property
    def java_class(self) -> str:
        """The POJO's class name: the model id as a Java identifier."""
        return identifier(self.model_id, JAVA_KEYWORDS)

    @property
    def python_module(self) -> str:
        """The numpy scorer's module name: the model id as a Python identifier."""
        return identifier(self.model_id, set(keyword.kwlist))


def identifier(name: str, reserved: set[str]) -> str:
    """``name`` as an identifier of Java or Python (H2O's JCodeGen.toJavaId rule): every
    character that may not appear becomes '_', a leading digit or a reserved word gets '_'
    in front."""
    out = re.sub(r"[^A-Za-z0-9_]", "_", name) or "_"
    if out[0].isdigit() or out in reserved:
        out = "_" + out
    return out


JAVA_KEYWORDS = set("""abstract assert boolean break byte case catch char class const continue
default do double else enum extends final finally float for goto if implements import instanceof
int interface long native new package private protected public return short static strictfp super
switch synchronized this throw throws transient try void volatile while true false null var
record yield sealed permits""".split())


def _one_hot_first_layer(info, spec, w: np.ndarray) -> np.ndarray:
    """The first layer's weights over one-hot inputs. A factor with a table encoding (Binary,
    LabelEncoder, Eigen, EnumLimited) feeds W_block @ table[level], which is one-hot input
    times the block W_block @ table^T; with max_categorical_features' hashing a one-hot unit
    feeds its bucket's column of W: the writers then need only one-hot factors."""
    if info.hash_buckets:
        if spec.activation == "Maxout":
            raise ValueError("parameter 'max_categorical_features': export of a Maxout model whose factors "
                             "are hashed is not supported (Maxout is not linear in its inputs)")
        w = np.ascontiguousarray(w[:, info.unit_buckets()], dtype=np.float32)  # the unhashed layout
    if all(c.table is None for c in info.cats):
        return w
    if spec.activation == "Maxout":
        raise ValueError("export of a Maxout model with a categorical_encoding other than one-hot "
                         "is not supported (Maxout is not linear in its inputs)")
    blocks, off = [], 0
    for c in info.cats:
        block = w[:, off:off + c.n_units]
        blocks.append(block @ np.asarray(c.table, np.float32).T if c.table is not None else block)
        off += c.n_units
    blocks.append(w[:, off:])
    return np.ascontiguousarray(np.hstack(blocks), dtype=np.float32)


def _one_hot_names(info) -> list[str]:
    names = []
    for c in info.cats:
        names += [f"{c.name}.{lvl}" for lvl in c.domain] if c.table is not None else c.unit_names
    return names + [n.name for n in info.nums]


def describe(model: DeepLearningModel, output_columns: Sequence[str]) -> ScoringDescription:
    """The scoring of a trained model, as the writers read it. ``output_columns`` are the
    names of the columns the cloud's predict() makes for it (the node's output_layout, the
    one source of those names), so every export writes the same header."""
    info, spec, net = model.info, model.spec, model.net
    if info.offset_column:
        # The exports read a row of predictors; none takes a per-row offset yet.
        raise ValueError(f"parameter 'offset_column': a model trained with an offset column "
                         f"({info.offset_column!r}) cannot be exported yet: its scorers take no per-row offset")
    if info.hash_buckets and info.autoencoder:
        raise ValueError("parameter 'max_categorical_features': an autoencoder whose factors are hashed "
                         "reconstructs the hashed inputs, which no export writes yet")
    cats = {c.name: c for c in info.cats}
    nums = {n.name: n for n in info.nums}
    w0 = _one_hot_first_layer(info, spec, np.array(net.layer(0)[0], np.float32))
    offsets, pos = {}, 0
    for c in info.cats:  # DataInfo's unit order: factors first, then numerics
        offsets[c.name] = pos
        pos += len(c.domain) if c.table is not None else c.n_units
    for n in info.nums:
        offsets[n.name] = pos
        pos += 1
    columns = []
    for name in info.used_predictors:
        if name in cats:
            c = cats[name]
            columns.append(InputColumn(name, "enum", offsets[name], tuple(c.domain),
                                       0 if c.table is not None else c.first_unit_level))
        else:
            n = nums[name]
            columns.append(InputColumn(name, "numeric", offsets[name], mean=float(n.mean),
                                       sigma=float(n.sigma)))

    kinds = layer_kinds(spec)
    scales = [1.0 - r for r in spec.hidden_dropout_ratios] + [1.0]
    layers = []
    for l in range(spec.n_layers):
        w, b = net.layer(l)
        layers.append(Layer(w0 if l == 0 else np.array(w, np.float32), np.array(b, np.float32),
                            ACTIVATION_NAMES[kinds[l]], float(np.float32(scales[l]))))

    ratio = None
    prior, dist = model._dists()
    if prior is not None and dist is not None:
        ratio = np.asarray(prior, np.float64) / np.maximum(np.asarray(dist, np.float64), 1e-300)
    rec_scale = rec_offset = None
    if info.autoencoder:
        rec_scale = np.ones(info.n_inputs)
        rec_offset = np.zeros(info.n_inputs)
        for n in info.nums:
            rec_scale[offsets[n.name]] = n.sigma
            rec_offset[offsets[n.name]] = n.mean
    return ScoringDescription(
        model_id=model.model_id,
        category=model.model_category,
        columns=tuple(columns),
        n_inputs=int(w0.shape[1]),
        input_names=tuple(_one_hot_names(info)),
        layers=tuple(layers),
        params=np.ascontiguousarray(np.concatenate(
            [np.concatenate([lay.weights.reshape(-1), lay.bias]) for lay in layers]), dtype=np.float32),
        output_columns=tuple(output_columns),
        response=info.response,
        response_domain=tuple(info.response_domain or ()),
        threshold=float(model.threshold()) if model.model_category == "Binomial" else 0.5,
        class_ratio=ratio,
        response_mean=float(info.response_mean),
        response_sigma=float(info.response_sigma),
        response_link=info.response_link if not info.classification and not info.autoencoder else "identity",
        reconstruction_scale=rec_scale,
        reconstruction_offset=rec_offset,
    )
