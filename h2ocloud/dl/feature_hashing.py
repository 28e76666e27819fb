"""H2O-3's max_categorical_features: one-hot factor units hashed into a fixed number of inputs.

H2O-3 (hex.deeplearning.Neurons.Input.setInput) hashes, when the one-hot categorical units
outnumber ``max_categorical_features``, every active unit's index with MurmurHash2 (the Hadoop
port in hex.deeplearning.MurmurHash: the index as 4 big-endian bytes, seeded by the model's
seed cast to a Java int) and adds 1 to input ``abs(hash % max_categorical_features)``; the
numeric inputs follow the buckets. Two active units that collide add up (an input of 2).

Everything here is numpy on whole columns: Java's 32-bit int arithmetic is uint32 arithmetic
(wrap-around), and Java's ``%`` keeps the dividend's sign (np.fmod), hence the abs.
"""

from __future__ import annotations

import numpy as np

_M = np.uint32(0x5BD1E995)


def java_int_seed(seed: int) -> int:
    """``(int) seed`` in Java: the low 32 bits, as an unsigned 32-bit pattern."""
    return int(seed) & 0xFFFFFFFF


def murmur2_int(values: np.ndarray, seed: int) -> np.ndarray:
    """H2O-3's ``MurmurHash.hash(ByteBuffer.allocate(4).putInt(v).array(), 4, (int) seed)`` of
    each value, as Java's signed int (int64 array)."""
    v = np.asarray(values, dtype=np.int64).astype(np.uint32)
    with np.errstate(over="ignore"):
        # The Java loop reads the 4 big-endian bytes little-endian: the byte-swapped value.
        k = v.byteswap()
        k = k * _M
        k ^= k >> np.uint32(24)
        k = k * _M
        h = np.full(v.shape, np.uint32(java_int_seed(seed) ^ 4), dtype=np.uint32)
        h = h * _M
        h ^= k
        h ^= h >> np.uint32(13)
        h = h * _M
        h ^= h >> np.uint32(15)
    return h.view(np.int32).astype(np.int64)


def buckets(units: np.ndarray, n_buckets: int, seed: int) -> np.ndarray:
    """The input each one-hot unit index lands in: ``abs(hash % n_buckets)`` (Java remainder)."""
    return np.abs(np.fmod(murmur2_int(units, seed), int(n_buckets))).astype(np.int64)
