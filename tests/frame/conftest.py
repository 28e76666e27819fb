"""Shared helpers for the frame tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from h2ocloud.frame import Chunk

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture
def data_dir() -> Path:
    """../shared/data beside the checkout (tests that need it skip without it)."""
    if not DATA.is_dir():
        pytest.skip(f"shared data sets not found at {DATA}")
    return DATA


class Collector:
    """An emit callback that keeps the chunks (after a wire round trip, as the node would)."""

    def __init__(self) -> None:
        self.chunks: dict[int, Chunk] = {}
        self.order: list[int] = []

    def __call__(self, index: int, chunk: Chunk) -> None:
        meta, bufs = chunk.to_wire()
        self.chunks[index] = Chunk.from_wire(meta, bufs)
        self.order.append(index)

    def ordered(self) -> list[Chunk]:
        return [self.chunks[i] for i in sorted(self.chunks)]


@pytest.fixture
def collector() -> Collector:
    return Collector()
