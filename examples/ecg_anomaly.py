"""The booklet's section 4.2: anomaly detection on ECG heartbeats with a deep autoencoder.

    python examples/ecg_anomaly.py [DATA_DIR]   (default ../shared/data)
"""

import sys
from pathlib import Path

import h2ocloud as h2o

data = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data"
h2o.init()
train = h2o.import_file(str(data / "ecg_discord_train.csv"), header=-1)
test = h2o.import_file(str(data / "ecg_discord_test.csv"), header=-1)

anomaly_model = h2o.H2ODeepLearningEstimator(activation="Tanh", hidden=[50, 20, 50], l1=1e-4,
                                             epochs=100, autoencoder=True)
anomaly_model.train(training_frame=train)
errors = anomaly_model.anomaly(test).as_data_frame()["Reconstruction.MSE"]
print(errors.sort_values(ascending=False).head(5))   # rows 21-23 (0-based 20-22) stand out
print(anomaly_model.deepfeatures(test, 1).head())     # the 20-unit reduced representation (4.1)
