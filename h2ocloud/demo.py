"""`h2ocloud demo`: start an embedded local node and show the cloud (training comes with issue 4)."""

from __future__ import annotations

import argparse


def run_demo(ns: argparse.Namespace) -> int:
    import h2ocloud as h2o

    h2o.init()
    h2o.cluster().show_status()
    return 0
