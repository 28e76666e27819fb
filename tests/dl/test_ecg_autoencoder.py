"""The booklet's anomaly detection walk-through: an autoencoder trained on 20 normal ECG
heartbeats gives the 3 anomalous test rows (21-23) the largest reconstruction errors."""

import numpy as np
import pytest
from dl_frames import DATA, frame

from h2ocloud.dl import DataInfo, LocalBackend, train_model, validate_parameters

pytestmark = pytest.mark.skipif(not (DATA / "ecg_discord_train.csv").exists(),
                                reason=f"shared data not found at {DATA}")


def load(name):
    a = np.loadtxt(DATA / name, delimiter=",")
    return frame(numeric={f"C{i + 1}": a[:, i] for i in range(a.shape[1])})


def test_ecg_anomalies():
    trm, trc = load("ecg_discord_train.csv")
    tem, tec = load("ecg_discord_test.csv")
    p = validate_parameters({"activation": "Tanh", "hidden": [50, 20, 50], "l1": 1e-4,
                             "epochs": 100, "autoencoder": True, "seed": 1,
                             "reproducible": True})
    info = DataInfo.build(trm, None, None, p)
    be = LocalBackend(info.transform(trm, trc), None, params=p, info=info)
    m = train_model(p, info, be)
    err = m.anomaly(tem, tec)["Reconstruction.MSE"]
    assert err.shape == (23,)
    assert set(np.argsort(err)[-3:]) == {20, 21, 22}, err
    rec = m.predict(tem, tec)
    assert len(rec) == info.n_inputs and "reconstr_C1" in rec
    assert m.deepfeatures(tem, tec, 1).shape == (23, 20)
    with pytest.raises(ValueError, match="layer"):
        m.deepfeatures(tem, tec, 3)
    assert m.training_metrics["mse"] == pytest.approx(
        m.anomaly(trm, trc)["Reconstruction.MSE"].mean(), rel=1e-5)
