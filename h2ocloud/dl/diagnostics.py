"""Per-layer diagnostics of a network (the booklet's ``diagnostics``): units, dropout, mean and
RMS of weights and biases, mean learning rate and momentum."""

from __future__ import annotations

from typing import Any

import numpy as np

from h2ocloud.kernel import Net, TrainConfig, layer_stats


def layer_diagnostics(net: Net, cfg: TrainConfig, input_dropout_ratio: float = 0.0
                      ) -> list[dict[str, Any]]:
    """One dict per layer, the input layer first (as H2O's table)."""
    spec = net.spec
    rows: list[dict[str, Any]] = [{"layer": 0, "units": spec.n_inputs, "type": "Input",
                                   "dropout": float(input_dropout_ratio)}]
    n = net.samples_seen
    for st in layer_stats(net):
        l = st["layer"]
        last = l == spec.n_layers - 1
        if cfg.adaptive_rate:
            # ADADELTA's per-weight rate: sqrt((E[dx^2] + eps) / (E[g^2] + eps))
            g2, _ = net.opt_layer(l, 1)
            dx2, _ = net.opt_layer(l, 2)
            eps = cfg.epsilon
            rate = np.sqrt((dx2.astype(np.float64) + eps) / (g2.astype(np.float64) + eps))
            mean_rate, rms_rate = float(rate.mean()), float(np.sqrt((rate * rate).mean()))
            momentum = 0.0
        else:
            mean_rate = rms_rate = float(cfg.rate_at(n, l))
            momentum = float(cfg.momentum_at(n))
        if last:
            kind = {"softmax": "Softmax", "linear": "Linear"}.get(spec.output, spec.activation)
        else:
            kind = spec.activation
        rows.append({
            "layer": l + 1,
            "units": st["units"],
            "type": kind,
            "dropout": 0.0 if last else float(spec.hidden_dropout_ratios[l]),
            "mean_rate": mean_rate,
            "rate_rms": rms_rate,
            "momentum": momentum,
            "mean_weight": st["mean_weight"],
            "weight_rms": st["rms_weight"],
            "mean_bias": st["mean_bias"],
            "bias_rms": st["rms_bias"],
        })
    return rows
