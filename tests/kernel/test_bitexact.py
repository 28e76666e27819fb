"""A faster kernel trains exactly as the kernel did before its speed work (one thread).

The record (tests/kernel/data/bitexact_kernel.json, see bitexact_cases.py) was made by the
kernel before it was optimised, compiled without fastmath (per-operation float32 rounding), and
made again (on purpose) when Tanh units took H2O's formula, 1 - 2 / (1 + exp(2x)).
On the CPU that made it every case must match bit for bit; on another CPU the forward pass's
vectorised dot products sum in another order, so the check falls back to a tolerance on the
recorded sample of each array.

bitexact_kernel_fastmath.json is the same cases from the kernel as it was, with fastmath:
its results depended on whether the process compiled the kernel or loaded it from Numba's
cache, so it can only be matched within rounding (the same tolerance).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from bitexact_cases import CASES, RECORD, _data, host_cpu, run_case, sample_index

REC = json.loads(RECORD.read_text())
FASTMATH_REC = json.loads((RECORD.parent / "bitexact_kernel_fastmath.json").read_text())
SAME_CPU = REC["host_cpu"] == host_cpu()


def _sample(rec: dict, name: str, key: str) -> np.ndarray:
    return np.array([np.float32(v) for v in rec["cases"][name][key]["sample"]], dtype=np.float32)


def _close(mine: np.ndarray, sample: np.ndarray, what: str) -> None:
    np.testing.assert_allclose(mine, sample, rtol=2e-3, atol=2e-5, err_msg=what)


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    return _data()


@pytest.mark.parametrize("name", sorted(CASES))
def test_training_matches_the_record(name: str, data: dict[str, np.ndarray]) -> None:
    got = run_case(name, data)
    want = REC["cases"][name]
    assert sorted(got) == sorted(want)
    for key, arr in got.items():
        sample = _sample(REC, name, key)
        mine = arr[sample_index(arr.size)]
        if SAME_CPU:
            diff = float(np.max(np.abs(mine - sample)))
            assert hashlib.sha256(arr.tobytes()).hexdigest() == want[key]["sha256"], (
                f"{name}.{key} differs from the recorded kernel's (largest difference in the "
                f"recorded sample: {diff:g})")
        else:
            _close(mine, sample, f"{name}.{key} (recorded on {REC['host_cpu']})")
        # The kernel as it was with fastmath: the same training within float32 rounding.
        _close(mine, _sample(FASTMATH_REC, name, key), f"{name}.{key} vs the fastmath kernel")


@pytest.mark.slow
def test_a_fresh_compile_trains_the_same_bits_as_the_cached_kernel(tmp_path: Path) -> None:
    """With fastmath a process that compiled the kernel trained other bits than one that
    loaded it from Numba's cache. Compile it from scratch in a child process (its own empty
    cache) and compare with this process's kernel."""
    names = ["trial_dense_h2o3", "tanh_l2_maxw2", "maxout", "nesterov", "elastic"]
    here = Path(__file__).resolve().parent
    code = "\n".join([
        f"import sys, json, hashlib; sys.path.insert(0, {str(here)!r})",
        "from bitexact_cases import run_case",
        f"names = {names!r}",
        "print(json.dumps({n: {k: hashlib.sha256(v.tobytes()).hexdigest()",
        "                      for k, v in run_case(n).items()} for n in names}))"])
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=600, check=True).stdout
    fresh = json.loads(out.strip().splitlines()[-1])
    data = _data()
    for n in names:
        mine = {k: hashlib.sha256(v.tobytes()).hexdigest() for k, v in run_case(n, data).items()}
        assert fresh[n] == mine, n
