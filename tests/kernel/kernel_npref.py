"""Independent float64 numpy reference of the network (forward pass and loss) for the tests."""

from __future__ import annotations

import numpy as np

from h2ocloud.kernel import NetSpec


def unpack(spec: NetSpec, flat: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(W_l, b_l)] views of a flat parameter vector (W_l is n_{l+1} x n_l, then b_l)."""
    sizes = spec.layer_sizes
    out, pos = [], 0
    for l in range(len(sizes) - 1):
        n_in, n_out = sizes[l], sizes[l + 1]
        w = flat[pos:pos + n_in * n_out].reshape(n_out, n_in)
        pos += n_in * n_out
        out.append((w, flat[pos:pos + n_out]))
        pos += n_out
    assert pos == flat.shape[0]
    return out


def _act(kind: str, w: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    if kind == "Maxout":
        a = np.empty(w.shape[0])
        nz = x != 0
        for j in range(w.shape[0]):
            prods = w[j, nz] * x[nz]
            a[j] = (prods.max() if prods.size else 0.0) + b[j]
        m = a.max()
        return a / m if m > 1 else a
    net = w @ x + b
    if kind == "Tanh":
        return np.tanh(net)
    if kind == "Rectifier":
        return np.maximum(net, 0.0)
    raise ValueError(kind)


def forward(spec: NetSpec, flat: np.ndarray, x: np.ndarray, scoring_scale: bool = True
            ) -> np.ndarray:
    """Output of the network for one row (no dropout; hidden scaled by 1 - p if asked)."""
    layers = unpack(spec, np.asarray(flat, np.float64))
    a = np.asarray(x, np.float64)
    for l, (w, b) in enumerate(layers[:-1]):
        a = _act(spec.activation, w, b, a)
        if scoring_scale:
            a = a * (1.0 - spec.hidden_dropout_ratios[l])
    w, b = layers[-1]
    if spec.output == "softmax":
        z = w @ a + b
        e = np.exp(z - z.max())
        return e / e.sum()
    if spec.output == "linear":
        return w @ a + b
    return _act(spec.activation, w, b, a)


def loss(spec: NetSpec, flat: np.ndarray, x: np.ndarray, y: float) -> float:
    """The loss whose negative gradient the kernel follows."""
    out = forward(spec, flat, x, scoring_scale=False)
    if spec.output == "softmax":
        return float(-np.log(out[int(y)]))  # CrossEntropy
    if spec.output == "linear":
        return float(0.5 * (y - out[0]) ** 2)
    return float(0.5 * np.sum((np.asarray(x, np.float64) - out) ** 2))


def fd_gradient(spec: NetSpec, flat: np.ndarray, x: np.ndarray, y: float,
                h: float = 1e-5) -> np.ndarray:
    """-dE/dw by central differences (the kernel's "target minus output" sign)."""
    w = np.asarray(flat, np.float64).copy()
    g = np.empty_like(w)
    for i in range(w.shape[0]):
        old = w[i]
        w[i] = old + h
        up = loss(spec, w, x, y)
        w[i] = old - h
        down = loss(spec, w, x, y)
        w[i] = old
        g[i] = -(up - down) / (2 * h)
    return g
