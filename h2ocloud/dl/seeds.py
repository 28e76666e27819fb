"""Seed derivation: every random stream of a training run comes from the one ``seed``
parameter, so ``reproducible=True`` (one thread) rebuilds a model bit for bit."""

from __future__ import annotations

_MASK63 = (1 << 63) - 1
_MASK64 = (1 << 64) - 1


def _splitmix(z: int) -> int:
    z = (z + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def sub_seed(seed: int, stream: int) -> int:
    """An independent non-negative 63-bit seed for ``stream`` of a run seeded ``seed``."""
    return _splitmix((int(seed) & _MASK64) ^ _splitmix(int(stream) & _MASK64)) & _MASK63


def iteration_seed(seed: int, iteration: int) -> int:
    """The kernel seed of training iteration ``iteration`` (0-based)."""
    return sub_seed(seed, 1_000_000_007 + int(iteration))
