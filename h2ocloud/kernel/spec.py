"""Network architecture (NetSpec) and training options (TrainConfig) of the DL kernel.

Both are plain, JSON-able dataclasses: the node ships them between peers as dicts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

ACTIVATIONS = ("Tanh", "Rectifier", "Maxout")
OUTPUTS = ("softmax", "linear", "autoencoder")
LOSSES = ("CrossEntropy", "MeanSquare")
#: Losses of a linear (regression) output, one per H2O-3 distribution: MeanSquare is gaussian.
REGRESSION_LOSSES = ("MeanSquare", "Poisson", "Gamma", "Tweedie", "Laplace", "Quantile", "Huber")
#: The regression losses whose link is log (prediction = exp(output + offset)).
LOG_LINK_LOSSES = ("Poisson", "Gamma", "Tweedie")
DISTRIBUTIONS = ("UniformAdaptive", "Uniform", "Normal")


@dataclass(frozen=True)
class NetSpec:
    """Shape of a fully connected network.

    ``hidden_dropout_ratios`` has one ratio per hidden layer (0.0 = no dropout); an empty
    tuple means no hidden dropout at all.
    """

    n_inputs: int
    hidden: tuple[int, ...]
    n_outputs: int
    activation: str = "Rectifier"
    output: str = "softmax"
    loss: str = "CrossEntropy"
    hidden_dropout_ratios: tuple[float, ...] = field(default=())

    def __post_init__(self) -> None:
        # Normalise sequences to tuples so specs compare and hash by value.
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        ratios = tuple(float(r) for r in self.hidden_dropout_ratios)
        if not ratios:
            ratios = (0.0,) * len(self.hidden)
        object.__setattr__(self, "hidden_dropout_ratios", ratios)
        self._validate()

    def _validate(self) -> None:
        if self.n_inputs < 1 or self.n_outputs < 1:
            raise ValueError("n_inputs and n_outputs must be >= 1")
        if not self.hidden or min(self.hidden) < 1:
            raise ValueError("hidden must list at least one layer of >= 1 units")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        if self.output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {self.output!r}")
        if self.loss not in LOSSES + REGRESSION_LOSSES:
            raise ValueError(f"loss must be one of {LOSSES + REGRESSION_LOSSES}, got {self.loss!r}")
        if len(self.hidden_dropout_ratios) != len(self.hidden):
            raise ValueError("hidden_dropout_ratios needs one ratio per hidden layer")
        if any(not 0.0 <= r < 1.0 for r in self.hidden_dropout_ratios):
            raise ValueError("dropout ratios must be in [0, 1)")
        if self.output == "autoencoder" and self.n_outputs != self.n_inputs:
            raise ValueError("an autoencoder needs n_outputs == n_inputs")
        if self.output == "linear" and (self.n_outputs != 1 or self.loss not in REGRESSION_LOSSES):
            raise ValueError(f"regression (linear output) has one unit and a loss of {REGRESSION_LOSSES}")
        if self.output != "linear" and self.loss not in LOSSES:
            raise ValueError(f"{self.output} output needs a loss of {LOSSES}")
        if self.output == "softmax" and self.n_outputs < 2:
            raise ValueError("softmax needs at least 2 classes")

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """Units per layer, input first: (n_inputs, *hidden, n_outputs)."""
        return (self.n_inputs, *self.hidden, self.n_outputs)

    @property
    def n_layers(self) -> int:
        """Number of weight layers (hidden layers + output layer)."""
        return len(self.hidden) + 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (lists instead of tuples)."""
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        d["hidden_dropout_ratios"] = list(self.hidden_dropout_ratios)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NetSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(
            n_inputs=int(d["n_inputs"]),
            hidden=tuple(d["hidden"]),
            n_outputs=int(d["n_outputs"]),
            activation=d.get("activation", "Rectifier"),
            output=d.get("output", "softmax"),
            loss=d.get("loss", "CrossEntropy"),
            hidden_dropout_ratios=tuple(d.get("hidden_dropout_ratios", ())),
        )


@dataclass
class TrainConfig:
    """Optimizer and regularisation options (the booklet's appendix A names and defaults).

    Hidden dropout ratios live in :class:`NetSpec`, because scoring needs them too.
    """

    adaptive_rate: bool = True
    rho: float = 0.99  # H2O-3's ADADELTA defaults (the booklet printed 0.95 / 1e-6)
    epsilon: float = 1e-8
    rate: float = 0.005
    rate_annealing: float = 1e-6
    rate_decay: float = 1.0
    momentum_start: float = 0.0
    momentum_ramp: float = 1e6
    momentum_stable: float = 0.0
    nesterov_accelerated_gradient: bool = True
    input_dropout_ratio: float = 0.0
    l1: float = 0.0
    l2: float = 0.0
    max_w2: float = math.inf
    fast_mode: bool = True
    # The regression loss's parameter: tweedie_power, quantile_alpha or the huber delta
    # (the trainer moves the delta to the huber_alpha quantile of |error| at each scoring).
    dist_param: float = 0.0
    # H2O's sparse autoencoder: the hidden units' mean activation is pulled toward
    # average_activation with strength sparsity_beta (0 = off).
    sparsity_beta: float = 0.0
    average_activation: float = 0.0

    def __post_init__(self) -> None:
        if self.adaptive_rate and (self.rho <= 0 or self.epsilon <= 0):
            raise ValueError("ADADELTA needs rho > 0 and epsilon > 0")
        if not 0.0 <= self.input_dropout_ratio < 1.0:
            raise ValueError("input_dropout_ratio must be in [0, 1)")

    @property
    def has_momentum(self) -> bool:
        """True when a velocity is kept (non-adaptive rate with non-zero momentum)."""
        return not self.adaptive_rate and (self.momentum_start != 0 or self.momentum_stable != 0)

    def rate_at(self, n: int, layer: int) -> float:
        """Learning rate of weight layer ``layer`` (0 = first hidden) after ``n`` samples."""
        return self.rate / (1.0 + self.rate_annealing * n) * self.rate_decay**layer

    def momentum_at(self, n: int) -> float:
        """Momentum after ``n`` samples: linear ramp from momentum_start to momentum_stable."""
        if self.momentum_ramp <= 0:
            return self.momentum_stable
        frac = min(float(n), self.momentum_ramp) / self.momentum_ramp
        return self.momentum_start + (self.momentum_stable - self.momentum_start) * frac

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict; an infinite max_w2 travels as None."""
        d = asdict(self)
        if math.isinf(d["max_w2"]):
            d["max_w2"] = None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are ignored."""
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        if kw.get("max_w2", 0.0) is None:
            kw["max_w2"] = math.inf
        return cls(**kw)
