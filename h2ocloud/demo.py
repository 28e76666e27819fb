"""`h2ocloud demo`: the main job on an embedded local node.

Starts (or connects to) a local node with `h2o.init()`, shows the cloud, then runs the booklet's
MNIST trial run (section 3.2: hidden [200,200,200], RectifierWithDropout, input dropout 0.2,
l1 1e-5) when the MNIST files are found (--data, or ../shared/data beside the checkout), and a
small generated classification problem otherwise, printing the test error and scoring history.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

PIXELS = [f"p{i}" for i in range(784)]
# The booklet's MNIST trial run (section 3.2); epochs are given separately.
TRIAL_RUN = dict(activation="RectifierWithDropout", hidden=[200, 200, 200], input_dropout_ratio=0.2, l1=1e-5)


def mnist_frames(h2o, folder: Path):
    """The MNIST train and test frames (label first in train, last in test), labels as factors."""
    train = h2o.import_file(str(folder / "mnist_train_10k.csv.gz"), header=-1, col_names=["label", *PIXELS])
    test = h2o.import_file(str(folder / "mnist_test.csv.gz"), header=-1, col_names=[*PIXELS, "label"])
    train["label"] = train["label"].asfactor()
    test["label"] = test["label"].asfactor()
    return train, test


def _find_data(given: str | None) -> Path | None:
    candidates = [Path(given)] if given else []
    here = Path(__file__).resolve().parents[1]
    candidates += [here.parent / "shared" / "data", Path.cwd().parent / "shared" / "data", Path.cwd() / "data"]
    for c in candidates:
        if (c / "mnist_train_10k.csv.gz").exists() and (c / "mnist_test.csv.gz").exists():
            return c
    return None


def _mnist(h2o, folder: Path, epochs: float):
    print(f"MNIST from {folder}: the booklet's trial run ({epochs:g} epochs)")
    train, test = mnist_frames(h2o, folder)
    model = h2o.H2ODeepLearningEstimator(**TRIAL_RUN, epochs=epochs)
    return model, PIXELS, train, test


def _generated(h2o, epochs: float):
    import pandas as pd

    print("MNIST not found (pass --data DIR): training on a generated 3-class problem instead")
    rng = np.random.default_rng(0)
    n = 3000
    X = rng.normal(size=(n, 10))
    y = (X[:, 0] * X[:, 1] > 0).astype(int) + (X[:, 2] > 1).astype(int)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(10)])
    df["label"] = [str(v) for v in y]
    fr = h2o.H2OFrame(df)
    train, test = fr.split_frame([0.75], seed=1)
    model = h2o.H2ODeepLearningEstimator(activation="Rectifier", hidden=[64, 64], epochs=epochs)
    return model, [f"x{i}" for i in range(10)], train, test


def run_demo(ns: argparse.Namespace) -> int:
    import h2ocloud as h2o

    h2o.init()
    h2o.cluster().show_status()
    folder = _find_data(ns.data)
    epochs = ns.epochs if ns.epochs is not None else (10 if folder else 20)
    model, x, train, test = _mnist(h2o, folder, epochs) if folder else _generated(h2o, epochs)
    t = time.perf_counter()
    model.train(x=x, y="label", training_frame=train, validation_frame=test)
    wall = time.perf_counter() - t
    print(f"\ntrained {model.samples_trained} samples in {wall:.1f} s ({model.samples_trained / wall:,.0f} samples/s)")
    print(f"test classification error: {model.classification_error(valid=True) * 100:.2f}%")
    print(model.scoring_history()[["epochs", "samples", "training_classification_error",
                                   "validation_classification_error"]].to_string(index=False))
    print(model.confusion_matrix(valid=True).to_string())
    return 0
