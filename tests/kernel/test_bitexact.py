"""A faster kernel trains exactly as the kernel did before its speed work (one thread).

The record (tests/kernel/data/bitexact_kernel.json, see bitexact_cases.py) was made by the
kernel before it was optimised. On the CPU that made it every case must match bit for bit;
on another CPU the forward pass's vectorised dot products sum in another order, so the
check falls back to a tolerance on the recorded sample of each array.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from bitexact_cases import CASES, RECORD, _data, host_cpu, run_case, sample_index

REC = json.loads(RECORD.read_text())
SAME_CPU = REC["host_cpu"] == host_cpu()


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    return _data()


@pytest.mark.parametrize("name", sorted(CASES))
def test_training_matches_the_record(name: str, data: dict[str, np.ndarray]) -> None:
    got = run_case(name, data)
    want = REC["cases"][name]
    assert sorted(got) == sorted(want)
    for key, arr in got.items():
        sample = np.array([np.float32(v) for v in want[key]["sample"]], dtype=np.float32)
        mine = arr[sample_index(arr.size)]
        if SAME_CPU:
            diff = float(np.max(np.abs(mine - sample)))
            assert hashlib.sha256(arr.tobytes()).hexdigest() == want[key]["sha256"], (
                f"{name}.{key} differs from the recorded kernel's (largest difference in the "
                f"recorded sample: {diff:g})")
        else:
            np.testing.assert_allclose(mine, sample, rtol=2e-3, atol=2e-5,
                                       err_msg=f"{name}.{key} (recorded on {REC['host_cpu']})")
