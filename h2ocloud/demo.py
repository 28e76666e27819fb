"""`h2ocloud demo`: the booklet's own examples, on data the package ships (h2ocloud/data/).

Starts (or connects to) a local node with `h2o.init()`, shows the cloud, then, as the booklet:
2.5 loads the weather data and summarizes it; 3.2 trains the MNIST trial run (hidden
[200,200,200], RectifierWithDropout, input dropout 0.2, l1 1e-5) on 2,500 shipped MNIST rows with a
progress bar, and prints the test error and confusion matrix on 1,000 others; 4.2 trains the ECG
autoencoder and ranks the heartbeats by reconstruction error. Ends with the web console's URL.
``--data DIR`` uses the full files of a folder like ../shared/data instead (mnist_train_10k.csv.gz
and mnist_test.csv.gz).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

PACKAGE_DATA = Path(__file__).resolve().parent / "data"
PIXELS = [f"p{i}" for i in range(784)]
# The booklet's MNIST trial run (section 3.2); epochs are given separately.
TRIAL_RUN = dict(activation="RectifierWithDropout", hidden=[200, 200, 200], input_dropout_ratio=0.2, l1=1e-5)


def mnist_frames(h2o, folder: Path):
    """The full MNIST train and test frames of a data folder (label first in train, last in
    test), labels as factors."""
    train = h2o.import_file(str(folder / "mnist_train_10k.csv.gz"), header=-1, col_names=["label", *PIXELS])
    test = h2o.import_file(str(folder / "mnist_test.csv.gz"), header=-1, col_names=[*PIXELS, "label"])
    train["label"] = train["label"].asfactor()
    test["label"] = test["label"].asfactor()
    return train, test


def shipped_mnist(h2o):
    """The MNIST rows the package ships (label last in both files), labels as factors."""
    frames = []
    for name in ("mnist_train_2500.csv.gz", "mnist_test_1000.csv.gz"):
        fr = h2o.upload_file(str(PACKAGE_DATA / name), header=-1, col_names=[*PIXELS, "label"],
                             destination_frame=name.split(".")[0] + ".hex")
        fr["label"] = fr["label"].asfactor()
        frames.append(fr)
    return frames


def run_demo(ns: argparse.Namespace) -> int:
    import h2ocloud as h2o

    t_start = time.perf_counter()
    conn = h2o.init(url=getattr(ns, "url", None))
    h2o.cluster().show_status()

    print("\n== 2.5 Loading data: the weather data ==")
    weather = h2o.upload_file(str(PACKAGE_DATA / "weather.csv"), header=1, destination_frame="weather.hex")
    print(f"weather.hex: {weather.nrows} rows x {weather.ncols} columns")
    weather[["MaxWindSpeed", "Temp9am", "Temp3pm", "RainToday", "RainTomorrow"]].summary()

    print("\n== 3.2 MNIST trial run ==")
    if ns.data:
        train, test = mnist_frames(h2o, Path(ns.data))
    else:
        train, test = shipped_mnist(h2o)
    epochs = ns.epochs if ns.epochs is not None else 10
    print(f"train {train.nrows} rows, test {test.nrows} rows; {epochs:g} epochs")
    t = time.perf_counter()
    model = h2o.deeplearning(x=PIXELS, y="label", training_frame=train, validation_frame=test,
                             epochs=epochs, seed=1, **TRIAL_RUN)
    wall = time.perf_counter() - t
    print(f"trained {model.samples_trained} samples in {wall:.1f} s ({model.samples_trained / wall:,.0f} samples/s)")
    print(f"test classification error: {model.classification_error(valid=True) * 100:.2f}%")
    print("confusion matrix on the test rows (rows: actual, columns: predicted):")
    print(model.confusion_matrix(valid=True).to_string())

    print("\n== 4.2 Anomaly detection: ECG heartbeats ==")
    ecg_train = h2o.upload_file(str(PACKAGE_DATA / "ecg_discord_train.csv"), header=-1, destination_frame="train_ecg.hex")
    ecg_test = h2o.upload_file(str(PACKAGE_DATA / "ecg_discord_test.csv"), header=-1, destination_frame="test_ecg.hex")
    ae = h2o.deeplearning(x=ecg_train.columns, training_frame=ecg_train, activation="Tanh", autoencoder=True,
                          hidden=[50, 20, 50], l1=1e-4, epochs=100, seed=1)
    errors = ae.anomaly(ecg_test).as_data_frame()["Reconstruction.MSE"].to_numpy()
    ranked = sorted(range(len(errors)), key=lambda i: -errors[i])
    print("heartbeats by reconstruction error (rows 21-23 are the anomalous ones):")
    for rank, i in enumerate(ranked[:5], start=1):
        print(f"  {rank}. row {i + 1:2d}  Reconstruction.MSE {errors[i]:.4f}")
    print(f"median of the others: {sorted(errors)[len(errors) // 2]:.4f}")

    print(f"\nweb console: {conn.url}/  (frames, models and jobs of this cloud)")
    print(f"demo finished in {time.perf_counter() - t_start:.1f} s")
    return 0
