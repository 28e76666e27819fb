"""The model state: one flat float32 parameter vector plus optimizer state."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .layout import param_offsets
from .spec import DISTRIBUTIONS, NetSpec


class Net:
    """Weights, biases and optimizer state of a network described by a :class:`NetSpec`.

    ``weights`` holds every layer in order: W_l (n_{l+1} x n_l, row-major) then b_l.
    ``opt1``/``opt2`` have the same layout: ADADELTA's E[g^2] / E[dx^2], or the momentum
    velocity in ``opt1`` (``opt2`` then stays zero).
    """

    def __init__(self, spec: NetSpec, weights: np.ndarray, opt1: np.ndarray, opt2: np.ndarray,
                 samples_seen: int = 0) -> None:
        _, _, total = param_offsets(spec)
        for name, arr in (("weights", weights), ("opt1", opt1), ("opt2", opt2)):
            if arr.dtype != np.float32 or arr.ndim != 1 or arr.shape[0] != total:
                raise ValueError(f"{name} must be float32 of length {total}")
            if not arr.flags.c_contiguous:
                raise ValueError(f"{name} must be contiguous")
        self.spec = spec
        self.weights = weights
        self.opt1 = opt1
        self.opt2 = opt2
        self.samples_seen = int(samples_seen)

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def initialize(cls, spec: NetSpec, distribution: str = "UniformAdaptive", scale: float = 1.0,
                   seed: int = 0) -> Net:
        """Initial weights per DL-REFERENCE; layer l draws from a generator seeded (seed, l).

        UniformAdaptive: U(-r, r), r = sqrt(6 / (n_l + n_{l+1})), times 4 for a classifier's
        output layer. Uniform: U(-scale, scale). Normal: N(0, scale^2). Biases: 0 for Tanh;
        Rectifier/Maxout 0.5 for the first hidden layer, 1.0 deeper; output layer 0.
        """
        if distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {DISTRIBUTIONS}")
        sizes = spec.layer_sizes
        w_off, b_off, total = param_offsets(spec)
        weights = np.zeros(total, dtype=np.float32)
        last = spec.n_layers - 1
        for l in range(spec.n_layers):
            n_in, n_out = sizes[l], sizes[l + 1]
            rng = np.random.default_rng([seed & 0xFFFFFFFFFFFFFFFF, l])
            if distribution == "UniformAdaptive":
                r = math.sqrt(6.0 / (n_in + n_out))
                w = rng.uniform(-r, r, n_in * n_out)
                if l == last and spec.output == "softmax":
                    w *= 4.0
            elif distribution == "Uniform":
                w = rng.uniform(-scale, scale, n_in * n_out)
            else:
                w = rng.normal(0.0, scale, n_in * n_out)
            weights[w_off[l]:b_off[l]] = w
            bias = 0.0
            if l < last and spec.activation in ("Rectifier", "Maxout"):
                bias = 0.5 if l == 0 else 1.0
            weights[b_off[l]:b_off[l] + n_out] = bias
        return cls(spec, weights, np.zeros(total, np.float32), np.zeros(total, np.float32), 0)

    # -- access ------------------------------------------------------------------------------

    def layer(self, l: int) -> tuple[np.ndarray, np.ndarray]:
        """(W, b) of weight layer ``l`` (0 = input->first hidden), as views into ``weights``."""
        return self._views(self.weights, l)

    def opt_layer(self, l: int, which: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Views of opt1 (which=1) or opt2 (which=2) shaped like :meth:`layer`."""
        return self._views(self.opt1 if which == 1 else self.opt2, l)

    def _views(self, vec: np.ndarray, l: int) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= l < self.spec.n_layers:
            raise IndexError(f"layer {l} out of range 0..{self.spec.n_layers - 1}")
        sizes = self.spec.layer_sizes
        w_off, b_off, _ = param_offsets(self.spec)
        w = vec[w_off[l]:b_off[l]].reshape(sizes[l + 1], sizes[l])
        return w, vec[b_off[l]:b_off[l] + sizes[l + 1]]

    def copy(self) -> Net:
        """Deep copy (new arrays)."""
        return Net(self.spec, self.weights.copy(), self.opt1.copy(), self.opt2.copy(),
                   self.samples_seen)

    # -- reduce ------------------------------------------------------------------------------

    @staticmethod
    def average(nets: Sequence[Net], counts: Sequence[int]) -> Net:
        """Element-wise average of weights, opt1 and opt2, weighted by ``counts``.

        Every net is assumed to start from the same model, having then trained counts[i]
        samples, so the start is ``nets[0].samples_seen - counts[0]`` and the result has
        ``samples_seen = start + sum(counts)`` (what the cloud as a whole has trained).
        With all counts zero the nets are weighted equally.
        """
        if not nets or len(nets) != len(counts):
            raise ValueError("need one count per net and at least one net")
        spec = nets[0].spec
        if any(n.spec != spec for n in nets):
            raise ValueError("cannot average nets of different specs")
        c = np.asarray(counts, dtype=np.float64)
        if c.sum() <= 0:
            c = np.ones_like(c)
        wts = c / c.sum()
        out = []
        for attr in ("weights", "opt1", "opt2"):
            acc = np.zeros_like(nets[0].weights, dtype=np.float64)
            for n, wt in zip(nets, wts, strict=True):
                acc += wt * getattr(n, attr)
            out.append(acc.astype(np.float32))
        start = nets[0].samples_seen - int(counts[0])
        return Net(spec, out[0], out[1], out[2], start + int(sum(counts)))

    # -- wire / disk -------------------------------------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays for the wire or ``np.savez`` (no pickle needed)."""
        return {
            "weights": self.weights,
            "opt1": self.opt1,
            "opt2": self.opt2,
            "samples_seen": np.array([self.samples_seen], dtype=np.int64),
        }

    @classmethod
    def from_arrays(cls, spec: NetSpec, arrays: dict[str, np.ndarray]) -> Net:
        """Inverse of :meth:`to_arrays` (copies into fresh contiguous float32 arrays)."""
        def f32(a: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(a, dtype=np.float32).copy()

        seen = int(np.asarray(arrays.get("samples_seen", [0])).reshape(-1)[0])
        return cls(spec, f32(arrays["weights"]), f32(arrays["opt1"]), f32(arrays["opt2"]), seen)


def layer_stats(net: Net) -> list[dict[str, float]]:
    """Per weight layer: mean and RMS of its weights and of its biases (diagnostics)."""
    stats = []
    for l in range(net.spec.n_layers):
        w, b = net.layer(l)
        w64, b64 = w.astype(np.float64), b.astype(np.float64)
        stats.append({
            "layer": l,
            "units": int(b.shape[0]),
            "mean_weight": float(w64.mean()),
            "rms_weight": float(np.sqrt(np.mean(w64 * w64))),
            "mean_bias": float(b64.mean()),
            "rms_bias": float(np.sqrt(np.mean(b64 * b64))),
        })
    return stats
