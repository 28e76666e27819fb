"""Training across real daemons: Hogwild on every node, model averaging over gRPC (issue 6)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest

import h2ocloud
from h2ocloud.errors import H2OCloudError
from tests.cloudfixture import start_cloud
from tests.conftest import shared_data

X = [f"p{i}" for i in range(64)]


def digits_frames(prefix: str):
    """sklearn's digits in chunks of 100 rows (so they spread over the cloud), split 75/25."""
    import tempfile

    from sklearn.datasets import load_digits

    d = load_digits()
    df = pd.DataFrame(d.data, columns=X)
    df["label"] = [f"d{v}" for v in d.target]
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        df.to_csv(f, index=False)
    fr = h2ocloud.import_file(f.name, destination_frame=f"{prefix}_digits.hex", chunk_rows=100)
    return fr.split_frame([0.75], seed=42, destination_frames=[f"{prefix}_train.hex", f"{prefix}_test.hex"])


@pytest.fixture(scope="module")
def digits3(cloud3):
    h2ocloud.init(url=cloud3.nodes[0].url)
    return digits_frames("d3")


def test_three_nodes_train_within_3_points_of_one(cloud3, digits3):
    h2ocloud.init(url=cloud3.nodes[0].url)
    train, test = digits3
    errs = {}
    for mode in (False, True):
        m = h2ocloud.H2ODeepLearningEstimator(hidden=[64], epochs=12, seed=5, activation="Rectifier",
                                              single_node_mode=mode)
        m.train(x=X, y="label", training_frame=train, validation_frame=test)
        errs[mode] = m.classification_error(valid=True)
        nodes = m.summary_json()["training_nodes"]
        if mode:
            assert nodes and all(len(n) == 1 for n in nodes)
        else:
            assert all(len(n) == 3 for n in nodes)
    # Hogwild threads race, so the cloud's error moves by a few rows between runs (0.055-0.062 on
    # 433 test rows, against 0.037 on one node): the bound is the booklet's "within 3 points".
    assert errs[True] < 0.05, errs
    assert errs[False] < 0.07 and abs(errs[False] - errs[True]) <= 0.03, errs


@pytest.mark.parametrize("tspi, replicate, expect_spi", [
    (-1, True, lambda n: 3 * n),   # every node all its data: N epochs per iteration on N nodes
    (-1, False, lambda n: n),      # disjoint data: one epoch per iteration
    (0, True, lambda n: n),        # one epoch per iteration whatever the node count
    (500, True, lambda n: 500),    # N samples per iteration across the cloud
])
def test_samples_per_iteration_modes_train_what_they_promise(cloud3, digits3, tspi, replicate, expect_spi):
    h2ocloud.init(url=cloud3.nodes[0].url)
    train, _ = digits3
    m = h2ocloud.H2ODeepLearningEstimator(hidden=[16], epochs=4.5, seed=1, train_samples_per_iteration=tspi,
                                          replicate_training_data=replicate)
    m.train(x=X, y="label", training_frame=train)
    s = m.summary_json()
    n = train.nrows
    assert s["samples_per_iteration"] == expect_spi(n)
    assert m.samples_trained == round(4.5 * n)  # exact, the last iteration cut short
    assert m.epochs_trained == pytest.approx(4.5)
    assert s["iterations"] == -(-round(4.5 * n) // expect_spi(n))


def test_automatic_samples_per_iteration(cloud3, digits3):
    h2ocloud.init(url=cloud3.nodes[0].url)
    train, _ = digits3
    m = h2ocloud.H2ODeepLearningEstimator(hidden=[16], epochs=3, seed=1, train_samples_per_iteration=-2)
    m.train(x=X, y="label", training_frame=train)
    assert m.samples_trained == 3 * train.nrows and m.summary_json()["samples_per_iteration"] > 0


def test_zero_learning_rate_averages_back_to_the_start(cloud3, cloud1, digits3):
    frozen = dict(hidden=[16], epochs=2, seed=9, adaptive_rate=False, rate=0.0, momentum_start=0.0,
                  momentum_stable=0.0, reproducible=True)
    h2ocloud.init(url=cloud3.nodes[0].url)
    train, test = digits3
    cloud_model = h2ocloud.H2ODeepLearningEstimator(**frozen)
    cloud_model.train(x=X, y="label", training_frame=train)
    assert all(len(n) == 3 for n in cloud_model.summary_json()["training_nodes"])
    p3 = cloud_model.predict(test).as_data_frame()
    start = h2ocloud.H2ODeepLearningEstimator(**{**frozen, "epochs": 1e-9})  # trains ~no samples
    start.train(x=X, y="label", training_frame=train, single_node_mode=True)
    p0 = start.predict(test).as_data_frame()
    np.testing.assert_array_equal(p3.drop(columns="predict").to_numpy(), p0.drop(columns="predict").to_numpy())


def test_single_node_mode_equals_the_single_node_path(cloud3, cloud1, digits3):
    params = dict(hidden=[16], epochs=2, seed=4, reproducible=True)
    h2ocloud.init(url=cloud3.nodes[0].url)
    train, test = digits3
    on3 = h2ocloud.H2ODeepLearningEstimator(single_node_mode=True, **params)
    on3.train(x=X, y="label", training_frame=train)
    a = on3.predict(test).as_data_frame()
    h2ocloud.init(url=cloud1.nodes[0].url)
    train1, test1 = digits_frames("d1")
    on1 = h2ocloud.H2ODeepLearningEstimator(**params)
    on1.train(x=X, y="label", training_frame=train1)
    b = on1.predict(test1).as_data_frame()
    pd.testing.assert_frame_equal(a, b)


def test_a_large_model_streams_between_nodes(cloud3, digits3):
    h2ocloud.init(url=cloud3.nodes[0].url)
    train, _ = digits3
    m = h2ocloud.H2ODeepLearningEstimator(hidden=[500, 500, 500], epochs=0.3, seed=1)
    m.train(x=X, y="label", training_frame=train)  # ~540k weights x3 arrays: > 4 MiB per message
    assert all(len(n) == 3 for n in m.summary_json()["training_nodes"])


def test_checkpoint_continues_from_stored_epochs(cloud3, digits3):
    h2ocloud.init(url=cloud3.nodes[0].url)
    train, test = digits3
    first = h2ocloud.H2ODeepLearningEstimator(hidden=[32], epochs=2, seed=3, model_id="ckpt_base")
    first.train(x=X, y="label", training_frame=train, validation_frame=test)
    more = h2ocloud.H2ODeepLearningEstimator(hidden=[32], epochs=5, seed=3, checkpoint="ckpt_base")
    more.train(x=X, y="label", training_frame=train, validation_frame=test)
    assert more.epochs_trained == pytest.approx(5.0)
    assert more.samples_trained == 5 * train.nrows
    hist = more.scoring_history()
    assert hist["epochs"].iloc[0] <= 2.0 + 1e-9 and hist["epochs"].iloc[-1] == pytest.approx(5.0)
    with pytest.raises(ValueError, match="hidden"):
        h2ocloud.H2ODeepLearningEstimator(hidden=[33], epochs=6, checkpoint="ckpt_base").train(
            x=X, y="label", training_frame=train)
    with pytest.raises(ValueError, match="activation"):
        h2ocloud.H2ODeepLearningEstimator(hidden=[32], activation="Rectifier", epochs=6, checkpoint="ckpt_base").train(
            x=X, y="label", training_frame=train)


def test_saved_model_loads_on_a_fresh_cloud_and_predicts_identically(cloud3, digits3, tmp_path):
    h2ocloud.init(url=cloud3.nodes[0].url)
    train, test = digits3
    m = h2ocloud.H2ODeepLearningEstimator(hidden=[32], epochs=3, seed=8)
    m.train(x=X, y="label", training_frame=train)
    before = m.predict(test).as_data_frame()
    path = h2ocloud.save_model(m, str(tmp_path))
    with start_cloud(2) as fresh:
        h2ocloud.init(url=fresh.nodes[1].url)
        loaded = h2ocloud.load_model(path)
        _, test2 = digits_frames("fresh")
        after = loaded.predict(test2).as_data_frame()
    pd.testing.assert_frame_equal(before, after)  # to the last bit
    assert loaded.epochs_trained == pytest.approx(3.0)


def test_sigkill_a_node_mid_training_ends_with_a_model_or_clear_error():
    # Training is bounded by time, not epochs, so the kill at 4 s lands mid-training however
    # fast the kernel is (a fixed 60 epochs once ended before the kill; 300 took 36 s of the
    # suite), and the training goes on on the two survivors until max_runtime_secs.
    runtime = 9.0
    with start_cloud(3, args=["--heartbeat-timeout", "2"]) as cloud:
        h2ocloud.init(url=cloud.nodes[0].url)
        train, test = digits_frames("kill")
        outcome = {}

        def run():
            try:
                m = h2ocloud.H2ODeepLearningEstimator(hidden=[200, 200], epochs=1e6, max_runtime_secs=runtime,
                                                      seed=1, classification_stop=-1,
                                                      train_samples_per_iteration=1000, model_id="survivor")
                m.train(x=X, y="label", training_frame=train, validation_frame=test)
                outcome["model"] = m
            except H2OCloudError as e:
                outcome["error"] = e

        t0 = time.time()
        t = threading.Thread(target=run)
        t.start()
        time.sleep(4)
        cloud.nodes[2].kill()
        t.join(120)
        assert not t.is_alive() and time.time() - t0 < 120
        if "model" in outcome:
            m = outcome["model"]
            assert m.epochs_trained > 1
            nodes = m.summary_json()["training_nodes"]
            assert len(nodes[0]) == 3 and len(nodes[-1]) == 2
            assert m.classification_error(valid=True) < 0.2
            assert m.predict(test).nrows == test.nrows
        else:
            assert str(outcome["error"])


def test_mnist_three_nodes_close_to_single_node_mode(cloud3):
    pixels = [f"p{i}" for i in range(784)]
    h2ocloud.init(url=cloud3.nodes[0].url)
    train = h2ocloud.import_file(str(shared_data("mnist_train_10k.csv.gz")), header=-1, col_names=["label", *pixels])
    test = h2ocloud.import_file(str(shared_data("mnist_test.csv.gz")), header=-1, col_names=[*pixels, "label"])
    train["label"] = train["label"].asfactor()
    test["label"] = test["label"].asfactor()
    errs = {}
    for mode in (False, True):
        m = h2ocloud.H2ODeepLearningEstimator(activation="RectifierWithDropout", hidden=[200, 200, 200],
                                              input_dropout_ratio=0.2, l1=1e-5, epochs=10, seed=1,
                                              single_node_mode=mode)
        m.train(x=pixels, y="label", training_frame=train, validation_frame=test)
        errs[mode] = m.classification_error(valid=True)
    # Averaging three nodes' models costs about 3 points on this small frame. Measured: the
    # averaged run 13.6-13.95%, single-node mode 11.2-11.4% with Hogwild threads and
    # 10.8-10.9% since a node's threads train each sample together (one thread's updates).
    assert errs[True] <= 0.115, errs
    assert errs[False] - errs[True] <= 0.035, errs
