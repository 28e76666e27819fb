"""Scoring passes that overlap (a node's map threads predicting chunks side by side) keep BLAS
at one thread until the last of them ends: with a per-pass limit and restore, one pass ending
gave the other two BLAS threads mid-pass, and OpenBLAS's two-thread sums round differently
(predictions changed in their last bits from run to run)."""

import threading

from threadpoolctl import threadpool_info

from h2ocloud.kernel.score import _one_blas_thread


def _blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_overlapping_passes_keep_one_blas_thread():
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[set[int]] = []

    def first() -> None:
        with _one_blas_thread():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with _one_blas_thread():
            second_in.set()
            first_out.wait(5)
            seen.append(_blas_threads())  # the first pass has ended; this one still runs

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == [{1}]
