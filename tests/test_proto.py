"""The checked-in generated code must match the .proto files."""

from __future__ import annotations

from pathlib import Path

import pytest

from h2ocloud._proto import generate


def test_generated_code_is_up_to_date(tmp_path: Path):
    pytest.importorskip("grpc_tools")
    generate.generate(tmp_path)
    for fresh in sorted(tmp_path.rglob("*_pb2*.py")):
        rel = fresh.relative_to(tmp_path)
        checked_in = generate.OUT_DIR / rel
        assert checked_in.exists(), f"{rel} is not checked in: run python -m h2ocloud._proto.generate"
        assert fresh.read_text() == checked_in.read_text(), f"{rel} is stale: run python -m h2ocloud._proto.generate"
