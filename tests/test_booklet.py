"""The booklet's sections 2.5 to 4.2, typed in Python as an h2o-py user types them, end to end on
a one-node and a three-node cloud (issue 10's "done when"). The data is what the package ships
(h2ocloud/data); the booklet's R indices become h2o-py's 0-based ones (``x=1:784, y=785`` is
``x=list(range(784)), y=784``). Epochs are the booklet's except the trial run (1 instead of 10)
and the grid's 500x500x500 topology, which is 100x100x100 here, to keep the suite fast."""

from __future__ import annotations

import urllib.request

import numpy as np
import pytest

from h2ocloud.demo import PACKAGE_DATA


def booklet(h2o, url: str) -> None:
    # 2.5 Loading data
    weather = h2o.upload_file(str(PACKAGE_DATA / "weather.csv"), header=1, sep=",",
                              destination_frame="weather.hex")
    assert weather.summary(return_data=True)[0]["name"] == "Date"
    weather.summary()

    # 3.1 MNIST overview: load the data
    train_images = h2o.upload_file(str(PACKAGE_DATA / "mnist_train_2500.csv.gz"), header=-1, sep=",",
                                   destination_frame="train_images.hex")
    test_images = h2o.upload_file(str(PACKAGE_DATA / "mnist_test_1000.csv.gz"), header=-1, sep=",",
                                  destination_frame="test_images.hex")

    # 3.2 Performing a trial run
    mnist_model = h2o.deeplearning(x=list(range(784)), y=784, data=train_images,
                                   activation="RectifierWithDropout", hidden=[200, 200, 200],
                                   input_dropout_ratio=0.2, l1=1e-5, validation=test_images, epochs=1,
                                   classification=True, variable_importances=True)
    # 3.2.1 Extracting and handling the results
    params = mnist_model.params
    assert params["hidden"] == [200, 200, 200] and params["rho"] == 0.99
    prediction = h2o.predict(mnist_model, newdata=test_images)
    pred = prediction.as_data_frame()
    assert list(pred.columns) == ["predict"] + [f"p{i}" for i in range(10)] and len(pred) == 1000
    cm = mnist_model.confusion_matrix(valid=True)
    assert cm.shape == (10, 12)
    # one epoch, averaged over the nodes on three: far from chance (0.9) is what is checked here
    assert mnist_model.classification_error(valid=True) < 0.6

    # 3.3 Web interface, 3.3.1 variable importances
    with urllib.request.urlopen(url + "/", timeout=10) as r:
        assert r.status == 200
    with urllib.request.urlopen(url + "/3/Models/" + mnist_model.model_id, timeout=10) as r:
        assert r.status == 200
    assert len(mnist_model.varimp()) == 784 - len(mnist_model.summary_json()["ignored_columns"] or [])

    # 3.4 Grid search for model comparison
    hidden_layers = [[200, 200], [100, 300, 100], [100, 100, 100]]
    mnist_model_grid = h2o.deeplearning(x=list(range(784)), y=784, data=train_images,
                                        activation="RectifierWithDropout", hidden=hidden_layers,
                                        validation=test_images, epochs=1, l1=[1e-5, 1e-7],
                                        input_dropout_ratio=0.2, classification=True)
    models = mnist_model_grid.models
    assert len(models) == 6
    all_params = [m.params for m in models]
    assert sorted({p["l1"] for p in all_params}) == [1e-7, 1e-5]
    assert sorted(tuple(p["hidden"]) for p in all_params) == sorted(tuple(h) for h in hidden_layers * 2)

    # 3.5 Checkpoint model
    first = models[0]
    mnist_checkpoint_model = h2o.deeplearning(x=list(range(784)), y=784, data=train_images,
                                              checkpoint=first, validation=test_images, epochs=9)
    assert mnist_checkpoint_model.epochs_trained == pytest.approx(9.0)
    assert mnist_checkpoint_model.params["hidden"] == first.params["hidden"]
    assert mnist_checkpoint_model.classification_error(valid=True) <= max(first.classification_error(valid=True), 0.3)

    # 4.2 Use case: anomaly detection
    train_ecg = h2o.upload_file(str(PACKAGE_DATA / "ecg_discord_train.csv"), header=-1, sep=",",
                                destination_frame="train_ecg.hex")
    test_ecg = h2o.upload_file(str(PACKAGE_DATA / "ecg_discord_test.csv"), header=-1, sep=",",
                               destination_frame="test_ecg.hex")
    # Train deep autoencoder learning model on "normal" training data, y ignored
    anomaly_model = h2o.deeplearning(x=list(range(210)), y=0, training_frame=train_ecg, activation="Tanh",
                                     classification=False, autoencoder=True, hidden=[50, 20, 50],
                                     l1=1e-4, epochs=100)
    recon_error = h2o.anomaly(test_ecg, anomaly_model)
    errors = recon_error.as_data_frame()["Reconstruction.MSE"].to_numpy()
    assert sorted(np.argsort(-errors)[:3] + 1) == [21, 22, 23]
    test_recon = h2o.predict(anomaly_model, test_ecg)
    assert test_recon.ncols == 210 and test_recon.head().shape[0] == 10


def test_booklet_on_one_node(h2o, cloud1):
    booklet(h2o, cloud1.nodes[0].url)


def test_booklet_on_three_nodes(cloud3):
    import h2ocloud as h2o

    h2o.init(url=cloud3.nodes[1].url)
    assert h2o.cluster().cloud_size == 3
    booklet(h2o, cloud3.nodes[1].url)
